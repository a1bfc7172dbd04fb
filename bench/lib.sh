# Shared by the bench/*.sh scripts (sourced).  Times are wall-clock seconds
# from date +%s.%N; every comparison runs its contenders interleaved, round
# after round, in one run, and reports medians.
#
#   ROUNDS            rounds per comparison (default 5)
#   have CMD          is a peer installed?  A missing peer is named, not faked.
#   now               a timestamp in seconds
#   median V...       the median of the values
#   bench_row NAME MEDIAN [BASE_MEDIAN GOAL]
#                     one table line: name, median, ratio to the base, goal
#   ratio A B         A / B, three decimals
#   gbps BYTES SECS   "2.61 GB/s" (10^9 bytes a second)
#   wait_port FILE [PATTERN]
#                     the port a listener reported: the whole FILE (a port
#                     file), or the digits after PATTERN in it (a log)
#   bench_fail WHAT   say on stderr that a cell's check failed, exit 1
#   bench_order NAME...
#                     the names in a new random order, one a line: each
#                     round's order of the contenders in a cell
#   out_prepare FILE BYTES
#                     FILE allocated at BYTES once; the cells that write to a
#                     tmpfs file overwrite it (1<>FILE, dd conv=notrunc), so
#                     they time the copy, not the allocation of fresh pages
#   out_poison FILE / out_tail_ok FILE BYTES REF
#                     zero FILE's last 4 KiB before a copy; after it, check
#                     FILE is still BYTES long and ends as REF does

ROUNDS=${ROUNDS:-5}
BENCH_TMP=${BENCH_TMP:-/dev/shm}
IPCBOX=${IPCBOX:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/ipcbox}

have() {
	command -v "$1" >/dev/null 2>&1 || { echo "  (peer missing: $1, not measured)"; return 1; }
}

now() {
	date +%s.%N
}

median() {
	printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'
}

# elapsed CMD...: run CMD, print the wall time it took in seconds.
elapsed() {
	local t0 t1
	t0=$(now)
	"$@" >/dev/null 2>&1
	t1=$(now)
	awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.6f\n", b - a}'
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'
}

gbps() {
	awk -v b="$1" -v t="$2" 'BEGIN {printf "%.2f GB/s", b / t / 1e9}'
}

wait_port() {
	local i
	for i in $(seq 1 2000); do
		if [ -n "${2:-}" ]; then
			grep -o "$2[0-9]*" "$1" 2>/dev/null | head -n 1 | grep -o '[0-9]*$' && return 0
		elif [ -s "$1" ]; then
			cat "$1" && return 0
		fi
		sleep 0.01
	done
	echo "bench: no port in $1" >&2
	return 1
}

# A fresh order each round, not a rotation: rotating A B C D E by one place
# a round keeps E always just before A, and a contender can leave state
# behind that slows the next one (after OpenBSD nc, a splice run once took
# 4 s instead of 0.9 s).
bench_order() {
	printf '%s\n' "$@" | shuf
}

bench_fail() {
	echo "bench: CHECK FAILED: $*" >&2
	exit 1
}

# A fresh 1 GiB tmpfs file costs its page allocations, which on the
# project's VM kind swing from 0.3 s to 5 s from one round to the next and
# bury the copy under the noise: the file cells write over one file
# written here once instead.  Written, not fallocate(1)d: the first write
# over fallocated tmpfs pages cost as much as a fresh file (3.8 s once).
out_prepare() {
	rm -f "$1"
	head -c "$2" /dev/zero >"$1" || bench_fail "allocate $1"
}

out_poison() {
	local n
	n=$(stat -c %s "$1") || bench_fail "poison $1"
	dd if=/dev/zero of="$1" bs=4096 count=1 seek=$((n - 4096)) oflag=seek_bytes conv=notrunc status=none ||
		bench_fail "poison $1"
}

out_tail_ok() {
	[ "$(stat -c %s "$1")" = "$2" ] || return 1
	cmp -s <(tail -c 4096 "$1") <(tail -c 4096 "$3")
}

bench_row() {
	local name=$1 med=$2 base=${3:-} goal=${4:-}
	if [ -n "$base" ]; then
		printf '  %-44s %12.6f  %8.3fx  %s\n' "$name" "$med" "$(awk -v a="$med" -v b="$base" 'BEGIN {print a / b}')" "$goal"
	else
		printf '  %-44s %12.6f\n' "$name" "$med"
	fi
}

bench_header() {
	printf '\n%s\n  %-44s %12s  %9s  %s\n' "$1" "contender" "${2:-median s}" "ratio" "goal"
}

# bench_channel_work NAME: a private $WORK with its own channel directory;
# on exit the processes in PIDS are stopped (by pid) and $WORK is removed.
bench_channel_work() {
	WORK=$(mktemp -d "$BENCH_TMP/ipcbox-bench-$1.XXXXXX") || exit 1
	export IPCBOX_CHANNEL_DIR=$WORK/ch
	PIDS=()
	trap bench_channel_cleanup EXIT
}

bench_channel_cleanup() {
	[ ${#PIDS[@]} -eq 0 ] || kill "${PIDS[@]}" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$WORK"
}
