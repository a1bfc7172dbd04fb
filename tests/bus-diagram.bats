#!/usr/bin/env bats
# bus-diagram: captures of one scripted scenario (tests/peers/diagram-scenario.py:
# a python3-dbus service with a method that returns, one that raises an
# error, one that is slow, a signal, a call never answered) made on a
# private dbus-daemon by all three tools at once (ipcbox bus-monitor --pcap,
# dbus-monitor --pcap, busctl capture), each drawn and checked; synthetic
# captures (tests/peers/diagram-gen.py) for the formats, byte orders,
# timestamp resolutions, filters and the 100,000-message limits; bad input.

bats_require_minimum_version 1.5.0
load helpers
load bus_helpers

GEN=$BATS_TEST_DIRNAME/peers/diagram-gen.py
SCENARIO=$BATS_TEST_DIRNAME/peers/diagram-scenario.py
PIXELS=$BATS_TEST_DIRNAME/peers/png-pixels.py
TOOLS="ipcbox dbus-monitor busctl"

# The file's captures, in $CAP/{ipcbox,dbus-monitor,busctl}: the three
# monitors start, each is known to be capturing once a probe signal shows
# in its file, then the scenario runs once and the monitors are stopped.
setup_file() {
	start_bus
	CAP=$BUS_DIR/captures
	export CAP
	mkdir -p "$CAP"
	# -k 30: the SIGINT below ends each tool; an ASan build on a loaded CI
	# machine once took more than 5 s to exit (its leak scan), and timeout's
	# SIGKILL then made a 137 of a clean stop.
	timeout -k 30 120 "$IPCBOX" bus-monitor --pcap "$CAP/ipcbox" &
	echo $! >"$CAP/pid.ipcbox"
	timeout -k 30 120 dbus-monitor --pcap >"$CAP/dbus-monitor" &
	echo $! >"$CAP/pid.dbus-monitor"
	timeout -k 30 120 busctl capture --address="$BUS_ADDR" >"$CAP/busctl" 2>/dev/null &
	echo $! >"$CAP/pid.busctl"
	local t deadline=$((SECONDS + 30))
	for t in $TOOLS; do
		until grep -q org.ipcbox.Probe "$CAP/$t"; do
			((SECONDS < deadline)) || { echo "setup_file: $t never captured the probe" >&2; return 1; }
			timeout -k 5 10 "$IPCBOX" bus-emit /probe org.ipcbox.Probe Here >/dev/null
			sleep 0.05
		done
	done
	timeout -k 5 60 "$PY" "$SCENARIO" service "$CAP/ready" 3>&- &
	echo $! >"$CAP/pid.service"
	until [ -s "$CAP/ready" ]; do
		((SECONDS < deadline)) || { echo "setup_file: the service never started" >&2; return 1; }
		sleep 0.05
	done
	timeout -k 5 60 "$PY" "$SCENARIO" client
	wait "$(cat "$CAP/pid.service")"
	# a signal whose argument would break XML, Mermaid or a terminal
	timeout -k 5 10 "$IPCBOX" bus-emit /nasty org.ipcbox.Nasty Sig s $'</title><script>alert(1)</script> & "end" \x01 \xc3\xa9'
	# the last message each tool must see before it stops
	for t in $TOOLS; do
		until grep -q org.ipcbox.Last "$CAP/$t"; do
			((SECONDS < deadline)) || { echo "setup_file: $t never captured the end" >&2; return 1; }
			timeout -k 5 10 "$IPCBOX" bus-emit /last org.ipcbox.Last End >/dev/null
			sleep 0.05
		done
	done
	local rc
	for t in $TOOLS; do
		kill -INT "$(cat "$CAP/pid.$t")"
		rc=0
		wait "$(cat "$CAP/pid.$t")" || rc=$?
		# ipcbox and busctl end with 0 on SIGINT, dbus-monitor dies of it (130)
		case $rc in 0 | 130) ;; *) echo "setup_file: $t ended with $rc" >&2; return 1 ;; esac
	done
}

