#!/usr/bin/env bats
# sem-run under SIGKILL: a command never runs without the count sem-run
# took for it.  Four workers run a critical section under sem-run in loops
# while the test kills their sem-run processes with SIGKILL at random; the
# section is made of shell builtins only, so the command is one process.
# It writes its pid into a file on entry and, as it works, checks that the
# file still holds its pid: a process that finds another's there ran beside
# another holder (a process killed cannot report, so only one that went on
# running does).

bats_require_minimum_version 1.5.0
load helpers
load ipc_helpers

# The critical section (sh, builtins only): claim, then work, looking at
# the claim every 1000 rounds.
SECTION='echo $$ >"$1/holder"
i=0
while [ $i -lt 20000 ]; do
	i=$((i + 1))
	if [ $((i % 1000)) = 0 ]; then
		read -r h <"$1/holder" || h=
		[ "$h" = $$ ] || echo "$$ found ${h:-nobody} holding beside it" >>"$1/violations"
	fi
done
echo x >>"$1/done"'

# chaos NAME: 4 workers x 15 sections under sem-run NAME, SIGKILLs at
# random meanwhile; then the checks.
chaos() {
	local name=$1 w workers=() kills=0 victims v deadline
	: >"$T/holder"
	for w in 1 2 3 4; do
		bg bash -c 'for n in $(seq 15); do "$0" sem-run "$1" -- sh -c "$2" sh "$3"; done; true' \
			"$IPCBOX" "$name" "$SECTION" "$T" 2>>"$T/workers.err"
		workers+=("$BG_PID")
	done
	deadline=$((SECONDS + TMO))
	# Kill a random worker's sem-run (the worker loop's child) until the
	# workers are done; the workers' own processes are found by pid.
	while ((SECONDS < deadline)); do
		victims=()
		for w in "${workers[@]}"; do
			for v in $(cat "/proc/$w/task/$w/children" 2>/dev/null || true); do
				victims+=($(cat "/proc/$v/task/$v/children" 2>/dev/null || true))
			done
		done
		if [ ${#victims[@]} -eq 0 ]; then
			running "${workers[0]}" || running "${workers[1]}" || running "${workers[2]}" ||
				running "${workers[3]}" || break
			sleep 0.005
			continue
		fi
		v=${victims[RANDOM % ${#victims[@]}]}
		kill -KILL "$v" 2>/dev/null && kills=$((kills + 1))
		sleep 0.02
	done
	for w in "${workers[@]}"; do
		wait_status "$w"
	done
	echo "kills $kills, sections finished $(wc -l <"$T/done" 2>/dev/null || echo 0)" >&3
	[ "$kills" -ge 5 ]
	[ ! -s "$T/violations" ] || { head -n 5 "$T/violations" >&2; false; }
	wait_for eval '[ "$(sem_val "'"$name"'")" = 1 ]'
}

@test "sem-run under SIGKILL: no System V holder's command runs on beside the next holder" {
	local k
	k=$(skey s)
	TEST_SEM+=("sysv:$k")
	ipc sem-create "sysv:$k" -v 1
	chaos "sysv:$k"
}

@test "sem-run under SIGKILL: no Qt key holder's command runs on beside the next holder" {
	local k=holder$$
	TEST_SEM+=("qt:$k")
	ipc sem-create "qt:$k" -v 1
	track_qt "$k"
	chaos "qt:$k"
}
