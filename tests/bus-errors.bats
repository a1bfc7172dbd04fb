#!/usr/bin/env bats
# bus-*: bad input is refused (exit 2) before connecting, bad addresses and
# unreachable buses are clear one-line errors, and a bus that misbehaves
# during authentication (a fake server) cannot crash or hang the client.

bats_require_minimum_version 1.5.0
load helpers
load bus_helpers

# Argument errors must come before any connection: the address points
# nowhere (a name in this file's own temporary directory that nothing
# creates), so a connection attempt would fail with exit 1 instead.
NOWHERE=unix:path=$BATS_FILE_TMPDIR/no-bus-here

# refused_before_connecting APPLET ARG...: exit 2, one line, nothing on stdout.
refused_before_connecting() {
	run --separate-stderr ipc "$1" --address "$NOWHERE" "${@:2}"
	[ "$status" -eq 2 ] && [ -z "$output" ] && [ "${#stderr_lines[@]}" -eq 1 ] &&
		[[ $stderr == "ipcbox $1: "* ]] ||
		{ echo "$*: status $status, stderr: $stderr" >&2; return 1; }
}

call() {
	refused_before_connecting bus-call org.x.Y /a org.x.Y M "$@"
}

@test "unit: addresses, default addresses, the introspection XML reader, replies and the Peer interface" {
	run env TMPDIR="$T" "$IPCBOX_UNIT/dbus_conn"
	assert_status 0
}

@test "invalid signatures are refused before connecting" {
	for sig in 'a' '(' 'a{vs}' '()' 'w' 'r' 'ii)' '{ss}'; do
		call "$sig" 1
	done
	call h 0
	[[ $stderr == *"type 'h'"* ]]
}

@test "too few and too many values are refused before connecting" {
	call ii 1
	[[ $stderr == *"too few values for signature 'ii'"* ]]
	call i 1 2
	[[ $stderr == *"too many values"* ]]
	call as 3 a b
	call 'a{sv}' 1 k s
}

@test "out-of-range and malformed numbers are refused before connecting" {
	call y 256
	[[ $stderr == *"'256'"* ]]
	call n 32768
	call q 65536
	call i 2147483648
	call u -- -1
	call x 9223372036854775808
	call t 18446744073709551616
	call i 12abc
	call d 1.5x
	call b maybe
	call as -- -1
}

@test "a negative number without -- is an unknown option, exit 2" {
	run --separate-stderr ipc bus-call --address "$NOWHERE" org.x.Y /a org.x.Y M i -5
	assert_status 2
	[[ $stderr == *"unknown option '-5'"* ]]
}

@test "invalid names and paths are refused before connecting" {
	refused_before_connecting bus-call 'org..x' /a org.x.Y M
	[[ $stderr == *"invalid bus name 'org..x'"* ]]
	refused_before_connecting bus-call org.x.Y 'a/b' org.x.Y M
	[[ $stderr == *"invalid object path 'a/b'"* ]]
	refused_before_connecting bus-call org.x.Y /a/ org.x.Y M
	refused_before_connecting bus-call org.x.Y /a Foo M
	[[ $stderr == *"invalid interface name 'Foo'"* ]]
	refused_before_connecting bus-call org.x.Y /a org.x.Y Get.Id
	[[ $stderr == *"invalid member name 'Get.Id'"* ]]
	refused_before_connecting bus-get org.x.Y /a org.x.Y 'bad name'
	refused_before_connecting bus-set org.x.Y /a org.x.Y P ii 1 2
	[[ $stderr == *"one complete type"* ]]
	refused_before_connecting bus-emit /a org.x.Y S --dest '9bad.name'
	refused_before_connecting bus-wait ':'
	refused_before_connecting bus-wait --signal /a//b org.x.Y S
	refused_before_connecting bus-introspect org.x.Y nopath
	refused_before_connecting bus-tree '.org.x'
}

@test "missing operands, bad --timeout and bad --expect-reply are usage errors" {
	refused_before_connecting bus-call org.x.Y /a org.x.Y
	refused_before_connecting bus-call -t 5x org.x.Y /a org.x.Y M
	refused_before_connecting bus-call --expect-reply=maybe org.x.Y /a org.x.Y M
	refused_before_connecting bus-wait --signal /a org.x.Y
	refused_before_connecting bus-list extra
}

