#!/usr/bin/env bats
# The D-Bus wire library (lib/dbus): one test per group of the unit binary
# tests/unit/dbus_wire.c, which prints each failed check on stderr.

bats_require_minimum_version 1.5.0
load helpers

# Run one group of the unit binary; show its complaints on failure.
unit_group() {
	# a generous limit: the limits group takes over a minute on a loaded machine
	run timeout -k 5 "$((TMO * 10))" "$IPCBOX_UNIT/dbus_wire" "$1"
	[ "$status" -eq 0 ] || { echo "$output" >&2; return 1; }
}

@test "dbus wire: signatures valid and invalid, depth 32/32, 255 bytes" {
	unit_group signatures
}

@test "dbus wire: object paths valid and invalid, 64 KiB cap" {
	unit_group paths
}

@test "dbus wire: interface, error, member and bus names incl. unique names" {
	unit_group names
}

@test "dbus wire: strict UTF-8 (overlong, surrogates, > U+10FFFF, truncated, NUL)" {
	unit_group utf8
}

@test "dbus wire: minimal message and the specification's marshalling vectors" {
	unit_group vectors
}

@test "dbus wire: every malformed-message case of the reject list, LE and BE" {
	unit_group reject
}

@test "dbus wire: marshal then parse round trips of every type, LE and BE" {
	unit_group roundtrip
}

@test "dbus wire: nesting depth 64 accepted, 65 refused (variants, arrays, structs)" {
	unit_group depth
}

@test "dbus wire: busctl argument syntax, range errors, too few/many values" {
	unit_group text
}

@test "dbus wire: terse printer output" {
	unit_group terse
}

@test "dbus wire: JSON printer output, lossless" {
	unit_group json
}

@test "dbus wire: build refuses invalid values and headers" {
	unit_group build
}

@test "dbus wire: 64 MiB array and 128 MiB message accepted, one element more refused; memory budget" {
	unit_group limits
}

@test "dbus wire: unknown group is an error" {
	run timeout 10 "$IPCBOX_UNIT/dbus_wire" nosuchgroup
	[ "$status" -eq 2 ]
}

