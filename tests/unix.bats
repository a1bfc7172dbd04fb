#!/usr/bin/env bats
# unix-listen and unix-connect: path and abstract sockets, the socket file's
# life (mode, stale file replaced, a non-socket never removed, removed at
# exit), SO_PEERCRED variables, options and bad input, against socat,
# OpenBSD nc -U and ipcbox itself.

bats_require_minimum_version 1.5.0
load helpers

# ulisten ARGS... SOCKET: unix-listen in the background; LPID is its pid,
# LBG bg's (timeout's: wait_status takes it).
# Ready once the socket file exists (for @names: once -v said so).
ulisten() {
	rm -f "$T/l.err"
	bgi "$IPCBOX" unix-listen -v "$@" 2>"$T/l.err.new"
	LBG=$BG_PID
	wait_for grep -q "listening on" "$T/l.err.new"
	mv "$T/l.err.new" "$T/l.err"
	LPID=$(cat "/proc/$BG_PID/task/$BG_PID/children")
	LPID=${LPID%% *}
}

abstract_name() {
	echo "@ipcbox-test-$$-$BATS_TEST_NUMBER"
}

@test "dispatch: unix-listen, 'unix listen' and a unix-connect link all work" {
	bgi "$IPCBOX" unix listen "$T/s" </dev/null >"$T/got"
	wait_for test -S "$T/s"
	ln -s "$IPCBOX" "$T/unix-connect"
	run timeout -k 5 "$TMO" "$T/unix-connect" "$T/s" <<<"via link"
	assert_status 0
	wait_for grep -q "via link" "$T/got"
	run ipc unix connect --help
	assert_status 0
	assert_match '^Usage: ipcbox unix-connect '
	run ipc unix
	assert_status 0
	assert_match 'connect'
	assert_match 'listen'
}

@test "relay both ways over a path socket; the socket file is removed at the end" {
	echo from-listener >"$T/a"
	ulisten "$T/s" <"$T/a" >"$T/got"
	run ipc unix-connect "$T/s" <<<"from-connector"
	assert_status 0
	assert_output from-listener
	wait_status "$LBG"
	assert_status 0
	[ "$(cat "$T/got")" = from-connector ]
	[ ! -e "$T/s" ]
}

@test "abstract @name: relay both ways, no file anywhere" {
	local name
	name=$(abstract_name)
	echo from-listener >"$T/a"
	ulisten "$name" <"$T/a" >"$T/got"
	grep -q "@ipcbox-test" /proc/net/unix
	run ipc unix-connect "$name" <<<"from-connector"
	assert_status 0
	assert_output from-listener
	wait_status "$LBG"
	assert_status 0
	[ "$(cat "$T/got")" = from-connector ]
}

@test "8 MiB each way at once against socat: checksums match" {
	head -c 8M /dev/urandom >"$T/a"
	head -c 8M /dev/urandom >"$T/b"
	ulisten "$T/s" <"$T/a" >"$T/got-b"
	timeout -k 5 "$TMO" socat -t 20 UNIX-CONNECT:"$T/s" STDIO <"$T/b" >"$T/got-a"
	wait_status "$LBG"
	assert_status 0
	cmp "$T/a" "$T/got-a"
	cmp "$T/b" "$T/got-b"
}

@test "unix-connect to an OpenBSD nc -U listener: a reply after our EOF arrives" {
	head -c 1M /dev/urandom >"$T/b"
	echo reply >"$T/a"
	nc.openbsd -N -U -l "$T/s" <"$T/a" >"$T/got" &
	BG_PIDS+=($!)
	wait_for test -S "$T/s"
	run ipc unix-connect "$T/s" <"$T/b"
	assert_status 0
	assert_output reply
	wait_for cmp -s "$T/b" "$T/got"
}

@test "socket file mode: 0600 by default, --mode sets it" {
	ulisten "$T/s" </dev/null
	[ "$(stat -c %a "$T/s")" = 600 ]
	ulisten --mode 660 "$T/s2" </dev/null
	[ "$(stat -c %a "$T/s2")" = 660 ]
}

@test "a stale socket file (nobody answers) is replaced" {
	/usr/bin/python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$T/s"
	[ -S "$T/s" ]
	run ipc unix-connect -z "$T/s"
	assert_status 1
	ulisten "$T/s" </dev/null >"$T/got"
	run ipc unix-connect "$T/s" <<<"fresh"
	assert_status 0
	wait_for grep -q fresh "$T/got"
}

@test "an existing non-socket file is never removed: exit 1, one line" {
	echo keep >"$T/f"
	run --separate-stderr ipc unix-listen "$T/f"
	assert_status 1
	[ "$stderr" = "ipcbox unix-listen: $T/f: exists and is not a socket; not removed" ]
	[ "$(cat "$T/f")" = keep ]
	mkdir "$T/d"
	run --separate-stderr ipc unix-listen "$T/d"
	assert_status 1
	[ -d "$T/d" ]
	ln -s "$T/f" "$T/link"
	run --separate-stderr ipc unix-listen "$T/link"
	assert_status 1
	[ -L "$T/link" ]
}

@test "a socket someone answers on is left alone: exit 1" {
	# (-k: the probe is a connection, which would end a one-shot listener.)
	ulisten -k "$T/s" </dev/null
	run --separate-stderr ipc unix-listen "$T/s"
	assert_status 1
	[ "$stderr" = "ipcbox unix-listen: $T/s: another process is listening on it" ]
	[ -S "$T/s" ]
	run ipc unix-connect -z "$T/s"
	assert_status 0
}

