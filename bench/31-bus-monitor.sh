#!/bin/bash
# bus-monitor against dbus-monitor under a flood: one python3-dbus emitter
# sends N signals as fast as it can (then one End signal) on a private
# dbus-daemon; each monitor watches that interface.  Per sample: seconds
# from the start of the flood until the monitor has printed End, and how
# many of the N it printed, and the CPU seconds the monitor used (the wall
# time is mostly the emitter's: both monitors keep up with it).  Contenders alternate round by round.
# Goal (DESIGN section 5): keeps up with the daemon, loses nothing.
source "$(dirname "$0")/lib.sh"

N=${N:-20000}
dir=$(mktemp -d /tmp/ipcbox-bench-busmon.XXXXXX)
cleanup() {
	[ -n "${mon_pid:-}" ] && kill "$mon_pid" 2>/dev/null
	[ -n "${bus_pid:-}" ] && kill "$bus_pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

have dbus-daemon || exit 0
if ! /usr/bin/python3 -c 'import dbus' 2>/dev/null; then
	echo "  (peer missing: python3-dbus, not measured)"
	exit 0
fi
"$(dirname "$0")/../tests/peers/private-bus.sh" "$dir" || exit 1
addr=$(head -n 1 "$dir/address")
bus_pid=$(cat "$dir/pid")
rule="interface='org.ipcbox.Flood'"

cat >"$dir/flood.py" <<'PY'
import dbus, dbus.lowlevel, sys
b = dbus.bus.BusConnection(sys.argv[1])
for i in range(int(sys.argv[2])):
    m = dbus.lowlevel.SignalMessage("/flood", "org.ipcbox.Flood", "Tick")
    m.append(dbus.UInt32(i))
    b.send_message(m)
b.send_message(dbus.lowlevel.SignalMessage("/flood", "org.ipcbox.Flood", "End"))
b.flush()
PY

# wait_grep FILE RE: until FILE has a line matching RE (60 s at most).
wait_grep() {
	local i
	for ((i = 0; i < 6000; i++)); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.01
	done
	return 1
}

# cpu_of PID: user+system seconds the process has used.
cpu_of() {
	awk -v hz="$(getconf CLK_TCK)" '{sub(/.*\) /, ""); printf "%.3f", ($12 + $13) / hz}' "/proc/$1/stat"
}

# run_one ipcbox|dbus-monitor: prints "SECONDS SEEN CPU".
run_one() {
	local out=$dir/out t0 t1 cpu
	rm -f "$out" "$dir/ready"
	if [ "$1" = ipcbox ]; then
		"$IPCBOX" bus-monitor --address "$addr" --ready-file "$dir/ready" "$rule" >"$out" &
		mon_pid=$!
		wait_grep "$dir/ready" . || return 1
	else
		dbus-monitor --address "$addr" "$rule" >"$out" &
		mon_pid=$!
		wait_grep "$out" 'member=NameLost' || return 1
	fi
	t0=$(now)
	/usr/bin/python3 "$dir/flood.py" "$addr" "$N"
	wait_grep "$out" 'member=End' || echo "  ($1 never printed End)" >&2
	t1=$(now)
	cpu=$(cpu_of "$mon_pid")
	kill "$mon_pid"
	wait "$mon_pid" 2>/dev/null
	mon_pid=
	echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.6f", b - a}') $(grep -c 'member=Tick' "$out") $cpu"
}

names=(ipcbox)
have dbus-monitor && names+=(dbus-monitor)
declare -A secs seen cpus
for ((r = 0; r < ROUNDS; r++)); do
	for c in "${names[@]}"; do
		read -r s n u < <(run_one "$c")
		cpus[$c]+=" $u"
		secs[$c]+=" $s"
		seen[$c]+=" $n"
	done
done
bench_header "monitor a flood of $N signals ($ROUNDS rounds)" "s until End"
for c in "${names[@]}"; do
	# shellcheck disable=SC2086
	bench_row "$c (saw median $(median ${seen[$c]}) of $N)" "$(median ${secs[$c]})"
done
if [ -n "${secs[dbus-monitor]:-}" ]; then
	# shellcheck disable=SC2086
	bench_row "bus-monitor / dbus-monitor" "$(median ${secs[ipcbox]})" "$(median ${secs[dbus-monitor]})"
fi
bench_header "CPU used by the monitor for $N signals" "cpu s"
for c in "${names[@]}"; do
	# shellcheck disable=SC2086
	bench_row "$c" "$(median ${cpus[$c]})"
done
if [ -n "${cpus[dbus-monitor]:-}" ]; then
	# shellcheck disable=SC2086
	bench_row "bus-monitor / dbus-monitor" "$(median ${cpus[ipcbox]})" "$(median ${cpus[dbus-monitor]})"
fi
