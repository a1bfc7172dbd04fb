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

# flood_pause_check APPLET PATTERN: bus-listen or bus-monitor under strace,
# which records its sleeps; PATTERN matches one line of its output per
# signal.  Quiet traffic first: five signals, each printed before the next
# is sent, and no pause.  Then the applet is stopped, burst.py leaves 50
# signals waiting for it, and it is continued: it takes them in one drain,
# and the next signal wakes it after that batch: one pause (flood_pause in
# applets/bus.c), then that signal too.
flood_pause_check() {
	local applet=$1 pattern=$2 iface="org.ipcbox.Flood$$" job pid i
	rm -f "$T/ready"
	bg env ASAN_OPTIONS="$(no_lsan)" strace -qq -o "$T/trace" -e trace=nanosleep,clock_nanosleep \
		"$IPCBOX" "$applet" --ready-file "$T/ready" "interface='$iface'" >"$T/out" 2>"$T/err"
	job=$BG_PID
	wait_file "$T/ready"
	# timeout's child is strace, whose child is the applet (a monitor's
	# name cannot be asked for its pid)
	pid=$(cat "/proc/$job/task/$job/children")
	pid=$(cat "/proc/${pid% }/task/${pid% }/children")
	pid=${pid% }
	for i in 1 2 3 4 5; do
		ipc bus-emit /quiet "$iface" Tick u "$i"
		wait_for printed "$pattern" "$i"
	done
	run grep -c nanosleep "$T/trace"
	assert_output 0
	kill -STOP "$pid"
	run timeout -k 5 "$TMO" "$PY" "$PEERS/burst.py" "$BUS_ADDR" "$iface" 50
	assert_status 0
	kill -CONT "$pid"
	wait_for printed "$pattern" 55
	ipc bus-emit /quiet "$iface" Tick u 6
	wait_for printed "$pattern" 56
	kill -INT "$pid"
	wait "$job"
	run grep -c nanosleep "$T/trace"
	assert_output 1
}

# printed PATTERN N: $T/out has N lines matching PATTERN.
printed() {
	[ "$(grep -c -- "$1" "$T/out")" -eq "$2" ]
}