teardown_file() {
	stop_bus
}

setup() {
	common_setup
}

teardown() {
	stop_bg
	rm -rf "$T"
}

# texts FILE: the SVG's texts in document order, one a line, but the time
# margin (class t) and the unique names under the labels (class u).
texts() {
	"$PY" -c '
import sys, xml.etree.ElementTree as ET
ns = "{http://www.w3.org/2000/svg}"
for e in ET.parse(sys.argv[1]).iter(ns + "text"):
    if e.get("class") not in ("t", "u"):
        print(e.text)' "$1"
}

# screenshot SVG PNG: headless Chromium draws the file; its screenshot.
screenshot() {
	env -u DBUS_SESSION_BUS_ADDRESS HOME="$T" timeout -k 5 120 chromium --headless --no-sandbox \
		--disable-gpu --disable-quic --no-first-run --disable-background-networking \
		--disable-component-update --disable-sync --user-data-dir="$T/profile" \
		--window-size=800,600 --screenshot="$2" "file://$1" >"$T/chromium.log" 2>&1
	[ -s "$2" ] || { cat "$T/chromium.log" >&2; return 1; }
}

@test "bus-diagram reads the captures of all three tools (pcap and pcapng) without a complaint" {
	local t
	for t in $TOOLS; do
		run --separate-stderr ipc bus-diagram "$CAP/$t"
		assert_status 0
		[ -z "$stderr" ] || { echo "$t: $stderr" >&2; return 1; }
	done
	head -c 4 "$CAP/busctl" | od -An -tx1 | grep -q '0a 0d 0d 0a'  # busctl's is pcapng
	head -c 4 "$CAP/dbus-monitor" | od -An -tx1 | grep -Eq 'd4 c3 b2 a1|a1 b2 c3 d4'
}

@test "bus-diagram SVG: well-formed, columns, members and the error in time order, for each tool" {
	local t
	for t in $TOOLS; do
		ipc bus-diagram --hide-driver --only org.ipcbox.Diagram "$CAP/$t" >"$T/$t.svg"
		xmllint --noout "$T/$t.svg"
		texts "$T/$t.svg" >"$T/$t.texts"
		run sed -E 's/^[0-9.]+ (ms|s)$/TIME/; s/^:1\.[0-9]+$/UNIQUE/' "$T/$t.texts"
		assert_output 'UNIQUE
org.ipcbox.Diagram
Ping
TIME
Fail
org.ipcbox.Diagram.Error.Broken
Slow
TIME
Notify
Changed
TIME
Never (no reply)
Quit
TIME'
	done
}

@test "bus-diagram SVG: standalone (no script, no external reference), viewBox, width, height, style, tooltips" {
	ipc bus-diagram "$CAP/ipcbox" >"$T/d.svg"
	xmllint --noout "$T/d.svg"
	run "$PY" -c '
import sys, xml.etree.ElementTree as ET
ns = "{http://www.w3.org/2000/svg}"
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == ns + "svg", root.tag
assert root.get("viewBox") and root.get("width") and root.get("height")
assert root.find(ns + "style") is not None
tags = {e.tag for e in root.iter()}
assert ns + "script" not in tags and ns + "image" not in tags and ns + "foreignObject" not in tags, tags
for e in root.iter():
    for k, v in e.attrib.items():
        assert "href" not in k, (k, v)
        assert "http" not in v or k == "xmlns", (k, v)
titles = [e.text for e in root.iter(ns + "title")]
print(sum(1 for t in titles if t.startswith("method call sender=")))
print([t for t in titles if "member=Fail" in t][0].split("\n")[0])
' "$T/d.svg"
	assert_status 0
	[ "${lines[0]}" -ge 6 ]
	[[ ${lines[1]} =~ ^method\ call\ sender=:1\.[0-9]+\ -\>\ destination=(org.ipcbox.Diagram|:1\.[0-9]+)\ serial=[0-9]+\ path=/org/ipcbox/Diagram\;\ interface=org.ipcbox.Diagram\;\ member=Fail$ ]]
}

