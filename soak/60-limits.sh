#!/bin/bash
# Resource limits, three rows:
#   limits-fd    under ulimit -n 32: channel-send to 40 listeners (each -c 1)
#                exits 1, its -v count and its lines name exactly the ones
#                it could not reach, and those got nothing; a second send
#                with no limit reaches them.  tcp-listen -k -e cat with 40
#                clients held open at once: every echo right (the ones over
#                the limit wait in the backlog), its descriptors back.
#   limits-shm   (root) a private mount namespace (unshare -m) with a 1 MiB
#                tmpfs over /dev/shm: shm-create beyond it, sem-create and
#                shm-create into it once full: each one line and exit 1,
#                nothing left in it; once room is made, sem-create works.
#   limits-disk  output on a full disk: /dev/full, and as root a 64 KiB
#                tmpfs of a private mount namespace: shm-read, channel-listen
#                and tcp-connect each exit 1 with one line; the channel
#                directory holds nothing afterwards.
# Not under SOAK_SECONDS: each is a fixed set of checks, repeated ROUNDS times.
#
#   ROUNDS=3
source "$(dirname "$0")/lib.sh"

# one_line FILE WHAT: FILE holds exactly one line.
one_line() {
	local n
	n=$(wc -l <"$1")
	[ "$n" -eq 1 ] || soak_fail "$2: $n lines on stderr, not 1: $(head -c 300 "$1")"
}

# full_disk OUT: the checks against one full output, OUT.
full_disk() {
	local out=$1 lp lt st
	"$IPCBOX" shm-read "$NAME" >"$out" 2>"$W/e.read"
	st=$?
	[ $st -eq 1 ] || soak_fail "shm-read to $out exited $st, not 1"
	one_line "$W/e.read" "shm-read to $out"
	rm -f "$W/ready.disk"
	bgrun lp "$IPCBOX" channel-listen -c 100 --ready-file "$W/ready.disk" soak/disk >"$out" 2>"$W/e.listen"
	lt=$lp_T
	wait_file "$W/ready.disk" "$lp"
	head -c 64K /dev/zero | tr '\0' x | fold -w 1000 >"$W/lines"
	"$IPCBOX" channel-send -l soak/disk 'line(QString)' <"$W/lines" 2>/dev/null
	wait "$lt"
	st=$?
	[ $st -eq 1 ] || soak_fail "channel-listen to $out exited $st, not 1"
	one_line "$W/e.listen" "channel-listen to $out"
	rm -f "$W/port"
	bgrun lp "$IPCBOX" tcp-listen --port-file "$W/port" 0 <"$W/zero" >/dev/null 2>/dev/null
	lt=$lp_T
	wait_file "$W/port" "$lp"
	timeout "$TMO" "$IPCBOX" tcp-connect 127.0.0.1 "$(cat "$W/port")" </dev/null >"$out" 2>"$W/e.connect"
	st=$?
	[ $st -eq 1 ] || soak_fail "tcp-connect to $out exited $st, not 1"
	one_line "$W/e.connect" "tcp-connect to $out"
	wait "$lt"
	faults=$((faults + 3))
	ops=$((ops + 3))
}
# Inside the private mount namespace (soak/60-limits.sh inner-shm|inner-disk W).
if [ "${1:-}" = inner-shm ]; then
	W=$2
	mount -t tmpfs -o size=1M,mode=1777 soak /dev/shm || exit 9
	"$IPCBOX" shm-create big -s 2M 2>"$W/e.big"
	echo "big $?" >>"$W/res"
	"$IPCBOX" shm-create a -s 1M 2>"$W/e.a"
	echo "a $?" >>"$W/res"
	"$IPCBOX" sem-create s1 -v 1 2>"$W/e.s1"
	echo "s1 $?" >>"$W/res"
	"$IPCBOX" shm-create b -s 4K 2>"$W/e.b"
	echo "b $?" >>"$W/res"
	echo "left $(ls /dev/shm | tr '\n' ' ')" >>"$W/res"
	"$IPCBOX" shm-rm a
	"$IPCBOX" sem-create s1 -v 1 2>"$W/e.s1b"
	echo "s1b $?" >>"$W/res"
	"$IPCBOX" sem-rm s1
	echo "end $(ls /dev/shm | tr '\n' ' ')" >>"$W/res"
	exit 0
