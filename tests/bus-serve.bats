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
