#!/bin/bash
# MQTT: a private mosquitto on 127.0.0.1 (no persistence), rounds for
# SOAK_SECONDS.  Each round: NLQ listeners (channel-listen --broker), then a
# sender streaming numbered lines at QoS 1 (channel-send -l -v -t 2s); after
# 0.5-2 s the broker is SIGKILLed (and started again for the next round), or
# SIGSTOPped past the sender's -t and continued.  Checks, each round: the
# sender exits 1 with one line "U of N messages not acknowledged" and
# prints "N messages, acknowledged by the broker: A" with A + U = N (and
# U > 0 after a timeout: it waited for an acknowledgement); each
# listener got 1..K in order, each once, with K >= A (every acknowledged
# message delivered) and K <= N (what was not acknowledged may have been
# delivered all the same: QoS 1 cannot say); nothing is left running.
# ipcbox-channel(1) does not say QoS 1 may duplicate, so no duplicate is
# allowed; there would be none to count without a resend anyway.
#
#   NLQ=2 RATE=2000
source "$(dirname "$0")/lib.sh"
soak_work mqtt
NLQ=${NLQ:-2}
RATE=${RATE:-2000}
MOSQUITTO=$(command -v mosquitto 2>/dev/null || echo /usr/sbin/mosquitto)
[ -x "$MOSQUITTO" ] || { soak_row - - - - - - - "skipped: no mosquitto"; exit 0; }

