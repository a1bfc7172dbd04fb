# Shared by tests/bus*.bats (load bus_helpers): a private dbus-daemon for the
# whole test file and the python3-dbus peers in tests/peers.
#
#   start_bus          (setup_file) a bus on a unix:dir socket in $BUS_DIR,
#                      also listening on an abstract socket; exports
#                      DBUS_SESSION_BUS_ADDRESS, BUS_ADDR, BUS_ABSTRACT, BUS_PID
#   stop_bus           (teardown_file) kill that daemon, remove $BUS_DIR
#   start_service NAME DIR   bus-service.py owning NAME, record in DIR/record;
#                      returns once NAME is owned; pid in DIR/pid
#   start_subscriber IFACE DIR   bus-subscriber.py; returns once subscribed
#   match_rule_with TEXT   is there a match rule on the bus containing TEXT?

PEERS=$BATS_TEST_DIRNAME/peers
PY=/usr/bin/python3
IFACE=org.ipcbox.Test
OBJ=/org/ipcbox/Test
# Peers live for the whole file, still under a timeout.
PEER_TMO=600

# The default for a bus test file: one private bus for the whole file.  A
# file that needs more (bus.bats starts a service too) defines its own.
setup_file() {
	start_bus
}

teardown_file() {
	stop_bus
}

start_bus() {
	BUS_DIR=$(mktemp -d "$BATS_TMPDIR/ipcbox-bus.XXXXXX")
	mkdir "$BUS_DIR/services"
	printf '[D-BUS Service]\nName=org.ipcbox.Activatable\nExec=/bin/false\n' \
		>"$BUS_DIR/services/org.ipcbox.Activatable.service"
	BUS_ABSTRACT="/ipcbox/test-bus-$$"
	"$PEERS/private-bus.sh" "$BUS_DIR" "$BUS_ABSTRACT"
	BUS_ADDR=$(head -n 1 "$BUS_DIR/address")
	BUS_PID=$(cat "$BUS_DIR/pid")
	DBUS_SESSION_BUS_ADDRESS=$BUS_ADDR
	export BUS_DIR BUS_ADDR BUS_PID BUS_ABSTRACT DBUS_SESSION_BUS_ADDRESS
}

stop_bus() {
	local f
	for f in "$BUS_DIR"/*/pid; do
		[ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
	[ -n "${BUS_PID:-}" ] && kill "$BUS_PID" 2>/dev/null
	rm -rf "$BUS_DIR"
}

start_service() {
	mkdir -p "$2"
	timeout "$PEER_TMO" "$PY" "$PEERS/bus-service.py" "$1" "$2/record" "$2/ready" 3>&- &
	echo $! >"$2/pid"
	wait_file "$2/ready"
}

start_subscriber() {
	mkdir -p "$2"
	timeout "$PEER_TMO" "$PY" "$PEERS/bus-subscriber.py" "$1" "$2/record" "$2/ready" 3>&- &
	echo $! >"$2/pid"
	wait_file "$2/ready"
}

match_rule_with() {
	"$IPCBOX" bus-call --json org.freedesktop.DBus /org/freedesktop/DBus \
		org.freedesktop.DBus.Debug.Stats GetAllMatchRules | grep -qF -- "$1"
}

# The last value Echo recorded.
last_record() {
	tail -n 1 "$SVC_DIR/record"
}
