#!/usr/bin/env bats
# bus-*: against a private dbus-daemon and python3-dbus peers (a real client
# library written elsewhere), compared with busctl and dbus-send on the same
# bus.

bats_require_minimum_version 1.5.0
load helpers
load bus_helpers

setup_file() {
	start_bus
	SVC=org.ipcbox.Test.f$$
	SVC_DIR=$BUS_DIR/svc
	export SVC SVC_DIR
	start_service "$SVC" "$SVC_DIR"
}

teardown_file() {
	stop_bus
}

# echo_both ARG...: Echo the values through ipcbox and through busctl.
# Python must record the same values from both; the terse outputs must be
# identical and the --json outputs equal as JSON.  Leaves our terse output
# in $ours and our JSON in $ours_json.
echo_both() {
	local rec theirs theirs_json
	ours=$(ipc bus-call "$SVC" "$OBJ" "$IFACE" Echo -- "$@") || { echo "ipcbox failed: $*" >&2; return 1; }
	rec=$(last_record)
	theirs=$(timeout -k 5 "$TMO" busctl --address="$BUS_ADDR" call "$SVC" "$OBJ" "$IFACE" Echo -- "$@") ||
		{ echo "busctl failed: $*" >&2; return 1; }
	[ "$(last_record)" = "$rec" ] || { printf 'python received differently:\nipcbox %s\nbusctl %s\n' "$rec" "$(last_record)" >&2; return 1; }
	# busctl prints doubles with %g (lossy) and non-ASCII bytes as octal
	# escapes; where it does, $want_terse gives our expected output instead.
	[ -z "${want_terse:-}" ] || theirs=$want_terse
	[ "$ours" = "$theirs" ] || { printf 'terse output differs:\nipcbox %s\nbusctl %s\n' "$ours" "$theirs" >&2; return 1; }
	ours_json=$(ipc bus-call --json "$SVC" "$OBJ" "$IFACE" Echo -- "$@") || return 1
	[ "$(last_record)" = "$rec" ] || { echo "--json call sent other values" >&2; return 1; }
	theirs_json=$(timeout -k 5 "$TMO" busctl --json=short --address="$BUS_ADDR" call "$SVC" "$OBJ" "$IFACE" Echo -- "$@")
	"$PY" -c 'import json, sys; sys.exit(json.loads(sys.argv[1]) != json.loads(sys.argv[2]))' "$ours_json" "$theirs_json" ||
		{ printf 'JSON differs:\nipcbox %s\nbusctl %s\n' "$ours_json" "$theirs_json" >&2; return 1; }
}

# record_is PYTHON_EXPR [ARG...]: Python's record of the last Echo equals the
# expression (sys.argv[1:] are the extra arguments, for exact strings).
record_is() {
	local expr=$1
	shift
	"$PY" -c "import json, sys; got = json.loads(sys.stdin.read()); want = $expr; sys.exit(0 if got == want else (print('got', got, 'want', want, file=sys.stderr) or 1))" \
		"$@" <<<"$(last_record)"
}

@test "bus-call: a method of the bus itself prints busctl's terse output" {
	run --separate-stderr ipc bus-call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetId
	assert_status 0
	assert_match '^s "[0-9a-f]{32}"$'
	[ "$output" = "$(busctl --address="$BUS_ADDR" call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetId)" ]
}

@test "bus-call: every basic type at its extremes reaches Python unchanged and comes back unchanged" {
	echo_both ybnqiuxtd 255 true -32768 65535 -2147483648 4294967295 -9223372036854775808 18446744073709551615 -1.5
	record_is '[["y", 255], ["b", True], ["n", -32768], ["q", 65535], ["i", -2147483648], ["u", 4294967295], ["x", -9223372036854775808], ["t", 18446744073709551615], ["d", "-1.5"]]'
	echo_both ybnqiuxt 0 false 32767 0 2147483647 0 9223372036854775807 0
	want_terse='dddd 0.1 1e+308 -2.2250738585072014e-308 123456789.12345679' \
		echo_both dddd 0.1 1e308 -2.2250738585072014e-308 123456789.123456789
	record_is '[["d", "0.1"], ["d", "1e+308"], ["d", "-2.2250738585072014e-308"], ["d", "123456789.12345679"]]'
}