@test "SIGTERM and SIGINT: exit 0 and the socket file is removed" {
	ulisten -k "$T/s" </dev/null
	kill -TERM "$LPID"
	status=0
	wait "$BG_PID" || status=$?
	assert_status 0
	[ ! -e "$T/s" ]
	ulisten "$T/s" </dev/null
	kill -INT "$LPID"
	status=0
	wait "$BG_PID" || status=$?
	assert_status 0
	[ ! -e "$T/s" ]
}

@test "-k -e: UCSPI variables from SO_PEERCRED (pid, uid, gid) and PROTO=UNIX" {
	ulisten -k -e 'echo "$PROTO $UNIXREMOTEPID $UNIXREMOTEUID $UNIXREMOTEGID $UNIXLOCALPATH"' "$T/s"
	run timeout -k 5 "$TMO" bash -c 'echo $$ >"$1/pid"; exec "$2" unix-connect "$1/s" </dev/null' _ "$T" "$IPCBOX"
	assert_status 0
	assert_output "UNIX $(cat "$T/pid") $(id -u) $(id -g) $T/s"
}

@test "-k -e: UNIXREMOTEUID and UNIXREMOTEGID are the client's, a uid and a gid that differ (root)" {
	need_root
	local name
	name=$(abstract_name) # an abstract socket: any uid may connect
	other_ipcbox
	ulisten -k -e 'echo "$UNIXREMOTEUID $UNIXREMOTEGID"' "$name"
	run as_other "$OTHER_IPCBOX" unix-connect "$name" </dev/null
	assert_status 0
	assert_output "$OTHER_UID $OTHER_GID"
}

@test "-k -e -m 1: clients served one after another, no zombie left" {
	ulisten -k -m 1 --exec 'read -r l; echo "got $l"' "$T/s"
	local i
	for i in 1 2 3 4 5; do
		timeout -k 5 "$TMO" "$IPCBOX" unix-connect "$T/s" <<<"c$i" >"$T/c$i" &
	done
	wait_for bash -c "for i in 1 2 3 4 5; do grep -qx 'got c'\$i '$T'/c\$i || exit 1; done"
	wait_for bash -c "[ -z \"\$(cat /proc/$LPID/task/*/children)\" ]"
}

@test "-e on unix-connect: the command's status is ours" {
	ulisten "$T/s" </dev/null >"$T/got"
	run ipc unix-connect --exec 'echo "$PROTO"; exit 5' "$T/s"
	assert_status 5
	wait_for grep -qx UNIX "$T/got"
}

@test "-z/--zero: 0 if it accepts, 1 (one line) if there is no such socket" {
	ulisten "$T/s" </dev/null
	run ipc unix-connect --zero "$T/s"
	assert_status 0
	run --separate-stderr ipc unix-connect -z "$T/nothing"
	assert_status 1
	[ "$stderr" = "ipcbox unix-connect: connect to $T/nothing: No such file or directory" ]
}

@test "-i/--idle: no data either way is exit 124 (connect and listen)" {
	mkfifo "$T/f1" "$T/f2"
	ulisten --idle 300ms "$T/s" <>"$T/f1"
	local lp=$BG_PID
	run --separate-stderr ipc unix-connect -i 200ms "$T/s" <>"$T/f2"
	assert_timed_out unix-connect
	wait_status "$lp"
	# its stderr once it has ended, without the -v lines
	stderr=$(grep -v -e ': listening on ' -e ': connection from ' "$T/l.err")
	mapfile -t stderr_lines <<<"$stderr"
	assert_timed_out unix-listen
}

@test "-w/--wait: a full backlog is exit 124" {
	bgi /usr/bin/python3 -c '
import socket, sys, os, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(0)
held = []
for i in range(3):
    c = socket.socket(socket.AF_UNIX); c.setblocking(False)
    try: c.connect(sys.argv[1])
    except BlockingIOError: pass
    held.append(c)
open(sys.argv[1] + ".ready", "w").close()
time.sleep(60)' "$T/s" </dev/null
	wait_for test -e "$T/s.ready"
	run --separate-stderr ipc unix-connect -w 200ms "$T/s"
	assert_timed_out unix-connect
	[ "$stderr" = "ipcbox unix-connect: connect to $T/s: no answer within 200ms" ]
}

@test "bad input: long paths, empty names, bad modes and durations, operands: exit 2" {
	run --separate-stderr ipc unix-connect "/tmp/$(printf 'x%.0s' $(seq 1 120))"
	assert_status 2
	assert_one_line_error unix-connect
	[[ $stderr == *"too long"* ]]
	run --separate-stderr ipc unix-listen @
	assert_status 2
	run --separate-stderr ipc unix-listen ''
	assert_status 2
	run --separate-stderr ipc unix-listen --mode 999 "$T/s"
	assert_status 2
	[ "$stderr" = "ipcbox unix-listen: invalid mode '999'" ]
	run --separate-stderr ipc unix-connect -w soon "$T/s"
	assert_status 2
	[ "$stderr" = "ipcbox unix-connect: invalid connect timeout 'soon'" ]
	run --separate-stderr ipc unix-connect
	assert_status 2
	[[ $stderr == *"missing operand"* ]]
	run --separate-stderr ipc unix-listen "$T/a" "$T/b"
	assert_status 2
	run --separate-stderr ipc unix-listen --frob "$T/s"
	assert_status 2
	assert_one_line_error unix-listen
	run --separate-stderr ipc unix-listen -m 3 "$T/s"
	assert_status 2
	[ ! -e "$T/s" ]
}

@test "connect to a path nobody listens on: exit 1 'Connection refused'" {
	/usr/bin/python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$T/s"
	run --separate-stderr ipc unix-connect "$T/s"
	assert_status 1
	[ "$stderr" = "ipcbox unix-connect: connect to $T/s: Connection refused" ]
}
