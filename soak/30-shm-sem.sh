#!/bin/bash
# shm + sem: a 16 KiB System V segment and the System V semaphore of the
# same key (value 1, the lock), for SOAK_SECONDS: WL writers under
# shm-write --lock and WS under sem-run KEY -- shm-write --no-lock, one write
# in four SIGKILLed after 0-5 ms, and R readers under shm-read --lock, one
# read in ten SIGKILLed (soak/shm_driver.py).  Each record carries its
# writer, its sequence number and its SHA-256.  Checks: no reader ever saw
# a record whose checksum fails, except one whose write was the one killed
# (a SIGKILL mid-copy leaves it incomplete: the lock orders writers, it
# cannot make a copy atomic); no write or read failed otherwise; the
# semaphore is back to 1 with nobody waiting; nothing of ours is left.
# Peak RSS: the largest of one more shm-write, shm-read and sem-run.
#
#   WL=2 WS=2 R=2 SIZE=16384
source "$(dirname "$0")/lib.sh"
soak_work shm-sem
WL=${WL:-2}
WS=${WS:-2}
R=${R:-2}
SIZE=${SIZE:-16384}
export IPCBOX
NAME=sysv:$(sysv_key 1)

"$IPCBOX" shm-create "$NAME" -s "$SIZE" || { soak_fail "shm-create $NAME"; soak_row - - - - - - - ; exit 1; }
"$IPCBOX" sem-create "$NAME" -v 1 || soak_fail "sem-create $NAME"

D=()
i=0
for role in $(printf 'writer-lock %.0s' $(seq "$WL")) $(printf 'writer-semrun %.0s' $(seq "$WS")) $(printf 'reader %.0s' $(seq "$R")); do
	timeout -k 5 "$TMO" "$PY" "$SOAK_DIR/shm_driver.py" "$role" "$i" "$NAME" "$SIZE" "$SOAK_SECONDS" "$W/out.$role.$i" &
	D+=($!)
	PIDS+=("$!")
	i=$((i + 1))
done
for p in "${D[@]}"; do
	wait "$p" || soak_fail "a driver exited $?"
done
cat "$W"/out.* >"$W/all"
ops=$(awk '$1 == "ops" {n += $2} END {print n + 0}' "$W/all")
faults=$(awk '$1 == "ops" {n += $4} END {print n + 0}' "$W/all")
torn=$(awk 'NR == FNR && $1 == "killed" {k[$2 " " $3] = 1} NR > FNR && $1 == "incomplete" {if (!(($2 " " $3) in k)) n++} END {print n + 0}' "$W/all" "$W/all")
incomplete=$(grep -c '^incomplete' "$W/all")
errors=$(grep -c '^error' "$W/all")
grep '^error' "$W/all" | head -n 5 >&2
if ((torn > 0)); then
	soak_fail "$torn reads saw a torn record (not a killed write's)"
	awk 'NR == FNR && $1 == "killed" {k[$2 " " $3] = 1} NR > FNR && $1 == "incomplete" {if (!(($2 " " $3) in k)) print "torn: " $0}' "$W/all" "$W/all" | head -n 5 >&2
fi
((errors == 0)) || soak_fail "$errors writes or reads failed"
soak_note "$ops operations, $faults SIGKILLed, $((incomplete - torn)) snapshots of what a killed write left"
# Peak RSS: each of the three commands once more, under /usr/bin/time (the
# drivers' RUSAGE_CHILDREN would count python's image between fork and exec).
head -c "$SIZE" /dev/zero >"$W/zero"
peak=0
for c in "shm-write --lock $NAME $W/zero" "shm-read --lock $NAME" "sem-run $NAME -- $IPCBOX shm-write --no-lock $NAME $W/zero"; do
	/usr/bin/time -f %M -o "$W/rss" $IPCBOX $c >/dev/null || soak_fail "ipcbox $c failed"
	m=$(tail -n 1 "$W/rss")
	((m > peak)) && peak=$m
done
v=$("$IPCBOX" sem-value -j "$NAME")
soak_note "semaphore at the end: $v"
case $v in *'"value":1,'* | *'"value":1}'*) ;; *) soak_fail "the semaphore is not back to 1: $v" ;; esac
case $v in *'"waiters":0,'*) ;; *) soak_fail "someone still waits on the semaphore: $v" ;; esac
"$IPCBOX" shm-rm "$NAME" || soak_fail "shm-rm $NAME"
"$IPCBOX" sem-rm "$NAME" || soak_fail "sem-rm $NAME"
sv=$(sysv_left)
((sv == 0)) || soak_fail "$sv System V objects of ours left"
session_left
((LEFT == 0)) || soak_fail "$LEFT processes left: ${LEFT_PIDS[*]}"
soak_row "$ops" "$((WL + WS))w/${R}r" "$faults" "$torn" 0 "-/0/$sv/-/$LEFT" "$peak"
[ ${#FAILS[@]} -eq 0 ]