@test "bus-call: strings with quotes, backslashes, newlines and multi-byte UTF-8 round-trip in both formats" {
	local s=$'say "hi" \\ back\nnew line\ttab é ✓ 𝄞' 
	want_terse='sog "say \"hi\" \\ back\nnew line\ttab é ✓ 𝄞" "/a/b_c/D9" "a{sv}(iay)"' \
		echo_both sog "$s" /a/b_c/D9 'a{sv}(iay)'
	record_is '[["s", sys.argv[1]], ["o", "/a/b_c/D9"], ["g", "a{sv}(iay)"]]' "$s"
	"$PY" -c 'import json, sys; d = json.loads(sys.argv[1])["data"]; sys.exit(d != [sys.argv[2], "/a/b_c/D9", "a{sv}(iay)"])' "$ours_json" "$s"
	echo_both s ''
	record_is '[["s", ""]]'
}

@test "bus-call: a{sv} and aa{sv} reach Python unchanged and come back unchanged" {
	echo_both 'a{sv}' 3 One s Eins Two u 2 Yes b true
	record_is '[["a{", "sv", [[["s", "One"], ["v", ["s", "Eins"]]], [["s", "Two"], ["v", ["u", 2]]], [["s", "Yes"], ["v", ["b", True]]]]]]'
	echo_both 'aa{sv}' 3 1 k s v 0 2 a i -1 b as 2 x y
	record_is '[["a", "a{sv}", [["a{", "sv", [[["s", "k"], ["v", ["s", "v"]]]]], ["a{", "sv", []], ["a{", "sv", [[["s", "a"], ["v", ["i", -1]]], [["s", "b"], ["v", ["a", "s", [["s", "x"], ["s", "y"]]]]]]]]]]'
}

@test "bus-call: a(iay), ay, aay and structs reach Python unchanged and come back unchanged" {
	echo_both 'a(iay)' 2 1 3 1 2 255 -5 0
	record_is '[["a", "(iay)", [["(", [["i", 1], ["a", "y", [["y", 1], ["y", 2], ["y", 255]]]]], ["(", [["i", -5], ["a", "y", []]]]]]]'
	echo_both 'ay(isb)aay' 3 104 105 0 5 foo yes 2 3 1 2 3 0
}

@test "bus-call: av with variants inside variants, empty arrays and dicts" {
	echo_both av 4 s x v ai 0 v v d 2.5 'a{ss}' 0
	echo_both 'aia{ss}a{sv}as' 0 0 0 0
	record_is '[["a", "i", []], ["a{", "ss", []], ["a{", "sv", []], ["a", "s", []]]'
}

@test "bus-call --json: dicts with non-string keys and uint64 maximum are printed losslessly" {
	run --separate-stderr ipc bus-call --json "$SVC" "$OBJ" "$IFACE" Echo -- 'a{ix}t' 2 1 -1 -2 9223372036854775807 18446744073709551615
	assert_status 0
	assert_output '{"type":"a{ix}t","data":[[[1,-1],[-2,9223372036854775807]],18446744073709551615]}'
	record_is '[["a{", "ix", [[["i", 1], ["x", -1]], [["i", -2], ["x", 9223372036854775807]]]], ["t", 18446744073709551615]]'
	run --separate-stderr ipc bus-call "$SVC" "$OBJ" "$IFACE" Echo -- 'a{ix}' 2 1 -1 -2 5
	assert_output 'a{ix} 2 1 -1 -2 5'
}

@test "bus-call: agrees with dbus-send on what Python receives" {
	timeout -k 5 "$TMO" dbus-send --bus="$BUS_ADDR" --print-reply --dest="$SVC" "$OBJ" "$IFACE.Echo" \
		int32:-7 string:'hello world' array:string:a,b dict:string:int32:one,1,two,2 variant:uint64:18446744073709551615 objpath:/x/y byte:7 double:0.5 >/dev/null
	local theirs
	theirs=$(last_record)
	ipc bus-call "$SVC" "$OBJ" "$IFACE" Echo -- 'isasa{si}voyd' -7 'hello world' 2 a b 2 one 1 two 2 t 18446744073709551615 /x/y 7 0.5 >/dev/null
	[ "$(last_record)" = "$theirs" ]
}

@test "bus-call: an error reply prints NAME: message on one line, exit 1" {
	run --separate-stderr ipc bus-call "$SVC" "$OBJ" "$IFACE" Fail
	assert_status 1
	[ -z "$output" ]
	assert_one_line_error bus-call
	[ "$stderr" = "ipcbox bus-call: org.ipcbox.Test.Error.Failed: you asked for it" ]
	run --separate-stderr ipc bus-call "$SVC" "$OBJ" "$IFACE" NoSuchMethod
	assert_status 1
	assert_one_line_error bus-call
	[[ $stderr == "ipcbox bus-call: org.freedesktop.DBus.Error.UnknownMethod: "* ]]
}

