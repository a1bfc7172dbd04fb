#!/bin/bash
# shm: the copy matrix against dd bs=1M, and the start-up of sem-value and
# shm-info against /bin/true.
#
#   SIZE=1G ROUNDS=5 [SEGMENTS='posix sysv sysv-user'] [ONLY_CELLS='...'] bench/20-shm.sh
#
# ONLY_CELLS: some of the cells below, in their order; the read cells
# compare what round 1 left at OFF, so keep write-offset before them
# (ONLY_CELLS='write-file write-offset read-file').
#
# Every cell copies SIZE bytes of random data, for a POSIX segment and a
# System V segment, ipcbox against dd bs=1M doing the same copy on a POSIX
# segment of the same size (for System V too: dd has no way into one), and
# ipcbox with IPCBOX_COPY=plain (every path read/write, System V through
# its mapping: the yardstick for the fast paths), the contenders in a new
# random order each round.  As root, the System V cells run again as nobody without
# capabilities (sysv-user): the path every ordinary user gets.
#   write  shm-write from the tmpfs file, from `cat file |`, and from the
#          file with --offset OFF (dd: oflag=seek_bytes seek=OFF)
#   read   shm-read to /dev/null, to a tmpfs file, and to a pipe
#          (| dd bs=128K of=/dev/null, which reads as cat does and counts);
#          the tmpfs file is allocated once and written over (see lib.sh)
# floor: bench/shmfloor.c, the least work the cell can take (as floor.c
# is for tcp): through the mapping in the rows where ipcbox must go that
# way (sysv-user, as nobody; sysv when not run as root); the kernel's own
# copy (copy_file_range, sendfile) between the file and the segment for
# write-file, write-offset and read-file elsewhere; in every read-pipe
# cell, LENGTH zero bytes into the same pipe and reader (the least any
# writer does).  Not in read-null (sendfile to /dev/null) nor write-pipe
# (splice from the pipe): ipcbox's path there is the floor's.  LOSES(floor):
# dd's time is less than even the floor's.
# paths: in write-file and read-file, where the segment has a descriptor
# (POSIX; System V as root), the other ways such a copy could go, each at
# its least in shmfloor, in a table of their own: a page-aligned buffer of
# 256 KiB, 1 MiB, 2 MiB (read + pwrite, pread + write: dd's two copies),
# and read(2)/write(2) straight between the file and the segment's mapping
# (one copy, no bounce buffer).  The kernel's one copy is the floor column.
# Checks: exit statuses; writes: the last 4 KiB of the range poisoned before
# and compared after every copy, the whole range compared in round 1; reads:
# the byte count (the file's last 4 KiB poisoned and compared, dd's count),
# the content compared in round 1.
source "$(dirname "$0")/lib.sh"
set -o pipefail

SIZE=${SIZE:-1G}
OFF=${OFF:-4097}
STARTS=${STARTS:-500}
SRC=$BENCH_TMP/ipcbox-bench-src.$$
OUT=$BENCH_TMP/ipcbox-bench-out.$$
SEG=ipcbox-bench-seg.$$
KEYFILE=$BENCH_TMP/ipcbox-bench-key.$$
SYSV=systemv:$KEYFILE
SEM=ipcbox-bench-sem.$$
SKEY=$BENCH_TMP/ipcbox-bench-skey.$$
UKEYFILE=$BENCH_TMP/ipcbox-bench-ukey.$$
USYSV=systemv:$UKEYFILE
# As root, the System V rows run twice: as root, where shm-read and shm-write
# reach the segment's pages through /proc/self/map_files, and as nobody with
# no capabilities (sysv-user), where they cannot, as for every ordinary user.
BACKENDS=(posix sysv)
AS_USER=(setpriv --reuid=65534 --regid=65534 --clear-groups)
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	BACKENDS+=(sysv-user)
fi
[ -n "${SEGMENTS:-}" ] && read -ra BACKENDS <<<"$SEGMENTS" # e.g. SEGMENTS=sysv-user

