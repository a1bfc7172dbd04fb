#!/bin/bash
# bus-call against dbus-send, busctl and gdbus: one process per call, on one
# private dbus-daemon.  Two calls: org.freedesktop.DBus.GetId (answered by
# the bus itself) and org.freedesktop.DBus.Peer.Ping routed to a python3-dbus
# service.  Each sample is CALLS sequential processes; contenders alternate
# round by round; the table shows the median seconds per call.
# Goals (DESIGN section 5): bus-call <= 0.7 x dbus-send, <= 0.3 x busctl and
# <= 1.3 x /bin/true (authentication, Hello and the call in one write).
source "$(dirname "$0")/lib.sh"

CALLS=${CALLS:-50}
dir=$(mktemp -d /tmp/ipcbox-bench-bus.XXXXXX)
cleanup() {
	[ -n "${svc_pid:-}" ] && kill "$svc_pid" 2>/dev/null
	[ -n "${bus_pid:-}" ] && kill "$bus_pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

have dbus-daemon || exit 0
"$(dirname "$0")/../tests/peers/private-bus.sh" "$dir" || exit 1
addr=$(head -n 1 "$dir/address")
bus_pid=$(cat "$dir/pid")
svc=org.ipcbox.Bench
peer=$(dirname "$0")/../tests/peers/bus-service.py
if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import dbus' 2>/dev/null; then
	DBUS_SESSION_BUS_ADDRESS=$addr /usr/bin/python3 "$peer" "$svc" "$dir/record" "$dir/ready" &
	svc_pid=$!
	for _ in $(seq 500); do [ -s "$dir/ready" ] && break; sleep 0.01; done
else
	echo "  (peer missing: python3-dbus, Ping not measured)"
fi

# The contenders for one call: DEST PATH INTERFACE METHOD.
ipcbox_call() { "$IPCBOX" bus-call --address "$addr" "$1" "$2" "$3" "$4"; }
dbus_send_call() { dbus-send --bus="$addr" --print-reply --dest="$1" "$2" "$3.$4"; }
busctl_call() { busctl --address="$addr" call "$1" "$2" "$3" "$4"; }
true_call() { /bin/true; }
gdbus_call() { gdbus call --address "$addr" --dest "$1" --object-path "$2" --method "$3.$4"; }

# sample FN ARGS...: seconds per call over CALLS processes.
sample() {
	local t0 t1 i
	t0=$(now)
	for ((i = 0; i < CALLS; i++)); do
		"$@" >/dev/null 2>&1
	done
	t1=$(now)
	awk -v a="$t0" -v b="$t1" -v n="$CALLS" 'BEGIN {printf "%.6f\n", (b - a) / n}'
}

compare() {
	local title=$1
	shift
	local names=() fns=() f
	for f in true_call:/bin/true ipcbox_call:ipcbox dbus_send_call:dbus-send busctl_call:busctl gdbus_call:gdbus; do
		local fn=${f%%:*} tool=${f#*:}
		[ "$tool" = ipcbox ] || [ "$tool" = /bin/true ] || have "$tool" || continue
		"$fn" "$@" >/dev/null 2>&1 || { echo "  ($tool failed the call; not measured)"; continue; }
		fns+=("$fn")
		names+=("$tool")
	done
	declare -A samples
	for ((r = 0; r < ROUNDS; r++)); do
		for fn in "${fns[@]}"; do
			samples[$fn]+=" $(sample "$fn" "$@")"
		done
	done
	bench_header "$title ($CALLS processes per sample, $ROUNDS rounds)" "s per call"
	declare -A med
	for i in "${!fns[@]}"; do
		# shellcheck disable=SC2086
		med[${fns[$i]}]=$(median ${samples[${fns[$i]}]})
		bench_row "${names[$i]}$([ "${fns[$i]}" = true_call ] && echo ' (process start floor)')" "${med[${fns[$i]}]}"
	done
	bench_row "ipcbox bus-call / /bin/true" "${med[ipcbox_call]}" "${med[true_call]}" "${TRUE_GOAL:-}"
	[ -n "${med[dbus_send_call]:-}" ] &&
		bench_row "ipcbox bus-call / dbus-send" "${med[ipcbox_call]}" "${med[dbus_send_call]}" "goal <= 0.7"
	[ -n "${med[busctl_call]:-}" ] &&
		bench_row "ipcbox bus-call / busctl" "${med[ipcbox_call]}" "${med[busctl_call]}" "goal <= 0.3"
	[ -n "${med[gdbus_call]:-}" ] &&
		bench_row "ipcbox bus-call / gdbus" "${med[ipcbox_call]}" "${med[gdbus_call]}"
}

TRUE_GOAL="goal <= 1.3" compare "bus: GetId from the bus driver" org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetId
[ -n "${svc_pid:-}" ] &&
	compare "bus: Peer.Ping routed to a python service" "$svc" /org/ipcbox/Test org.freedesktop.DBus.Peer Ping
exit 0
