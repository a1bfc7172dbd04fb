#!/bin/bash
# tcp-listen -k -m MAX -e sha256sum: CONC client threads (tcp_clients.py)
# for SOAK_SECONDS, each connection a checked transfer, a reset half-way
# (a client killed mid-transfer) or an idle connect; beside them, every
# 0.2-0.6 s a tcp-connect sending 4 MiB is SIGKILLed after 0-0.2 s.
# Checks: every completed client got the right checksum; the listener never
# has more than MAX children (polled every 10 ms); once the clients are
# done its children all end, and its descriptors and RSS are back to what
# they were after a warm-up of 50 connections (RSS within RSS_SLACK KiB:
# malloc keeps some freed pages); it exits 0 on SIGTERM.
#
#   MAX=8 CONC=32 RSS_SLACK=256
source "$(dirname "$0")/lib.sh"
soak_work tcp
MAX=${MAX:-8}
CONC=${CONC:-32}
RSS_SLACK=${RSS_SLACK:-256}

bgrun L "$IPCBOX" tcp-listen -k -m "$MAX" -e sha256sum --port-file "$W/port" -b 127.0.0.1 0 2>"$W/l.err"
wait_file "$W/port" "$L" || { cat "$W/l.err" >&2; exit 1; }
PORT=$(cat "$W/port")

# Warm-up: 50 sequential checked connections, then the listener's figures.
head -c 1000 /dev/urandom >"$W/small"
want=$(sha256sum <"$W/small" | cut -d' ' -f1)
for ((i = 0; i < 50; i++)); do
	got=$(timeout 60 "$IPCBOX" tcp-connect 127.0.0.1 "$PORT" <"$W/small") || soak_fail "warm-up connection $i failed"
	[ "${got%% *}" = "$want" ] || soak_fail "warm-up connection $i: wrong checksum"
done
settle() { # until the listener has no child, at most TMO s
	local deadline=$((SECONDS + TMO))
	while [ "$(children "$L")" -ne 0 ] && ((SECONDS < deadline)); do sleep 0.01; done
}
settle
FD0=$(fd_count "$L")
RSS0=$(rss "$L")

timeout -k 5 "$TMO" "$PY" "$SOAK_DIR/tcp_clients.py" "$PORT" "$SOAK_SECONDS" "$CONC" >"$W/clients.out" 2>"$W/clients.err" &
C=$!
PIDS+=("$C")
# The listener's children, polled while the clients run.
(
	maxc=0
	while kill -0 "$C" 2>/dev/null; do
		n=$(children "$L")
		((n > maxc)) && maxc=$n
		sleep 0.01
	done
	echo "$maxc" >"$W/maxc"
) &
M=$!
head -c 4M /dev/urandom >"$W/big"
faults=0
while kill -0 "$C" 2>/dev/null; do
	sleep "0.$((2 + RANDOM % 5))"
	bgrun K "$IPCBOX" tcp-connect 127.0.0.1 "$PORT" <"$W/big" >/dev/null 2>&1
	sleep "0.$((RANDOM % 3))"
	kill -KILL "$K" 2>/dev/null && faults=$((faults + 1))
	wait "$K_T" 2>/dev/null
done
wait "$C"
st=$?
wait "$M"
[ $st -eq 0 ] || soak_fail "the clients exited $st"
read -r _ ok bad aborted idle <"$W/clients.out"
[ -s "$W/clients.err" ] && head -n 10 "$W/clients.err" >&2
((bad == 0)) || soak_fail "$bad clients got a wrong or no reply"
maxc=$(cat "$W/maxc")
((maxc <= MAX)) || soak_fail "$maxc children at once, over -m $MAX"
settle
kids=$(children "$L")
((kids == 0)) || soak_fail "$kids children of the listener left"
fd1=$(fd_count "$L")
rss1=$(rss "$L")
peak=$(hwm "$L")
soak_note "listener: $FD0 -> $fd1 descriptors, RSS $RSS0 -> $rss1 KiB, at most $maxc children; clients: $ok ok, $aborted reset, $idle idle, $faults tcp-connect killed"
fdleak=$((fd1 - FD0))
((fdleak == 0)) || soak_fail "the listener holds $FD0 descriptors before, $fd1 after"
((rss1 <= RSS0 + RSS_SLACK)) || soak_fail "the listener's RSS grew from $RSS0 to $rss1 KiB"
kill -TERM "$L"
wait "$L_T"
st=$?
[ $st -eq 0 ] || soak_fail "the listener exited $st on SIGTERM"
session_left
((LEFT == 0)) || soak_fail "$LEFT processes left: ${LEFT_PIDS[*]}"
soak_row "$((ok + bad + aborted + idle + faults))" "$CONC/$MAX" "$((aborted + idle + faults))" "$bad" 0 "$fdleak/0/0/0/$((LEFT + kids))" "$peak"
[ ${#FAILS[@]} -eq 0 ]
