#!/bin/bash
# tcp: bulk throughput matrix, memory, connections per second, start-up, size.
#
#   bulk   a SIZE file of random bytes on tmpfs through TCP loopback, every
#          cell of {connector sends, listener sends} x {stdin: the file,
#          cat file |} x {receiver's stdout: /dev/null, a tmpfs file,
#          | dd bs=128K of=/dev/null}, ipcbox against socat -b1048576 and
#          OpenBSD nc (-N) in the same cell, in a new random order each round; each
#          transfer is checked (exit statuses, bytes taken and delivered)
#   memory peak RSS of both ipcbox ends in every cell; VmRSS of tcp-listen -k
#          with 1 and IDLE idle clients
#   conn/s tcp-listen -k -e cat against socat TCP-LISTEN,fork EXEC:cat, with
#          bench/connrate.c (CONNS sequential connect, ping, half-close, read echo)
#   start  ipcbox --version and tcp-connect -z against /bin/true, RUNS rounds
#   size   the stripped binary
#
#   ROUNDS=5 SIZE=1G DIRS="fwd rev" INS="file pipe" OUTS="null file pipe" \
#       IDLE=500 CONNS=500 RUNS=300 bash bench/10-tcp.sh
source "$(dirname "$0")/lib.sh"
set -o pipefail

SIZE=${SIZE:-1G}
CONNS=${CONNS:-500}
RUNS=${RUNS:-300}
CC=${CC:-cc}
W=$(mktemp -d "$BENCH_TMP/ipcbox-bench-tcp.XXXXXX")
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT

echo
echo "tcp: $SIZE file on $BENCH_TMP, $ROUNDS rounds, contenders interleaved; $(uptime | sed 's/.*load/load/')"
head -c "$SIZE" /dev/urandom >"$W/file" || exit 1
BYTES=$(stat -c %s "$W/file")
out_prepare "$W/out" "$BYTES"

# The ends of a transfer.  The sender's stdin is the file ($IN_KIND file) or
# `cat file |` (pipe); the receiver's stdout is /dev/null (null), a file on
# tmpfs (file: allocated once and written over, see lib.sh), or
# `| dd bs=128K of=/dev/null` (pipe: cat's 128 KiB reads and writes, and it
# counts the bytes).  Each end runs under /usr/bin/time for its
# peak RSS (KiB) in RSSFILE.  With stdin a file, the sender reads it through
# descriptor $IN_FD, whose offset the shell shares: at the end it must be the
# file's size (every byte was taken).
as_sender() { # RSSFILE CMD...
	local rss=$1
	shift
	if [ "$IN_KIND" = file ]; then
		/usr/bin/time -f %M -o "$rss" "$@" <&"$IN_FD" >/dev/null
	else
		cat "$W/file" | /usr/bin/time -f %M -o "$rss" "$@" >/dev/null
	fi
}

as_receiver() { # RSSFILE CMD...
	local rss=$1
	shift
	case $OUT_KIND in
	null) /usr/bin/time -f %M -o "$rss" "$@" </dev/null >/dev/null ;;
	file) /usr/bin/time -f %M -o "$rss" "$@" </dev/null 1<>"$W/out" ;;
	pipe) /usr/bin/time -f %M -o "$rss" "$@" </dev/null | dd bs=128K of=/dev/null 2>"$W/count" ;;
	esac
}