@test "bus-diagram SVG: text from the capture is escaped (a hostile signal argument stays text)" {
	ipc bus-diagram "$CAP/ipcbox" >"$T/d.svg"
	xmllint --noout "$T/d.svg"
	run grep -c '<script' "$T/d.svg"
	[ "$output" = 0 ]
	grep -qF 'string &quot;&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;end&quot; \x01 é&quot;' "$T/d.svg"
}

@test "bus-diagram SVG: headless Chromium renders it, and the screenshot shows lines in the call, error and signal colours" {
	ipc bus-diagram --hide-driver --only org.ipcbox.Diagram "$CAP/busctl" >"$T/d.svg"
	screenshot "$T/d.svg" "$T/d.png"
	run "$PY" "$PIXELS" "$T/d.png"
	assert_status 0
	read -r w h nonwhite blue red green <<<"$output"
	[ "$w" -eq 800 ]
	[ "$h" -eq 600 ]
	# a blank page has 0; the diagram draws thousands of pixels
	((nonwhite > 5000)) || { echo "nonwhite $nonwhite" >&2; return 1; }
	((blue > 300)) || { echo "blue $blue" >&2; return 1; }
	((red > 100)) || { echo "red $red" >&2; return 1; }
	((green > 50)) || { echo "green $green" >&2; return 1; }
}

@test "bus-diagram --html: the SVG and the statistics table in a page that Chromium renders" {
	ipc bus-diagram --html --hide-driver --only org.ipcbox.Diagram "$CAP/dbus-monitor" >"$T/d.html"
	xmllint --html --noout "$T/d.html"
	grep -q '<svg xmlns="http://www.w3.org/2000/svg"' "$T/d.html"
	grep -q '<td>org.ipcbox.Diagram</td><td>org.ipcbox.Diagram</td><td>Slow</td><td class="n">1</td>' "$T/d.html"
	run grep -c '<script' "$T/d.html"
	[ "$output" = 0 ]
	screenshot "$T/d.html" "$T/d.png"
	run "$PY" "$PIXELS" "$T/d.png"
	read -r _ _ nonwhite blue red _ <<<"$output"
	((nonwhite > 5000 && blue > 300 && red > 100))
}

@test "bus-diagram --stats --json: counts and times known from the scenario, the same for each tool" {
	local t
	for t in $TOOLS; do
		run ipc bus-diagram --stats --json "$CAP/$t"
		assert_status 0
		run "$PY" -c '
import json, sys
rows = json.loads(sys.argv[1])
m = {(r["interface"], r["member"]): r for r in rows}
d = "org.ipcbox.Diagram"
for name in ("Ping", "Fail", "Slow", "Notify", "Never", "Quit"):
    r = m[(d, name)]
    assert r["destination"] == d and r["calls"] == 1, r
    assert set(r) == {"destination", "interface", "member", "calls", "errors", "total_ms", "mean_ms", "max_ms"}, r
assert m[(d, "Fail")]["errors"] == 1 and m[(d, "Ping")]["errors"] == 0
slow = m[(d, "Slow")]
# 300 ms in the service; the times are when the monitor received them, and a
# monitor descheduled on a loaded machine may read the call late: a margin
assert 150 <= slow["total_ms"] < 5000 and slow["mean_ms"] == slow["total_ms"] == slow["max_ms"], slow
assert m[(d, "Ping")]["max_ms"] < slow["max_ms"]
assert m[(d, "Never")]["total_ms"] == 0  # never answered: no time
sig = m[(d, "Changed")]
assert sig == {"destination": None, "interface": d, "member": "Changed", "signals": 1}, sig
print("ok")' "$output"
		assert_output ok
	done
}

