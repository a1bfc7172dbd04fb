#!/bin/sh
# check-lib-deps.sh: lib/ must stand on its own and have no cycle.
#
# Reads the #include "..." lines of every file under lib/ (a name is looked
# up beside the including file, then from the top of the tree, as -I. does)
# and fails, naming the culprit, if
#   - a lib/ file includes a header outside lib/ (an applet's, main's), or
#     one that does not exist;
#   - the modules depend on each other in a cycle, two modules needing each
#     other being the shortest one.
# A module is a .c/.h pair (lib/io.c + lib/io.h is "lib/io"); the files of
# lib/dbus and lib/channel are modules each, as any other.  A file's own
# header does not count as a dependency.  Prints one summary line; exit 0
# if the graph is clean, 1 if not.  Usage: tests/check-lib-deps.sh [ROOT]
set -u
cd "${1:-$(dirname "$0")/..}" || exit 1

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
		printf '%s %s\n' "$f" "$to"
	done
done | awk '
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
# Depth-first search; a grey node met again closes a cycle.
function visit(m,   i, d, j, path) {
	color[m] = 1
	stack[++depth] = m
	for (i = 1; i <= nout[m]; i++) {
		d = out[m, i]
		if (color[d] == 1) {
			path = d
			for (j = depth; j >= 1 && stack[j] != d; j--)
				path = stack[j] " -> " path
			print "check-lib-deps: cycle: " d " -> " path
			bad++
			cycles++
		} else if (!color[d]) {
			visit(d)
		}
	}
	depth--
	color[m] = 2
}
{
	from = $1
	to = $2
	files[from] = 1
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
	a = module(from)
	b = module(to)
	mods[a] = 1
	mods[b] = 1
	if (a == b || ((a, b) in edge))
		next
	edge[a, b] = 1
	out[a, ++nout[a]] = b
	edges++
}
END {
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
	print "check-lib-deps: " n " modules, " edges + 0 " dependencies, every include in lib/, no cycle"
}'
