#!/usr/bin/env bats
# bus-serve: a command becomes a D-Bus method; called with bus-call and with
# python3-dbus, on a private dbus-daemon.

bats_require_minimum_version 1.5.0
load helpers
load bus_helpers

# serve NAME IN OUT CMD...: bus-serve on /calc org.ipcbox.Calc Run in the
# background; returns once NAME is owned.
serve() {
	local name=$1 in=$2 out=$3
	shift 3
	bg "$IPCBOX" bus-serve --ready-file "$T/ready" "$name" /calc org.ipcbox.Calc Run "$in" "$out" -- "$@" 2>"$T/serve.err"
	wait_file "$T/ready"
}

NAME=org.ipcbox.Serve.t

@test "bus-serve answers a call with the command's output" {
	serve "$NAME$$_$BATS_TEST_NUMBER" ii i sh -c 'read sig a b; echo "$((a + b))"'
	run ipc bus-call "$NAME$$_$BATS_TEST_NUMBER" /calc org.ipcbox.Calc Run ii 2 40
	assert_status 0
	assert_output 'i 42'
}

@test "bus-serve gives the command busctl's terse text and parses several results" {
	serve "$NAME$$_$BATS_TEST_NUMBER" sas sas sh -c 'cat >"$0"; echo hi 2 x y' "$T/in"
	run ipc bus-call "$NAME$$_$BATS_TEST_NUMBER" /calc org.ipcbox.Calc Run sas 'a b' 2 c d
	assert_status 0
	assert_output 'sas "hi" 2 "x" "y"'
	run cat "$T/in"
	assert_output 'sas "a b" 2 "c" "d"'
}

@test "bus-serve answers python3-dbus" {
	serve "$NAME$$_$BATS_TEST_NUMBER" s s sh -c 'read sig w; echo "got-$w"'
	run timeout -k 5 "$TMO" "$PY" -c '
import dbus, sys
o = dbus.SessionBus().get_object(sys.argv[1], "/calc")
print(o.Run("word", dbus_interface="org.ipcbox.Calc"))
' "$NAME$$_$BATS_TEST_NUMBER"
	assert_status 0
	assert_output 'got-"word"'
}

@test "bus-serve turns a failing command into an error reply" {
	serve "$NAME$$_$BATS_TEST_NUMBER" "" "" sh -c 'echo "it broke" >&2; echo second >&2; exit 3'
	run --separate-stderr ipc bus-call "$NAME$$_$BATS_TEST_NUMBER" /calc org.ipcbox.Calc Run
	assert_status 1
	[[ $stderr == *"org.freedesktop.DBus.Error.Failed: it broke" ]]
}

@test "bus-serve refuses output that does not fit OUT_SIG" {
	serve "$NAME$$_$BATS_TEST_NUMBER" "" u echo notanumber
	run --separate-stderr ipc bus-call "$NAME$$_$BATS_TEST_NUMBER" /calc org.ipcbox.Calc Run
	assert_status 1
	[[ $stderr == *"org.freedesktop.DBus.Error.Failed: bad output from the command"* ]]
}

@test "bus-serve refuses output of more than 65536 words" {
	serve "$NAME$$_$BATS_TEST_NUMBER" "" ai sh -c 'echo 70000; seq 70000'
	run --separate-stderr ipc bus-call "$NAME$$_$BATS_TEST_NUMBER" /calc org.ipcbox.Calc Run
	assert_status 1
	[[ $stderr == *"too many words"* ]]
}

