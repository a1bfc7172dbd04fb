#!/bin/bash
# bus: a private dbus-daemon (tests/peers/private-bus.sh).
# Part 1, for SOAK_SECONDS: bus-serve --argv -j J answers Echo(s) -> s with
# a bash script (builtins only: a killed command leaves no orphan) that
# takes 0-50 ms, or 0.5 s for one call in eight.  Batches of CALLERS
# concurrent bus-call processes; one caller in ten is SIGKILLed before its
# reply, and a slow command is SIGKILLed mid-call.  Checks: every caller
# not killed gets its own reply, or the error reply when its command was
# killed; never more than J commands at once (polled every 10 ms);
# bus-serve keeps its descriptors and exits 0 on SIGTERM.
# Part 2, ROUNDS2 rounds: bus-monitor and bus-listen watch a flood of
# signals (bus_flood.py) and the daemon is SIGKILLed: each exits 1 with one
# line, within 10 s; the daemon is started again for the next round.
#
#   J=8 CALLERS=200 ROUNDS2=3
source "$(dirname "$0")/lib.sh"
soak_work bus
J=${J:-8}
CALLERS=${CALLERS:-200}
ROUNDS2=${ROUNDS2:-3}
PEERS=$SOAK_DIR/../tests/peers
command -v dbus-daemon >/dev/null || { soak_row - - - - - - - "skipped: no dbus-daemon"; exit 0; }

# bus: a fresh daemon in $W/bus.N; ADDR, BUSPID.
nbus=0
bus() {
	local d=$W/bus.$nbus
	nbus=$((nbus + 1))
	mkdir "$d"
	"$PEERS/private-bus.sh" "$d" || { soak_fail "dbus-daemon did not start"; return 1; }
	ADDR=$(head -n 1 "$d/address")
	BUSPID=$(cat "$d/pid")
	PIDS+=("$BUSPID")
}
bus || exit 1

mkfifo "$W/never"
cat >"$W/cmd.sh" <<'CMD'
# Echo's command: log "PID ARG", wait (read -t on a FIFO that never gets a
# line: no child process), reply.
echo "$$ $1" >>"$LOG"
case $1 in *s) t=0.5 ;; *) t=0.0$((RANDOM % 5)) ;; esac
read -r -t "$t" _ <>"$NEVER"
echo "r-$1"
CMD
export LOG=$W/cmd.log NEVER=$W/never
bgrun BS "$IPCBOX" bus-serve --address "$ADDR" --argv -j "$J" --ready-file "$W/serve.ready" \
	org.ipcbox.Soak /soak org.ipcbox.Soak Echo s s -- bash "$W/cmd.sh" 2>"$W/serve.err"
wait_file "$W/serve.ready" "$BS" || exit 1
FD0=$(fd_count "$BS")

(
	maxc=0
	while kill -0 "$BS" 2>/dev/null && [ ! -e "$W/stop-poll" ]; do
		n=$(children "$BS")
		((n > maxc)) && maxc=$n
		sleep 0.01
	done
	echo "$maxc" >"$W/maxc"
) &
POLL=$!
PIDS+=("$POLL")