# listener WHO DIR: the listening command of WHO for direction DIR (fwd: the
# connector sends; rev: the listener sends), into L; how it reports its port
# into PORT_FILE and PORT_PAT.
listener() {
	PORT_FILE=$W/l.err PORT_PAT=
	case $1/$2 in
	ipcbox/*) L=("$IPCBOX" tcp-listen --port-file "$W/port" 0) PORT_FILE=$W/port ;;
	socat/fwd) L=(socat -d -d -b1048576 -u TCP-LISTEN:0,bind=127.0.0.1,reuseaddr STDOUT) PORT_PAT='127.0.0.1:' ;;
	socat/rev) L=(socat -d -d -b1048576 -u STDIN TCP-LISTEN:0,bind=127.0.0.1,reuseaddr) PORT_PAT='127.0.0.1:' ;;
	nc/fwd) L=(nc.openbsd -v -l 127.0.0.1 0) PORT_PAT='localhost ' ;;
	nc/rev) L=(nc.openbsd -v -N -l 127.0.0.1 0) PORT_PAT='localhost ' ;;
	floor/fwd) L=("$W/floor" listen "$W/port" recv) PORT_FILE=$W/port ;;
	floor/rev) L=("$W/floor" listen "$W/port" send) PORT_FILE=$W/port ;;
	esac
}

connector() { # WHO DIR PORT -> C
	case $1/$2 in
	ipcbox/*) C=("$IPCBOX" tcp-connect 127.0.0.1 "$3") ;;
	socat/fwd) C=(socat -b1048576 -u STDIN "TCP:127.0.0.1:$3") ;;
	socat/rev) C=(socat -b1048576 -u "TCP:127.0.0.1:$3" STDOUT) ;;
	nc/fwd) C=(nc.openbsd -N 127.0.0.1 "$3") ;;
	nc/rev) C=(nc.openbsd -d 127.0.0.1 "$3") ;;
	floor/fwd) C=("$W/floor" connect "$3" send) ;;
	floor/rev) C=("$W/floor" connect "$3" recv) ;;
	esac
}

# tcp_once WHO DIR CHECK_CONTENT: one transfer of the file; prints
# "SECONDS LISTENER_RSS_KIB CONNECTOR_RSS_KIB".  Every check failing ends the
# bench (exit 1): an exit status, the byte count, the content (when
# CHECK_CONTENT is 1 and the output is a file), the input taken whole.
tcp_once() {
	local who=$1 dir=$2 lpid p t0 t1 st=0 lst=0 got
	if [ "$who" = plain ]; then # ipcbox with every path read/write
		export IPCBOX_COPY=plain
		who=ipcbox
	fi
	local -a L C
	rm -f "$W/port" "$W/l.err" "$W/count" "$W/l.rss" "$W/c.rss"
	[ "$OUT_KIND" = file ] && out_poison "$W/out"
	[ "$IN_KIND" = file ] && exec {IN_FD}<"$W/file"
	listener "$who" "$dir"
	if [ "$dir" = fwd ]; then
		as_receiver "$W/l.rss" "${L[@]}" 2>"$W/l.err" &
	else
		as_sender "$W/l.rss" "${L[@]}" 2>"$W/l.err" &
	fi
	lpid=$!
	p=$(wait_port "$PORT_FILE" "$PORT_PAT") || bench_fail "$who $dir: no port"
	connector "$who" "$dir" "$p"
	t0=$(now)
	if [ "$dir" = fwd ]; then
		as_sender "$W/c.rss" "${C[@]}" 2>>"$W/c.err" || st=$?
	else
		as_receiver "$W/c.rss" "${C[@]}" 2>>"$W/c.err" || st=$?
	fi
	wait "$lpid" || lst=$?
	t1=$(now)
	local cell="$who $dir stdin=$IN_KIND stdout=$OUT_KIND"
	[ "$st" -eq 0 ] || bench_fail "$cell: connector exit $st ($(tail -n 1 "$W/c.err"))"
	[ "$lst" -eq 0 ] || bench_fail "$cell: listener exit $lst ($(tail -n 1 "$W/l.err"))"
	if [ "$IN_KIND" = file ]; then
		got=$(awk '/^pos:/ {print $2}' "/proc/$BASHPID/fdinfo/$IN_FD")
		exec {IN_FD}<&-
		[ "$got" = "$BYTES" ] || bench_fail "$cell: the sender took $got of $BYTES bytes"
	fi
	case $OUT_KIND in
	file)
		got=$BYTES
		out_tail_ok "$W/out" "$BYTES" "$W/file" || got="not all (the last 4 KiB differ)"
		;;
	pipe) got=$(awk '/bytes/ {print $1}' "$W/count") ;;
	null) got=$BYTES ;; # nothing to count: see the note under the table
	esac
	[ "$got" = "$BYTES" ] || bench_fail "$cell: $got of $BYTES bytes arrived"
	if [ "$OUT_KIND" = file ] && [ "$3" = 1 ]; then
		cmp -s "$W/file" "$W/out" || bench_fail "$cell: the output differs from the input"
	fi
	awk -v a="$t0" -v b="$t1" -v l="$(cat "$W/l.rss")" -v c="$(cat "$W/c.rss")" \
		'BEGIN {printf "%.6f %d %d\n", b - a, l, c}'
}

# The matrix: both directions x stdin {file, pipe} x stdout {null, file, pipe}.
WHO=(ipcbox plain)
have socat && WHO+=(socat)
have nc.openbsd && WHO+=(nc)
# The floor: bench/floor.c, the same transfer with the least work (no poll
# loop, no checks), the bound a losing cell is measured against.
"$CC" -O2 -o "$W/floor" "$(dirname "$0")/floor.c" && WHO+=(floor)
CELLS=()
for dir in ${DIRS:-fwd rev}; do
	for in in ${INS:-file pipe}; do
		for out in ${OUTS:-null file pipe}; do CELLS+=("$dir $in $out"); done
	done
done
declare -A T RSS_L RSS_C
: >"$W/c.err"
for ((r = 0; r < ROUNDS; r++)); do
	for cell in "${CELLS[@]}"; do
		read -r dir IN_KIND OUT_KIND <<<"$cell"
		for who in $(bench_order "${WHO[@]}"); do
			read -r t lr cr < <(tcp_once "$who" "$dir" $((r == 0))) || exit 1
			[ -n "$t" ] || exit 1
			T[$who $cell]+=" $t"
			if [ "$who" = ipcbox ]; then
				((lr > ${RSS_L[$cell]:-0})) && RSS_L[$cell]=$lr
				((cr > ${RSS_C[$cell]:-0})) && RSS_C[$cell]=$cr
			fi
		done
	done
done

printf '\ntcp bulk %s, median of %d rounds; x = contender time / ipcbox time (goal: socat -b1M >= 1.0, nc >= 2.0)\n' "$SIZE" "$ROUNDS"
printf '  %-18s %-5s %-5s %15s %16s %16s %16s %16s  %-7s %s\n' "direction" stdin stdout "ipcbox s (GB/s)" "socat -b1M" "OpenBSD nc" "IPCBOX_COPY=plain" "floor" verdict "peak RSS listen/connect"
lost=0 lost_floor=0
for cell in "${CELLS[@]}"; do
	read -r dir in out <<<"$cell"
	# shellcheck disable=SC2086
	mi=$(median ${T[ipcbox $cell]})
	verdict=ok
	cols=()
	need=
	for who in socat nc plain floor; do
		if [ -z "${T[$who $cell]:-}" ]; then
			cols+=("-")
			continue
		fi
		# shellcheck disable=SC2086
		m=$(median ${T[$who $cell]})
		x=$(ratio "$m" "$mi")
		case $who in socat) goal=1.0 ;; nc) goal=2.0 ;; *) goal=0 ;; esac
		if awk -v x="$x" -v g="$goal" 'BEGIN {exit !(x < g)}'; then
			verdict="LOSES"
			x="$x"x!
			# the time the goal asks for: the smallest over the lost goals
			need=$(awk -v m="$m" -v g="$goal" -v n="$need" 'BEGIN {t = m / g; if (n != "" && n < t) t = n; printf "%.3f", t}')
		fi
		if [ "$who" = floor ] && [ -n "$need" ] && awk -v f="$m" -v n="$need" 'BEGIN {exit !(f > n)}'; then
			verdict="LOSES(floor)"
			lost_floor=$((lost_floor + 1))
		fi
		[[ $x == *! ]] || x="$x"x
		cols+=("$(printf '%.3f %8s' "$m" "$x")")
	done
	[ "$verdict" = ok ] || lost=$((lost + 1))
	printf '  %-18s %-5s %-5s %8.3f (%4s) %16s %16s %16s %16s  %-7s %.1f/%.1f MiB\n' \
		"$([ "$dir" = fwd ] && echo "connect -> listen" || echo "listen -> connect")" "$in" "$out" \
		"$mi" "$(gbps "$BYTES" "$mi" | cut -d' ' -f1)" "${cols[0]}" "${cols[1]}" "${cols[2]}" "${cols[3]}" "$verdict" \
		"$(awk -v k="${RSS_L[$cell]}" 'BEGIN {print k / 1024}')" \
		"$(awk -v k="${RSS_C[$cell]}" 'BEGIN {print k / 1024}')"
done
echo "  raw seconds per contender and cell:"
for cell in "${CELLS[@]}"; do
	for who in "${WHO[@]}"; do printf '    %-8s %-14s %s\n' "$who" "$cell" "${T[$who $cell]}"; done
done
echo "  $lost of ${#CELLS[@]} cells lose ('!' marks a ratio under its goal); the IPCBOX_COPY=plain column"
echo "  is ipcbox with every path read/write: above 1 where the chosen fast paths pay.  floor is"
echo "  bench/floor.c, the transfer with the least work (read/write 1 MiB in; out, splice, but"
echo "  read/write into a file; no poll loop); LOSES(floor): the goal asks for less time than even the floor took, in $lost_floor of the"
echo "  $lost losing cells.  Every cell checked:"
echo "  exit statuses, the sender took its whole input (file offset / cat's status),"
echo "  bytes counted at the receiver (a file's size and its last 4 KiB poisoned before, dd's count;"
echo "  content compared in round 1); the tmpfs file is allocated once and written over;"
echo "  /dev/null shows no bytes: its cells rely on the receiver reading to EOF."
echo "  peak RSS: ipcbox's ends under /usr/bin/time -f %M (goal <= 8 MiB)."

# Memory of tcp-listen -k with idle clients: VmRSS with 1 client and with
# IDLE clients (goal: no growth per client beyond the kernel's buffers,
# which are not in RSS).
IDLE=${IDLE:-500}
rm -f "$W/port"
"$IPCBOX" tcp-listen -k --port-file "$W/port" 0 </dev/null >/dev/null &
KPID=$!
PIDS+=("$KPID")
P_K=$(wait_port "$W/port") || exit 1
mkfifo "$W/hold1" "$W/holdn"
idle_clients() { # N FIFO: connect N clients and hold them until FIFO closes
	python3 -c 'import socket, sys
s = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(int(sys.argv[2]))]
print(len(s), flush=True)
sys.stdin.read()' "$P_K" "$1" <"$2" >/dev/null &
	PIDS+=($!)
}
fds() { ls "/proc/$KPID/fd" | wc -l; }
rss() { awk '/^VmRSS/ {print $2}' "/proc/$KPID/status"; }
base_fds=$(fds)
idle_clients 1 "$W/hold1"
exec {H1}>"$W/hold1"
until [ "$(fds)" -ge $((base_fds + 1)) ]; do sleep 0.01; done
rss1=$(rss)
idle_clients $((IDLE - 1)) "$W/holdn"
exec {HN}>"$W/holdn"
until [ "$(fds)" -ge $((base_fds + IDLE)) ]; do sleep 0.01; done
rssn=$(rss)
exec {H1}>&- {HN}>&-
printf '\ntcp-listen -k, idle clients (VmRSS)\n'
printf '  1 client: %d KiB; %d clients: %d KiB; growth %.0f bytes per client (goal: none beyond the kernel buffers)\n' \
	"$rss1" "$IDLE" "$rssn" "$(awk -v a="$rss1" -v b="$rssn" -v n="$IDLE" 'BEGIN {print (b - a) * 1024 / (n - 1)}')"

# Connections per second.
"$CC" -O2 -o "$W/connrate" "$(dirname "$0")/connrate.c" || exit 1
rm -f "$W/port"
"$IPCBOX" tcp-listen -k -e cat --port-file "$W/port" 0 </dev/null >/dev/null &
PIDS+=($!)
P_IPC=$(wait_port "$W/port") || exit 1
conn_names=(ipcbox)
if have socat; then
	socat -d -d TCP-LISTEN:0,bind=127.0.0.1,fork,reuseaddr EXEC:cat </dev/null 2>"$W/socat-fork.err" &
	PIDS+=($!)
	P_SOCAT=$(wait_port "$W/socat-fork.err" '127.0.0.1:') || exit 1
	conn_names+=(socat)
fi
declare -A C
for r in $(seq 1 "$ROUNDS"); do
	C[ipcbox]+=" $("$W/connrate" "$P_IPC" "$CONNS")"
	[ -n "${P_SOCAT:-}" ] && C[socat]+=" $("$W/connrate" "$P_SOCAT" "$CONNS")"
done
bench_header "connections/s, $CONNS sequential, echo via a command (ratio: rate / socat rate)" "median/s"
# shellcheck disable=SC2086
CI=$(median ${C[ipcbox]})
if [ -n "${C[socat]:-}" ]; then
	# shellcheck disable=SC2086
	CS=$(median ${C[socat]})
	bench_row "ipcbox tcp-listen -k -e cat" "$CI" "$CS" "goal >= 1.5"
	bench_row "socat TCP-LISTEN,fork,reuseaddr EXEC:cat" "$CS" "$CS"
else
	bench_row "ipcbox tcp-listen -k -e cat" "$CI"
fi

# Start-up: bench/startup.c runs the commands interleaved (fork and exec,
# no shell in the way), RUNS rounds, and prints each one's median.
"$CC" -O2 -o "$W/startup" "$(dirname "$0")/startup.c" || exit 1
rm -f "$W/port"
"$IPCBOX" tcp-listen -k --port-file "$W/port" 0 </dev/null >/dev/null &
PIDS+=($!)
P_Z=$(wait_port "$W/port") || exit 1
mapfile -t S < <("$W/startup" "$RUNS" /bin/true -- "$IPCBOX" --version \
	-- "$IPCBOX" tcp-connect -z 127.0.0.1 "$P_Z")
[ "${#S[@]}" = 3 ] || bench_fail "start-up: no times"
bench_header "start-up, one run (bench/startup.c: $RUNS rounds, interleaved; ratio: time / /bin/true time)" "median s"
bench_row "ipcbox --version" "${S[1]}" "${S[0]}" "goal <= 1.3"
bench_row "ipcbox tcp-connect -z (start-up + a connect)" "${S[2]}" "${S[0]}"
bench_row "/bin/true" "${S[0]}" "${S[0]}"

strip -o "$W/ipcbox.stripped" "$IPCBOX"
printf '\n  stripped binary: %d bytes (%d KiB; goal <= 300 KiB)\n' \
	"$(stat -c %s "$W/ipcbox.stripped")" "$(($(stat -c %s "$W/ipcbox.stripped") / 1024))"