# Interoperability with GLib's marshaller (tests/dbus-wire-glib.py).  Each
# case: signature, the body as GVariant text, our terse output, then the
# words of our argument syntax.  $1 is the check to run on each case.
glib_cases() {
	local v64 w64=() i
	v64="byte 1"
	for ((i = 0; i < 63; i++)); do v64="<$v64>"; w64+=(v); done
	"$1" ybnqiuxt '(byte 255, true, int16 -32768, uint16 65535, -2147483648, uint32 4294967295, int64 -9223372036854775808, uint64 18446744073709551615)' \
		'ybnqiuxt 255 true -32768 65535 -2147483648 4294967295 -9223372036854775808 18446744073709551615' \
		255 true -32768 65535 -2147483648 4294967295 -9223372036854775808 18446744073709551615
	"$1" ybnqiuxt '(byte 0, false, int16 32767, uint16 0, 2147483647, uint32 0, int64 9223372036854775807, uint64 0)' \
		'ybnqiuxt 0 false 32767 0 2147483647 0 9223372036854775807 0' \
		0 false 32767 0 2147483647 0 9223372036854775807 0
	"$1" dddd '(0.1, -1e300, 3.141592653589793, 2.2250738585072014e-308)' 'dddd 0.1 -1e+300 3.141592653589793 2.2250738585072014e-308' \
		0.1 -1e300 3.141592653589793 2.2250738585072014e-308
	"$1" sog '("with \"quotes\" and \\", objectpath "/a/b", signature "a{sv}")' \
		'sog "with \"quotes\" and \\" "/a/b" "a{sv}"' 'with "quotes" and \' /a/b 'a{sv}'
	"$1" s "('line1\\nline2\\ttab grüß € 😀',)" 's "line1\nline2\ttab grüß € 😀"' \
		"$(printf 'line1\nline2\ttab grüß € 😀')"
	"$1" 'a{sv}' "({'One': <'Eins'>, 'Two': <uint32 2>, 'Yes': <true>},)" \
		'a{sv} 3 "One" s "Eins" "Two" u 2 "Yes" b true' 3 One s Eins Two u 2 Yes b true
	"$1" 'aa{sv}' "([{'k': <<'deep'>>}, {}],)" 'aa{sv} 2 1 "k" v s "deep" 0' 2 1 k v s deep 0
	"$1" 'a(iay)' '([(1, [byte 97, 98, 99]), (-5, [])],)' 'a(iay) 2 1 3 97 98 99 -5 0' 2 1 3 97 98 99 -5 0
	"$1" av "([<<<7>>>, <['a', 'b']>, <@ay []>, <@a{sv} {}>],)" 'av 4 v v i 7 as 2 "a" "b" ay 0 a{sv} 0' \
		4 v v i 7 as 2 a b ay 0 'a{sv}' 0
	"$1" 'asa{ss}aay' '(@as [], @a{ss} {}, @aay [])' 'asa{ss}aay 0 0 0' 0 0 0
	"$1" 'a{ix}' '({-1: int64 -9223372036854775808, 1: 9223372036854775807},)' \
		'a{ix} 2 -1 -9223372036854775808 1 9223372036854775807' 2 -1 -9223372036854775808 1 9223372036854775807
	"$1" '(isb)a(ii)' "((5, 'foo', true), [(1, 2), (3, 4)])" '(isb)a(ii) 5 "foo" true 2 1 2 3 4' \
		5 foo yes 2 1 2 3 4
	"$1" 'a{sa{sv}}' "({'outer': {'inner': <<'deep'>>}},)" 'a{sa{sv}} 1 "outer" 1 "inner" v s "deep"' \
		1 outer 1 inner v s deep
	"$1" 'a{oas}g' "({objectpath '/': ['x']}, signature '')" 'a{oas}g 1 "/" 1 "x" ""' 1 / 1 x ''
	"$1" v "(<$v64>,)" "v $(printf 'v %.0s' "${w64[@]}")y 1" "${w64[@]}" y 1
	"$1" '' '()' '' 
}

# Our message for a case, in both byte orders, is accepted by GLib and
# holds the same values.
glib_reads() {
	local sig=$1 gv=$2 order
	shift 3
	for order in l B; do
		"$IPCBOX_UNIT/dbus_wire" encode "$order" "$sig" "$@" >"$BATS_TEST_TMPDIR/msg" ||
			{ echo "encode '$sig' failed" >&2; return 1; }
		timeout 20 tests/dbus-wire-glib.py check "$sig" "$gv" <"$BATS_TEST_TMPDIR/msg" ||
			{ echo "case '$sig' ($order)" >&2; return 1; }
	done
}

# GLib's message for a case, in both byte orders, parses here and prints
# as expected.
we_read() {
	local sig=$1 gv=$2 terse=$3 order
	for order in l B; do
		timeout 20 tests/dbus-wire-glib.py build "$order" "$sig" "$gv" >"$BATS_TEST_TMPDIR/msg" ||
			{ echo "glib cannot build '$gv'" >&2; return 1; }
		run "$IPCBOX_UNIT/dbus_wire" decode <"$BATS_TEST_TMPDIR/msg"
		# the first line ($lines drops empty lines)
		[ "$status" -eq 0 ] && [ "${output%%$'\n'*}" = "$terse" ] ||
			{ echo "case '$sig' ($order): got '$output' want '$terse'" >&2; return 1; }
	done
}

@test "dbus wire: GLib accepts our messages of every type, LE and BE, values intact" {
	glib_cases glib_reads
}

@test "dbus wire: GLib's messages of every type parse here, LE and BE, printed exactly" {
	glib_cases we_read
}