calls=0 faults=0 bad=0 killed_callers=0 killed_cmds=0 batch=0
declare -A KILLEDCMD
end=$((SECONDS + SOAK_SECONDS))
while ((SECONDS < end)); do
	CT=()
	for ((i = 0; i < CALLERS; i++)); do
		a=b${batch}c$i
		((RANDOM % 8 == 0)) && a=${a}s
		timeout -k 5 "$TMO" "$IPCBOX" bus-call -t 120s --address "$ADDR" org.ipcbox.Soak /soak org.ipcbox.Soak Echo s "$a" \
			>"$W/out.$a" 2>"$W/err.$a" </dev/null &
		CT+=("$!:$a")
	done
	# Faults: SIGKILL one caller in ten, and slow commands mid-call.
	for c in "${CT[@]}"; do
		((RANDOM % 10 == 0)) || continue
		t=${c%%:*}
		k=$(cat "/proc/$t/task/$t/children" 2>/dev/null)
		[ -n "$k" ] && kill -KILL $k 2>/dev/null && touch "$W/killed.${c#*:}" && killed_callers=$((killed_callers + 1))
	done
	for ((n = 0; n < 6; n++)); do
		sleep 0.$((1 + RANDOM % 3))
		for k in $(cat "/proc/$BS/task/$BS/children" 2>/dev/null); do
			a=$(awk -v p="$k" '$1 == p {print $2}' "$LOG")
			case $a in *s) kill -KILL "$k" 2>/dev/null && KILLEDCMD[$a]=1 && killed_cmds=$((killed_cmds + 1)) && break ;; esac
		done
	done
	for c in "${CT[@]}"; do
		t=${c%%:*} a=${c#*:}
		wait "$t"
		st=$?
		calls=$((calls + 1))
		[ -e "$W/killed.$a" ] && continue
		if [ $st -eq 0 ]; then
			[ "$(cat "$W/out.$a")" = "s \"r-$a\"" ] || {
				bad=$((bad + 1))
				soak_fail "call $a: reply '$(head -c 100 "$W/out.$a")'"
			}
		elif [ $st -eq 1 ] && [ -n "${KILLEDCMD[$a]:-}" ]; then
			:
		else
			bad=$((bad + 1))
			soak_fail "call $a: exit $st: $(head -c 200 "$W/err.$a")"
		fi
	done
	batch=$((batch + 1))
	rm -f "$W"/out.* "$W"/err.* "$W"/killed.*
done
faults=$((killed_callers + killed_cmds))
touch "$W/stop-poll"
wait "$POLL"
maxc=$(cat "$W/maxc")
((maxc <= J)) || soak_fail "$maxc commands at once, over -j $J"
deadline=$((SECONDS + 30))
while [ "$(children "$BS")" -ne 0 ] && ((SECONDS < deadline)); do sleep 0.01; done
fd1=$(fd_count "$BS")
fdleak=$((fd1 - FD0))
((fdleak == 0)) || soak_fail "bus-serve holds $FD0 descriptors before, $fd1 after"
peak=$(hwm "$BS")
kill -TERM "$BS"
wait "$BS_T"
st=$?
[ $st -eq 0 ] || soak_fail "bus-serve exited $st on SIGTERM"
soak_note "bus-serve: $calls calls in $batch batches, $killed_callers callers and $killed_cmds commands killed, at most $maxc commands at once, descriptors $FD0 -> $fd1"

# Part 2: the bus dies under a flood.
for ((r = 0; r < ROUNDS2; r++)); do
	((r == 0)) || bus || break
	bgrun MO "$IPCBOX" bus-monitor --address "$ADDR" >"$W/mon.out" 2>"$W/mon.err"
	bgrun LI "$IPCBOX" bus-listen --address "$ADDR" "type='signal',interface='org.ipcbox.Soak'" >"$W/lis.out" 2>"$W/lis.err"
	timeout -k 5 "$TMO" "$PY" "$SOAK_DIR/bus_flood.py" "$ADDR" "$W/flood.count" &
	FL=$!
	PIDS+=("$FL")
	# Under way once both have printed a Tick.
	deadline=$((SECONDS + 60))
	until grep -q Tick "$W/mon.out" 2>/dev/null && [ -s "$W/lis.out" ]; do
		((SECONDS < deadline)) || { soak_fail "round $r: no signal seen by the monitor and the listener"; break; }
		sleep 0.05
	done
	sleep "0.$((RANDOM % 10))"
	kill -KILL "$BUSPID"
	faults=$((faults + 1))
	t0=$SECONDS
	for w in MO LI; do
		t=${w}_T
		wait "${!t}"
		st=$?
		f=$([ $w = MO ] && echo mon || echo lis)
		n=$(wc -l <"$W/$f.err")
		[ $st -eq 1 ] || soak_fail "round $r: $f exited $st when the bus died, not 1"
		[ "$n" -eq 1 ] || soak_fail "round $r: $f said $n lines: $(head -c 300 "$W/$f.err")"
		((SECONDS - t0 <= 10)) || soak_fail "round $r: $f took $((SECONDS - t0)) s to end"
		calls=$((calls + $(wc -l <"$W/$f.out")))
	done
	wait "$FL"
	soak_note "round $r: flood $(cat "$W/flood.count") signals; monitor: $(cat "$W/mon.err"); listener: $(cat "$W/lis.err")"
done
kill -KILL "$BUSPID" 2>/dev/null
session_left
((LEFT == 0)) || soak_fail "$LEFT processes left: ${LEFT_PIDS[*]}"
soak_row "$calls" "$CALLERS/$J" "$faults" "$bad" 0 "$fdleak/0/0/-/$LEFT" "$peak"
[ ${#FAILS[@]} -eq 0 ]