@test "bus-call: a method that never replies times out with exit 124" {
	run --separate-stderr ipc bus-call -t 300ms "$SVC" "$OBJ" "$IFACE" Never
	assert_timed_out bus-call
	[[ $stderr == *"no reply within the timeout"* ]]
}

@test "bus-call --expect-reply=no: sends flagged NO_REPLY_EXPECTED and exits 0 at once" {
	run --separate-stderr ipc bus-call --expect-reply=no -t 5s "$SVC" "$OBJ" "$IFACE" Never
	assert_status 0
	[ -z "$output" ]
	run --separate-stderr ipc bus-call --expect-reply=no "$SVC" "$OBJ" "$IFACE" Echo s no-reply-$$
	assert_status 0
	[ -z "$output" ]
	wait_for grep -q "no-reply-$$" "$SVC_DIR/record"
}

@test "bus-call --no-auto-start: an activatable name is not started" {
	run --separate-stderr ipc bus-call --no-auto-start org.ipcbox.Activatable /a org.ipcbox.A M
	assert_status 1
	[[ $stderr == "ipcbox bus-call: org.freedesktop.DBus.Error.NameHasNoOwner: "* ]]
	run --separate-stderr ipc bus-call org.ipcbox.Activatable /a org.ipcbox.A M
	assert_status 1
	[[ $stderr == "ipcbox bus-call: org.freedesktop.DBus.Error.Spawn."* ]]
}

@test "bus-call: an empty reply prints nothing; --json prints an empty data list" {
	run --separate-stderr ipc bus-call "$SVC" "$OBJ" "$IFACE" EmitChanged s x
	assert_status 0
	assert_output ''
	run --separate-stderr ipc bus-call --json "$SVC" "$OBJ" "$IFACE" EmitChanged s x
	assert_output '{"type":"","data":[]}'
}

@test "bus-call: a ;-list of addresses falls back to the next entry" {
	run --separate-stderr ipc bus-call --address "unix:path=$BUS_DIR/none;$BUS_ADDR" \
		org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.Peer Ping
	assert_status 0
}

@test "bus-call: unix:abstract= addresses connect" {
	run --separate-stderr ipc bus-call --address "unix:abstract=$BUS_ABSTRACT" \
		org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus NameHasOwner s "$SVC"
	assert_status 0
	assert_output 'b true'
}

@test "bus-get prints the property's value as busctl get-property does" {
	run --separate-stderr ipc bus-get "$SVC" "$OBJ" "$IFACE" Tags
	assert_status 0
	assert_output 'as 2 "a" "b"'
	[ "$output" = "$(busctl --address="$BUS_ADDR" get-property "$SVC" "$OBJ" "$IFACE" Tags)" ]
	run --separate-stderr ipc bus-get --json "$SVC" "$OBJ" "$IFACE" Tags
	assert_output '{"type":"as","data":["a","b"]}'
	[ "$output" = "$(busctl --json=short --address="$BUS_ADDR" get-property "$SVC" "$OBJ" "$IFACE" Tags)" ]
	run --separate-stderr ipc bus-get "$SVC" "$OBJ" "$IFACE" Nope
	assert_status 1
	[[ $stderr == "ipcbox bus-get: org.freedesktop.DBus.Error.UnknownProperty: "* ]]
}

@test "bus-set: the value reaches Python with its type and bus-get reads it back" {
	run --separate-stderr ipc bus-set "$SVC" "$OBJ" "$IFACE" Count u 42
	assert_status 0
	[ "$(last_record)" = '["set", "Count", ["u", 42]]' ]
	run --separate-stderr ipc bus-get "$SVC" "$OBJ" "$IFACE" Count
	assert_output 'u 42'
	run --separate-stderr ipc bus-set "$SVC" "$OBJ" "$IFACE" Name s 'two words'
	assert_status 0
	run --separate-stderr ipc bus-get "$SVC" "$OBJ" "$IFACE" Name
	assert_output 's "two words"'
	[ "$output" = "$(busctl --address="$BUS_ADDR" get-property "$SVC" "$OBJ" "$IFACE" Name)" ]
}

@test "bus-set: a read-only property is an error reply, exit 1" {
	run --separate-stderr ipc bus-set "$SVC" "$OBJ" "$IFACE" Tags as 1 c
	assert_status 1
	assert_one_line_error bus-set
	[[ $stderr == *"PropertyReadOnly: property Tags is read-only" ]]
}

