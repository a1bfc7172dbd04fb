#!/usr/bin/env bats
# Every bus applet on a dbus-daemon with the distribution's own system policy
# (tests/peers/policy-bus.sh: /usr/share/dbus-1/system.conf with only
# <listen> and <user> changed), run by clients as ourselves and, when we are
# root, as the unprivileged user nobody (setpriv).  Each outcome is compared
# with dbus-send and busctl doing the same; where the policy refuses
# something (owning a name, calling a peer), the refusal is the only failure
# and it is one line.  Tests that switch users need root: "(root)".

bats_require_minimum_version 1.5.0
load helpers
load bus_helpers

setup_file() {
	POLICY_DIR=$(mktemp -d "$BATS_TMPDIR/ipcbox-policy.XXXXXX")
	"$PEERS/policy-bus.sh" "$POLICY_DIR" "/ipcbox/policy-$$"
	POLICY_ADDR=$(head -n 1 "$POLICY_DIR/address")
	DBUS_SESSION_BUS_ADDRESS=$POLICY_ADDR
	export POLICY_DIR POLICY_ADDR DBUS_SESSION_BUS_ADDRESS
}

teardown_file() {
	kill "$(cat "$POLICY_DIR/pid")" 2>/dev/null
	rm -rf "$POLICY_DIR"
}

setup() {
	common_setup
	# a directory the unprivileged client may write (ready files)
	chmod 0711 "$T"
	mkdir -m 1777 "$T/w"
	# a copy of ipcbox nobody can run (the checkout may be closed to it),
	# used as ourselves too
	if [ "$(id -u)" -eq 0 ]; then
		other_ipcbox
		IPCBOX=$OTHER_IPCBOX
	fi
}

# as WHO CMD...: run CMD as ourselves (self) or as nobody, under timeout.
as() {
	local who=$1
	shift
	if [ "$who" = nobody ]; then
		timeout -k 5 "$TMO" setpriv --reuid="$OTHER_UID" --regid="$OTHER_GID" --clear-groups -- "$@"
	else
		timeout -k 5 "$TMO" "$@"
	fi
}

# as_bg WHO CMD...: `as` in the background, started with bg (its pid in
# BG_PID; teardown stops it and what is left of its process group).
as_bg() {
	local who=$1
	shift
	if [ "$who" = nobody ]; then
		bg setpriv --reuid="$OTHER_UID" --regid="$OTHER_GID" --clear-groups -- "$@"
	else
		bg "$@"
	fi
}

# need WHO: a test as nobody needs root to switch to it.
need() {
	if [ "$1" = nobody ] && [ "$(id -u)" -ne 0 ]; then
		skip "needs root to run clients as nobody"
	fi
}

# listener: bus-listen (as ourselves) for interface $I in the background,
# output in $T/heard; its unique name in $PEER.
I=org.ipcbox.Policy
listener() {
	bg "$IPCBOX" bus-listen --ready-file "$T/peer" "interface='$I$$'" "$@" >"$T/heard"
	LISTENER=$BG_PID
	wait_file "$T/peer"
	PEER=$(cat "$T/peer")
}

# one_refusal TEXT: the run failed with 1 and one line naming TEXT.
one_refusal() {
	assert_status 1
	assert_one_line_error "$1"
	[[ $stderr == *"$2"* ]] || { echo "no '$2' in: $stderr" >&2; return 1; }
}

check_emit() {
	listener -c 3
	run --separate-stderr as "$1" "$IPCBOX" bus-emit /p "$I$$" ByIpcbox s one
	assert_status 0
	[ -z "$stderr" ]
	run as "$1" dbus-send --bus="$POLICY_ADDR" /p "$I$$.ByDbusSend" string:two
	assert_status 0
	run as "$1" busctl --address="$POLICY_ADDR" emit /p "$I$$" ByBusctl s three
	assert_status 0
	wait_status "$LISTENER"
	assert_status 0
	run sed 's/^[^ ]* //' "$T/heard"
	assert_output "/p $I$$.ByIpcbox s \"one\"
/p $I$$.ByDbusSend s \"two\"
/p $I$$.ByBusctl s \"three\""
}

@test "policy bus, as ourselves: bus-emit delivers a signal and exits 0, as dbus-send and busctl emit" {
	check_emit self
}