cleanup() {
	"$IPCBOX" shm-rm "$SYSV" "systemv:$SKEY" "$SEG" 2>/dev/null
	[ -e "$UKEYFILE" ] && "$IPCBOX" shm-rm "$USYSV" 2>/dev/null
	"$IPCBOX" sem-rm "$SEM" 2>/dev/null
	rm -f "$SRC" "$OUT" "$KEYFILE" "$SKEY" "$UKEYFILE" "$BENCH_TMP/ipcbox-bench-count.$$"
	rm -rf "$W"
}
W=$(mktemp -d "${TMPDIR:-/tmp}/ipcbox-bench-shm.XXXXXX") || exit 1
chmod 0755 "$W" # nobody runs shmfloor from here
trap cleanup EXIT
for tool in shmfloor startup; do
	"${CC:-cc}" -O2 -o "$W/$tool" "$(dirname "$0")/$tool.c" || exit 1
done

have dd || exit 0
bytes=$(numfmt --from=iec "$SIZE") || exit 1
SEGBYTES=$((bytes + OFF))
echo
echo "shm: $SIZE, $ROUNDS rounds, contenders interleaved; $(uptime | sed 's/.*load/load/'); $(df -h /dev/shm | awk 'NR == 2 {print $4}') free in /dev/shm"
head -c "$bytes" /dev/urandom >"$SRC" || exit 1
out_prepare "$OUT" "$SEGBYTES"
"$IPCBOX" shm-create "$SEG" --size "$SEGBYTES" || exit 1
: >"$KEYFILE"
"$IPCBOX" shm-create "$SYSV" --size "$SEGBYTES" || exit 1
SID=$("$IPCBOX" shm-info "$SYSV" --json | sed 's/.*"id":\([0-9]*\).*/\1/')
if [[ " ${BACKENDS[*]} " == *" sysv-user "* ]]; then
	: >"$UKEYFILE"
	"${AS_USER[@]}" "$IPCBOX" shm-create "$USYSV" --size "$SEGBYTES" || exit 1
	UID_ID=$("$IPCBOX" shm-info "$USYSV" --json | sed 's/.*"id":\([0-9]*\).*/\1/')
fi
COUNT=$BENCH_TMP/ipcbox-bench-count.$$
# Every segment is written once before the rounds, unmeasured: the first
# write into a new segment pays for its pages (4.2 s a GiB into a new
# System V segment, whichever contender came first), as out_prepare's
# file does for the read-file cells.
for name in "$SEG" "$SYSV"; do
	"$IPCBOX" shm-write "$name" --offset "$OFF" <"$SRC" || exit 1
done
if [[ " ${BACKENDS[*]} " == *" sysv-user "* ]]; then
	"${AS_USER[@]}" "$IPCBOX" shm-write "$USYSV" --offset "$OFF" <"$SRC" || exit 1
fi

# poison NAME AT / tail_ok NAME AT: zero the 4 KiB before AT, then check
# they hold the source's last 4 KiB.
poison() {
	head -c 4096 /dev/zero | "$IPCBOX" shm-write "$1" --offset $(($2 - 4096)) ||
		bench_fail "poison $1"
}
tail_ok() {
	"$IPCBOX" shm-read "$1" --offset $(($2 - 4096)) --length 4096 | cmp -s - <(tail -c 4096 "$SRC")
}