@test "bus-emit: a signal reaches a python subscriber with its arguments" {
	start_subscriber "$IFACE" "$T/sub"
	run --separate-stderr ipc bus-emit "$OBJ/x" "$IFACE" Changed -- 'sa{sv}' "hé \"q\"" 1 k i -3
	assert_status 0
	wait_file "$T/sub/record"
	"$PY" -c 'import json, sys; got = json.loads(open(sys.argv[1]).readline()); want = ["Changed", "/org/ipcbox/Test/x", None, [["s", sys.argv[2]], ["a{", "sv", [[["s", "k"], ["v", ["i", -3]]]]]]]; sys.exit(got != want)' \
		"$T/sub/record" "hé \"q\""
	kill "$(cat "$T/sub/pid")"
}

@test "bus-emit --dest: a unicast signal reaches only the named connection" {
	start_subscriber "$IFACE" "$T/sub"
	local me
	me=$(cat "$T/sub/ready")
	ipc bus-emit --dest "$SVC" "$OBJ" "$IFACE" Changed s elsewhere
	ipc bus-emit --dest "$me" "$OBJ" "$IFACE" Changed s to-me
	ipc bus-emit "$OBJ" "$IFACE" Changed s broadcast
	wait_for grep -q broadcast "$T/sub/record"
	run cat "$T/sub/record"
	[ "${#lines[@]}" -eq 2 ]
	[[ ${lines[0]} == *"\"$me\""*to-me* ]]
	[[ ${lines[1]} == *null*broadcast* ]]
	kill "$(cat "$T/sub/pid")"
}

@test "bus-wait NAME: returns at once when the name has an owner" {
	run --separate-stderr ipc bus-wait -t 5s "$SVC"
	assert_status 0
}

@test "bus-wait NAME: returns when the name appears later" {
	local name=org.ipcbox.Late.t$$
	bg "$IPCBOX" bus-wait "$name"
	local waiter=$BG_PID
	wait_for match_rule_with "arg0='$name'"
	kill -0 "$waiter"
	start_service "$name" "$T/late"
	wait "$waiter"
	kill "$(cat "$T/late/pid")"
}

@test "bus-wait NAME: exit 124 when the name never appears" {
	run --separate-stderr ipc bus-wait -t 200ms org.ipcbox.Never.t$$
	assert_timed_out bus-wait
}

@test "bus-wait --signal: prints the signal's arguments when it arrives" {
	bg sh -c '"$0" bus-wait --signal "$1" "$2" Changed >"$3"' "$IPCBOX" "$OBJ" "$IFACE" "$T/out"
	local waiter=$BG_PID
	wait_for match_rule_with "member='Changed'"
	ipc bus-call "$SVC" "$OBJ" "$IFACE" EmitChanged s "ping $$"
	wait "$waiter"
	[ "$(cat "$T/out")" = "s \"ping $$\"" ]
}

@test "bus-wait --signal --json: one JSON document for the signal" {
	"$IPCBOX" bus-wait --json -t 10s --signal "$OBJ" "$IFACE" Changed >"$T/out" &
	local waiter=$!
	BG_PIDS+=("$waiter")
	wait_for match_rule_with "member='Changed'"
	ipc bus-call "$SVC" "$OBJ" "$IFACE" EmitChanged s "json $$"
	wait "$waiter"
	[ "$(cat "$T/out")" = "{\"type\":\"s\",\"data\":[\"json $$\"]}" ]
	run --separate-stderr ipc bus-wait -t 200ms --signal "$OBJ" "$IFACE" Changed
	assert_timed_out bus-wait
}

@test "bus-list: names with their pid and process, like busctl list" {
	run --separate-stderr ipc bus-list
	assert_status 0
	[[ ${lines[0]} == "NAME "*"PID PROCESS"*"CONNECTION" ]]
	local pid
	pid=$(cat "$SVC_DIR/pid")
	assert_match "$SVC +[0-9]+ python3 +:1\.[0-9]+"
	assert_match "org\.freedesktop\.DBus +$BUS_PID dbus-daemon"
	[[ $output != *org.ipcbox.Activatable* ]]
}

@test "bus-list --activatable --json: activatable names and running ones in one document" {
	run --separate-stderr ipc bus-list --activatable --json
	assert_status 0
	"$PY" - "$output" "$SVC" <<-'PYEOF'
		import json, sys
		names = {n["name"]: n for n in json.loads(sys.argv[1])}
		a = names["org.ipcbox.Activatable"]
		assert a["activatable"] and a["pid"] is None and a["connection"] is None, a
		s = names[sys.argv[2]]
		assert s["pid"] > 0 and s["process"] == "python3" and s["connection"].startswith(":1."), s
		assert not s["activatable"]
	PYEOF
}

