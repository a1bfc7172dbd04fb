#!/bin/bash
# channels: NS streaming senders (channel-send -l, each line "SENDER SEQ")
# to NL listeners on one channel.  For SOAK_SECONDS, every 0.2-0.8 s one
# fault: a listener or a sender SIGKILLed (at most NS-2 senders and NL-2 of
# the first listeners; a killed listener is replaced by a late one), or
# SIGSTOPped for 0.1-1 s and continued (well inside the senders' -t).
# Checks: every surviving listener got every message of every surviving
# sender exactly once and in order (a late listener: a contiguous run to
# the end), a killed sender's messages a prefix; the senders that were not
# killed exit 0; a killed listener's entries are gone within 5 s while the
# senders stream; one more send leaves no dead entry in the directory; the
# surviving listeners, ended by SIGTERM, leave no entry and hold the
# descriptors they held at the start.
#
#   NS=4 NL=4 RATE=2000 (lines a second per sender)
source "$(dirname "$0")/lib.sh"
soak_work channel
NS=${NS:-4}
NL=${NL:-4}
RATE=${RATE:-2000}
CH=soak/stream
mkdir -m 700 "$W/ch"

declare -A LPID LT LKIND SPID ST GT FD0
NLIS=0
# listener KIND: one more listener, registered when this returns.
listener() {
	local j=$NLIS
	NLIS=$((NLIS + 1))
	bgrun p "$IPCBOX" channel-listen -F '%d' --ready-file "$W/ready.$j" "$CH" >"$W/l.$j"
	LPID[$j]=$p LT[$j]=$p_T LKIND[$j]=$1
	wait_file "$W/ready.$j" "$p"
	FD0[$j]=$(fd_count "$p")
}
for ((j = 0; j < NL; j++)); do listener full; done

for ((i = 0; i < NS; i++)); do
	mkfifo "$W/fifo.$i"
	timeout -k 5 "$TMO" "$PY" "$SOAK_DIR/gen.py" "S$i" "$SOAK_SECONDS" "$RATE" "$W/count.$i" >"$W/fifo.$i" &
	GT[$i]=$!
	PIDS+=("$!")
	bgrun p "$IPCBOX" channel-send -l -t 60s "$CH" 'line(QString)' <"$W/fifo.$i" 2>"$W/s.$i.err"
	SPID[$i]=$p ST[$i]=$p_T
done