# shm_once WHO BACKEND CELL CHECK: one copy; prints its seconds.
shm_once() {
	local who=$1 be=$2 cell=$3 full=$4 name=$SEG t0 t1 st=0 off=0 got
	local -a ipcbox=("$IPCBOX")
	# dd copies into (out of) the POSIX segment, whatever the backend of the cell
	if [ "$who" != dd ]; then
		case $be in
		sysv) name=$SYSV ;;
		sysv-user) name=$USYSV ipcbox=("${AS_USER[@]}" "$IPCBOX") ;;
		esac
	fi
	[ "$cell" = write-offset ] && off=$OFF
	if [ "$who" = plain ]; then
		export IPCBOX_COPY=plain
	fi
	# the floor: through the mapping where ipcbox must go that way (as
	# nobody; System V as an ordinary user), else the kernel's own copy
	local -a floor=("$W/shmfloor")
	local fid=$SID mapped=0 kseg=/dev/shm/$SEG
	[ "$be" = sysv ] && kseg=sysv:$SID
	[ "$be" = sysv ] && [ "$(id -u)" != 0 ] && mapped=1
	[ "$be" = sysv-user ] && mapped=1 fid=$UID_ID floor=("${AS_USER[@]}" "$W/shmfloor")
	local what="$who $be $cell"
	case $cell in
	write-*) poison "$name" $((off + bytes)) ;;
	read-file) out_poison "$OUT" ;;
	esac
	rm -f "$COUNT"
	t0=$(now)
	if [ "$who" = floor ] && [ "$cell" = read-pipe ] && [ "$mapped" = 0 ]; then
		"$W/shmfloor" zero "$SEGBYTES" | dd bs=128K of=/dev/null 2>"$COUNT" || st=$?
	elif [ "$who" = floor ] && [ "$mapped" = 0 ]; then
		case $cell in
		write-file | write-offset) "$W/shmfloor" kwrite "$kseg" "$off" <"$SRC" || st=$? ;;
		read-file) "$W/shmfloor" kread "$kseg" "$SEGBYTES" 1<>"$OUT" || st=$? ;;
		esac
	elif [[ $who == buf* ]]; then
		local size
		size=$(numfmt --from=iec "${who#buf}")
		case $cell in
		write-file) "$W/shmfloor" bwrite "$kseg" 0 "$size" <"$SRC" || st=$? ;;
		read-file) "$W/shmfloor" bread "$kseg" "$SEGBYTES" "$size" 1<>"$OUT" || st=$? ;;
		esac
	elif [ "$who" = map ]; then
		case $cell in
		write-file) "$W/shmfloor" mwrite "$kseg" 0 <"$SRC" || st=$? ;;
		read-file) "$W/shmfloor" mread "$kseg" "$SEGBYTES" 1<>"$OUT" || st=$? ;;
		esac
	elif [ "$who" = floor ]; then
		case $cell in
		write-file) "${floor[@]}" write "$fid" 0 <"$SRC" || st=$? ;;
		write-pipe) cat "$SRC" | "${floor[@]}" write "$fid" 0 || st=$? ;;
		write-offset) "${floor[@]}" write "$fid" "$OFF" <"$SRC" || st=$? ;;
		read-null) "${floor[@]}" read "$fid" 0 "$SEGBYTES" >/dev/null || st=$? ;;
		read-file) "${floor[@]}" read "$fid" 0 "$SEGBYTES" 1<>"$OUT" || st=$? ;;
		read-pipe) "${floor[@]}" read "$fid" 0 "$SEGBYTES" | dd bs=128K of=/dev/null 2>"$COUNT" || st=$? ;;
		esac
	elif [ "$who" = dd ]; then
		case $cell in
		write-file) dd if="$SRC" of="/dev/shm/$SEG" bs=1M conv=notrunc status=none || st=$? ;;
		write-pipe) cat "$SRC" | dd of="/dev/shm/$SEG" bs=1M conv=notrunc status=none || st=$? ;;
		write-offset) dd if="$SRC" of="/dev/shm/$SEG" bs=1M conv=notrunc oflag=seek_bytes seek="$OFF" status=none || st=$? ;;
		read-null) dd if="/dev/shm/$SEG" of=/dev/null bs=1M status=none || st=$? ;;
		read-file) dd if="/dev/shm/$SEG" of="$OUT" bs=1M conv=notrunc status=none || st=$? ;;
		read-pipe) dd if="/dev/shm/$SEG" bs=1M status=none | dd bs=128K of=/dev/null 2>"$COUNT" || st=$? ;;
		esac
	else
		case $cell in
		write-file) "${ipcbox[@]}" shm-write "$name" <"$SRC" || st=$? ;;
		write-pipe) cat "$SRC" | "${ipcbox[@]}" shm-write "$name" || st=$? ;;
		write-offset) "${ipcbox[@]}" shm-write "$name" --offset "$OFF" <"$SRC" || st=$? ;;
		read-null) "${ipcbox[@]}" shm-read "$name" >/dev/null || st=$? ;;
		read-file) "${ipcbox[@]}" shm-read "$name" 1<>"$OUT" || st=$? ;;
		read-pipe) "${ipcbox[@]}" shm-read "$name" | dd bs=128K of=/dev/null 2>"$COUNT" || st=$? ;;
		esac
	fi
	t1=$(now)
	[ "$st" -eq 0 ] || bench_fail "$what: exit $st"
	case $cell in
	write-*)
		tail_ok "$name" $((off + bytes)) || bench_fail "$what: the end of the input did not arrive"
		if [ "$full" = 1 ]; then
			"$IPCBOX" shm-read "$name" --offset "$off" --length "$bytes" | cmp -s - "$SRC" ||
				bench_fail "$what: the segment differs from the input"
		fi
		;;
	read-pipe)
		got=$(awk '/bytes/ {print $1}' "$COUNT")
		[ "$got" = "$SEGBYTES" ] || bench_fail "$what: $got of $SEGBYTES bytes"
		;;
	read-file)
		out_tail_ok "$OUT" "$SEGBYTES" "$SRC" || bench_fail "$what: the end of the segment did not arrive"
		if [ "$full" = 1 ]; then
			cmp -s -i "$OFF:0" -n "$bytes" "$OUT" "$SRC" || bench_fail "$what: the copy differs"
		fi
		;;
	esac
	awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.6f\n", b - a}'
}