@test "policy bus, as nobody (root): bus-emit delivers a signal and exits 0, as dbus-send and busctl emit" {
	need nobody
	check_emit nobody
}

check_noreply() {
	listener
	# a driver method the policy allows: 0 for all three
	run --separate-stderr as "$1" "$IPCBOX" bus-call --expect-reply=no org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetId
	assert_status 0
	assert_output ''
	run as "$1" busctl --address="$POLICY_ADDR" --expect-reply=no call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetId
	assert_status 0
	run as "$1" dbus-send --bus="$POLICY_ADDR" --type=method_call --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.GetId
	assert_status 0
	# a call to a peer, which the policy refuses: ipcbox's barrier shows the
	# refusal in one line; dbus-send and busctl send blind and exit 0
	run --separate-stderr as "$1" "$IPCBOX" bus-call --expect-reply=no "$PEER" /p "$I$$" M
	one_refusal bus-call AccessDenied
	run as "$1" busctl --address="$POLICY_ADDR" --expect-reply=no call "$PEER" /p "$I$$" M
	assert_status 0
	run as "$1" dbus-send --bus="$POLICY_ADDR" --type=method_call --dest="$PEER" /p "$I$$.M"
	assert_status 0
	# waiting for the reply: refused for everyone
	run --separate-stderr as "$1" "$IPCBOX" bus-call "$PEER" /p "$I$$" M
	one_refusal bus-call AccessDenied
	run as "$1" busctl --address="$POLICY_ADDR" call "$PEER" /p "$I$$" M
	assert_status 1
	run as "$1" dbus-send --bus="$POLICY_ADDR" --print-reply --dest="$PEER" /p "$I$$.M"
	assert_status 1
}

@test "policy bus, as ourselves: --expect-reply=no passes where the policy allows, one line where it refuses" {
	check_noreply self
}

@test "policy bus, as nobody (root): --expect-reply=no passes where the policy allows, one line where it refuses" {
	need nobody
	check_noreply nobody
}

check_driver() {
	local ours theirs
	run --separate-stderr as "$1" "$IPCBOX" bus-call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetId
	assert_status 0
	ours=$output
	run as "$1" busctl --address="$POLICY_ADDR" call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetId
	assert_status 0
	[ "$ours" = "$output" ]
	run --separate-stderr as "$1" "$IPCBOX" bus-get org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus Features
	assert_status 0
	ours=$output
	run as "$1" busctl --address="$POLICY_ADDR" get-property org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus Features
	assert_status 0
	[ "$ours" = "$output" ]
	run --separate-stderr as "$1" "$IPCBOX" bus-set org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus Features as 0
	one_refusal bus-set PropertyReadOnly
	run as "$1" busctl --address="$POLICY_ADDR" set-property org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus Features as 0
	assert_status 1
	run --separate-stderr as "$1" "$IPCBOX" bus-tree org.freedesktop.DBus
	assert_status 0
	ours=$output
	run as "$1" busctl --address="$POLICY_ADDR" tree --list org.freedesktop.DBus
	assert_status 0
	[ "$ours" = "$output" ]
	run --separate-stderr as "$1" "$IPCBOX" bus-introspect org.freedesktop.DBus /org/freedesktop/DBus
	assert_status 0
	ours=$(awk '$1 ~ /^\./ { print $1, $2 }' <<<"$output" | sort)
	run as "$1" busctl --address="$POLICY_ADDR" introspect org.freedesktop.DBus /org/freedesktop/DBus
	assert_status 0
	[ "$ours" = "$(awk '$1 ~ /^\./ { print $1, $2 }' <<<"$output" | sort)" ]
	run --separate-stderr as "$1" "$IPCBOX" bus-list
	assert_status 0
	ours=$(awk 'NR > 1 && $1 !~ /^:/ { print $1 }' <<<"$output")
	run as "$1" busctl --address="$POLICY_ADDR" list --no-legend
	assert_status 0
	[ "$ours" = "$(grep -v '(activatable)' <<<"$output" | awk '$1 !~ /^:/ { print $1 }')" ]
	run --separate-stderr as "$1" "$IPCBOX" bus-wait org.freedesktop.DBus
	assert_status 0
}

@test "policy bus, as ourselves: bus-call, -get, -set, -tree, -introspect, -list, -wait on the bus driver agree with busctl" {
	check_driver self
}

