#!/usr/bin/env bats
# bus-monitor: against a private dbus-daemon; traffic made with bus-call and
# bus-emit while the monitor runs (readiness from --ready-file, no sleeps).

bats_require_minimum_version 1.5.0
load helpers
load bus_helpers

# start_monitor ARG...: bus-monitor in the background, output in $T/out;
# returns once it is monitoring.
start_monitor() {
	bg "$IPCBOX" bus-monitor --ready-file "$T/ready" "$@" >"$T/out" 2>"$T/err"
	MON=$BG_PID
	wait_file "$T/ready"
}

@test "bus-monitor prints a call and its return in dbus-monitor's layout" {
	# 3: the return to bus-call's Hello, then its call and that call's return
	start_monitor "interface=org.freedesktop.DBus,member=NameHasOwner" "type=method_return" --count 3
	run ipc bus-call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus NameHasOwner s org.ipcbox.Nobody
	assert_status 0
	wait "$MON"
	run sed '1,2d; s/time=[0-9]*\.[0-9]\{6\} /time=T /; s/sender=:[0-9.]*/sender=S/; s/destination=:[0-9.]*/destination=D/; s/serial=[0-9]*/serial=N/g' "$T/out"
	assert_output 'method call time=T sender=S -> destination=org.freedesktop.DBus serial=N path=/org/freedesktop/DBus; interface=org.freedesktop.DBus; member=NameHasOwner
   string "org.ipcbox.Nobody"
method return time=T sender=org.freedesktop.DBus -> destination=D serial=N reply_serial=N
   boolean false'
}

@test "bus-monitor prints nested arguments as dbus-monitor does" {
	start_monitor "interface=org.ipcbox.Nested$$" --count 1
	run ipc bus-emit /x "org.ipcbox.Nested$$" Sig 'a{sv}ay(ib)vai' 1 k s hi 2 1 2 5 true i 4 0
	assert_status 0
	wait "$MON"
	run sed 1d "$T/out"
	assert_output '   array [
      dict entry(
         string "k"
         variant             string "hi"
      )
   ]
   array of bytes [
      01 02
   ]
   struct {
      int32 5
      boolean true
   }
   variant       int32 4
   array [
   ]'
	grep -q "^signal time=[0-9]*\.[0-9]\{6\} sender=:[0-9.]* -> destination=(null destination) serial=[0-9]* path=/x; interface=org.ipcbox.Nested$$; member=Sig\$" "$T/out"
}

@test "bus-monitor prints the same as dbus-monitor for one signal" {
	local rule="interface=org.ipcbox.Same$$"
	start_monitor "$rule" --count 1
	run ipc bus-emit /a/b "org.ipcbox.Same$$" S -- 'sayayaydxtqnybgo' 'x y' 3 65 66 0 2 0 255 0 -1.5 -9 18446744073709551615 7 -3 200 false '(a{is})' /o
	assert_status 0
	wait "$MON"
	run sed 1d "$T/out"
	assert_output '   string "x y"
   array of bytes "AB" + \0
   array of bytes [
      00 ff
   ]
   array [
   ]
   double -1.5
   int64 -9
   uint64 18446744073709551615
   uint16 7
   int16 -3
   byte 200
   boolean false
   signature "(a{is})"
   object path "/o"'
}

@test "bus-monitor --json prints one object a line" {
	start_monitor --json "interface=org.ipcbox.Json$$" --count 1
	run ipc bus-emit /p "org.ipcbox.Json$$" Sig su hello 7
	assert_status 0
	wait "$MON"
	run "$PY" -c '
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
o = json.loads(lines[0])
assert o["type"] == "signal", o
assert o["path"] == "/p" and o["member"] == "Sig" and o["destination"] is None, o
assert o["interface"] == sys.argv[2] and o["signature"] == "su", o
assert o["sender"].startswith(":") and o["serial"] > 0 and o["reply_serial"] is None, o
assert o["error_name"] is None, o
assert o["body"] == {"type": "su", "data": ["hello", 7]}, o
' "$T/out" "org.ipcbox.Json$$"
	assert_status 0
}