CELLS=(write-file write-pipe write-offset read-null read-file read-pipe)
[ -n "${ONLY_CELLS:-}" ] && read -ra CELLS <<<"$ONLY_CELLS" # e.g. ONLY_CELLS='write-file read-file'
# The other ways a file cell could go (issue 21), at their least by
# shmfloor: a page-aligned buffer of 256 KiB, 1 MiB or 2 MiB (dd's two
# copies), and read(2)/write(2) straight between the file and the mapping
# (one copy, no bounce buffer).  Where the segment has a descriptor: POSIX,
# and System V as root.
PATHS=(buf256K buf1M buf2M map)
# has_paths BACKEND CELL
has_paths() {
	[[ $2 == write-file || $2 == read-file ]] &&
		{ [ "$1" = posix ] || { [ "$1" = sysv ] && [ "$(id -u)" = 0 ]; }; }
}
declare -A T
# Round 1 leaves the source at OFF in both segments: the read cells compare
# what they read from OFF on (write-offset runs before the reads).
LOADS=
for ((r = 0; r < ROUNDS; r++)); do
	LOADS+=" $(cut -d' ' -f1 /proc/loadavg)"
	for be in "${BACKENDS[@]}"; do
		for cell in "${CELLS[@]}"; do
			who_list=(ipcbox plain dd)
			# a floor in every cell whose path is not already the least work:
			# not read-null (sendfile to /dev/null) nor write-pipe (splice)
			if [ "$be" = sysv-user ] || { [ "$be" = sysv ] && [ "$(id -u)" != 0 ]; } ||
				[[ $cell != read-null && $cell != write-pipe ]]; then
				who_list+=(floor)
			fi
			has_paths "$be" "$cell" && who_list+=("${PATHS[@]}")
			for who in $(bench_order "${who_list[@]}"); do
				t=$(shm_once "$who" "$be" "$cell" $((r == 0))) || exit 1
				T[$who $be $cell]+=" $t"
			done
		done
	done
done

printf '\nshm %s copies, median of %d rounds; x = dd time / ipcbox time (goal >= 1.0)\n' "$SIZE" "$ROUNDS"
echo "  load (1 min) at each round's start:$LOADS; after the last: $(cut -d' ' -f1 /proc/loadavg)"
printf '  %-9s %-13s %17s %18s %20s %18s  %s\n' segment copy "ipcbox s (GB/s)" "dd bs=1M" \
	"IPCBOX_COPY=plain" "floor" verdict
lost=0 lost_floor=0
# col WHO BE CELL: "median ratio-to-ipcbox", or "-" where WHO did not run
col() {
	if [ -z "${T[$1 $2 $3]:-}" ]; then
		echo -
		return
	fi
	local m
	# shellcheck disable=SC2086
	m=$(median ${T[$1 $2 $3]})
	printf '%.3f %7sx' "$m" "$(ratio "$m" "$mi")"
}
for be in "${BACKENDS[@]}"; do
	for cell in "${CELLS[@]}"; do
		# shellcheck disable=SC2086
		mi=$(median ${T[ipcbox $be $cell]})
		# shellcheck disable=SC2086
		md=$(median ${T[dd $be $cell]})
		x=$(ratio "$md" "$mi")
		verdict=ok
		if awk -v x="$x" 'BEGIN {exit !(x < 1.0)}'; then
			verdict=LOSES
			lost=$((lost + 1))
			if [ -n "${T[floor $be $cell]:-}" ]; then
				# shellcheck disable=SC2086
				mf=$(median ${T[floor $be $cell]})
				if awk -v f="$mf" -v d="$md" 'BEGIN {exit !(f > d)}'; then
					verdict="LOSES(floor)"
					lost_floor=$((lost_floor + 1))
				fi
			fi
		fi
		printf '  %-9s %-13s %8.3f (%5s) %9.3f %7sx %20s %18s  %s\n' "$be" "$cell" "$mi" \
			"$(gbps "$bytes" "$mi" | cut -d' ' -f1)" "$md" "$x" "$(col plain "$be" "$cell")" \
			"$(col floor "$be" "$cell")" "$verdict"
	done
