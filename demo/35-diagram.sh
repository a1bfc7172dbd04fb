#!/bin/bash
# Pictures of the bus: capture a scripted conversation with bus-monitor --pcap,
# then draw it with bus-diagram: an SVG for a browser, the ladder in the
# terminal, the statistics.
source "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.." || exit 1
IPCBOX=${IPCBOX:-$PWD/ipcbox}
ipcbox() { "$IPCBOX" "$@"; }
dir=$(mktemp -d "${DEMO_DIR:-/tmp}/diagram.XXXXXX")
out=${DEMO_OUT:-$PWD/build/demo}
cleanup() {
	[ -n "${mon_pid:-}" ] && kill "$mon_pid" 2>/dev/null
	[ -n "${svc_pid:-}" ] && kill "$svc_pid" 2>/dev/null
	[ -n "${bus_pid:-}" ] && kill "$bus_pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

say "Pictures of the bus: a private bus, and bus-monitor capturing it to a pcap file"
"tests/peers/private-bus.sh" "$dir" || exit 1
bus_pid=$(cat "$dir/pid")
DBUS_SESSION_BUS_ADDRESS=$(head -n 1 "$dir/address")
export DBUS_SESSION_BUS_ADDRESS
echo "$ ipcbox bus-monitor --pcap $dir/bus.pcap &"
# "$IPCBOX", not the function: $! must be the monitor itself, not a subshell
# that a SIGTERM would end while the monitor runs on.
"$IPCBOX" bus-monitor --pcap "$dir/bus.pcap" --ready-file "$dir/monitor-ready" &
mon_pid=$!
for _ in $(seq 500); do [ -s "$dir/monitor-ready" ] && break; sleep 0.01; done

say "A python3-dbus service, and a client that calls Ping, Fail (an error), Slow (300 ms), Notify (a signal) and Never (no reply)"
/usr/bin/python3 tests/peers/diagram-scenario.py service "$dir/ready" &
svc_pid=$!
for _ in $(seq 1000); do [ -s "$dir/ready" ] && break; sleep 0.01; done
/usr/bin/python3 tests/peers/diagram-scenario.py client || exit 1
wait "$svc_pid"
svc_pid=
# a last signal: once it is in the file, so is everything before it
for _ in $(seq 500); do
	ipcbox bus-emit /demo org.ipcbox.Demo Done
	grep -q org.ipcbox.Demo "$dir/bus.pcap" && break
	sleep 0.01
done
kill -TERM "$mon_pid" # SIGINT is ignored by a background job of a script
wait "$mon_pid"
mon_pid=

say "Draw it as an SVG: one column per connection, calls solid, returns dashed with their time, the error in red, the signal in green"
mkdir -p "$out"
# (show would print its command line into the file: echo it here instead)
echo "$ ipcbox bus-diagram --hide-driver --only org.ipcbox.Diagram $dir/bus.pcap >$out/bus-diagram.svg"
ipcbox bus-diagram --hide-driver --only org.ipcbox.Diagram "$dir/bus.pcap" >"$out/bus-diagram.svg" || exit 1
echo "wrote $out/bus-diagram.svg ($(wc -c <"$out/bus-diagram.svg") bytes): open it in a browser"
ipcbox bus-diagram --html "$dir/bus.pcap" >"$out/bus-diagram.html" || exit 1
echo "wrote $out/bus-diagram.html: the whole capture with the statistics table"

say "The same conversation as a ladder in the terminal (each message printed as it is read)"
show ipcbox bus-diagram --text --hide-driver --only org.ipcbox.Diagram --width 72 "$dir/bus.pcap" || exit 1

say "Per-method statistics: calls, errors, total, mean and longest time"
show ipcbox bus-diagram --stats --only org.ipcbox.Diagram "$dir/bus.pcap" || exit 1