elif [ "${1:-}" = inner-disk ]; then
	W=$2 SCEN=limits-disk PIDS=() ops=0 faults=0
	mount -t tmpfs -o size=64K soak "$W/full" || exit 9
	head -c 60K /dev/zero >"$W/full/fill"
	full_disk "$W/full/out"
	echo "ROWINNER $ops $faults ${FAILS[0]:--}"
	exit 0
fi

soak_work limits
ROUNDS=${ROUNDS:-3}
mkdir -m 700 "$W/ch"

# --- limits-fd
SCEN=limits-fd
ops=0 faults=0 lost=0 fdleak=0
for ((r = 0; r < ROUNDS; r++)); do
	LT=()
	for ((j = 0; j < 40; j++)); do
		bgrun p "$IPCBOX" channel-listen -c 1 --ready-file "$W/ready.$r.$j" soak/fd >"$W/o.$r.$j"
		LT+=("$p_T")
		wait_file "$W/ready.$r.$j" "$p"
	done
	(
		ulimit -n 32
		exec timeout "$TMO" "$IPCBOX" channel-send -v soak/fd 'm()' "first $r"
	) >"$W/send.out" 2>"$W/send.err"
	st=$?
	[ $st -eq 1 ] || soak_fail "channel-send under ulimit -n 32 to 40 listeners exited $st, not 1"
	n=$(sed -n 's/^delivered to \([0-9]*\) of 40 listeners$/\1/p' "$W/send.out")
	nerr=$(wc -l <"$W/send.err")
	[ -n "$n" ] || { soak_fail "no count from channel-send -v: $(cat "$W/send.out")"; n=0; }
	((nerr == 40 - n)) || soak_fail "$((40 - n)) listeners missed, $nerr lines on stderr"
	faults=$((faults + 40 - n))
	# The others still wait and get the next message; each listener (-c 1)
	# ends with the first it gets.
	"$IPCBOX" channel-send soak/fd 'm()' "second $r" >/dev/null || soak_fail "the send with no limit failed"
	for t in "${LT[@]}"; do wait "$t" || soak_fail "a listener exited $?"; done
	got=$(cat "$W/o.$r".* | grep -c "^first $r$")
	((got == n)) || { soak_fail "channel-send says $n listeners, $got got it"; lost=$((lost + n - got)); }
	second=$(cat "$W/o.$r".* | grep -c "^second $r$")
	((second == 40 - got)) || { soak_fail "$second listeners got the second message, not $((40 - got))"; lost=$((lost + 40 - got - second)); }
	ops=$((ops + 40))
done
chan=$(find "$W/ch" -mindepth 1 | wc -l)
((chan == 0)) || soak_fail "$chan entries left in the channel directory"
bgrun TL bash -c 'ulimit -n 32 && exec "$@"' _ "$IPCBOX" tcp-listen -k -m 100 -e cat --port-file "$W/port" 0 2>"$W/tl.err"
wait_file "$W/port" "$TL" || exit 1
FD0=$(fd_count "$TL")
cat >"$W/held.py" <<'PY'
import os, socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
conns = [socket.create_connection(("127.0.0.1", port), timeout=120) for _ in range(n)]
bad = 0
for i, s in enumerate(conns):
    data = os.urandom(1000 + i)
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    got = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        got += b
    bad += got != data
    s.close()
print(bad)
PY
for ((r = 0; r < ROUNDS; r++)); do
	bad=$(timeout "$TMO" "$PY" "$W/held.py" "$(cat "$W/port")" 40) || soak_fail "the 40 held clients failed"
	((bad == 0)) || { soak_fail "$bad of 40 echoes wrong under ulimit -n 32"; lost=$((lost + bad)); }
	ops=$((ops + 40))
	faults=$((faults + 40 - 32))