@test "bus-monitor --json shows an error reply's name" {
	start_monitor --json "type=error" --count 1
	run ipc bus-call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus NoSuchMethod
	assert_status 1
	wait "$MON"
	run "$PY" -c '
import json, sys
o = json.loads(open(sys.argv[1]).read())
assert o["type"] == "error" and o["error_name"] == "org.freedesktop.DBus.Error.UnknownMethod", o
assert o["reply_serial"] > 0 and o["body"]["type"] == "s", o
' "$T/out"
	assert_status 0
}

@test "bus-monitor match rules filter the traffic" {
	start_monitor "interface=org.ipcbox.Want$$" --count 2
	ipc bus-emit /p "org.ipcbox.Other$$" Sig s no
	ipc bus-emit /p "org.ipcbox.Want$$" Sig s one
	ipc bus-emit /p "org.ipcbox.Other$$" Sig s no
	ipc bus-emit /p "org.ipcbox.Want$$" Sig s two
	wait "$MON"
	run grep -c '^signal ' "$T/out"
	assert_output 2
	run grep '^   string' "$T/out"
	assert_output '   string "one"
   string "two"'
}

@test "bus-monitor --count N exits 0 after N messages, not counting its own names" {
	start_monitor "interface=org.ipcbox.Count$$" --count 3
	for i in 1 2 3 4; do ipc bus-emit /p "org.ipcbox.Count$$" Sig u "$i"; done
	status=0
	wait "$MON" || status=$?
	assert_status 0
	run grep -c '^signal ' "$T/out"
	assert_output 3
	! grep -q 'member=Name\(Acquired\|Lost\)' "$T/out"
}

@test "bus-monitor --pcap writes a libpcap file of D-Bus messages" {
	start_monitor --pcap "$T/cap.pcap" "interface=org.ipcbox.Pcap$$" --count 3
	for i in 1 2 3; do ipc bus-emit /p "org.ipcbox.Pcap$$" Sig s "pkt$i"; done
	wait "$MON"
	[ ! -s "$T/out" ]
	run "$PY" -c '
import struct, sys
b = open(sys.argv[1], "rb").read()
magic, vmaj, vmin, zone, sigfigs, snap, link = struct.unpack("=IHHiIII", b[:24])
assert (magic, vmaj, vmin, zone, sigfigs, link) == (0xa1b2c3d4, 2, 4, 0, 0, 231), (magic, vmaj, vmin, link)
assert snap >= 1 << 27, snap
pos, n = 24, 0
while pos < len(b):
    sec, usec, incl, orig = struct.unpack("=IIII", b[pos:pos + 16])
    assert incl == orig and usec < 1000000, (incl, orig, usec)
    m = b[pos + 16:pos + 16 + incl]
    assert len(m) == incl
    e = "<" if m[0:1] == b"l" else ">"
    typ, flags, ver, blen, serial, flen = struct.unpack(e + "xBBBIII", m[:16])
    assert typ == 4 and ver == 1, (typ, ver)
    total = 16 + ((flen + 7) & ~7) + blen
    assert total == incl, (total, incl)
    assert ("pkt%d" % (n + 1)).encode() in m
    pos += 16 + incl
    n += 1
assert n == 3, n
' "$T/cap.pcap"
	assert_status 0
	if command -v tshark >/dev/null; then
		run timeout -k 5 "$TMO" tshark -r "$T/cap.pcap"
		assert_status 0
	fi
}

@test "bus-monitor exits 0 on SIGTERM and SIGINT" {
	local sig
	for sig in TERM INT; do
		rm -f "$T/ready"
		timeout -k 5 "$TMO" "$IPCBOX" bus-monitor --ready-file "$T/ready" "interface=org.ipcbox.Sig$$" >"$T/out" &
		MON=$!
		wait_file "$T/ready"
		ipc bus-emit /p "org.ipcbox.Sig$$" Sig s before
		wait_for grep -q before "$T/out"
		kill -s "$sig" "$(cat "/proc/$MON/task/$MON/children")"
		status=0
		wait "$MON" || status=$?
		assert_status 0
	done
}

@test "bus-monitor --timeout ends monitoring with 124" {
	run --separate-stderr ipc bus-monitor --timeout 200ms "interface=org.ipcbox.Quiet$$"
	assert_timed_out bus-monitor
}