@test "policy bus, as nobody (root): bus-call, -get, -set, -tree, -introspect, -list, -wait on the bus driver agree with busctl" {
	need nobody
	check_driver nobody
}

check_serve() {
	run --separate-stderr as "$1" "$IPCBOX" bus-serve "$I.Name$$" /p "$I$$" M '' '' -- true
	one_refusal bus-serve "not allowed to own"
	run as "$1" dbus-send --bus="$POLICY_ADDR" --print-reply --sender="$I.Name$$" --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.GetId
	assert_status 1
	[[ $output == *"not allowed to own"* ]]
}

@test "policy bus, as ourselves: bus-serve's only failure is the refused name, in one line, as dbus-send --sender" {
	check_serve self
}

@test "policy bus, as nobody (root): bus-serve's only failure is the refused name, in one line, as dbus-send --sender" {
	need nobody
	check_serve nobody
}

check_signals() {
	# bus-listen and its slot, as WHO
	as_bg "$1" "$IPCBOX" bus-listen --ready-file "$T/w/ready" -c 2 "interface='$I$$'" \
		-e 'read -r line; echo "$BUS_MEMBER $line"' >"$T/out" 2>"$T/err"
	local pid=$BG_PID
	wait_file "$T/w/ready"
	ipc bus-emit /p "$I$$" One s a
	dbus-send --bus="$POLICY_ADDR" /p "$I$$.Two" int32:2
	wait_status "$pid"
	assert_status 0
	run cat "$T/out"
	assert_output 'One s "a"
Two i 2'
	[ ! -s "$T/err" ]
	# bus-wait --signal: no ready file, so emit until it has seen one
	as_bg "$1" "$IPCBOX" bus-wait --signal /p "$I$$" Three >"$T/out" 2>"$T/err"
	pid=$BG_PID
	emit_until_done() {
		ipc bus-emit /p "$I$$" Three u 3
		if kill -0 "$pid" 2>/dev/null; then return 1; fi
	}
	wait_for emit_until_done
	wait_status "$pid"
	assert_status 0
	run cat "$T/out"
	assert_output 'u 3'
}

@test "policy bus, as ourselves: bus-listen with its slot and bus-wait --signal get signals from others" {
	check_signals self
}

@test "policy bus, as nobody (root): bus-listen with its slot and bus-wait --signal get signals from others" {
	need nobody
	check_signals nobody
}

# monitor WHO ADDR ARG...: bus-monitor as WHO in the background, output in
# $T/mon, stderr in $T/monerr; returns once it is watching.
monitor() {
	local who=$1 addr=$2
	shift 2
	rm -f "$T/w/mready"
	as_bg "$who" "$IPCBOX" bus-monitor --address "$addr" --ready-file "$T/w/mready" "$@" >"$T/mon" 2>"$T/monerr"
	MONITOR=$BG_PID
	wait_file "$T/w/mready"
}

# unicast_then_broadcast ADDR: a signal sent to $PEER only, then one to all;
# each bus-emit returns once the bus has routed its signal.
unicast_then_broadcast() {
	ipc bus-emit --address "$1" --dest "$PEER" /p "$I$$" Unicast s private
	ipc bus-emit --address "$1" /p "$I$$" Broadcast s public
}

@test "policy bus, as ourselves: bus-monitor says which way it watches; exit 0 after --count" {
	listener
	monitor self "$POLICY_ADDR" --count 1 "interface='$I$$'"
	unicast_then_broadcast "$POLICY_ADDR"
	wait_status "$MONITOR"
	assert_status 0
	run cat "$T/monerr"
	if [ "$(id -u)" -eq 0 ]; then
		# root may BecomeMonitor under system.conf: it sees the unicast
		# signal, and (as dbus-monitor) has nothing to say about it
		assert_output ''
		grep -q 'member=Unicast' "$T/mon"
	else
		# the daemon runs as us: eavesdropping is allowed, the policy lets
		# nothing be overheard, so the broadcast is what it sees
		assert_match '^ipcbox bus-monitor: BecomeMonitor refused \(AccessDenied\); eavesdropping'
		grep -q 'member=Broadcast' "$T/mon"
	fi
}

