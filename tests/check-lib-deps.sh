#!/bin/sh
# check-lib-deps.sh: lib/ must stand on its own and have no cycle.
#
# Two kinds of dependency between modules are read:
#   - includes: the #include "..." lines of every file under lib/ (a name is
#     looked up beside the including file, then from the top of the tree, as
#     -I. does);
#   - calls: every lib/ source is compiled (-O0, so that no reference is
#     optimised away) and nm maps each symbol an object uses to the object
#     that defines it.  A previous cycle was two modules calling each other
#     through one umbrella header, which the includes alone did not show.
# It fails, naming the culprit, if
#   - a lib/ file includes a header outside lib/ (an applet's, main's), or
#     one that does not exist;
#   - a lib/ object uses a symbol that applets/ or main.c defines (lib/ may
#     call an applet back only through a function pointer it is handed);
#   - a lib/ object uses another module's symbol that no header it includes,
#     directly or through other lib/ headers, declares (a private extern
#     hides the dependency from readers and from the include graph);
#   - the modules depend on each other in a cycle, through includes, calls
#     or both, two modules needing each other being the shortest one.
# A module is a .c/.h pair (lib/io.c + lib/io.h is "lib/io"); the files of
# lib/dbus and lib/channel are modules each, as any other.  A file's own
# header does not count as a dependency.  Prints one line per problem and
# one summary line; exit 0 if the graph is clean, 1 if not.
# Usage: tests/check-lib-deps.sh [ROOT]   ($CC compiles, cc by default)
set -u
cd "${1:-$(dirname "$0")/..}" || exit 1
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

# Every object, lib/ and above, into $tmp/o/PATH.o; two compilers at a time.
find lib applets main.c -name '*.c' | sort >"$tmp/srcs"
ncpu=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
O=$tmp/o CC=${CC:-cc} xargs -P "$ncpu" -n 8 sh -c '
	for f do
		mkdir -p "$O/$(dirname "$f")" &&
		$CC -D_GNU_SOURCE -I. -O0 -w -c -o "$O/${f%.c}.o" "$f" 2>/dev/null ||
			echo "$f" >>"$O.failed"
	done' sh <"$tmp/srcs"
if [ -s "$tmp/o.failed" ]; then
	echo "check-lib-deps: FAILED: ${CC:-cc} cannot compile $(head -n 1 "$tmp/o.failed") (run make for the error)"
	exit 1
fi

