#!/bin/sh
# tests/lint-tests.sh [FILE...]: find assertions that can never fail in the
# bats files and their helpers (default tests/*.bats tests/*.bash).
#
# bats runs a test under `set -e`, and bash's errexit ignores the status of:
#   - a `! cmd` line, unless it is the body's last command (its status is
#     then the test's or the function's);
#   - an `a && b` list, unless it is the last command: if `a` fails the
#     list fails, yet errexit lets it pass;
# and `cmd || [ $? -eq N ]` also accepts success, `wait PID || true` throws
# away a background command's status, `wait_for test "$(cmd)" ...` polls a
# value taken once, before the wait.
#
# It also finds paths outside the test's own directory: a test that names
# /nonexistent, /tmp/x or /var/... depends on what the machine has there (a
# root-owned empty /nonexistent turns ENOENT into EACCES or ECONNREFUSED).
# Flagged: an absolute path whose first component is tmp, var, home, root,
# run, mnt, opt, srv or media, or names a thing meant to be missing
# (nonexistent, nosuch, missing, nowhere); a test uses "$T/missing/..."
# (never made) instead.  System files (/dev, /proc, /sys, /bin, /usr, /etc,
# /lib) and D-Bus object paths (/org/..., /p) are not flagged, nor paths
# after a variable ("$T/x", "${BATS_TMPDIR}/x").  A line that must name such
# a path (a documented default, a path that is never looked at) says why in
# a comment "# lint: path-ok (WHY)"; the files of other owners are listed in
# PATH_OK below, FILE and the path, until they carry the comment.
# One line per finding, FILE:LINE: why; exit 1 if there is any.
#
# Without FILE arguments it also checks that every unit program
# (tests/unit/NAME.c, built by make) is run by a bats file
# ("$IPCBOX_UNIT/NAME"): one that is built but never run catches nothing.
set -u
cd "$(dirname "$0")/.." || exit 2
if [ $# -eq 0 ]; then
	for c in tests/unit/*.c; do
		u=${c##*/}
		u=${u%.c}
		grep -qF "\$IPCBOX_UNIT/$u\"" tests/*.bats ||
			{ echo "$c: no bats file runs \$IPCBOX_UNIT/$u" >&2; unit_missing=1; }
	done
	[ -z "${unit_missing:-}" ] || { echo "lint-tests: unit programs never run above" >&2; exit 1; }
	set -- tests/*.bats tests/*.bash
fi
awk '
# Bodies: "@test ... {" or "name() {" at the start of a line, up to "}" at
# the start of a line.  A command is read across lines while a quote or a
# parenthesis is open or the line ends in && || | or \; quoted text,
# $(...), (...) and [[...]] are blanked before the checks, so an && inside
# them (sh -c '"'"'a && b'"'"', [[ a && b ]], (umask 077 && cmd)) is not taken
# for a list of the body.  Here-documents are skipped.
function flush_body(   i) {
	for (i = 1; i < n; i++)
		if (msg[i] != "") { print msg[i]; found++ }
	n = 0
}
# blank(LINE): LINE with quoted text and parenthesised text removed, the
# state (inside quotes, parenthesis depth) carried over to the next line.
function blank(line,   out, i, c, len) {
	out = ""
	len = length(line)
	for (i = 1; i <= len; i++) {
		c = substr(line, i, 1)
		if (sq) { if (c == "\x27") sq = 0; continue }
		if (dq) {
			if (c == "\\") i++
			else if (c == "\"") dq = 0
			continue
		}
		if (c == "\\") { i++; if (depth == 0) out = out "_"; continue }
		if (c == "\x27") { sq = 1; if (depth == 0) out = out "Q"; continue }
		if (c == "\"") { dq = 1; if (depth == 0) out = out "Q"; continue }
		if (c == "#" && (i == 1 || substr(line, i - 1, 1) ~ /[ \t;]/)) break
		if (c == "(") { if (depth == 0) out = out "("; depth++; continue }
		if (c == ")") { if (depth > 0) depth--; if (depth == 0) out = out ")"; continue }
		if (depth == 0) out = out c
	}
	return out
}
function check(t, where, raw,   last) {
	n++
	msg[n] = ""
	gsub(/\[\[[^]]*\]\]/, "[[ ]]", t)
	if (t ~ /^[ \t]*![ \t]/)
		msg[n] = where ": a \"! cmd\" that is not the last command never fails (use run + assert_status, or if cmd; then fail; fi)"
	else if (t ~ /&&/ && t !~ /\|\|/ && t !~ /^[ \t]*[A-Za-z_][A-Za-z0-9_]*\(\)/ &&
	         t !~ /^[ \t]*(if|while|until|for|case|elif|local|export|declare)[ \t]/) {
		# An assertion list ends in a check; [ -e F ] && action is not one.
		last = t
		sub(/.*&&[ \t]*/, "", last)
		if (last ~ /^(\[|\[\[|test[ \t]|assert_|grep[ \t]|cmp[ \t]|diff[ \t]|exits[ \t]|kill -0|wait_|!)/)
			msg[n] = where ": only the last command of an && list can fail (one assertion per line)"
	}
	if (raw ~ /\|\|[ \t]*\[\[?[ \t]*"?\$\?"?[ \t]*(-eq|==|=)/ || raw ~ /\|\|[ \t]*\(\([ \t]*\$\?[ \t]*==/)
		{ print where ": \"|| [ $? -eq N ]\" also accepts success"; found++ }
	if (raw ~ /(^|[ \t;])wait_for[ \t]+(test|\[)[ \t][^\x27]*\$\(/)
		{ print where ": \"wait_for test ... $(cmd)\" runs cmd once, before the wait (wait_for eval \x27[ \"$(cmd)\" ... ]\x27)"; found++ }
	if (t ~ /(^|[ \t;])wait[ \t][^|]*\|\|[ \t]*(true|:)[ \t]*($|;)/)
		{ print where ": \"wait ... || true\" throws the background status away (wait_status, then assert_status)"; found++ }
}
FNR == 1 { if (inbody) flush_body(); inbody = 0; heredoc = ""; cont = ""; raw = ""; sq = dq = depth = 0 }
{
	line = $0
	if (heredoc != "") {
		t = line; sub(/^\t+/, "", t)
		if (t == heredoc) heredoc = ""
		next
	}
	if (!inbody) {
		if (line ~ /^@test[ \t].*\{[ \t]*$/ || line ~ /^[A-Za-z_][A-Za-z0-9_]*\(\)[ \t]*\{[ \t]*$/) {
			inbody = 1; n = 0; cont = ""; raw = ""; sq = dq = depth = 0
		}
		next
	}
	if (line ~ /^\}/ && cont == "" && !sq && !dq && depth == 0) { flush_body(); inbody = 0; next }
	open_before = sq || dq || depth > 0
	b = blank(line)
	if (!open_before && cont == "" && b ~ /^[ \t]*$/) next
	if (match(b, /<<-?[ \t]*Q?[A-Za-z_][A-Za-z0-9_]*/)) {
		h = substr(line, index(line, "<<"))
		sub(/^<<-?[ \t]*["\x27]?/, "", h)
		match(h, /^[A-Za-z_][A-Za-z0-9_]*/)
		heredoc = substr(h, 1, RLENGTH)
	}
	if (cont == "") where = FILENAME ":" FNR
	cont = cont " " b
	raw = raw " " line
	if (sq || dq || depth > 0 || b ~ /(&&|\|\||\||\\|_)[ \t]*$/) next
	check(cont, where, raw)
	cont = ""
	raw = ""
}
END { if (inbody) flush_body(); exit found > 0 }
' "$@" || { echo "lint-tests: dead assertions above" >&2; exit 1; }

# FILE PATH: a path outside the test's directory that the file may name.
PATH_OK='
tests/bus-errors.bats /tmp
tests/bus-errors.bats /run/bus
tests/bus-serve.bats /var/lib/dbus/machine-id
tests/bus.bats /var/lib/dbus/machine-id
tests/channel.bats /tmp/ipcbox-
tests/install.bats /opt/ipcbox
tests/unix.bats /tmp/
'
awk -v ok="$PATH_OK" '
BEGIN {
	n = split(ok, lines, "\n")
	for (i = 1; i <= n; i++) if (lines[i] != "") allowed[lines[i]] = 1
}
FNR == 1 { heredoc = "" }
/^[ \t]*#/ || /^@test[ \t]/ || /# lint: path-ok/ { next }
{
	line = $0
	sub(/[ \t]#[ \t].*$/, "", line) # a trailing comment
	rest = line
	while (match(rest, /\/[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]*)*/)) {
		prev = rest
		path = substr(rest, RSTART, RLENGTH)
		before = RSTART > 1 ? substr(rest, RSTART - 1, 1) : ""
		rest = substr(rest, RSTART + RLENGTH)
		# after a word or a variable: "$T/x", ${D}/x, "$T"/x, $(cmd)/x
		if (before ~ /[A-Za-z0-9_}).\/$]/) continue
		if (before == "\"" && RSTART > 2 && substr(prev, RSTART - 2, 1) ~ /[A-Za-z0-9_})]/) continue
		first = path
		sub(/^\//, "", first)
		sub(/\/.*/, "", first)
		if (first !~ /^(tmp|var|home|root|run|mnt|opt|srv|media)$/ &&
		    first !~ /nonexist|no-?such|missing|nowhere/)
			continue
		if ((FILENAME " " path) in allowed) continue
		print FILENAME ":" FNR ": " path ": a path outside the test'"'"'s directory (use $T/..., or say why: # lint: path-ok (WHY))"
		found++
	}
}
END { exit found > 0 }
' "$@" || { echo "lint-tests: paths outside the tests' directories above" >&2; exit 1; }
echo "lint-tests: $# files, no dead assertions, no outside paths"
