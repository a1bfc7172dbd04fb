#!/bin/bash
# bus-monitor and bus-listen against dbus-monitor under a flood of N signals
# on a private dbus-daemon.  The flood comes from a raw-socket emitter (its
# own authenticated connection; every signal pre-built, written in batches),
# so that it is faster than any monitor and the bench measures the monitors,
# not the emitter.  Per sample: how many of the N the contender printed
# (lost = N - seen) and the CPU seconds it used until it printed End.
# Contenders alternate round by round.
# Goal (DESIGN section 5): 0 lost; CPU per message <= 0.5 x dbus-monitor's,
# for bus-monitor and for bus-listen.
source "$(dirname "$0")/lib.sh"

N=${N:-100000}
ROUNDS=${ROUNDS:-3}
dir=$(mktemp -d /tmp/ipcbox-bench-busmon.XXXXXX)
cleanup() {
	[ -n "${mon_pid:-}" ] && kill "$mon_pid" 2>/dev/null
	[ -n "${bus_pid:-}" ] && kill "$bus_pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

have dbus-daemon || exit 0
have python3 || exit 0
"$(dirname "$0")/../tests/peers/private-bus.sh" "$dir" || exit 1
addr=$(head -n 1 "$dir/address")
bus_pid=$(cat "$dir/pid")
rule="interface='org.ipcbox.Flood'"

# The emitter: SASL EXTERNAL and Hello by hand, then N little-endian signals
# /flood org.ipcbox.Flood.Tick(u i), NO_REPLY_EXPECTED, built before the
# clock starts, written 1000 at a time, then one End.  It reads nothing back
# but the auth line: nothing is routed to it.
cat >"$dir/flood.py" <<'PY'
import os, socket, struct, sys

def field(code, sig, val):
    b = bytes([code, 1, ord(sig), 0])
    if sig in "os":
        return b + struct.pack("<I", len(val)) + val + b"\0"
    return b + bytes([len(val)]) + val + b"\0"

def message(mtype, serial, fields, sig=b"", body=b""):
    if sig:
        fields = fields + [field(8, "g", sig)]
    arr = b""
    for f in fields:
        arr += b"\0" * (-len(arr) % 8) + f
    head = struct.pack("<cBBBIII", b"l", mtype, 1 if mtype == 4 else 0, 1, len(body), serial, len(arr)) + arr
    return head + b"\0" * (-len(head) % 8) + body

def connect(addr):
    kv = dict(p.split("=", 1) for p in addr.split(":", 1)[1].split(","))
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect("\0" + kv["abstract"] if "abstract" in kv else kv["path"])
    s.sendall(b"\0AUTH EXTERNAL " + str(os.getuid()).encode().hex().encode() + b"\r\n")
    line = b""
    while not line.endswith(b"\r\n"):
        line += s.recv(256)
    assert line.startswith(b"OK "), line
    hello = message(1, 1, [field(1, "o", b"/org/freedesktop/DBus"), field(2, "s", b"org.freedesktop.DBus"),
                           field(3, "s", b"Hello"), field(6, "s", b"org.freedesktop.DBus")])
    s.sendall(b"BEGIN\r\n" + hello)
    return s

addr, n = sys.argv[1], int(sys.argv[2])
sock = connect(addr.split(";")[0])
common = [field(1, "o", b"/flood"), field(2, "s", b"org.ipcbox.Flood")]
tick = [message(4, 2 + i, common + [field(3, "s", b"Tick")], b"u", struct.pack("<I", i)) for i in range(n)]
end = message(4, 2 + n, common + [field(3, "s", b"End")])
for i in range(0, n, 1000):
    sock.sendall(b"".join(tick[i:i + 1000]))
sock.sendall(end)
sock.shutdown(socket.SHUT_WR)
while sock.recv(65536):
    pass
PY

# wait_grep FILE RE: until FILE has a line matching RE (120 s at most).
wait_grep() {
	local i
	for ((i = 0; i < 12000; i++)); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.01
	done
	return 1
}

# cpu_of PID: user+system seconds the process has used.
cpu_of() {
	awk -v hz="$(getconf CLK_TCK)" '{sub(/.*\) /, ""); printf "%.3f", ($12 + $13) / hz}' "/proc/$1/stat"
}

# run_one bus-monitor|bus-listen|dbus-monitor: prints "SEEN CPU".
run_one() {
	local out=$dir/out cpu flood
	rm -f "$out" "$dir/ready"
	case $1 in
	bus-monitor | bus-listen)
		"$IPCBOX" "$1" --address "$addr" --ready-file "$dir/ready" "$rule" >"$out" 2>"$dir/err" &
		mon_pid=$!
		wait_grep "$dir/ready" . || return 1
		;;
	dbus-monitor)
		dbus-monitor --address "$addr" "$rule" >"$out" &
		mon_pid=$!
		wait_grep "$out" 'member=NameLost' || return 1
		;;
	esac
	python3 "$dir/flood.py" "$addr" "$N" &
	flood=$!
	wait_grep "$out" 'End' || echo "  ($1 never printed End)" >&2
	cpu=$(cpu_of "$mon_pid")
	wait "$flood"
	kill "$mon_pid"
	wait "$mon_pid" 2>/dev/null
	mon_pid=
	echo "$(grep -c 'Tick' "$out") $cpu"
}

names=(bus-monitor bus-listen)
have dbus-monitor && names+=(dbus-monitor)
declare -A seen cpus
for ((r = 0; r < ROUNDS; r++)); do
	for c in "${names[@]}"; do
		read -r n u < <(run_one "$c")
		cpus[$c]+=" $u"
		seen[$c]+=" $n"
	done
done
bench_header "monitor a flood of $N signals from a raw-socket emitter ($ROUNDS rounds; seen per round)" "cpu s"
for c in "${names[@]}"; do
	# shellcheck disable=SC2086
	bench_row "$c (seen:${seen[$c]}; lost median $((N - $(median ${seen[$c]}))))" "$(median ${cpus[$c]})"
done
if [ -n "${cpus[dbus-monitor]:-}" ]; then
	for c in bus-monitor bus-listen; do
		# shellcheck disable=SC2086
		bench_row "$c / dbus-monitor (CPU per message)" "$(median ${cpus[$c]})" "$(median ${cpus[dbus-monitor]})" "<= 0.5x, 0 lost"
	done
fi
