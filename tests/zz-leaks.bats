#!/usr/bin/env bats
# Runs last (file order): nothing the shm/sem/qt/python tests made is left.
# Every POSIX name they use starts with ipcbox-test-, and every System V key
# they use was recorded in the run's key list (tests/ipc_helpers.bash).

bats_require_minimum_version 1.5.0
load helpers
load ipc_helpers

@test "leaks: no POSIX segment or semaphore named ipcbox-test-* is left in /dev/shm" {
	local left
	left=$(find /dev/shm -maxdepth 1 \( -name 'ipcbox-test-*' -o -name 'sem.ipcbox-test-*' \) -printf '%f\n')
	[ -z "$left" ] || { printf 'left in /dev/shm:\n%s\n' "$left" >&2; return 1; }
}

@test "leaks: no System V segment or semaphore with a key the suite used is left" {
	local k left=
	[ -f "$IPC_KEYS" ] || return 0 # this file alone: no other suite ran
	while read -r k; do
		sysv_exists m "$k" && left+="shm $k "
		sysv_exists s "$k" && left+="sem $k "
	done < <(sort -u "$IPC_KEYS")
	[ -z "$left" ] || { echo "left: $left" >&2; return 1; }
}
