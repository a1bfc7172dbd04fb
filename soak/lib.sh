# shellcheck shell=bash
# Shared by the soak/*.sh scenarios (sourced).  Each scenario runs one IPC
# family under concurrent load while it kills processes, checks what came
# out, and prints one table row (soak_row).  soak/run starts each scenario
# in a session of its own (setsid), so a process the scenario left behind,
# even one reparented to init, is still found by its session id.
#
#   SOAK_SECONDS      seconds of load and fault injection per scenario
#                     (default 30: six scenarios make a run of about 5 min)
#   TMO               bound for each process a scenario starts, in seconds
#   soak_work NAME    a private $W (temp dir, removed on exit), TAG (names
#                     every IPC object after the run's pid), the channel
#                     directory $W/ch; cleanup stops the pids in PIDS
#   bgrun VAR CMD...  start CMD under timeout in the background; VAR is
#                     the pid of CMD itself (timeout's child), VAR_T of
#                     the timeout wrapper (wait on it for the status)
#   wait_file FILE [PID]  poll until FILE is non-empty, at most $TMO s,
#                     and while PID lives
#   children PID      how many children PID has now
#   fd_count PID      how many descriptors PID holds now
#   rss PID / hwm PID VmRSS / VmHWM of PID in KiB
#   session_left      processes of this session other than this shell
#   shm_left / sysv_left   /dev/shm entries, System V objects named by TAG
#   soak_row ...      the table line; soak_fail WHY: record a failed check

SOAK_SECONDS=${SOAK_SECONDS:-30}
TMO=${TMO:-$((SOAK_SECONDS * 4 + 120))}
IPCBOX=${IPCBOX:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/ipcbox}
PY=/usr/bin/python3
SOAK_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FAILS=()

soak_work() {
	SCEN=$1
	W=$(mktemp -d "${TMPDIR:-/tmp}/ipcbox-soak-$1.XXXXXX") || exit 1
	# The run's pid (soak/run's) names every IPC object; a scenario run on
	# its own uses its own.
	TAG=soak${SOAK_RUN:-$$}
	# System V keys: 0x5e0 then the low 20 bits of the run's pid, then a
	# nibble per object (sysv_key N).
	KEYBASE=$((0x5e000000 | ((${SOAK_RUN:-$$} & 0xfffff) << 4)))
	export IPCBOX_CHANNEL_DIR=$W/ch
	PIDS=()
	T0=$(date +%s.%N)
	trap soak_cleanup EXIT
}

sysv_key() {
	printf '0x%08x' $((KEYBASE | $1))
}

soak_cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "${SOAK_KEEP:-}" ] && echo "soak: kept $W" >&2 || rm -rf "$W"
}

bgrun() {
	local var=$1 t i kids
	shift
	timeout -k 5 "$TMO" "$@" <&0 &
	t=$!
	PIDS+=("$t")
	for ((i = 0; i < 2000; i++)); do
		kids=$(cat "/proc/$t/task/$t/children" 2>/dev/null) || break
		[ -z "$kids" ] || break
		sleep 0.005
	done
	printf -v "$var" '%s' "${kids%% *}"
	printf -v "${var}_T" '%s' "$t"
	[ -n "$kids" ] && PIDS+=("${kids%% *}")
}

wait_file() {
	local deadline=$((SECONDS + TMO))
	while [ ! -s "$1" ]; do
		((SECONDS < deadline)) || { soak_fail "no $1 within ${TMO}s"; return 1; }
		[ -z "${2:-}" ] || kill -0 "$2" 2>/dev/null || { soak_fail "pid $2 ended before writing $1"; return 1; }
		sleep 0.01
	done
}

children() {
	local k
	k=$(cat "/proc/$1/task/$1/children" 2>/dev/null) || { echo 0; return; }
	set -- $k
	echo $#
}

fd_count() {
	local f n=0
	for f in /proc/"$1"/fd/*; do [ -e "$f" ] || [ -L "$f" ] && n=$((n + 1)); done
	echo $n
}

rss() {
	awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null
}

hwm() {
	awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null
}

# Processes in this shell's session but this shell, read with builtins only
# (no command of ours is counted).  The pids go to LEFT_PIDS.
session_left() {
	local f line rest sid n=0
	LEFT_PIDS=()
	for f in /proc/[0-9]*/stat; do
		read -r line 2>/dev/null <"$f" || continue
		rest=${line##*) }
		set -- $rest
		sid=$4
		[ "$sid" = "$SID" ] || continue
		f=${f#/proc/}
		f=${f%/stat}
		[ "$f" = "$$" ] || [ "$f" = "$BASHPID" ] && continue
		n=$((n + 1))
		rest=${line#*(}
		LEFT_PIDS+=("$f (${rest%%)*}, state $1, parent $2)")
	done
	LEFT=$n
}
SID=$(awk '{sub(/.*\) /, ""); print $4}' /proc/$$/stat)

shm_left() {
	local f n=0
	for f in /dev/shm/*"$TAG"*; do [ -e "$f" ] && n=$((n + 1)); done
	echo $n
}

# System V objects whose key is one of ours (KEYBASE to KEYBASE+15).
sysv_left() {
	awk -v lo="$KEYBASE" -v hi=$((KEYBASE + 15)) 'FNR > 1 && $1 + 0 >= lo && $1 + 0 <= hi {n++} END {print n + 0}' \
		/proc/sysvipc/shm /proc/sysvipc/sem /proc/sysvipc/msg
}

soak_fail() {
	FAILS+=("$*")
	echo "soak $SCEN: CHECK FAILED: $*" >&2
}

# soak_note TEXT: a line for the log (stderr), not the table.
soak_note() {
	echo "soak $SCEN: $*" >&2
}

elapsed() {
	awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}'
}

# soak_row OPS CONC FAULTS LOST DUP LEAKS RSS_KIB [VERDICT]
# LEAKS is "fd/shm/sysv/chan/proc"; a verdict given (a skip) wins over the
# checks, else "ok" or "FAIL: " and the first failed check.
soak_row() {
	local verdict=${8:-}
	if [ -z "$verdict" ]; then
		if [ ${#FAILS[@]} -eq 0 ]; then
			verdict=ok
		else
			verdict="FAIL (${#FAILS[@]}): ${FAILS[0]}"
		fi
	fi
	printf 'ROW\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$SCEN" "$1" "$2" "$3" "$4" "$5" "$6" "$7" "$(elapsed)" "$verdict"
}
