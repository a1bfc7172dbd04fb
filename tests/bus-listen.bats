#!/usr/bin/env bats
# bus-listen: a signal's slot in the shell, against a private dbus-daemon;
# signals sent with bus-emit, dbus-send and a python3-dbus service (readiness
# from --ready-file, no sleeps).

bats_require_minimum_version 1.5.0
load helpers
load bus_helpers

# listen ARG...: bus-listen in the background, output in $T/out, stderr in
# $T/err; returns once it is subscribed.  Its pid (of timeout) is in LISTEN.
listen() {
	rm -f "$T/ready"
	bg "$IPCBOX" bus-listen --ready-file "$T/ready" "$@" >"$T/out" 2>"$T/err"
	LISTEN=$BG_PID
	wait_file "$T/ready"
}

# finish: wait for the listener; its status in $status.
finish() {
	status=0
	wait "$LISTEN" || status=$?
}

I=org.ipcbox.Listen

@test "bus-listen prints SENDER PATH INTERFACE.MEMBER and the arguments in terse text" {
	listen "interface='$I$$'" -c 2
	run ipc bus-emit /a/b "$I$$" Sig su 'hi "there"' 5
	assert_status 0
	run timeout -k 5 "$TMO" dbus-send --bus="$BUS_ADDR" /c "$I$$.Bare"
	assert_status 0
	finish
	assert_status 0
	run cat "$T/out"
	assert_match '^:[0-9]+\.[0-9]+ /a/b '"$I$$"'\.Sig su "hi \\"there\\"" 5
:[0-9]+\.[0-9]+ /c '"$I$$"'\.Bare$'
	[ ! -s "$T/err" ]
}

@test "bus-listen: type='signal' is implied, and the rules choose the signals" {
	listen "interface='$I$$',member='Want'" "path='/only'" -c 3
	ipc bus-emit /p "$I$$" Other s no
	ipc bus-emit /p "$I$$" Want s one
	ipc bus-emit /p "$I.Else$$" Want s no
	ipc bus-emit /only "$I.Else$$" X s two
	# a method call matching the path rule is not a signal: not received
	run ipc bus-call --expect-reply=no org.freedesktop.DBus /only org.freedesktop.DBus GetId
	ipc bus-emit /p "$I$$" Want s three
	finish
	assert_status 0
	run sed 's/^[^ ]* //' "$T/out"
	assert_output "/p $I$$.Want s \"one\"
/only $I.Else$$.X s \"two\"
/p $I$$.Want s \"three\""
}

@test "bus-listen with no rule receives every signal, not the bus's NameAcquired for itself" {
	listen
	ipc bus-emit /p "$I$$" Any u 1
	wait_for grep -q "$I$$.Any u 1" "$T/out"
	kill "$(cat "/proc/$LISTEN/task/$LISTEN/children")"
	finish
	assert_status 0
	if grep -q NameAcquired "$T/out"; then cat "$T/out" >&2; return 1; fi
}

@test "bus-listen -v puts the time and the serial in front" {
	listen -v "interface='$I$$'" -c 1
	ipc bus-emit /p "$I$$" Sig b true
	finish
	assert_status 0
	run cat "$T/out"
	assert_match '^[0-9]{10}\.[0-9]{6} [1-9][0-9]* :[0-9.]+ /p '"$I$$"'\.Sig b true$'
}

@test "bus-listen --json: one object a line, data as bus-call --json prints it" {
	start_service "$I.Svc$$" "$T/svc"
	listen --json "interface='$I$$'" -c 1
	ipc bus-emit /p "$I$$" Sig -- 'a{sv}(ix)ayt' 1 k v i 3 -4 5 2 0 255 18446744073709551615
	finish
	assert_status 0
	run ipc bus-call --json "$I.Svc$$" "$OBJ" "$IFACE" Echo -- 'a{sv}(ix)ayt' 1 k v i 3 -4 5 2 0 255 18446744073709551615
	assert_status 0
	run "$PY" -c '
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
o = json.loads(lines[0])
call = json.loads(sys.argv[2])
assert o["data"] == call["data"], (o["data"], call["data"])
assert o["signature"] == call["type"] == "a{sv}(ix)ayt", o
assert o["sender"].startswith(":") and o["path"] == "/p" and o["member"] == "Sig", o
assert o["interface"] == sys.argv[3] and o["serial"] > 0 and o["time"] > 1.6e9, o
assert "18446744073709551615" in lines[0]
' "$T/out" "$output" "$I$$"
	assert_status 0
	kill "$(cat "$T/svc/pid")"
}

@test "bus-listen -F: %s %p %i %m %g %a %t, escapes and %%" {
	listen -F '%p|%i|%m|%g|%a\t%%|%s|%t' "interface='$I$$'" -c 1
	ipc bus-emit /p "$I$$" Sig sai 'a b' 2 7 8
	finish
	assert_status 0
	run cat "$T/out"
	assert_match "^/p\|$I$$\|Sig\|sai\|\"a b\" 2 7 8	%\|:[0-9]+\.[0-9]+\|[0-9]{10}\.[0-9]{6}$"
}

