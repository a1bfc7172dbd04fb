#!/usr/bin/env bats
# Runs last (file order): nothing the shm/sem/qt/python tests made is left.
# Every POSIX name they use starts with ipcbox-test-RUN- (RUN: this bats
# run's tag), and every System V key
# they use was recorded in the run's key list (tests/ipc_helpers.bash).

bats_require_minimum_version 1.5.0
load helpers
load ipc_helpers

@test "leaks: no POSIX segment or semaphore named ipcbox-test-RUN-* is left in /dev/shm" {
	local left
	left=$(find /dev/shm -maxdepth 1 \( -name "ipcbox-test-$IPC_RUN-*" -o -name "sem.ipcbox-test-$IPC_RUN-*" \) -printf '%f\n')
	[ -z "$left" ] || { printf 'left in /dev/shm:\n%s\n' "$left" >&2; return 1; }
}

@test "leaks: no POSIX message queue the suite named is left" {
	local n left=
	[ -f "$IPC_MQNAMES" ] || return 0 # this file alone: no other suite ran
	while read -r n; do
		# mq-info opens the queue by name (no mqueue file system needed)
		if "$IPCBOX" mq-info "$n" >/dev/null 2>"$T/err" || ! grep -q 'no such queue' "$T/err"; then
			left+="$n "
		fi
	done < <(sort -u "$IPC_MQNAMES")
	[ -z "$left" ] || { echo "left: $left" >&2; return 1; }
}

@test "leaks: no System V segment, semaphore or queue with a key the suite used is left" {
	local k keys= left
	[ -f "$IPC_KEYS" ] || return 0 # this file alone: no other suite ran
	# one pass over the kernel's tables (sysv_exists is two awk runs a key,
	# and there are hundreds): each key as the kernel prints it (a signed
	# decimal; also unsigned, as sysv_exists allows) paired with its hex
	while read -r k; do
		keys+="$((k))=$k $((k >= 2147483648 ? k - 4294967296 : k))=$k "
	done < <(sort -u "$IPC_KEYS")
	left=$(awk -v keys="$keys" '
		BEGIN { n = split(keys, a, " "); for (i = 1; i <= n; i++) { split(a[i], p, "="); want[p[1]] = p[2] } }
		FNR > 1 && ($1 in want) { printf "%s %s ", (FILENAME ~ /shm$/ ? "shm" : FILENAME ~ /msg$/ ? "msg" : "sem"), want[$1] }' \
		/proc/sysvipc/shm /proc/sysvipc/sem /proc/sysvipc/msg)
	[ -z "$left" ] || { echo "left: $left" >&2; return 1; }
}