@test "bus-monitor refuses a bad match rule with 2" {
	run --separate-stderr ipc bus-monitor "nokey='x'"
	assert_status 2
	[[ $stderr == *"invalid match rule 'nokey='x''"* ]]
	run ipc bus-monitor "type='signal"
	assert_status 2
	run ipc bus-monitor "type"
	assert_status 2
	run ipc bus-monitor "arg64='x'"
	assert_status 2
	run ipc bus-monitor "type='bogus'"
	assert_status 2
	run ipc bus-monitor "interface='$(head -c 1100 /dev/zero | tr '\0' a)'"
	assert_status 2
}

@test "bus-monitor refuses a bad --count and --json with --pcap" {
	run --separate-stderr ipc bus-monitor --count 0
	assert_status 2
	[[ $stderr == *"invalid count '0'"* ]]
	run ipc bus-monitor --count x
	assert_status 2
	run ipc bus-monitor --count -1
	assert_status 2
	run ipc bus-monitor --json --pcap "$T/x"
	assert_status 2
}

@test "--ready-file: a symlink planted at the path is replaced, never followed; the file is mode 0600" {
	echo precious >"$T/target"
	ln -s "$T/target" "$T/ready"
	bg "$IPCBOX" bus-monitor --ready-file "$T/ready" --count 1 "interface=org.ipcbox.Planted$$" >"$T/out"
	MON=$BG_PID
	wait_for test ! -L "$T/ready"
	wait_file "$T/ready"
	run ipc bus-emit /x "org.ipcbox.Planted$$" Sig
	assert_status 0
	wait "$MON"
	run grep -c "interface=org.ipcbox.Planted$$; member=Sig" "$T/out"
	assert_output 1
	run cat "$T/target"
	assert_output precious
	[ -f "$T/ready" ]
	[ ! -L "$T/ready" ]
	run stat -c %a "$T/ready"
	assert_output 600
}

@test "bus-monitor --profile prints the lines dbus-monitor --profile prints, timestamps apart" {
	local x=org.ipcbox.Prof$$ rules
	rules=("type='signal',interface='$x'" "type='method_call',interface='$x'" "type='method_return'" "type='error'")
	bg dbus-monitor --address "$BUS_ADDR" --profile "${rules[@]}" >"$T/theirs" 2>"$T/theirs.err"
	# dbus-monitor has no ready file: probe until it shows a signal
	probe() {
		ipc bus-emit /p "$x" Probe
		grep -q 'Probe' "$T/theirs"
	}
	wait_for probe
	start_monitor --profile "${rules[@]}"
	ipc bus-emit /p "$x" Start
	ipc bus-emit /p "$x" Sig su hi 5
	ipc bus-call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetId >/dev/null
	run ipc bus-call --no-auto-start org.ipcbox.NoSuch$$ /p "$x" Call
	assert_status 1
	ipc bus-emit /p "$x" End
	wait_for grep -q 'End$' "$T/theirs"
	wait_for grep -q 'End$' "$T/out"
	# the header, then the rows from Start to End, the time column apart
	run diff <(head -n 2 "$T/theirs") <(head -n 2 "$T/out")
	assert_status 0
	rows() { sed -n '/\tStart$/,/\tEnd$/p' "$1" | awk -F '\t' -v OFS='\t' '{ $2 = "T"; print }'; }
	run diff <(rows "$T/theirs") <(rows "$T/out")
	assert_status 0
	run rows "$T/out"
	[ "${#lines[@]}" -ge 10 ]
	grep -q "^sig	T	[0-9]*	:[0-9.]*	<none>	/p	$x	Sig$" <<<"$output"
	grep -q "^mc	T	[0-9]*	:[0-9.]*	org.ipcbox.NoSuch$$	/p	$x	Call$" <<<"$output"
	grep -q "^err	T	[0-9]*	org.freedesktop.DBus	:[0-9.]*	[0-9]*$" <<<"$output"
	grep -q "^mr	T	[0-9]*	org.freedesktop.DBus	:[0-9.]*	[0-9]*$" <<<"$output"
	[[ $(head -n 1 "$T/out") == "#type	timestamp	serial	sender	destination	path	interface	member" ]]
}

@test "bus-monitor pauses before a drain only after a batch: quiet signals never wait, a flood's next drain does" {
	flood_pause_check bus-monitor 'member=Tick$'
	run grep -c '^   uint32 ' "$T/out"
	assert_output 56
}
