#!/usr/bin/env bats
# bus-call in one round trip: the NUL byte, AUTH, BEGIN, Hello and the call
# go out in one write, and the answers are read as they come.  A server that
# refuses that form (REJECTED, a DATA challenge, a hang-up) voids the queued
# bytes, and the client starts over on a fresh connection one step at a
# time.  Against dbus-daemon (the file's private bus), ipcbox's own SASL
# server (bus-bridge), and tests/peers/sasl-server.py, which follows the
# specification's server state machine and logs how each connection came.

bats_require_minimum_version 1.5.0
load helpers
load bus_helpers

# traced ARG...: run ipcbox ARG... under strace; its connects and socket
# writes, strings whole, are in $T/trace.
traced() {
	run --separate-stderr env ASAN_OPTIONS="$(no_lsan)" timeout -k 5 "$TMO" \
		strace -qq -o "$T/trace" -s 100000 -e trace=connect,sendto,sendmsg "$IPCBOX" "$@"
}

# count PATTERN: lines of $T/trace that start with PATTERN.
count() {
	grep -c "^$1" "$T/trace" || true
}

# value TEXT: TEXT as a D-Bus address value (bytes outside [-0-9A-Za-z_/.]
# written %XX).
value() {
	local s=$1 out='' c i
	for ((i = 0; i < ${#s}; i++)); do
		c=${s:i:1}
		case $c in
		[-0-9A-Za-z_/.]) out+=$c ;;
		*) printf -v c '%%%02X' "'$c" && out+=$c ;;
		esac
	done
	printf '%s' "$out"
}

uid_hex() {
	printf '%s' "$(id -u)" | od -An -tx1 | tr -d ' \n'
}

bus_id() {
	"$IPCBOX" bus-call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetId
}

# sasl MODE: tests/peers/sasl-server.py in $T/sasl.sock, its log $T/sasl.log.
sasl() {
	bg "$PY" "$PEERS/sasl-server.py" "$1" "$T/sasl.sock" "$T/sasl.ready" "$T/sasl.log"
	wait_file "$T/sasl.ready"
}

# sasl_call: bus-call through the fake server; it answers (s "pong") and
# exits 0 once it has answered.
sasl_call() {
	run --separate-stderr ipc bus-call --address "unix:path=$T/sasl.sock" org.x.Y /a org.x.Y M
	assert_status 0
	assert_output 's "pong"'
	wait_status "$BG_PID"
	assert_status 0
}

@test "dbus-daemon: NUL, AUTH EXTERNAL, BEGIN, Hello and the call in one write, on one connection" {
	local id
	id=$(bus_id)
	traced bus-call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetId
	assert_status 0
	assert_output "$id"
	[ "$(count connect)" -eq 1 ]
	[ "$(count sendto)" -eq 1 ]
	grep '^sendto(' "$T/trace" | grep -F "\"\\0AUTH EXTERNAL $(uid_hex)\\r\\nBEGIN\\r\\nl" |
		grep -F 'Hello' | grep -qF 'GetId'
}

@test "dbus-daemon: a call over 64 KiB waits for OK in a write of its own, and is answered" {
	local big
	big=$(head -c 70000 /dev/zero | tr '\0' a)
	traced bus-call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus NameHasOwner s "$big"
	assert_status 0
	assert_output 'b false'
	[ "$(count connect)" -eq 1 ]
	[ "$(count sendto)" -eq 2 ]
	grep '^sendto(' "$T/trace" | head -n 1 | grep -F 'BEGIN' | grep -F 'Hello' | grep -vqF 'NameHasOwner'
	grep '^sendto(' "$T/trace" | tail -n 1 | grep -qF 'NameHasOwner'
}

@test "bus-bridge, ipcbox's SASL server: AUTH EXTERNAL without identity, DATA, BEGIN and the call in one write" {
	local id addr
	id=$(bus_id)
	addr="unixexec:path=$(value "$IPCBOX"),argv1=bus-bridge,argv2=--address,argv3=$(value "$BUS_ADDR")"
	traced bus-call --address "$addr" org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetId
	assert_status 0
	assert_output "$id"
	[ "$(count sendto)" -eq 1 ]
	grep '^sendto(' "$T/trace" | grep -F '"\0AUTH EXTERNAL\r\nDATA\r\nBEGIN\r\nl' | grep -qF 'GetId'
}

@test "a server that writes one byte at a time, its lines apart: the answers are read as they come" {
	sasl slow
	sasl_call
	[ "$(cat "$T/sasl.log")" = "pipelined: AUTH EXTERNAL $(uid_hex) | BEGIN" ]
}

@test "a server that rejects EXTERNAL: the pipelined bytes are void; a fresh connection, step by step, then ANONYMOUS" {
	sasl reject-external
	sasl_call
	# the first connection ended at BEGIN, as the spec's server ends it
	# while waiting for AUTH; the call was never read as a message there
	printf 'pipelined: AUTH EXTERNAL %s | BEGIN\nstepwise: AUTH EXTERNAL %s | AUTH ANONYMOUS %s | BEGIN\n' \
		"$(uid_hex)" "$(uid_hex)" "$(printf ipcbox | od -An -tx1 | tr -d ' \n')" >"$T/want"
	diff "$T/want" "$T/sasl.log"
}

@test "a server that challenges EXTERNAL with DATA: refused pipelined, answered step by step" {
	sasl challenge
	sasl_call
	printf 'pipelined: AUTH EXTERNAL %s | BEGIN\nstepwise: AUTH EXTERNAL %s | DATA %s | BEGIN\n' \
		"$(uid_hex)" "$(uid_hex)" "$(uid_hex)" >"$T/want"
	diff "$T/want" "$T/sasl.log"
}

@test "a server that hangs up on pipelined bytes without a word: one more connection, step by step" {
	sasl hangup
	sasl_call
	printf 'pipelined: AUTH EXTERNAL %s\nstepwise: AUTH EXTERNAL %s | BEGIN\n' "$(uid_hex)" "$(uid_hex)" >"$T/want"
	diff "$T/want" "$T/sasl.log"
}

@test "a server that accepts the pipelined form gets exactly one connection" {
	sasl plain
	sasl_call
	[ "$(cat "$T/sasl.log")" = "pipelined: AUTH EXTERNAL $(uid_hex) | BEGIN" ]
}

@test "unixexec: a command that hangs up during authentication is not run a second time" {
	local addr
	# it reads the NUL byte first: our one write has gone in by then, so
	# the end is seen as EOF, never as a write to a closed pipe
	addr="unixexec:path=/bin/sh,argv1=-c,argv2=$(value "echo ran >>'$T/runs'; head -c 1 >/dev/null")"
	run --separate-stderr ipc bus-call --address "$addr" org.x.Y /a org.x.Y M
	assert_status 1
	assert_one_line_error bus-call
	[[ $stderr == *"the bus closed the connection during authentication"* ]]
	[ "$(cat "$T/runs")" = ran ]
}

@test "unixexec, no identity: OK with no DATA challenge first; the ERROR owed to the queued DATA is passed over" {
	local addr
	sasl ok-at-once
	# the command relays the exec transport to the fake server's socket
	addr="unixexec:path=$(value "$IPCBOX"),argv1=unix-connect,argv2=$(value "$T/sasl.sock")"
	run --separate-stderr ipc bus-call --address "$addr" org.x.Y /a org.x.Y M
	assert_status 0
	assert_output 's "pong"'
	wait_status "$BG_PID"
	assert_status 0
	[ "$(cat "$T/sasl.log")" = "pipelined: AUTH EXTERNAL | DATA | BEGIN" ]
}