@test "bus-diagram --stats: a table of methods, then one of signals" {
	run ipc bus-diagram --stats "$CAP/ipcbox"
	assert_status 0
	[[ ${lines[0]} =~ ^DESTINATION\ +INTERFACE\ +MEMBER\ +CALLS\ +ERRORS\ +TOTAL_MS\ +MEAN_MS\ +MAX_MS$ ]]
	grep -Eq '^org.ipcbox.Diagram +org.ipcbox.Diagram +Fail +1 +1 ' <<<"$output"
	grep -Eq '^DESTINATION +INTERFACE +SIGNAL +SIGNALS$' <<<"$output"
	grep -Eq '^\(broadcast\) +org.ipcbox.Diagram +Changed +1$' <<<"$output"
}

@test "bus-diagram --mermaid: participants, calls, returns, the error, the signal note; names escaped" {
	run ipc bus-diagram --mermaid --hide-driver --only org.ipcbox.Diagram "$CAP/ipcbox"
	assert_status 0
	run sed -E 's/#58;1\.[0-9]+/U/g; s/: [0-9.]+ (ms|s)$/: TIME/' <<<"$output"
	assert_output 'sequenceDiagram
    participant P0 as U
    participant P1 as org.ipcbox.Diagram #40;U#41;
    P0->>P1: Ping
    P1-->>P0: TIME
    P0->>P1: Fail
    P1--xP0: org.ipcbox.Diagram.Error.Broken
    P0->>P1: Slow
    P1-->>P0: TIME
    P0->>P1: Notify
    Note over P0,P1: signal Changed from org.ipcbox.Diagram
    P1-->>P0: TIME
    P0->>P1: Never #40;no reply#41;
    P0->>P1: Quit
    P1-->>P0: TIME
    Note over P0: left the bus
    Note over P1: left the bus'
}

@test "bus-diagram --mermaid: nothing from the capture can end a line, a block or a label" {
	local t
	for t in $TOOLS; do
		run ipc bus-diagram --mermaid "$CAP/$t"
		assert_status 0
		# every line a declaration, an arrow or a note; its text letters,
		# digits, space, . _ / - and entity codes, nothing else
		local x='([A-Za-z0-9 ._/-]|#[0-9]+;)+'
		run grep -Ev "^(sequenceDiagram|    participant P[0-9]+ as $x|    P[0-9]+(->>|-->>|--x|-\))P[0-9]+: $x|    Note over P[0-9]+(,P[0-9]+)?: $x)\$" <<<"$output"
		[ -z "$output" ] || { echo "$t: $output" >&2; return 1; }
		run ipc bus-diagram --mermaid "$CAP/$t"
		run grep -Eic '(^|[^#0-9a-z])end([^a-z]|$)' <<<"$output"
		[ "$output" = 0 ]
	done
}

@test "bus-diagram leaves out the capturing monitors and connections that said only Hello" {
	local t
	for t in $TOOLS; do
		run ipc bus-diagram --mermaid "$CAP/$t"
		assert_status 0
		# every participant sent something other than Hello (a monitor's
		# BecomeMonitor is its last word: it is left out with its Hello)
		run "$PY" -c '
import re, sys
lines = sys.argv[1].split("\n")
parts = [re.match(r"    participant (P\d+) ", l).group(1) for l in lines if l.startswith("    participant ")]
for p in parts:
    said = [l for l in lines if re.match(r"    %s(->>|-\))P\d+: " % p, l) and not l.endswith(": Hello")]
    said += [l for l in lines if re.match(r"    Note over .*: signal .* from ", l) and l.endswith(" from " + [x for x in lines if x.startswith("    participant %s as " % p)][0].split(" as ", 1)[1])]
    assert said, (p, "said nothing but Hello")
print(len(parts))' "$output"
		[ "$status" -eq 0 ] || { echo "$t: $output" >&2; ipc bus-diagram --mermaid "$CAP/$t" >&2; return 1; }
		((output >= 3)) # the driver, the service, the client at least
	done
	# the live ladder cannot take back what it printed: the monitor's Hello is there
	LC_ALL=C ipc bus-diagram --text --width 200 "$CAP/ipcbox" >"$T/ladder"
	grep -q 'Hello' "$T/ladder"
}