@test "policy bus, as nobody (root): bus-monitor falls back to plain rules, sees broadcasts and not others' unicasts, as dbus-monitor" {
	need nobody
	listener
	monitor nobody "$POLICY_ADDR" --count 1 "interface='$I$$'"
	unicast_then_broadcast "$POLICY_ADDR"
	wait_status "$MONITOR"
	assert_status 0
	run cat "$T/monerr"
	assert_output 'ipcbox bus-monitor: BecomeMonitor refused (AccessDenied), eavesdropping refused (AccessDenied); plain match rules: matching broadcast signals and messages to us only'
	run sed 's/time=[0-9.]* //; s/sender=:[0-9.]*/sender=S/; s/serial=[0-9]*/serial=N/' "$T/mon"
	assert_output "signal sender=S -> destination=(null destination) serial=N path=/p; interface=$I$$; member=Broadcast
   string \"public\""
	# dbus-monitor as nobody: the same fallback, the same signal
	as_bg nobody dbus-monitor --address "$POLICY_ADDR" "interface='$I$$'" >"$T/dm" 2>"$T/dmerr"
	wait_for grep -q 'Falling back' "$T/dmerr"
	emit_until_seen() {
		ipc bus-emit /p "$I$$" Broadcast s public
		grep -q 'member=Broadcast' "$T/dm"
	}
	wait_for emit_until_seen
	[[ $(cat "$T/dmerr") == *"AccessDenied"* ]]
}

# eavesdrop_bus: a second policy bus whose daemon runs as nobody, so that
# nobody passes the daemon's "privileged caller" check for eavesdropping
# (uid 0 or the daemon's uid) while system.conf still refuses it
# BecomeMonitor (only root may send to org.freedesktop.DBus.Monitoring); plus
# the one hole eavesdropping needs under system.conf, which has no rule with
# eavesdrop="true": signals may be overheard.  Address in $EAVES_ADDR.
eavesdrop_bus() {
	cat >"$T/eavesdrop.xml" <<-'XML'
	  <policy context="default">
	    <allow send_type="signal" eavesdrop="true"/>
	    <allow receive_type="signal" eavesdrop="true"/>
	  </policy>
	XML
	mkdir "$T/eaves"
	POLICY_BUS_USER=nobody "$PEERS/policy-bus.sh" "$T/eaves" "/ipcbox/eaves-$$-$BATS_TEST_NUMBER" "$T/eavesdrop.xml"
	EAVES_ADDR=$(head -n 1 "$T/eaves/address")
	BG_PIDS+=("$(cat "$T/eaves/pid")")
}

@test "policy bus run as nobody, as nobody (root): BecomeMonitor refused, bus-monitor eavesdrops and overhears a unicast signal" {
	need nobody
	eavesdrop_bus
	bg "$IPCBOX" bus-listen --address "$EAVES_ADDR" --ready-file "$T/peer" "interface='$I$$'"
	wait_file "$T/peer"
	PEER=$(cat "$T/peer")
	monitor nobody "$EAVES_ADDR" --count 1 "interface='$I$$'"
	unicast_then_broadcast "$EAVES_ADDR"
	wait_status "$MONITOR"
	assert_status 0
	run cat "$T/monerr"
	assert_output 'ipcbox bus-monitor: BecomeMonitor refused (AccessDenied); eavesdropping with match rules: matching signals, messages to us, and what the bus policy lets us overhear'
	run sed 's/time=[0-9.]* //; s/sender=:[0-9.]*/sender=S/; s/serial=[0-9]*/serial=N/' "$T/mon"
	assert_output "signal sender=S -> destination=$PEER serial=N path=/p; interface=$I$$; member=Unicast
   string \"private\""
}

@test "policy bus run as nobody, as nobody (root): a rule eavesdrop=true makes too long falls back to plain rules" {
	need nobody
	eavesdrop_bus
	local long
	long=$(head -c 1005 /dev/zero | tr '\0' x)
	# 1012 bytes: within the bus's 1024, beyond it with "eavesdrop=true,"
	monitor nobody "$EAVES_ADDR" --count 1 "arg0='$long'"
	ipc bus-emit --address "$EAVES_ADDR" /p "$I$$" Long s "$long"
	wait_status "$MONITOR"
	assert_status 0
	run cat "$T/monerr"
	assert_output 'ipcbox bus-monitor: BecomeMonitor refused (AccessDenied), eavesdropping refused (LimitsExceeded); plain match rules: matching broadcast signals and messages to us only'
	grep -q "member=Long" "$T/mon"
}