faults=0 kills_s=0 kills_l=0 peak=0
declare -A SKILLED PENDING
# A killed listener's entries must go with the streaming senders' next
# message to it (they are sending all along): checked while they run.
removed_live=0
check_pending() {
	local p e
	for p in "${!PENDING[@]}"; do
		e=$(compgen -G "$W/ch/[rs].$p-*")
		if [ -z "$e" ]; then
			unset "PENDING[$p]"
			removed_live=$((removed_live + 1))
		elif ((SECONDS - PENDING[$p] > 5)); then
			soak_fail "listener $p killed $((SECONDS - PENDING[$p])) s ago, its entries still there while senders stream"
			unset "PENDING[$p]"
		fi
	done
}
sample_hwm() {
	local p h
	for p in "${LPID[@]}" "${SPID[@]}"; do
		h=$(hwm "$p")
		[ -n "$h" ] && ((h > peak)) && peak=$h
	done
}
end=$((SECONDS + SOAK_SECONDS))
while ((SECONDS < end)); do
	sleep "0.$((2 + RANDOM % 7))"
	sample_hwm
	check_pending
	r=$((RANDOM % 4))
	case $r in
	0) # SIGKILL a listener: one of the first NL-2, or a late one
		alive=()
		for j in "${!LPID[@]}"; do
			[ "${LKIND[$j]}" = killed ] && continue
			[ "${LKIND[$j]}" = full ] && ((j >= NL - kills_l && j < NL)) && continue
			alive+=("$j")
		done
		[ ${#alive[@]} -gt 0 ] || continue
		j=${alive[RANDOM % ${#alive[@]}]}
		if [ "${LKIND[$j]}" = full ]; then
			((kills_l < NL - 2)) || continue
			kills_l=$((kills_l + 1))
		fi
		kill -KILL "${LPID[$j]}"
		LKIND[$j]=killed
		PENDING[${LPID[$j]}]=$SECONDS
		faults=$((faults + 1))
		listener late
		;;
	1) # SIGSTOP a listener, then SIGCONT
		j=$((RANDOM % NLIS))
		[ "${LKIND[$j]}" = killed ] && continue
		kill -STOP "${LPID[$j]}"
		sleep "0.$((1 + RANDOM % 9))"
		kill -CONT "${LPID[$j]}"
		faults=$((faults + 1))
		;;
	2) # SIGSTOP a sender, then SIGCONT
		i=$((RANDOM % NS))
		[ -n "${SKILLED[$i]:-}" ] && continue
		kill -STOP "${SPID[$i]}" 2>/dev/null || continue
		sleep "0.$((1 + RANDOM % 9))"
		kill -CONT "${SPID[$i]}"
		faults=$((faults + 1))
		;;
	3) # SIGKILL a sender, at most NS-2 of them
		((kills_s < NS - 2)) || continue
		i=$((RANDOM % NS))
		[ -n "${SKILLED[$i]:-}" ] && continue
		kill -KILL "${SPID[$i]}" 2>/dev/null || continue
		SKILLED[$i]=1
		kills_s=$((kills_s + 1))
		faults=$((faults + 1))
		;;
	esac
done

soak_note "$removed_live killed listeners' entries removed by the streams, ${#PENDING[@]} left to the last send"
# The senders end once their generators have (EOF).
counts=
for ((i = 0; i < NS; i++)); do
	wait "${ST[$i]}"
	st=$?
	wait "${GT[$i]}"
	if [ -n "${SKILLED[$i]:-}" ]; then
		counts+="S$i=killed,"
		continue
	fi
	[ "$st" -eq 0 ] || soak_fail "sender S$i exited $st: $(head -n 3 "$W/s.$i.err")"
	counts+="S$i=$(cat "$W/count.$i"),"
done
sample_hwm

# One more send removes what killed listeners left.
# It is a message of its own, "END 1", that every surviving listener gets.
"$IPCBOX" channel-send "$CH" 'line(QString)' 'END 1' || soak_fail "the last one-shot send failed"
counts+="END=1"
dead=0
for r in "$W"/ch/r.*; do
	[ -e "$r" ] || continue
	p=$(head -n 1 "$r")
	kill -0 "$p" 2>/dev/null || dead=$((dead + 1))
done
[ $dead -eq 0 ] || soak_fail "$dead dead entries after the next send"

fdleak=0 specs=()
for ((j = 0; j < NLIS; j++)); do
	if [ "${LKIND[$j]}" != killed ]; then
		# SIGTERM drops what still waits in its socket: first the last
		# message, queued after every other, must be out.
		deadline=$((SECONDS + 60))
		until grep -q '^END 1$' "$W/l.$j" || ((SECONDS > deadline)); do sleep 0.02; done
		n=$(fd_count "${LPID[$j]}")
		((n > FD0[$j])) && fdleak=$((fdleak + n - FD0[$j]))
		kill -TERM "${LPID[$j]}"
		wait "${LT[$j]}"
		st=$?
		[ $st -eq 0 ] || soak_fail "listener $j exited $st after SIGTERM"
	else
		wait "${LT[$j]}" 2>/dev/null
	fi
	specs+=("$W/l.$j:${LKIND[$j]}")
done
chan=$(find "$W/ch" -mindepth 1 | wc -l)
[ "$chan" -eq 0 ] || soak_fail "$chan entries left in the channel directory"
# Into a file, not read from a process substitution: read returns at the
# line, and the checker, still exiting, was once counted as a process left.
"$PY" "$SOAK_DIR/check_seq.py" "$counts" -- "${specs[@]}" >"$W/check.out" 2>"$W/check.err"
read -r delivered lost dup disorder <"$W/check.out"
[ -s "$W/check.err" ] && head -n 20 "$W/check.err" >&2
((lost == 0)) || soak_fail "$lost messages lost"
((dup == 0)) || soak_fail "$dup messages duplicated"
((disorder == 0)) || soak_fail "$disorder messages out of order"
((fdleak == 0)) || soak_fail "listeners hold $fdleak more descriptors"
session_left
((LEFT == 0)) || soak_fail "$LEFT processes left: ${LEFT_PIDS[*]}"
soak_row "$delivered" "${NS}x$NLIS" "$faults" "$lost" "$dup" "$fdleak/0/0/$chan/$LEFT" "$peak"
[ ${#FAILS[@]} -eq 0 ]
