#!/usr/bin/env bats
# The D-Bus wire library (lib/dbus): one test per group of the unit binary
# tests/unit/dbus_wire.c, which prints each failed check on stderr.

bats_require_minimum_version 1.5.0
load helpers

# Run one group of the unit binary; show its complaints on failure.
unit_group() {
	run timeout 60 "$IPCBOX_UNIT/dbus_wire" "$1"
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

@test "dbus wire: unknown group is an error" {
	run timeout 10 "$IPCBOX_UNIT/dbus_wire" nosuchgroup
	[ "$status" -eq 2 ]
}