@test "bus-serve answers Introspect, Ping and GetMachineId, UnknownMethod otherwise" {
	serve "$NAME$$_$BATS_TEST_NUMBER" 'a{sv}i' '(is)' echo 1 x
	run ipc bus-introspect "$NAME$$_$BATS_TEST_NUMBER" /calc
	assert_status 0
	[[ $output == *".Run"*"method"*"a{sv}i"*"(is)"* ]]
	run ipc bus-call "$NAME$$_$BATS_TEST_NUMBER" /calc org.freedesktop.DBus.Peer Ping
	assert_status 0
	assert_output ''
	if [ -r /etc/machine-id ] || [ -r /var/lib/dbus/machine-id ]; then
		run ipc bus-call "$NAME$$_$BATS_TEST_NUMBER" /calc org.freedesktop.DBus.Peer GetMachineId
		assert_status 0
		[[ $output =~ ^s\ \"[0-9a-f]{32}\"$ ]]
	fi
	run --separate-stderr ipc bus-call "$NAME$$_$BATS_TEST_NUMBER" /calc org.ipcbox.Calc Other
	assert_status 1
	[[ $stderr == *UnknownMethod* ]]
	run --separate-stderr ipc bus-call "$NAME$$_$BATS_TEST_NUMBER" /calc org.ipcbox.Calc Run s x
	assert_status 1
	[[ $stderr == *InvalidArgs* ]]
}

@test "bus-serve shows its object to bus-tree through the nodes above it" {
	bg "$IPCBOX" bus-serve --ready-file "$T/ready" "$NAME$$_$BATS_TEST_NUMBER" /a/bc/d org.ipcbox.Calc Run "" "" -- true
	wait_file "$T/ready"
	run ipc bus-tree "$NAME$$_$BATS_TEST_NUMBER"
	assert_status 0
	[[ $output == *"/a/bc/d"* ]]
	run --separate-stderr ipc bus-call "$NAME$$_$BATS_TEST_NUMBER" /a/b org.freedesktop.DBus.Introspectable Introspect
	assert_status 1
	[[ $stderr == *UnknownObject* ]]
}

@test "bus-serve exits 1 when the name is taken" {
	serve "$NAME$$_$BATS_TEST_NUMBER" "" "" true
	run --separate-stderr ipc bus-serve "$NAME$$_$BATS_TEST_NUMBER" /calc org.ipcbox.Calc Run "" "" -- true
	assert_status 1
	[[ $stderr == *"the name is taken"* ]]
}

@test "bus-serve refuses bad names and signatures with 2" {
	run ipc bus-serve org.x /p org.x M 'a' '' -- true
	assert_status 2
	run ipc bus-serve org.x /p org.x M '' '(i' -- true
	assert_status 2
	run ipc bus-serve :1.5 /p org.x M '' '' -- true
	assert_status 2
	run ipc bus-serve org.x p org.x M '' '' -- true
	assert_status 2
	run ipc bus-serve org.x /p org.x M '' ''
	assert_status 2
}

@test "bus-serve --argv gives the command one argv word per value" {
	export SLOT=$T
	bg "$IPCBOX" bus-serve --argv --ready-file "$T/ready" "$NAME$$_$BATS_TEST_NUMBER" /calc org.ipcbox.Calc Run 'sasv' u -- \
		sh -c 'printf "[%s]\n" "$@" >"$SLOT/args"; echo $#' sh
	wait_file "$T/ready"
	run ipc bus-call "$NAME$$_$BATS_TEST_NUMBER" /calc org.ipcbox.Calc Run -- sasv 'a "b" c' 3 'x y' '' "it's" ai 2 -1 7
	assert_status 0
	assert_output 'u 9'
	run cat "$T/args"
	assert_output '[a "b" c]
[3]
[x y]
[]
[it'"'"'s]
[ai]
[2]
[-1]
[7]'
}

@test "bus-serve -j 3: three slow calls at once, each reply to its caller, finishing in reverse order" {
	export GATE=$T
	bg "$IPCBOX" bus-serve -j 3 --ready-file "$T/ready" "$NAME$$_$BATS_TEST_NUMBER" /calc org.ipcbox.Calc Run u u -- \
		sh -c 'read -r sig n; touch "$GATE/running.$n"; until [ -e "$GATE/go.$n" ]; do sleep 0.01; done; echo "$n"'
	wait_file "$T/ready"
	local i pids=()
	for i in 1 2 3; do
		timeout -k 5 "$TMO" "$IPCBOX" bus-call "$NAME$$_$BATS_TEST_NUMBER" /calc org.ipcbox.Calc Run u "$i" >"$T/reply.$i" &
		pids[i]=$!
	done
	# all three commands run at the same time (with -j 1 only one would)
	wait_for test -e "$T/running.1" -a -e "$T/running.2" -a -e "$T/running.3"
	for i in 3 2 1; do
		touch "$T/go.$i"
		status=0
		wait "${pids[i]}" || status=$?
		assert_status 0
		run cat "$T/reply.$i"
		assert_output "u $i"
	done
}

@test "bus-serve -j 1 (the default) runs one command at a time" {
	export GATE=$T
	serve "$NAME$$_$BATS_TEST_NUMBER" u u sh -c 'read -r sig n; mkdir "$GATE/busy" || echo overlap >>"$GATE/log"; if [ "$n" = 1 ]; then until [ -e "$GATE/go" ]; do sleep 0.01; done; fi; rmdir "$GATE/busy"; echo "$n"'
	timeout -k 5 "$TMO" "$IPCBOX" bus-call "$NAME$$_$BATS_TEST_NUMBER" /calc org.ipcbox.Calc Run u 1 >"$T/r1" &
	local p1=$!
	wait_for test -d "$T/busy"
	timeout -k 5 "$TMO" "$IPCBOX" bus-call "$NAME$$_$BATS_TEST_NUMBER" /calc org.ipcbox.Calc Run u 2 >"$T/r2" &
	local p2=$!
	# the second call waits in the connection; Ping too, until a slot is free
	touch "$T/go"
	wait "$p1"
	wait "$p2"
	run cat "$T/r1" "$T/r2"
	assert_output 'u 1
u 2'
	[ ! -e "$T/log" ]
}

@test "bus-serve: hostile callers get an error reply, and the service goes on answering" {
	serve "$NAME$$_$BATS_TEST_NUMBER" v s sh -c 'wc -c'
	local svc=$NAME$$_$BATS_TEST_NUMBER deep
	# the wrong signature
	run --separate-stderr ipc bus-call "$svc" /calc org.ipcbox.Calc Run ai 1 2
	assert_status 1
	[[ $stderr == *InvalidArgs* ]]
	# variants nested 60 deep: answered
	deep=$(printf 'v %.0s' $(seq 59))
	# shellcheck disable=SC2086
	run ipc bus-call "$svc" /calc org.ipcbox.Calc Run v $deep s x
	assert_status 0
	# a caller that vanishes before its reply
	run ipc bus-call --timeout 1ms "$svc" /calc org.ipcbox.Calc Run v s gone
	[ "$status" -eq 124 ] || [ "$status" -eq 0 ]
	# a large argument (1 MiB of bytes; bigger ones only slow an ASan build down)
	run ipc bus-call "$svc" /calc org.ipcbox.Calc Run v ay 1 7
	assert_status 0
	"$PY" - "$svc" >"$T/big" <<-'PY'
	import dbus, sys
	o = dbus.SessionBus().get_object(sys.argv[1], "/calc")
	print(o.Run(dbus.ByteArray(b"\x07" * (1 << 20)), dbus_interface="org.ipcbox.Calc", timeout=60))
	PY
	[ "$(cat "$T/big")" -gt $((1 << 20)) ]
	run ipc bus-call "$svc" /calc org.ipcbox.Calc Run v s still-here
	assert_status 0
	assert_output 's "17"'
}

@test "bus-serve --argv: arguments past the system's argv limit get an error reply" {
	bg "$IPCBOX" bus-serve --argv --ready-file "$T/ready" "$NAME$$_$BATS_TEST_NUMBER" /calc org.ipcbox.Calc Run ay u -- true
	wait_file "$T/ready"
	run --separate-stderr timeout -k 5 "$TMO" "$PY" -c '
import dbus, sys
o = dbus.SessionBus().get_object(sys.argv[1], "/calc")
try:
    o.Run(dbus.ByteArray(b"\x07" * (1 << 20)), dbus_interface="org.ipcbox.Calc")
except dbus.exceptions.DBusException as e:
    print(e.get_dbus_name(), e.get_dbus_message())
' "$NAME$$_$BATS_TEST_NUMBER"
	assert_status 0
	[[ $output == "org.freedesktop.DBus.Error.Failed true: Argument list too long" ]]
	run ipc bus-call "$NAME$$_$BATS_TEST_NUMBER" /calc org.freedesktop.DBus.Peer Ping
	assert_status 0
}

@test "bus-serve refuses a bad -j with 2" {
	run --separate-stderr ipc bus-serve -j 0 org.x /p org.x M '' '' -- true
	assert_status 2
	assert_one_line_error bus-serve
	run --separate-stderr ipc bus-serve -j x org.x /p org.x M '' '' -- true
	assert_status 2
}

@test "bus-serve answers one call at a time" {
	# Each command says 1 if it ran alone, 0 if another was running: four
	# calls made at once must all get 1.
	local i pids=()
	serve "$NAME$$_$BATS_TEST_NUMBER" "" u sh -c \
		'if mkdir "$0/busy" 2>/dev/null; then sleep 0.3; rmdir "$0/busy"; echo 1; else echo 0; fi' "$T"
	for i in 1 2 3 4; do
		timeout -k 5 "$TMO" "$IPCBOX" bus-call "$NAME$$_$BATS_TEST_NUMBER" /calc org.ipcbox.Calc Run >"$T/r$i" &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i"; done
	for i in 1 2 3 4; do
		[ "$(cat "$T/r$i")" = "u 1" ]
	done
}

@test "bus-serve --timeout: exit 124 with one line once it has passed" {
	run --separate-stderr ipc bus-serve -t 300ms "$NAME$$_$BATS_TEST_NUMBER" /calc org.ipcbox.Calc Run "" "" -- true
	assert_status 124
	assert_one_line_error bus-serve
	[ -z "$output" ]
}