@test "bus-diagram --text: every line within --width, in both locales; box characters only in UTF-8" {
	local w
	for w in 20 40 60 100; do
		LC_ALL=C.UTF-8 ipc bus-diagram --text --width "$w" "$CAP/ipcbox" >"$T/u$w"
		LC_ALL=C ipc bus-diagram --text --width "$w" "$CAP/ipcbox" >"$T/a$w"
		run "$PY" -c '
import sys
w = int(sys.argv[1])
for f in sys.argv[2:]:
    for n, line in enumerate(open(f, encoding="utf-8"), 1):
        line = line.rstrip("\n")
        assert len(line) <= w, (f, n, len(line), line)
print("ok")' "$w" "$T/u$w" "$T/a$w"
		assert_output ok
	done
	grep -q '│' "$T/u100"
	run grep -c -P '[^\x00-\x7f]' "$T/a100"
	[ "$output" = 0 ]
	LC_ALL=C ipc bus-diagram --text --width 60 --hide-driver --only org.ipcbox.Diagram "$CAP/ipcbox" >"$T/a60"
	grep -Eq '^ +[0-9.]+ +\|- Ping -+>\|$' "$T/a60"
	grep -Eq '^ +[0-9.]+ +\|x org\.ipcbox\.Diag~ =+\|$' "$T/a60"
}

@test "bus-diagram --text: columns that do not fit are named in a legend, their messages drawn to the edge" {
	LC_ALL=C ipc bus-diagram --text --width 50 --only org.ipcbox.Diagram "$CAP/ipcbox" >"$T/out"
	# the driver, the service, then the client: the client's column is beyond 50
	grep -Eq '^  > :1\.[0-9]+: off the right edge$' "$T/out"
	# the calls come from the edge mark, in the last of the 50 columns
	run awk 'length($0) == 50 && /^ +[0-9.]+ +\| +\|< [A-Z][a-z]~ -->$/' "$T/out"
	[ "${#lines[@]}" -ge 6 ]
	grep -Eq '^no reply: :1\.[0-9]+ -> org.ipcbox.Diagram org.ipcbox.D~$' "$T/out" # cut at 50
}

@test "bus-diagram --text --width defaults to \$COLUMNS, else 80" {
	COLUMNS=50 LC_ALL=C ipc bus-diagram --text "$CAP/ipcbox" >"$T/c50"
	env -u COLUMNS LC_ALL=C "$IPCBOX" bus-diagram --text "$CAP/ipcbox" >"$T/c80"
	run awk '{ if (length($0) > m) m = length($0) } END { print m }' "$T/c50"
	((output <= 50 && output > 40))
	run awk '{ if (length($0) > m) m = length($0) } END { print m }' "$T/c80"
	((output <= 80 && output > 60))
}

@test "bus-diagram --text live: bus-monitor --pcap - | bus-diagram --text prints each message as it arrives" {
	bg sh -c '"$1" bus-monitor --pcap - --ready-file "$2" | "$1" bus-diagram --text --width 120' _ "$IPCBOX" "$T/ready" >"$T/out"
	local pipe=$BG_PID
	wait_file "$T/ready"
	ipc bus-emit /live org.ipcbox.Live FirstOne
	wait_for grep -q FirstOne "$T/out"
	ipc bus-emit /live org.ipcbox.Live SecondOne
	wait_for grep -q SecondOne "$T/out"
	running "$pipe" # both came out while the pipeline was still running
}