@test "listen-only addresses, autolaunch: and bad escapes are refused, exit 2" {
	local addr
	for addr in "unix:dir=/tmp" "unix:tmpdir=/tmp" "unix:runtime=yes" "autolaunch:" \
		"nonce-tcp:host=h,port=1" "frob:" "unix:path=/a%zz" "/run/bus"; do
		run --separate-stderr ipc bus-list --address "$addr"
		[ "$status" -eq 2 ] && [ "${#stderr_lines[@]}" -eq 1 ] &&
			[[ $stderr == "ipcbox bus-list: invalid address '$addr': "* ]] ||
			{ echo "$addr: $status $stderr" >&2; return 1; }
	done
	run --separate-stderr ipc bus-list --address unix:dir=/tmp
	[[ $stderr == *"unix:dir= is for servers that listen; a client needs unix:path= or unix:abstract="* ]]
	run --separate-stderr ipc bus-list --address autolaunch:
	[[ $stderr == *"autolaunch: is not supported"* ]]
}

@test "an unreachable bus: a missing socket, a non-socket, a refused tcp port: exit 1, one line" {
	run --separate-stderr ipc bus-list --address "unix:path=$T/none"
	assert_status 1
	assert_one_line_error bus-list
	[ "$stderr" = "ipcbox bus-list: connect to unix:path=$T/none: No such file or directory" ]
	echo data >"$T/file"
	run --separate-stderr ipc bus-list --address "unix:path=$T/file"
	assert_status 1
	[ "$stderr" = "ipcbox bus-list: connect to unix:path=$T/file: not a socket" ]
	run --separate-stderr ipc bus-list --address "tcp:host=127.0.0.1,port=1"
	assert_status 1
	[[ $stderr == *"connect to tcp:host=127.0.0.1,port=1: Connection refused" ]]
	run --separate-stderr ipc bus-list --address "unix:abstract=ipcbox-none-$$"
	assert_status 1
	assert_one_line_error bus-list
}

@test "no session bus: neither DBUS_SESSION_BUS_ADDRESS nor XDG_RUNTIME_DIR, exit 1" {
	run --separate-stderr env -u DBUS_SESSION_BUS_ADDRESS -u XDG_RUNTIME_DIR timeout -k 5 "$TMO" "$IPCBOX" bus-list
	assert_status 1
	assert_one_line_error bus-list
	[[ $stderr == *"no session bus"* ]]
}

@test "--system uses \$DBUS_SYSTEM_BUS_ADDRESS" {
	run --separate-stderr env DBUS_SYSTEM_BUS_ADDRESS="$BUS_ADDR" DBUS_SESSION_BUS_ADDRESS="$NOWHERE" \
		timeout -k 5 "$TMO" "$IPCBOX" bus-call --system org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.Peer Ping
	assert_status 0
}

# fake MODE: a fake bus in $T/fake.sock answering authentication per MODE.
fake() {
	bg "$PY" "$PEERS/fake-bus.py" "$1" "$T/fake.sock" "$T/fake.ready"
	wait_file "$T/fake.ready"
}

@test "authentication: the client sends NUL, AUTH EXTERNAL with the hex of its decimal uid" {
	fake rejected
	run --separate-stderr ipc bus-list --address "unix:path=$T/fake.sock"
	local hex
	hex=$(printf '%s' "$(id -u)" | od -An -tx1 | tr -d ' \n')
	printf '\0AUTH EXTERNAL %s\r\nBEGIN\r\n' "$hex" >"$T/want"
	cmp -n $((24 + ${#hex})) "$T/want" "$T/fake.sock.log"
	# the Hello message follows BEGIN in the same write
	[ "$(stat -c %s "$T/fake.sock.log")" -gt $((24 + ${#hex})) ]
}

@test "authentication: a bus that rejects us is a clear error, exit 1, after a step-by-step second try" {
	fake rejected
	run --separate-stderr ipc bus-list --address "unix:path=$T/fake.sock"
	assert_status 1
	assert_one_line_error bus-list
	[ "$stderr" = "ipcbox bus-list: unix:path=$T/fake.sock: the bus rejected authentication (offered: EXTERNAL ANONYMOUS)" ]
	# the pipelined bytes meant nothing after REJECTED: a fresh connection, one step at a time
	[ "$(cat "$T/fake.sock.conns")" = "$(printf 'pipelined\nstepwise')" ]
}

@test "authentication: ERROR, garbage, a short guid, EOF and an endless line are errors, exit 1" {
	local mode want
	for mode in error garbage badok close longline; do
		case $mode in
		error) want='the bus refused authentication: ERROR "go away"' ;;
		garbage) want="garbage in the bus's authentication reply" ;;
		badok) want="malformed authentication reply 'OK 1234'" ;;
		close) want='the bus closed the connection during authentication' ;;
		longline) want='authentication reply longer than 16384 bytes' ;;
		esac
		rm -f "$T/fake.sock" "$T/fake.ready"
		fake "$mode"
		rm -f "$T/fake.sock.conns"
		run --separate-stderr ipc bus-list --address "unix:path=$T/fake.sock"
		[ "$status" -eq 1 ] && [ "${#stderr_lines[@]}" -eq 1 ] && [[ $stderr == *"$want"* ]] ||
			{ echo "$mode: $status $stderr" >&2; return 1; }
		wait_status "$BG_PID"
		assert_status 0
		# ERROR and a hang-up void the pipelined bytes: one more try, step by step
		case $mode in
		error | close) want=$(printf 'pipelined\nstepwise') ;;
		*) want=pipelined ;;
		esac
		[ "$(cat "$T/fake.sock.conns")" = "$want" ] || { echo "$mode: $(cat "$T/fake.sock.conns")" >&2; return 1; }
	done
}

