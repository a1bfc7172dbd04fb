#!/bin/bash
# tcp: bulk throughput, connections per second, start-up and size.
#
#   bulk   a SIZE file on tmpfs: sender -> TCP loopback -> receiver > /dev/null,
#          ipcbox tcp-connect/tcp-listen against OpenBSD nc (-N / -l), socat
#          (default and -b1048576), and cat | cat over a pipe as the baseline
#   conn/s tcp-listen -k -e cat against socat TCP-LISTEN,fork EXEC:cat, with
#          bench/connrate.c (CONNS sequential connect, ping, half-close, read echo)
#   start  ipcbox --version and tcp-connect -z against /bin/true, RUNS times
#   size   the stripped binary
#
#   ROUNDS=5 SIZE=2G CONNS=500 RUNS=300 bash bench/10-tcp.sh
source "$(dirname "$0")/lib.sh"

SIZE=${SIZE:-2G}
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
echo "tcp: $SIZE file on $BENCH_TMP, $ROUNDS rounds, contenders interleaved"
head -c "$SIZE" /dev/zero >"$W/file" || exit 1
BYTES=$(stat -c %s "$W/file")

# wait_port FILE PATTERN: the port a listener reported (port file or log).
wait_port() {
	local i
	for i in $(seq 1 1000); do
		if [ -n "$2" ]; then
			grep -o "$2[0-9]*" "$1" 2>/dev/null | head -n 1 | grep -o '[0-9]*$' && return 0
		elif [ -s "$1" ]; then
			cat "$1" && return 0
		fi
		sleep 0.01
	done
	echo "bench: no port in $1" >&2
	return 1
}

# Each bulk_* starts its receiver, then times sender + receiver to the end.
timed_pair() { # RECEIVER_PID SENDER...
	local rpid=$1 t0 t1
	shift
	t0=$(now)
	"$@" <"$W/file" >/dev/null 2>&1
	wait "$rpid"
	t1=$(now)
	awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.6f\n", b - a}'
}

bulk_ipcbox() {
	rm -f "$W/port"
	"$IPCBOX" tcp-listen --port-file "$W/port" 0 </dev/null >/dev/null &
	local r=$! p
	p=$(wait_port "$W/port") || return 1
	timed_pair "$r" "$IPCBOX" tcp-connect 127.0.0.1 "$p"
}

bulk_nc() {
	: >"$W/nc.err"
	nc.openbsd -v -l 127.0.0.1 0 </dev/null >/dev/null 2>"$W/nc.err" &
	local r=$! p
	p=$(wait_port "$W/nc.err" 'localhost ') || return 1
	timed_pair "$r" nc.openbsd -N 127.0.0.1 "$p"
}

bulk_socat() { # [-bN]
	: >"$W/socat.err"
	socat -d -d $1 -u TCP-LISTEN:0,bind=127.0.0.1,reuseaddr STDOUT </dev/null >/dev/null 2>"$W/socat.err" &
	local r=$! p
	p=$(wait_port "$W/socat.err" '127.0.0.1:') || return 1
	timed_pair "$r" socat $1 -u STDIN TCP:127.0.0.1:"$p"
}

bulk_pipe() {
	local t0 t1
	t0=$(now)
	cat "$W/file" | cat >/dev/null
	t1=$(now)
	awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.6f\n", b - a}'
}

gbps() {
	awk -v b="$BYTES" -v t="$1" 'BEGIN {printf "%.2f GB/s", b / t / 1e9}'
}

declare -A T
names=(ipcbox pipe)
have nc.openbsd && names+=(nc)
have socat && names+=(socat socat-b1M)
for r in $(seq 1 "$ROUNDS"); do
	for n in "${names[@]}"; do
		case $n in
		ipcbox) v=$(bulk_ipcbox) ;;
		nc) v=$(bulk_nc) ;;
		socat) v=$(bulk_socat) ;;
		socat-b1M) v=$(bulk_socat -b1048576) ;;
		pipe) v=$(bulk_pipe) ;;
		esac
		T[$n]+=" $v"
	done
done
declare -A M
for n in "${names[@]}"; do
	# shellcheck disable=SC2086
	M[$n]=$(median ${T[$n]})
done
bench_header "bulk $SIZE, sender start to receiver exit (ratio: time / ipcbox time)"
bench_row "ipcbox tcp-connect -> tcp-listen ($(gbps "${M[ipcbox]}"))" "${M[ipcbox]}" "${M[ipcbox]}"
[ -n "${M[nc]:-}" ] && bench_row "OpenBSD nc -N -> nc -l ($(gbps "${M[nc]}"))" "${M[nc]}" "${M[ipcbox]}" "goal >= 2"
[ -n "${M[socat]:-}" ] && bench_row "socat default ($(gbps "${M[socat]}"))" "${M[socat]}" "${M[ipcbox]}"
[ -n "${M[socat-b1M]:-}" ] && bench_row "socat -b1048576 ($(gbps "${M[socat-b1M]}"))" "${M[socat-b1M]}" "${M[ipcbox]}" "goal >= 1"
bench_row "cat | cat, no TCP ($(gbps "${M[pipe]}"))" "${M[pipe]}" "${M[ipcbox]}"

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

# Start-up: RUNS runs in a loop; per-run time.
loop() {
	local i
	for ((i = 0; i < RUNS; i++)); do "$@" >/dev/null 2>&1; done
}
rm -f "$W/port"
"$IPCBOX" tcp-listen -k --port-file "$W/port" 0 </dev/null >/dev/null &
PIDS+=($!)
P_Z=$(wait_port "$W/port") || exit 1
declare -A S
for r in $(seq 1 "$ROUNDS"); do
	S[true]+=" $(elapsed loop /bin/true)"
	S[version]+=" $(elapsed loop "$IPCBOX" --version)"
	S[z]+=" $(elapsed loop "$IPCBOX" tcp-connect -z 127.0.0.1 "$P_Z")"
done
bench_header "start-up, $RUNS runs (ratio: time / /bin/true time)" "s per run"
# shellcheck disable=SC2086
ST=$(median ${S[true]})
per() { awk -v t="$1" -v n="$RUNS" 'BEGIN {printf "%.6f", t / n}'; }
# shellcheck disable=SC2086
bench_row "ipcbox --version" "$(per "$(median ${S[version]})")" "$(per "$ST")" "goal <= 1.3"
# shellcheck disable=SC2086
bench_row "ipcbox tcp-connect -z (start-up + a connect)" "$(per "$(median ${S[z]})")" "$(per "$ST")"
bench_row "/bin/true" "$(per "$ST")" "$(per "$ST")"

strip -o "$W/ipcbox.stripped" "$IPCBOX"
printf '\n  stripped binary: %d bytes (%d KiB; goal <= 300 KiB)\n' \
	"$(stat -c %s "$W/ipcbox.stripped")" "$(($(stat -c %s "$W/ipcbox.stripped") / 1024))"