@test "bus-diagram: SIGTERM or SIGINT while reading a live capture draws what was read, exit 0" {
	"$PY" "$GEN" 10 "$T/g"
	local sig
	for sig in TERM INT; do
		mkfifo "$T/fifo.$sig"
		bg "$IPCBOX" bus-diagram --text --width 80 "$T/fifo.$sig" >"$T/out.$sig"
		local pid=$BG_PID
		exec 7>"$T/fifo.$sig"
		head -c 600 "$T/g" >&7 # the header and a few whole records, then nothing more
		wait_for grep -q Get "$T/out.$sig"
		kill "-$sig" "$(cat "/proc/$pid/task/$pid/children")"
		wait_status "$pid"
		exec 7>&-
		assert_status 0
		grep -Eq '^ +0\.001 ' "$T/out.$sig"
	done
}

@test "bus-diagram: a closed standard output ends it quietly" {
	"$PY" "$GEN" 100000 "$T/big"
	run --separate-stderr bash -c 'set -o pipefail; "$1" bus-diagram --max 0 "$2" | head -c 100 >/dev/null' _ "$IPCBOX" "$T/big"
	[ "$status" -eq 141 ] # SIGPIPE, as any filter
	[ -z "$stderr" ]
}

@test "bus-diagram: pcap in both byte orders, µs and ns, and pcapng (µs, if_tsresol 9) draw the same" {
	local f
	for f in pcap pcap-ns pcap-be pcapng pcapng-ns; do
		"$PY" "$GEN" 10 "$T/$f" "$f"
		LC_ALL=C ipc bus-diagram --text --width 100 "$T/$f" >"$T/$f.txt"
		ipc bus-diagram "$T/$f" >"$T/$f.svg"
	done
	for f in pcap-ns pcap-be pcapng pcapng-ns; do
		cmp "$T/pcap.txt" "$T/$f.txt"
		cmp "$T/pcap.svg" "$T/$f.svg"
	done
	# 1 ms apart: the tenth message at 0.010 s, each return 1.00 ms after its call
	grep -Eq '^ +0\.010 ' "$T/pcap.txt"
	grep -q '<text class="t" x="4" y="[0-9]*">0.010000</text>' "$T/pcap.svg"
	[ "$(grep -c '1.00 ms' "$T/pcap.txt")" -eq 2 ]
}