done
deadline=$((SECONDS + 30))
while [ "$(children "$TL")" -ne 0 ] && ((SECONDS < deadline)); do sleep 0.01; done
fd1=$(fd_count "$TL")
fdleak=$((fd1 - FD0))
((fdleak == 0)) || soak_fail "tcp-listen holds $FD0 descriptors before, $fd1 after"
peak=$(hwm "$TL")
kill -TERM "$TL"
wait "$TL_T" || soak_fail "tcp-listen exited $? on SIGTERM"
[ -s "$W/tl.err" ] && soak_note "tcp-listen said: $(sort "$W/tl.err" | uniq -c | head -n 3)"
session_left
((LEFT == 0)) || soak_fail "$LEFT processes left: ${LEFT_PIDS[*]}"
soak_row "$ops" 40 "$faults" "$lost" 0 "$fdleak/0/0/$chan/$LEFT" "$peak"

# --- limits-shm
FAILS=() T0=$(date +%s.%N) SCEN=limits-shm
if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null; then
	soak_row - - - - - - - "skipped: needs root"
else
	ops=0 faults=0
	for ((r = 0; r < ROUNDS; r++)); do
		rm -f "$W/res" "$W"/e.*
		timeout "$TMO" unshare -m --propagation private bash "$0" inner-shm "$W"
		st=$?
		[ $st -eq 0 ] || { soak_fail "the private namespace script exited $st"; break; }
		while read -r what val rest; do
			case $what in
			big | s1 | b)
				[ "$val" = 1 ] || soak_fail "$what on a full /dev/shm exited $val, not 1"
				one_line "$W/e.$what" "$what"
				faults=$((faults + 1))
				;;
			a | s1b) [ "$val" = 0 ] || soak_fail "$what exited $val: $(cat "$W/e.$what")" ;;
			left) [ "$val" = a ] && [ -z "$rest" ] || soak_fail "left in the full /dev/shm: $val $rest (only a expected)" ;;
			end) [ -z "$val" ] || soak_fail "left in /dev/shm at the end: $val $rest" ;;
			esac
			ops=$((ops + 1))
		done <"$W/res"
	done
	session_left
	((LEFT == 0)) || soak_fail "$LEFT processes left: ${LEFT_PIDS[*]}"
	soak_row "$ops" 1 "$faults" 0 0 "-/0/-/-/$LEFT" -
fi

# --- limits-disk
FAILS=() T0=$(date +%s.%N) SCEN=limits-disk
export NAME=$TAG-disk
"$IPCBOX" shm-create "$NAME" -s 1M || soak_fail "shm-create $NAME"
head -c 1M /dev/urandom | "$IPCBOX" shm-write "$NAME" || soak_fail "shm-write $NAME"
head -c 1M /dev/zero >"$W/zero"
outs=(/dev/full)
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
	mkdir "$W/full"
	outs+=("$W/full/out")
fi
ops=0 faults=0
for ((r = 0; r < ROUNDS; r++)); do
	for out in "${outs[@]}"; do
		if [ "$out" = /dev/full ]; then
			full_disk /dev/full
		else
			# The small tmpfs exists in a namespace of its own: the
			# checks run there (this script again, inner-disk).
			rm -f "$W/disk.res"
			timeout "$TMO" unshare -m --propagation private bash "$0" inner-disk "$W" >"$W/disk.res" 2>&1
			st=$?
			[ $st -eq 0 ] || soak_fail "the small tmpfs run exited $st: $(tail -n 3 "$W/disk.res")"
			grep '^ROWINNER' "$W/disk.res" >/dev/null || soak_fail "no result from the small tmpfs run"
			while read -r w o f n; do
				[ "$w" = ROWINNER ] || continue
				ops=$((ops + o)) faults=$((faults + f))
				[ "$n" = - ] || soak_fail "small tmpfs: $n"
			done <"$W/disk.res"
		fi
	done
done
"$IPCBOX" shm-rm "$NAME" || soak_fail "shm-rm $NAME"
chan=$(find "$W/ch" -mindepth 1 | wc -l)
((chan == 0)) || soak_fail "$chan entries left in the channel directory"
shm=$(shm_left)
((shm == 0)) || soak_fail "$shm /dev/shm entries of ours left"
session_left
((LEFT == 0)) || soak_fail "$LEFT processes left: ${LEFT_PIDS[*]}"
soak_row "$ops" 1 "$faults" 0 0 "-/$shm/0/$chan/$LEFT" -