free_port() {
	"$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# broker: start mosquitto on PORT (a new port if it cannot have this one);
# MB its pid, MB_T its timeout wrapper.
PORT=$(free_port)
broker() {
	local try deadline
	for _ in 1 2 3 4 5; do
		{
			echo "listener $PORT 127.0.0.1"
			echo "persistence false"
			echo "log_dest file $W/mosquitto.log"
			[ "$(id -u)" != 0 ] || echo "user root"
			echo "allow_anonymous true"
		} >"$W/mosquitto.conf"
		bgrun MB "$MOSQUITTO" -c "$W/mosquitto.conf" 2>>"$W/mosquitto.err"
		deadline=$((SECONDS + 30))
		while kill -0 "$MB" 2>/dev/null && ((SECONDS < deadline)); do
			"$IPCBOX" tcp-connect -z -w 1s 127.0.0.1 "$PORT" 2>/dev/null && return 0
			sleep 0.05
		done
		kill "$MB" 2>/dev/null
		wait "$MB_T" 2>/dev/null
		PORT=$(free_port)
	done
	soak_fail "mosquitto did not start"
	return 1
}

rounds=0 faults=0 ops=0 lost=0 dup=0 peak=0 nack=0 extra=0
end=$((SECONDS + SOAK_SECONDS))
while ((SECONDS < end)); do
	r=$rounds
	rounds=$((rounds + 1))
	broker || break
	B=mqtt://127.0.0.1:$PORT
	LP=() LPT=()
	for ((j = 0; j < NLQ; j++)); do
		bgrun p "$IPCBOX" channel-listen --broker "$B" -F '%d' --ready-file "$W/ready.$r.$j" 'soak/*' >"$W/l.$r.$j" 2>"$W/l.$r.$j.err"
		LP+=("$p") LPT+=("$p_T")
		wait_file "$W/ready.$r.$j" "$p"
	done
	mkfifo "$W/fifo.$r"
	timeout -k 5 "$TMO" "$PY" "$SOAK_DIR/gen.py" "S$r" 60 "$RATE" "$W/count.$r" >"$W/fifo.$r" &
	G=$!
	PIDS+=("$G")
	bgrun S "$IPCBOX" channel-send -l -v -t 2s --broker "$B" soak/stream 'line(QString)' <"$W/fifo.$r" >"$W/s.$r.out" 2>"$W/s.$r.err"
	sleep "$((RANDOM % 2)).$((5 + RANDOM % 5))"
	for p in "${LP[@]}" "$S"; do
		h=$(hwm "$p")
		[ -n "$h" ] && ((h > peak)) && peak=$h
	done
	kind=$((r % 2))
	if [ $kind -eq 0 ]; then
		kill -KILL "$MB"
	else
		kill -STOP "$MB"
	fi
	faults=$((faults + 1))
	wait "$S_T"
	st=$?
	wait "$G"
	[ $kind -eq 1 ] && kill -CONT "$MB"
	[ $st -eq 1 ] || soak_fail "round $r: the sender exited $st, not 1"
	nerr=$(wc -l <"$W/s.$r.err")
	[ "$nerr" -eq 1 ] || soak_fail "round $r: the sender said $nerr lines, not 1: $(head -c 300 "$W/s.$r.err")"
	read -r n _ _ _ _ _ a <"$W/s.$r.out"
	u=$(sed -n 's/.*: \([0-9]*\) of \([0-9]*\) messages not acknowledged.*/\1 \2/p' "$W/s.$r.err")
	set -- $u
	if [ $# -ne 2 ] || [ -z "${n:-}" ] || [ -z "${a:-}" ] || [ "$2" != "$n" ] || [ $((a + $1)) -ne "$n" ]; then
		soak_fail "round $r: counts do not add up: '$(cat "$W/s.$r.out")' / '$(cat "$W/s.$r.err")'"
		a=0 n=0
	else
		nack=$((nack + $1))
		# A timeout is a wait for an acknowledgement: one at least is missing.
		[ $kind -eq 0 ] || [ "$1" -gt 0 ] || soak_fail "round $r: the sender timed out with every message acknowledged: $(cat "$W/s.$r.err")"
	fi
	ops=$((ops + n))
	if [ $kind -eq 1 ]; then
		# The broker goes on: every acknowledged message reaches each
		# listener (polled), then they end by SIGTERM, then the broker.
		for ((j = 0; j < NLQ; j++)); do
			deadline=$((SECONDS + 30))
			while (($(wc -l <"$W/l.$r.$j") < a)) && ((SECONDS < deadline)); do sleep 0.05; done
			kill -TERM "${LP[$j]}"
		done
	fi
	for ((j = 0; j < NLQ; j++)); do
		wait "${LPT[$j]}"
		st=$?
		if [ $kind -eq 0 ] && [ $st -ne 1 ]; then
			soak_fail "round $r: listener $j exited $st when the broker died, not 1: $(head -c 300 "$W/l.$r.$j.err")"
		elif [ $kind -eq 1 ] && [ $st -ne 0 ]; then
			soak_fail "round $r: listener $j exited $st on SIGTERM, not 0: $(head -c 300 "$W/l.$r.$j.err")"
		fi
		# a command substitution, which waits for awk, not a process
		# substitution, which may still be exiting when session_left looks
		read -r got l d o <<<"$(awk -v id="S$r" '$1 != id {o++; next} $2 == k + 1 {k++; next} $2 <= k {d++; next} {l += $2 - k - 1; k = $2} END {print k + 0, l + 0, d + 0, o + 0}' "$W/l.$r.$j")"
		ops=$((ops + got))
		dup=$((dup + d))
		((l == 0 && o == 0)) || soak_fail "round $r: listener $j: $l missing in its run, $o foreign lines"
		((d == 0)) || soak_fail "round $r: listener $j: $d duplicates"
		if ((got < a)); then
			lost=$((lost + a - got))
			soak_fail "round $r ($([ $kind -eq 0 ] && echo KILL || echo STOP)): listener $j got $got of $a acknowledged messages"
		fi
		((got <= n)) || soak_fail "round $r: listener $j got $got, more than the $n sent"
		((got > a)) && extra=$((extra + got - a))
	done
	# A listener ending on SIGTERM still talks to the broker (its presence
	# and DISCONNECT): the broker goes only once they have ended.
	[ $kind -eq 1 ] && kill -TERM "$MB"
	wait "$MB_T" 2>/dev/null
done
soak_note "$rounds rounds, $nack messages not acknowledged (of which $extra deliveries arrived all the same)"
session_left
((LEFT == 0)) || soak_fail "$LEFT processes left: ${LEFT_PIDS[*]}"
soak_row "$ops" "1x$NLQ" "$faults" "$lost" "$dup" "-/0/0/-/$LEFT" "$peak"
[ ${#FAILS[@]} -eq 0 ]