{
	# I FILE INCLUDED: one line per #include "..." in lib/
	find lib -name '*.[ch]' | sort | while read -r f; do
		sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f" |
		while read -r inc; do
			dir=$(dirname "$f")
			if [ -e "$dir/$inc" ]; then
				to="$dir/$inc"
			elif [ -e "$inc" ]; then
				to=$inc
			else
				to="?$inc"
			fi
			printf 'I %s %s\n' "$f" "$to"
		done
	done
	# H HEADER NAME: each identifier a lib/ header mentions outside comments
	find lib -name '*.h' | sort | xargs awk '
	FNR == 1 { incomment = 0 }
	{
		line = $0
		out = ""
		while (line != "") {
			if (incomment) {
				i = index(line, "*/")
				if (!i) { line = ""; break }
				line = substr(line, i + 2)
				incomment = 0
			}
			i = index(line, "/*")
			j = index(line, "//")
			if (j && (!i || j < i)) { out = out " " substr(line, 1, j - 1); break }
			if (!i) { out = out " " line; break }
			out = out " " substr(line, 1, i - 1)
			line = substr(line, i + 2)
			incomment = 1
		}
		n = split(out, w, /[^A-Za-z0-9_]+/)
		for (k = 1; k <= n; k++)
			if (w[k] ~ /^[A-Za-z_]/ && !((FILENAME, w[k]) in seen)) {
				seen[FILENAME, w[k]] = 1
				print "H", FILENAME, w[k]
			}
	}'
	# D|U OBJECT SYMBOL: global definitions and undefined references
	(cd "$tmp/o" && find . -name '*.o' | sort | xargs nm -A -P) |
	awk '{
		f = $1; sub(/:$/, "", f); sub(/^\.\//, "", f); sub(/\.o$/, ".c", f)
		if ($3 == "U" || $3 == "w" || $3 == "v")
			print "U", f, $2
		else if ($3 ~ /^[A-Z]$/)
			print "D", f, $2
	}'
} | awk '
# Collapse a/b/../c into a/c and drop ./ parts.
function norm(p,   n, parts, out, i, k) {
	n = split(p, parts, "/")
	k = 0
	for (i = 1; i <= n; i++) {
		if (parts[i] == "." || parts[i] == "")
			continue
		if (parts[i] == ".." && k > 0 && out[k] != "..") {
			k--
			continue
		}
		out[++k] = parts[i]
	}
	p = ""
	for (i = 1; i <= k; i++)
		p = p (i > 1 ? "/" : "") out[i]
	return p
}
function module(p) {
	sub(/\.[ch]$/, "", p)
	return p
}
function add_edge(a, b, why) {
	mods[a] = 1
	mods[b] = 1
	if (a == b || ((a, b) in edge))
		return
	edge[a, b] = why
	out[a, ++nout[a]] = b
}
# Every lib/ file that FILE reaches through includes, into reach[FILE, *].
function closure(root, f,   i) {
	if ((root, f) in reach)
		return
	reach[root, f] = 1
	for (i = 1; i <= ninc[f]; i++)
		closure(root, inc[f, i])
}
# Depth-first search; a grey node met again closes a cycle.
function visit(m,   i, d, j, k, nx, path) {
	color[m] = 1
	stack[++depth] = m
	for (i = 1; i <= nout[m]; i++) {
		d = out[m, i]
		if (color[d] == 1) {
			# the cycle is stack[j..depth] back to d; each step says why
			for (j = depth; j > 1 && stack[j] != d; j--)
				;
			path = d
			for (k = j; k <= depth; k++) {
				nx = k < depth ? stack[k + 1] : d
				path = path " -> " nx " (" edge[stack[k], nx] ")"
			}
			print "check-lib-deps: cycle: " path
			bad++
			cycles++
		} else if (!color[d]) {
			visit(d)
		}
	}
	depth--
	color[m] = 2
}
$1 == "I" {
	from = $2
	to = $3
	if (substr(to, 1, 1) == "?") {
		print "check-lib-deps: " from " includes \"" substr(to, 2) "\", which does not exist"
		bad++
		next
	}
	to = norm(to)
	if (substr(to, 1, 4) != "lib/") {
		print "check-lib-deps: " from " includes " to ", which is not in lib/"
		bad++
		next
	}
	inc[from, ++ninc[from]] = to
	if (module(from) != module(to) && !((module(from), module(to)) in edge))
		incs++
	add_edge(module(from), module(to), "includes " to)
	next
}
$1 == "H" { declares[$2, $3] = 1; headers[$2] = 1; next }
$1 == "D" { defined[$3] = $2; next }
$1 == "U" && substr($2, 1, 4) == "lib/" { uses[++nuses] = $2 " " $3; next }
END {
	for (u = 1; u <= nuses; u++) {
		split(uses[u], w, " ")
		f = w[1]
		sym = w[2]
		if (!(sym in defined))
			continue		# libc, libm: the linker answers for those
		g = defined[sym]
		if (substr(g, 1, 4) != "lib/") {
			print "check-lib-deps: " f " uses " sym ", which " g " defines: lib/ reaches an applet only through a pointer it is handed"
			bad++
			continue
		}
		a = module(f)
		b = module(g)
		if (a == b)
			continue
		closure(f, f)
		known = 0
		for (h in headers)
			if (((f, h) in reach) && ((h, sym) in declares)) {
				known = 1
				break
			}
		if (!known) {
			print "check-lib-deps: " f " uses " sym " (" g ") but includes no header that declares it"
			bad++
		}
		if (!((a, b) in edge))
			calls++
		add_edge(a, b, "uses " sym)
	}
	n = 0
	for (m in mods)
		order[++n] = m
	# a fixed order, so that the same cycle is reported the same way
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && order[j - 1] > order[j]; j--) {
			t = order[j]; order[j] = order[j - 1]; order[j - 1] = t
		}
	for (i = 1; i <= n; i++)
		if (!color[order[i]])
			visit(order[i])
	if (bad) {
		print "check-lib-deps: FAILED: " bad " problems (" cycles + 0 " cycles) among " n " modules"
		exit 1
	}
	print "check-lib-deps: " n " modules, " incs + 0 " include and " calls + 0 \
	    " call dependencies, every include in lib/, every call declared, no cycle"
}'
