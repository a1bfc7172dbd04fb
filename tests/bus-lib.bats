#!/usr/bin/env bats
# What applets/bus.c takes from lib/ besides the wire protocol: one test per
# group of the unit binary tests/unit/bus_lib.c, which prints each failed
# check on stderr.

bats_require_minimum_version 1.5.0
load helpers

@test "bus lib: match rule grammar, keys argN/argNpath, 1024-byte limit, unterminated quote" {
	run timeout -k 5 60 "$IPCBOX_UNIT/bus_lib" match
	assert_status 0
}

@test "bus lib: pcap file header and record layout (link type 231)" {
	run timeout -k 5 60 "$IPCBOX_UNIT/bus_lib" pcap
	assert_status 0
}

@test "bus lib: introspection XML writer, read back by the reader; bad signatures refused" {
	run timeout -k 5 60 "$IPCBOX_UNIT/bus_lib" xml
	assert_status 0
}

@test "bus lib: bus-serve output parser splits at blanks, caps the word count" {
	run timeout -k 5 60 "$IPCBOX_UNIT/bus_lib" words
	assert_status 0
}

@test "bus lib: /proc/PID/comm of ourselves, of pid 0, truncated to the buffer" {
	run timeout -k 5 60 "$IPCBOX_UNIT/bus_lib" comm
	assert_status 0
}
