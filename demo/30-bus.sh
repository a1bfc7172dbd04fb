#!/bin/bash
# D-Bus: a private message bus, a python3-dbus service, and the bus applets
# calling it, reading its properties, looking inside it and waiting on it.
source "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.." || exit 1
IPCBOX=${IPCBOX:-$PWD/ipcbox}
ipcbox() { "$IPCBOX" "$@"; }
dir=$(mktemp -d "${DEMO_DIR:-/tmp}/bus.XXXXXX")
cleanup() {
	[ -n "${svc_pid:-}" ] && kill "$svc_pid" 2>/dev/null
	[ -n "${bus_pid:-}" ] && kill "$bus_pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

say "D-Bus: start a private message bus (dbus-daemon) listening on a Unix socket"
"tests/peers/private-bus.sh" "$dir" || exit 1
bus_pid=$(cat "$dir/pid")
DBUS_SESSION_BUS_ADDRESS=$(head -n 1 "$dir/address")
export DBUS_SESSION_BUS_ADDRESS
echo "DBUS_SESSION_BUS_ADDRESS=$DBUS_SESSION_BUS_ADDRESS"

say "Every client authenticates (SASL EXTERNAL), says Hello and gets a unique name; ask the bus itself for its id"
show ipcbox bus-call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetId

say "Start a service written with python3-dbus in the background, and wait until its name has an owner"
/usr/bin/python3 tests/peers/bus-service.py org.ipcbox.Demo "$dir/record" "$dir/ready" &
svc_pid=$!
show ipcbox bus-wait --timeout 10s org.ipcbox.Demo && echo "org.ipcbox.Demo is on the bus"

say "Who is on the bus, with their processes"
show ipcbox bus-list

say "Look inside the service: its objects, then one object's interfaces, with property values"
show ipcbox bus-tree org.ipcbox.Demo
show ipcbox bus-introspect org.ipcbox.Demo /org/ipcbox/Test

say "Typed arguments in busctl's syntax: a dictionary of variants, echoed back, terse and as JSON"
show ipcbox bus-call org.ipcbox.Demo /org/ipcbox/Test org.ipcbox.Test Echo 'a{sv}' 2 name s ipcbox count u 3
show ipcbox bus-call --json org.ipcbox.Demo /org/ipcbox/Test org.ipcbox.Test Echo -- '(ia{ix})' -1 1 7 -7

say "Properties: read one, write one, read it back"
show ipcbox bus-get org.ipcbox.Demo /org/ipcbox/Test org.ipcbox.Test Tags
show ipcbox bus-set org.ipcbox.Demo /org/ipcbox/Test org.ipcbox.Test Name s "set by ipcbox"
show ipcbox bus-get org.ipcbox.Demo /org/ipcbox/Test org.ipcbox.Test Name

say "Errors come back as one line, exit 1; a call that is never answered times out, exit 124"
show ipcbox bus-call org.ipcbox.Demo /org/ipcbox/Test org.ipcbox.Test Fail
echo "exit status $?"
show ipcbox bus-call --timeout 300ms org.ipcbox.Demo /org/ipcbox/Test org.ipcbox.Test Never
echo "exit status $?"

say "Signals: wait for one in the background, then ask the service to emit it"
ipcbox bus-wait --timeout 10s --signal /org/ipcbox/Test org.ipcbox.Test Changed &
waiter=$!
until ipcbox bus-call --json org.freedesktop.DBus /org/freedesktop/DBus \
	org.freedesktop.DBus.Debug.Stats GetAllMatchRules | grep -q "member='Changed'"; do
	sleep 0.01
done
show ipcbox bus-call org.ipcbox.Demo /org/ipcbox/Test org.ipcbox.Test EmitChanged s "hello from the demo"
wait "$waiter" || echo "bus-wait exit status $?"

say "A signal connected to a slot in another process: bus-listen runs a shell command for each Changed signal"
ipcbox bus-listen --count 2 --ready-file "$dir/listen-ready" "interface='org.ipcbox.Test',member='Changed'" \
	-e 'read -r sig text; echo "slot: $BUS_MEMBER($text) from $BUS_SENDER on $BUS_PATH"' &
listener=$!
until [ -s "$dir/listen-ready" ] || ! kill -0 "$listener" 2>/dev/null; do sleep 0.01; done
show ipcbox bus-call org.ipcbox.Demo /org/ipcbox/Test org.ipcbox.Test EmitChanged s "first"
show ipcbox bus-emit /org/ipcbox/Test org.ipcbox.Test Changed s "second, from the shell"
wait "$listener" || echo "bus-listen exit status $?"

say "Watch the bus: bus-monitor (BecomeMonitor) prints a call and its reply as dbus-monitor would"
ipcbox bus-monitor --count 2 --ready-file "$dir/monitor-ready" "member='Echo'" "type='method_return',sender='org.ipcbox.Demo'" >"$dir/monitor" &
monitor=$!
until [ -s "$dir/monitor-ready" ] || ! kill -0 "$monitor" 2>/dev/null; do sleep 0.01; done
show ipcbox bus-call org.ipcbox.Demo /org/ipcbox/Test org.ipcbox.Test Echo s watched
wait "$monitor" || echo "bus-monitor exit status $?"
sed 's/time=[0-9.]* //' "$dir/monitor"
exit 0