@test "bus-listen -e: the slot runs per signal, one at a time, in order, with the arguments on stdin and BUS_* set" {
	export SLOT=$T
	# The first command holds the slot until all five signals were sent: a
	# second command running meanwhile would find "busy" taken.
	listen -c 5 "interface='$I$$'" -e '
		mkdir "$SLOT/busy" || echo overlap >>"$SLOT/log"
		if [ "$BUS_MEMBER" = M1 ]; then
			until [ -e "$SLOT/go" ]; do sleep 0.01; done
		fi
		read -r line
		echo "$BUS_SENDER|$BUS_PATH|$BUS_INTERFACE|$BUS_MEMBER|$BUS_SIGNATURE|$line" >>"$SLOT/log"
		rmdir "$SLOT/busy"'
	for i in 1 2 3 4 5; do ipc bus-emit "/n$i" "$I$$" "M$i" su "x $i" "$i"; done
	touch "$T/go"
	finish
	assert_status 0
	run sed 's/^:[0-9]*\.[0-9]*|//' "$T/log"
	assert_output "/n1|$I$$|M1|su|su \"x 1\" 1
/n2|$I$$|M2|su|su \"x 2\" 2
/n3|$I$$|M3|su|su \"x 3\" 3
/n4|$I$$|M4|su|su \"x 4\" 4
/n5|$I$$|M5|su|su \"x 5\" 5"
	[ ! -s "$T/out" ] && [ ! -s "$T/err" ]
}

@test "bus-listen -c with -e exits with the last command's status" {
	listen -c 2 "interface='$I$$'" -e 'read -r sig n; exit "$n"'
	ipc bus-emit /p "$I$$" S u 0
	ipc bus-emit /p "$I$$" S u 7
	finish
	assert_status 7
}

@test "bus-listen -e: a command that does not read its stdin is no error" {
	listen -c 1 "interface='$I$$'" -e 'echo ran'
	ipc bus-emit /p "$I$$" S ay 100000 $(seq 1 100000 | sed 's/.*/7/')
	finish
	assert_status 0
	run cat "$T/out"
	assert_output ran
	[ ! -s "$T/err" ]
}

@test "bus-listen: sender= a well-known name keeps matching after the service restarts" {
	local name=$I.Owner$$
	start_service "$name" "$T/svc1"
	listen -c 2 -F '%s %m %a' "sender='$name'"
	run ipc bus-call "$name" "$OBJ" "$IFACE" EmitChanged s one
	assert_status 0
	kill "$(cat "$T/svc1/pid")"
	wait_for eval "! ipc bus-wait -t 1ms $name 2>/dev/null"
	# the same interface and member from someone else: not the name's owner
	ipc bus-emit "$OBJ" "$IFACE" Changed s intruder
	start_service "$name" "$T/svc2"
	run ipc bus-call "$name" "$OBJ" "$IFACE" EmitChanged s two
	assert_status 0
	finish
	assert_status 0
	run cat "$T/out"
	assert_output "$(cat "$T/svc1/ready") Changed \"one\"
$(cat "$T/svc2/ready") Changed \"two\""
	[ "$(cat "$T/svc1/ready")" != "$(cat "$T/svc2/ready")" ]
	kill "$(cat "$T/svc2/pid")"
}

@test "bus-listen -t: no signal within the time exits 124" {
	run --separate-stderr ipc bus-listen -t 200ms "interface='$I$$'"
	assert_status 124
	assert_one_line_error bus-listen
}

@test "bus-listen flushes each signal at once" {
	listen "interface='$I$$'"
	ipc bus-emit /p "$I$$" First
	wait_for grep -q First "$T/out"
	ipc bus-emit /p "$I$$" Second
	wait_for grep -q Second "$T/out"
}

@test "bus-listen exits 0 on SIGTERM and SIGINT" {
	local sig pid
	for sig in TERM INT; do
		listen "interface='$I$$'"
		ipc bus-emit /p "$I$$" Before
		wait_for grep -q Before "$T/out"
		pid=$(cat "/proc/$LISTEN/task/$LISTEN/children")
		kill -s "$sig" "$pid"
		finish
		assert_status 0
		[ ! -s "$T/err" ]
	done
}

@test "bus-listen: a closed standard output ends it quietly with 0" {
	rm -f "$T/ready"
	(
		timeout -k 5 "$TMO" "$IPCBOX" bus-listen --ready-file "$T/ready" "interface='$I$$'" 2>"$T/err"
		echo $? >"$T/rc"
	) | head -n 1 >"$T/out" &
	BG_PIDS+=($!)
	wait_file "$T/ready"
	emit_until_done() {
		ipc bus-emit /p "$I$$" Tick
		[ -s "$T/rc" ]
	}
	wait_for emit_until_done
	run cat "$T/rc"
	assert_output 0
	[ ! -s "$T/err" ]
	run cat "$T/out"
	assert_match "$I$$.Tick$"
}

@test "bus-listen refuses other types, bad rules, bad formats and mixed outputs with 2 and one line" {
	local bad
	for bad in "type='method_call'" "type=error" "interface='x',type='method_return'" "nokey='x'" "type='signal" "arg64='x'"; do
		run --separate-stderr ipc bus-listen "$bad"
		assert_status 2
		assert_one_line_error bus-listen
	done
	run --separate-stderr ipc bus-listen "type='bogus'"
	assert_status 2
	for bad in '%q' 'x%' '\q' 'a\'; do
		run --separate-stderr ipc bus-listen -F "$bad"
		assert_status 2
		assert_one_line_error bus-listen
	done
	run --separate-stderr ipc bus-listen -v --json
	assert_status 2
	assert_one_line_error bus-listen
	run --separate-stderr ipc bus-listen -c 0
	assert_status 2
	run --separate-stderr ipc bus-listen "interface='$(head -c 1010 /dev/zero | tr '\0' a)'"
	assert_status 2
	assert_one_line_error bus-listen
}

@test "bus-listen pauses before a drain only after a batch: quiet signals never wait, a flood's next drain does" {
	flood_pause_check bus-listen '\.Tick u '
	run grep -c '\.Tick u ' "$T/out"
	assert_output 56
}