@test "bus-introspect: the same table as busctl introspect, property values included" {
	run --separate-stderr ipc bus-introspect "$SVC" "$OBJ"
	assert_status 0
	assert_match '\.Tags +property +as +2 "a" "b" +const'
	assert_match '\.Fail +method +- +- +-'
	assert_match '\.Changed +signal +s +- +-'
	[ "$output" = "$(busctl --address="$BUS_ADDR" introspect "$SVC" "$OBJ")" ]
	run --separate-stderr ipc bus-introspect org.freedesktop.DBus /org/freedesktop/DBus
	[ "$output" = "$(busctl --address="$BUS_ADDR" introspect org.freedesktop.DBus /org/freedesktop/DBus)" ]
}

@test "bus-introspect --xml prints the document; --json the rows" {
	run --separate-stderr ipc bus-introspect --xml "$SVC" "$OBJ"
	assert_status 0
	assert_match '<interface name="org.ipcbox.Test">'
	assert_match '<node name="child"'
	run --separate-stderr ipc bus-introspect --json "$SVC" "$OBJ"
	assert_status 0
	"$PY" -c 'import json, sys; rows = json.loads(sys.argv[1]); t = [r for r in rows if r["name"] == "Tags"][0]; sys.exit(t != {"interface": "org.ipcbox.Test", "name": "Tags", "type": "property", "signature": "as", "value": ["a", "b"], "flags": "const"})' "$output"
}

@test "bus-tree lists every object path of a service" {
	run --separate-stderr ipc bus-tree "$SVC"
	assert_status 0
	assert_output "$(printf '%s\n' / /org /org/ipcbox "$OBJ" "$OBJ/child" "$OBJ/child/grand")"
	run --separate-stderr ipc bus-tree --json "$SVC"
	assert_output '["/","/org","/org/ipcbox","/org/ipcbox/Test","/org/ipcbox/Test/child","/org/ipcbox/Test/child/grand"]'
	run --separate-stderr ipc bus-tree org.ipcbox.Nobody
	assert_status 1
}

@test "completion offers the names on the running bus" {
	run --separate-stderr ipc --complete bus-call
	assert_status 0
	grep -qx "$SVC" <<<"$output"
	grep -qx org.freedesktop.DBus <<<"$output"
}

@test "a waiting client answers Peer.Ping and GetMachineId and refuses other calls with UnknownMethod" {
	"$IPCBOX" bus-wait -t 15s org.ipcbox.Never.t$$ 2>/dev/null &
	local waiter=$!
	BG_PIDS+=("$waiter")
	wait_for match_rule_with "arg0='org.ipcbox.Never.t$$'"
	local unique
	unique=$(ipc bus-list --json | "$PY" -c 'import json, sys; print([n["name"] for n in json.load(sys.stdin) if n["pid"] == int(sys.argv[1])][0])' "$waiter")
	[[ $unique == :1.* ]]
	run --separate-stderr ipc bus-call "$unique" / org.freedesktop.DBus.Peer Ping
	assert_status 0
	if [ -r /etc/machine-id ] || [ -r /var/lib/dbus/machine-id ]; then
		run --separate-stderr ipc bus-call "$unique" / org.freedesktop.DBus.Peer GetMachineId
		assert_status 0
		[[ $output =~ ^s\ \"[0-9a-fA-F]{32}\"$ ]]
	fi
	run --separate-stderr ipc bus-call "$unique" /x org.x.Y Method
	assert_status 1
	[ "$stderr" = "ipcbox bus-call: org.freedesktop.DBus.Error.UnknownMethod: this ipcbox client serves no methods" ]
	kill -0 "$waiter"
}

@test "bus-set --expect-reply=no: the value arrives without waiting for the reply" {
	run --separate-stderr ipc bus-set --expect-reply=no "$SVC" "$OBJ" "$IFACE" Count u 4242
	assert_status 0
	wait_for grep -q '"Count", \["u", 4242\]' "$SVC_DIR/record"
}

@test "output that cannot be written is an error, exit 1" {
	run --separate-stderr bash -c '"$0" bus-call "$1" "$2" "$3" Echo s x >/dev/full' "$IPCBOX" "$SVC" "$OBJ" "$IFACE"
	assert_status 1
	assert_one_line_error bus-call
	[[ $stderr == *"write to standard output: No space left on device" ]]
}