@test "authentication: a bus that never answers times out, exit 124" {
	fake silent
	run --separate-stderr ipc bus-list -t 300ms --address "unix:path=$T/fake.sock"
	assert_timed_out bus-list
}

@test "a malformed first message or an oversized length is an error, exit 1, no crash" {
	fake badmsg
	run --separate-stderr ipc bus-list --address "unix:path=$T/fake.sock"
	assert_status 1
	assert_one_line_error bus-list
	[[ $stderr == "ipcbox bus-list: bad message from the bus: "* ]]
	wait_status "$BG_PID"
	assert_status 0
	rm -f "$T/fake.sock" "$T/fake.ready"
	fake hugemsg
	run --separate-stderr ipc bus-list --address "unix:path=$T/fake.sock"
	assert_status 1
	assert_one_line_error bus-list
	[[ $stderr == *"exceeds 128 MiB"* ]]
}

@test "bus-introspect and bus-tree: errors from a missing object or service, exit 1" {
	run --separate-stderr ipc bus-introspect --no-auto-start org.ipcbox.None /a
	assert_status 1
	assert_one_line_error bus-introspect
	[[ $stderr == *NameHasNoOwner* ]]
	run --separate-stderr ipc bus-tree --no-auto-start org.ipcbox.None
	assert_status 1
	assert_one_line_error bus-tree
	run --separate-stderr ipc bus-get --no-auto-start org.ipcbox.None /a org.x.Y P
	assert_status 1
	[[ $stderr == *NameHasNoOwner* ]]
}

@test "tcp: reaches a real dbus-daemon on loopback, which rejects EXTERNAL without credentials" {
	cat >"$T/tcp.conf" <<-'CONF'
		<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
		 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
		<busconfig>
		  <type>session</type>
		  <listen>tcp:host=127.0.0.1,port=0</listen>
		  <auth>EXTERNAL</auth>
		  <policy context="default"><allow send_destination="*"/><allow own="*"/></policy>
		</busconfig>
	CONF
	timeout -k 5 "$TMO" dbus-daemon --config-file="$T/tcp.conf" --fork --nopidfile \
		--print-address=3 --print-pid=4 3>"$T/tcp.addr" 4>"$T/tcp.pid"
	BG_PIDS+=("$(cat "$T/tcp.pid")")
	local addr port
	addr=$(head -n 1 "$T/tcp.addr")
	[[ $addr == tcp:host=127.0.0.1,port=*,family=ipv4,guid=* ]]
	port=${addr#*port=}
	port=${port%%,*}
	run --separate-stderr ipc bus-list --address "$addr"
	assert_status 1
	assert_one_line_error bus-list
	[ "$stderr" = "ipcbox bus-list: tcp:host=127.0.0.1,port=$port: the bus rejected authentication (offered: EXTERNAL)" ]
	# the pipelined try was refused, then the step-by-step one: two connections
	run --separate-stderr env ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}detect_leaks=0" \
		timeout -k 5 "$TMO" strace -qq -o "$T/trace" -e trace=connect "$IPCBOX" bus-list --address "$addr"
	assert_status 1
	[ "$(grep -c '^connect(' "$T/trace")" -eq 2 ]
}

@test "a bus answering in big-endian byte order: Hello and the reply are read all the same" {
	fake bigendian
	run --separate-stderr ipc bus-call --json --address "unix:path=$T/fake.sock" org.x.Y /a org.x.Y M
	assert_status 0
	assert_output '{"type":"sai","data":["héllo",[1,-2]]}'
}