@test "bus-diagram --match, --only, --hide, --hide-driver, --since, --until filter the messages" {
	"$PY" "$GEN" 100 "$T/g"
	run ipc bus-diagram --mermaid --match "member=Get" "$T/g"
	[ "$(grep -c -- '->>P[0-9]*: Get$' <<<"$output")" -eq 20 ]
	[ "$(grep -c -- '-->>' <<<"$output")" -eq 20 ] # the returns of the calls kept
	run grep -c 'Bad\|Tick' <<<"$output"
	[ "$output" = 0 ]
	# a reply whose call was filtered out is judged on its own, and still timed
	run ipc bus-diagram --mermaid --match type=method_return "$T/g"
	[ "$(grep -c -- '-->>P[0-9]*: 1.00 ms$' <<<"$output")" -eq 20 ]
	[ "$(grep -c -- 'P[0-9]*: ' <<<"$output")" -eq 20 ]
	run ipc bus-diagram --mermaid --match "type='signal',interface='org.ipcbox.Gen'" "$T/g"
	[ "$(grep -c 'Note over' <<<"$output")" -eq 20 ]
	run ipc bus-diagram --mermaid --hide org.ipcbox.Gen "$T/g"
	[ "$output" = "sequenceDiagram
    participant P0 as org.freedesktop.DBus
    Note over P0: signal NameOwnerChanged from org.freedesktop.DBus" ]
	run ipc bus-diagram --mermaid --hide-driver --only :1.1 "$T/g"
	[ "$(grep -c 'NameOwner\|Tick' <<<"$output")" -eq 0 ]
	[ "$(grep -c -- '-->>' <<<"$output")" -eq 20 ] # returns
	[ "$(grep -c -- '[^-]->>' <<<"$output")" -eq 40 ] # calls
	[ "$(grep -c -- '--x' <<<"$output")" -eq 20 ] # errors
	# message k at k ms: 10..20 ms is 11 messages, the return at 12 and error at 14 with their calls
	run ipc bus-diagram --text --width 80 --since 10ms --until 0.02 "$T/g"
	[ "$(grep -Ec '^ +0\.0(1[0-9]|20) ' <<<"$output")" -eq 11 ]
	run ipc bus-diagram --text --width 80 --since 0.0105 "$T/g"
	[[ ${lines[1]} =~ ^\ +0\.011\  ]]
}

@test "bus-diagram: 100,000 messages: --max 5000 by default, the rest counted on stderr; under 300 SVG bytes a message" {
	"$PY" "$GEN" 100000 "$T/big"
	run --separate-stderr ipc bus-diagram "$T/big"
	assert_status 0
	[ "$stderr" = "ipcbox bus-diagram: left out 95001 of 100001 messages beyond --max 5000 (their statistics are counted)" ]
	[ "$(grep -c '^<g class="[crebsn]"' <<<"$output")" -eq 5000 ]
	run --separate-stderr ipc bus-diagram --max 100 --stats --json "$T/big"
	[ "$stderr" = "ipcbox bus-diagram: left out 99901 of 100001 messages beyond --max 100 (their statistics are counted)" ]
	run "$PY" -c '
import json, sys
m = {r["member"]: r for r in json.loads(sys.argv[1])}
assert m["Get"]["calls"] == 20000 and m["Get"]["errors"] == 0, m["Get"]
assert m["Bad"]["calls"] == 20000 and m["Bad"]["errors"] == 20000, m["Bad"]
assert m["Tick"]["signals"] == 20000 and m["Get"]["mean_ms"] == 1.0, m
print("ok")' "$output"
	assert_output ok
	ipc bus-diagram --max 0 "$T/big" >"$T/big.svg"
	local size
	size=$(stat -c %s "$T/big.svg")
	((size / 100001 <= 300)) || { echo "$((size / 100001)) bytes a message" >&2; return 1; }
	xmllint --noout --huge "$T/big.svg"
}

@test "bus-diagram: not a capture is exit 2 with one line (text, empty, a short header, another link type)" {
	printf 'hello, world\n' >"$T/text"
	: >"$T/empty"
	head -c 10 "$CAP/ipcbox" >"$T/short"
	"$PY" -c '
import struct, sys
open(sys.argv[1], "wb").write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))' "$T/ether"
	local f
	for f in text empty short ether; do
		run --separate-stderr ipc bus-diagram "$T/$f"
		assert_status 2
		assert_one_line_error bus-diagram
		[ -z "$output" ]
	done
	run --separate-stderr ipc bus-diagram "$T/ether"
	[ "$stderr" = "ipcbox bus-diagram: $T/ether: link type 1, not D-Bus (231)" ]
	run --separate-stderr ipc bus-diagram "$T/text"
	[ "$stderr" = "ipcbox bus-diagram: $T/text: not a capture: no pcap or pcapng magic number" ]
	run --separate-stderr ipc bus-diagram <"$T/text"
	assert_status 2
	[ "$stderr" = "ipcbox bus-diagram: standard input: not a capture: no pcap or pcapng magic number" ]
}

@test "bus-diagram: a cut capture draws what is whole, then exit 1 with one line saying where" {
	local t size
	for t in ipcbox busctl; do
		size=$(stat -c %s "$CAP/$t")
		head -c $((size - 30)) "$CAP/$t" >"$T/cut"
		run --separate-stderr ipc bus-diagram --hide-driver --only org.ipcbox.Diagram "$T/cut"
		assert_status 1
		assert_one_line_error bus-diagram
		[[ $stderr =~ ^ipcbox\ bus-diagram:\ $T/cut:\ cut\ inside\ a\ (record|block)\ at\ byte\ [0-9]+\;\ drew\ the\ [0-9]+\ whole\ records\ before\ it$ ]]
		printf '%s\n' "$output" >"$T/cut.svg"
		xmllint --noout "$T/cut.svg"
		grep -q '>Quit</text>' "$T/cut.svg"
	done
}

