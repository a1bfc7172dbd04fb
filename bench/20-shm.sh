#!/bin/bash
# shm: bulk copies into and out of a segment against dd on /dev/shm, and the
# start-up of sem-value and shm-info against /bin/true.
#
#   SIZE=1G ROUNDS=5 bench/20-shm.sh
#
# shm-write copies a tmpfs file into an existing segment (read(2) straight
# into the mapping); dd copies the same file to a /dev/shm file, 1 MiB a
# block.  shm-read writes the segment to /dev/null; dd reads its file.
source "$(dirname "$0")/lib.sh"

SIZE=${SIZE:-1G}
STARTS=${STARTS:-300}
SRC=$BENCH_TMP/ipcbox-bench-src.$$
SEG=ipcbox-bench-seg.$$
DDF=$BENCH_TMP/ipcbox-bench-dd.$$
SEM=ipcbox-bench-sem.$$
KEYFILE=$BENCH_TMP/ipcbox-bench-key.$$

cleanup() {
	"$IPCBOX" shm-rm "systemv:$KEYFILE" 2>/dev/null
	rm -f "$SRC" "$DDF" "$KEYFILE"
	"$IPCBOX" shm-rm "$SEG" 2>/dev/null
	"$IPCBOX" sem-rm "$SEM" 2>/dev/null
}
trap cleanup EXIT

bytes=$(numfmt --from=iec "$SIZE") || exit 1
mib=$((bytes / 1048576))
dd if=/dev/zero of="$SRC" bs=1M count="$mib" status=none || exit 1
"$IPCBOX" shm-create "$SEG" --size "$bytes" || exit 1
"$IPCBOX" sem-create "$SEM" --value 1 || exit 1
: >"$KEYFILE"
"$IPCBOX" shm-create "systemv:$KEYFILE" --size 4096 || exit 1

have dd || exit 0
w_ipc=() w_dd=() r_ipc=() r_dd=() p_ipc=() p_dd=()
for ((i = 0; i < ROUNDS; i++)); do
	w_ipc+=("$(elapsed sh -c '"$0" shm-write "$1" <"$2"' "$IPCBOX" "$SEG" "$SRC")")
	w_dd+=("$(elapsed dd if="$SRC" of="$DDF" bs=1M)")
	r_ipc+=("$(elapsed sh -c '"$0" shm-read "$1" >/dev/null' "$IPCBOX" "$SEG")")
	r_dd+=("$(elapsed dd if="$DDF" of=/dev/null bs=1M)")
	p_ipc+=("$(elapsed sh -c '"$0" shm-read "$1" | dd of=/dev/null bs=1M' "$IPCBOX" "$SEG")")
	p_dd+=("$(elapsed sh -c 'dd if="$0" bs=1M | dd of=/dev/null bs=1M' "$DDF")")
done
bench_header "shm: copy $SIZE from a tmpfs file into shared memory"
base=$(median "${w_dd[@]}")
bench_row "dd bs=1M of=/dev/shm/..." "$base"
bench_row "ipcbox shm-write (goal: ratio <= 1.11)" "$(median "${w_ipc[@]}")" "$base" "time <= 1/0.9 of dd"
bench_header "shm: copy $SIZE of shared memory to /dev/null"
base=$(median "${r_dd[@]}")
bench_row "dd if=/dev/shm/... bs=1M of=/dev/null" "$base"
bench_row "ipcbox shm-read (goal: ratio <= 1.11)" "$(median "${r_ipc[@]}")" "$base" "time <= 1/0.9 of dd"
echo "  (writing to /dev/null touches no page: the next rows make the bytes move, through a pipe)"
base=$(median "${p_dd[@]}")
bench_row "dd if=/dev/shm/... bs=1M | dd of=/dev/null" "$base"
bench_row "ipcbox shm-read | dd of=/dev/null" "$(median "${p_ipc[@]}")" "$base" "time <= 1/0.9 of dd"

# Start-up: hyperfine -N when installed (no shell in the way), else a loop.
startup() {
	local out=$1
	shift
	if command -v hyperfine >/dev/null; then
		hyperfine -N -w 20 -r "$STARTS" --export-json "$out" "$@" >/dev/null 2>&1
		python3 -c 'import json,sys; [print(r["median"]) for r in json.load(open(sys.argv[1]))["results"]]' "$out"
	else
		local c t0 t1
		for c in "$@"; do
			t0=$(now)
			for ((j = 0; j < STARTS; j++)); do $c >/dev/null; done
			t1=$(now)
			awk -v a="$t0" -v b="$t1" -v n="$STARTS" 'BEGIN {printf "%.6f\n", (b - a) / n}'
		done
	fi
}
t_true=() t_val=() t_info=() t_sysv=()
json=$(mktemp)
for ((i = 0; i < ROUNDS; i++)); do
	mapfile -t m < <(startup "$json" /bin/true "$IPCBOX sem-value $SEM" "$IPCBOX shm-info $SEG" \
		"$IPCBOX shm-info systemv:$KEYFILE")
	t_true+=("${m[0]}") t_val+=("${m[1]}") t_info+=("${m[2]}") t_sysv+=("${m[3]}")
done
rm -f "$json"
bench_header "start-up, one run ($(command -v hyperfine >/dev/null && echo "hyperfine -N" || echo "loop"), $STARTS runs x $ROUNDS rounds)"
base=$(median "${t_true[@]}")
bench_row "/bin/true" "$base"
bench_row "ipcbox sem-value" "$(median "${t_val[@]}")" "$base" "<= 1.3x"
bench_row "ipcbox shm-info POSIX (scans /proc/*/maps)" "$(median "${t_info[@]}")" "$base" "<= 1.3x"
bench_row "ipcbox shm-info System V, 0 attached (no scan)" "$(median "${t_sysv[@]}")" "$base" "<= 1.3x"
