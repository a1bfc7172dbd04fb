#!/usr/bin/env bats
# What applets/bus.c takes from lib/ besides the wire protocol: one test per
# group of the unit binary tests/unit/bus_lib.c, which prints each failed
# check on stderr.

bats_require_minimum_version 1.5.0
load helpers

# Run one group of the unit binary; its complaints are shown on failure.
unit_group() {
	run timeout -k 5 60 "$IPCBOX_UNIT/bus_lib" "$1"
	assert_status 0
}

@test "bus lib: match rule grammar, keys argN/argNpath, 1024-byte limit, unterminated quote" {
	unit_group match
}

@test "bus lib: pcap file header and record layout (link type 231)" {
	unit_group pcap
}

@test "bus lib: introspection XML writer, read back by the reader; bad signatures refused" {
	unit_group xml
}

@test "bus lib: the ancestors' introspection document names the next node down; paths not below get none" {
	unit_group ancestor
}

@test "bus lib: bus-serve output parser splits at blanks, caps the word count" {
	unit_group words
}

@test "bus lib: bus-monitor --json and --profile layouts: every message type, absent fields as null and <none>, JSON escapes" {
	unit_group monitor
}

@test "bus lib: /proc/PID/comm of ourselves, of pid 0, truncated to the buffer" {
	unit_group comm
}