@test "bus-diagram: corrupt records: a bad message is left out and counted, a bad length stops; exit 1" {
	"$PY" "$GEN" 10 "$T/g"
	# the third record's message gets an invalid endianness byte
	"$PY" -c '
import sys
b = bytearray(open(sys.argv[1], "rb").read())
pos, n = 24, 0
while pos < len(b):
    incl = int.from_bytes(b[pos + 8:pos + 12], "little")
    if n == 2:
        b[pos + 16] = ord("X")
        bad = pos
    if n == 5:
        cut = pos
    pos += 16 + incl
    n += 1
open(sys.argv[2], "wb").write(b)
b[bad + 16] = ord("l")
b[cut + 8:cut + 12] = (0x7fffffff).to_bytes(4, "little")
open(sys.argv[3], "wb").write(b)
print(bad, cut)' "$T/g" "$T/badmsg" "$T/badlen" >"$T/where"
	read -r bad cut <"$T/where"
	run --separate-stderr ipc bus-diagram --text --width 80 "$T/badmsg"
	assert_status 1
	assert_one_line_error bus-diagram
	[[ $stderr == "ipcbox bus-diagram: $T/badmsg: 1 records are not valid D-Bus messages, left out (the first at byte $bad: "* ]]
	[ "$(grep -Ec '^ +0\.0' <<<"$output")" -eq 10 ]
	run --separate-stderr ipc bus-diagram --text --width 80 "$T/badlen"
	assert_status 1
	assert_one_line_error bus-diagram
	[ "$stderr" = "ipcbox bus-diagram: $T/badlen: corrupt record at byte $cut: length 2147483647; drew the 5 whole records before it" ]
	[ "$(grep -Ec '^ +0\.00[0-4] ' <<<"$output")" -eq 5 ]
	# pcapng: a block whose two lengths differ
	"$PY" "$GEN" 10 "$T/ng" pcapng
	"$PY" -c '
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[-4] ^= 4
open(sys.argv[1], "wb").write(b)' "$T/ng"
	run --separate-stderr ipc bus-diagram --stats "$T/ng"
	assert_status 1
	[[ $stderr =~ ^ipcbox\ bus-diagram:\ $T/ng:\ corrupt\ block\ at\ byte\ [0-9]+:\ its\ two\ lengths\ differ\;\ drew\ the\ 10\ whole\ records\ before\ it$ ]]
}

@test "bus-diagram: bad options are exit 2 with one line" {
	local args
	for args in "--json" "--svg --text" "--mermaid --stats" "--max x" "--max -1" "--width 5" \
		"--since soon" "--match member" "--match type='signal" "a b" "--no-such"; do
		# shellcheck disable=SC2086
		run --separate-stderr ipc bus-diagram $args
		assert_status 2
		[ -z "$output" ]
		[[ ${stderr_lines[0]} == "ipcbox bus-diagram: "* ]] || { echo "$args: $stderr" >&2; return 1; }
	done
	run --separate-stderr ipc bus-diagram "$T/missing"
	assert_status 2
	assert_one_line_error bus-diagram
}

@test "bus-diagram --help comes from the option table" {
	run ipc bus-diagram --help
	assert_status 0
	assert_match 'Usage: ipcbox bus-diagram \[--svg \| --html \| --mermaid \| --text \| --stats \[--json\]\]'
	assert_match '--hide-driver'
	assert_match '--max N'
	run ipc --options bus-diagram
	assert_match 'width'
}