done
echo
echo "the file cells by path (bench/shmfloor.c, each path at its least; x = dd time / path time):"
printf '  %-9s %-10s %16s %16s %16s %16s %16s\n' segment copy "kernel (floor)" "${PATHS[@]}"
for be in "${BACKENDS[@]}"; do
	for cell in "${CELLS[@]}"; do
		has_paths "$be" "$cell" || continue
		# shellcheck disable=SC2086
		md=$(median ${T[dd $be $cell]})
		line=$(printf '  %-9s %-10s' "$be" "$cell")
		for who in floor "${PATHS[@]}"; do
			# shellcheck disable=SC2086
			m=$(median ${T[$who $be $cell]})
			line+=$(printf ' %7.3f %7sx' "$m" "$(ratio "$md" "$m")")
		done
		echo "$line"
	done
done
echo "  raw seconds per contender and cell:"
for be in "${BACKENDS[@]}"; do
	for cell in "${CELLS[@]}"; do
		for who in ipcbox plain dd floor "${PATHS[@]}"; do
			[ -n "${T[$who $be $cell]:-}" ] && printf '    %-7s %-9s %-13s %s\n' "$who" "$be" "$cell" "${T[$who $be $cell]}"
		done
	done
done
echo "  $lost of $((${#BACKENDS[@]} * ${#CELLS[@]})) cells lose; IPCBOX_COPY=plain: x above 1 where the chosen path pays."
echo "  floor: bench/shmfloor.c, the least work the cell can take: through the mapping where ipcbox"
echo "  must go that way (sysv-user; sysv when not root); else the kernel's own copy between the file"
echo "  and the segment (write-file, write-offset, read-file); read-pipe: zero bytes into the same"
echo "  pipe and reader.  LOSES(floor): dd took less time than even the floor, in $lost_floor of the"
echo "  $lost losing cells."
echo "  dd copies into (out of) a POSIX segment of the same size in the System V rows."
if [ "$(id -u)" = 0 ]; then
	echo "  sysv: as root (the segment's pages through /proc/self/map_files); sysv-user: as nobody,"
	echo "  no capabilities (process_vm_readv/writev on the mapping), what an ordinary user gets."
else
	echo "  sysv: as $(id -un), without CAP_SYS_ADMIN (process_vm_readv/writev on the mapping)."
fi

"$IPCBOX" sem-create "$SEM" --value 1 || exit 1
: >"$SKEY"
"$IPCBOX" shm-create "systemv:$SKEY" --size 4096 || exit 1
# Start-up: bench/startup.c runs the commands interleaved (fork and exec,
# no shell in the way), STARTS rounds, and prints each one's median.
mapfile -t m < <("$W/startup" "$STARTS" /bin/true -- "$IPCBOX" sem-value "$SEM" \
	-- "$IPCBOX" shm-info "$SEG" -- "$IPCBOX" shm-info "systemv:$SKEY" -- "$W/shmfloor" scan)
[ "${#m[@]}" = 5 ] || bench_fail "start-up: no times"
bench_header "start-up, one run (bench/startup.c: $STARTS rounds, interleaved; median)"
bench_row "/bin/true" "${m[0]}"
bench_row "ipcbox sem-value" "${m[1]}" "${m[0]}" "<= 1.3x"
bench_row "ipcbox shm-info POSIX (scans /proc/*/maps)" "${m[2]}" "${m[0]}" "<= 1.3x"
bench_row "ipcbox shm-info SysV, 0 attached (no scan)" "${m[3]}" "${m[0]}" "<= 1.3x"
bench_row "floor: the same /proc scan, nothing else" "${m[4]}" "${m[0]}"
procs=(/proc/[0-9]*)
echo "  (${#procs[@]} processes: shm-info POSIX reads the maps of every one, as shmfloor scan does)"
