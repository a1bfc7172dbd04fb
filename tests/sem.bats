#!/usr/bin/env bats
# sem-create, sem-post, sem-wait, sem-value, sem-run, sem-list, sem-rm on
# POSIX and System V semaphores.

bats_require_minimum_version 1.5.0
load helpers
load ipc_helpers

@test "sem-create: POSIX semaphore /dev/shm/sem.NAME, mode 0600, initial value" {
	local n
	n=$(pname s)
	TEST_SEM+=("$n")
	run ipc sem-create "$n" --value 3
	assert_status 0
	[ "$(stat -c %a "/dev/shm/sem.$n")" = 600 ]
	run ipc sem-value "$n"
	assert_output 3
}

@test "sem-create: exclusive, --exist-ok, --mode despite the umask" {
	local n k
	n=$(pname s)
	k=$(skey s)
	TEST_SEM+=("$n" "sysv:$k")
	(umask 077 && ipc sem-create "$n" -m 640)
	[ "$(stat -c %a "/dev/shm/sem.$n")" = 640 ]
	run --separate-stderr ipc sem-create "$n"
	assert_status 1
	assert_one_line_error sem-create
	run ipc sem-create "$n" --exist-ok
	assert_status 0
	ipc sem-create "sysv:$k" -m 0640
	run ipc sem-list --json
	assert_match '"name":"sysv:'"$k"'","value":0,"nsems":1,"mode":"0640"'
	run ipc sem-create "sysv:$k"
	assert_status 1
	run ipc sem-create "sysv:$k" --exist-ok
	assert_status 0
}

@test "sem-post and sem-wait: counts move both ways, POSIX and System V" {
	local n k name
	n=$(pname s)
	k=$(skey s)
	TEST_SEM+=("$n" "sysv:$k")
	for name in "$n" "sysv:$k"; do
		ipc sem-create "$name"
		ipc sem-post "$name"
		ipc sem-post "$name" --count 4
		[ "$(sem_val "$name")" = 5 ]
		ipc sem-wait "$name"
		ipc sem-wait "$name" -t 1s
		[ "$(sem_val "$name")" = 3 ]
	done
}

@test "sem-wait: a waiter blocks until sem-post wakes it" {
	local k
	k=$(skey s)
	TEST_SEM+=("sysv:$k")
	ipc sem-create "sysv:$k"
	bg sh -c '"$0" sem-wait "$1" && echo woke >"$2"' "$IPCBOX" "sysv:$k" "$T/woke"
	# the waiter is counted by the kernel before we post
	wait_for sh -c "timeout $TMO $IPCBOX sem-value --json sysv:$k | grep -q '\"waiters\":1'"
	[ ! -e "$T/woke" ]
	ipc sem-post "sysv:$k"
	wait_file "$T/woke"
	[ "$(sem_val "sysv:$k")" = 0 ]
}

@test "sem-wait --timeout: exit 124 on expiry, POSIX and System V" {
	local n k name
	n=$(pname s)
	k=$(skey s)
	TEST_SEM+=("$n" "sysv:$k")
	for name in "$n" "sysv:$k"; do
		ipc sem-create "$name"
		run --separate-stderr ipc sem-wait "$name" --timeout 100ms
		assert_timed_out sem-wait
		[ "$stderr" = "ipcbox sem-wait: $name: timed out waiting" ]
	done
}

@test "sem-wait --try: exit 1 if it would block, 0 and decrement otherwise" {
	local n k name
	n=$(pname s)
	k=$(skey s)
	TEST_SEM+=("$n" "sysv:$k")
	for name in "$n" "sysv:$k"; do
		ipc sem-create "$name" -v 1
		run ipc sem-wait "$name" --try
		assert_status 0
		run --separate-stderr ipc sem-wait "$name" --try
		assert_status 1
		[ "$stderr" = "ipcbox sem-wait: $name: would block (value 0)" ]
	done
}

@test "sem-wait: a timed wait survives SIGSTOP/SIGCONT and still times out" {
	local k
	k=$(skey s)
	TEST_SEM+=("sysv:$k")
	ipc sem-create "sysv:$k"
	bg sh -c 'sh -c "echo \$\$ >$2.pid; exec $0 sem-wait $1 -t 1s"; echo $? >"$2"' "$IPCBOX" "sysv:$k" "$T/rc"
	wait_for sh -c "timeout $TMO $IPCBOX sem-value --json sysv:$k | grep -q '\"waiters\":1'"
	pid=$(cat "$T/rc.pid")
	kill -STOP "$pid"
	kill -CONT "$pid"
	wait_file "$T/rc"
	[ "$(cat "$T/rc")" = 124 ]
}

@test "sem-wait: SIGTERM while waiting exits 143 and takes nothing" {
	local n k name
	n=$(pname s)
	k=$(skey s)
	TEST_SEM+=("$n" "sysv:$k")
	for name in "$n" "sysv:$k"; do
		ipc sem-create "$name"
		rm -f "$T/rc.pid" "$T/rc"
		bg sh -c 'sh -c "echo \$\$ >\"\$1.tmp\"; mv \"\$1.tmp\" \"\$1\"; exec \"\$0\" sem-wait \"\$2\"" "$0" "$1.pid" "$2"; echo $? >"$1"' \
			"$IPCBOX" "$T/rc" "$name"
		wait_file "$T/rc.pid"
		# asleep in the kernel (state S), not still starting
		wait_for sh -c "grep -q '^State:.*S' /proc/$(cat "$T/rc.pid")/status"
		kill -TERM "$(cat "$T/rc.pid")"
		wait_file "$T/rc"
		[ "$(cat "$T/rc")" = 143 ]
		ipc sem-post "$name"
		[ "$(sem_val "$name")" = 1 ]
	done
}

@test "sem-wait: a wait interrupted again and again (EINTR) ends after the time left, not a new full timeout" {
	# SIGSTOP/SIGCONT makes the wait return EINTR; a wait that restarted its
	# whole timeout after each interruption would never end while the
	# interruptions go on, and only the harness would stop it (no message).
	local n k name pid
	n=$(pname s)
	k=$(skey s)
	TEST_SEM+=("$n" "sysv:$k")
	for name in "$n" "sysv:$k"; do
		ipc sem-create "$name"
		rm -f "$T/rc.pid" "$T/rc" "$T/rc.err"
		bg sh -c 'sh -c "echo \$\$ >\"\$1.tmp\"; mv \"\$1.tmp\" \"\$1\"; exec \"\$0\" sem-wait -t 1s \"\$2\"" "$0" "$1.pid" "$2" 2>"$1.err"; echo $? >"$1"' \
			"$IPCBOX" "$T/rc" "$name"
		wait_file "$T/rc.pid"
		pid=$(cat "$T/rc.pid")
		wait_for sh -c "grep -q '^State:.*S' /proc/$pid/status"
		while [ ! -e "$T/rc" ] && kill -STOP "$pid" 2>/dev/null; do
			kill -CONT "$pid" 2>/dev/null || true
			sleep 0.05 # the pace of the interruptions, not a wait for anything
		done
		wait_file "$T/rc"
		[ "$(cat "$T/rc")" = 124 ]
		[ "$(cat "$T/rc.err")" = "ipcbox sem-wait: $name: timed out waiting" ]
		[ "$(sem_val "$name")" = 0 ]
	done
}

@test "sem-post: never SEM_UNDO, the post outlives the poster" {
	local k
	k=$(skey s)
	TEST_SEM+=("sysv:$k")
	ipc sem-create "sysv:$k"
	ipc sem-post "sysv:$k"
	[ "$(sem_val "sysv:$k")" = 1 ]
}

@test "limits: System V 32767, POSIX SEM_VALUE_MAX, reported clearly" {
	local n k
	n=$(pname s)
	k=$(skey s)
	TEST_SEM+=("$n" "sysv:$k")
	run --separate-stderr ipc sem-create "sysv:$k" -v 32768
	assert_status 2
	[ "$stderr" = "ipcbox sem-create: invalid value '32768' (expected 0..32767)" ]
	ipc sem-create "sysv:$k" -v 32767
	run --separate-stderr ipc sem-post "sysv:$k"
	assert_status 1
	[ "$stderr" = "ipcbox sem-post: post sysv:$k: value + 1 would exceed the System V maximum (32767)" ]
	run --separate-stderr ipc sem-create "$n" -v 2147483648
	assert_status 2
	ipc sem-create "$n" -v 2147483647
	run --separate-stderr ipc sem-post "$n"
	assert_status 1
	[[ $stderr == *"would exceed SEM_VALUE_MAX (2147483647)" ]]
}

@test "sem-value --json: POSIX value; System V value, waiters, last pid" {
	local n k
	n=$(pname s)
	k=$(skey s)
	TEST_SEM+=("$n" "sysv:$k")
	ipc sem-create "$n" -v 7
	run ipc sem-value "$n" --json
	assert_output '{"name":"'"$n"'","backend":"posix","value":7}'
	ipc sem-create "sysv:$k" -v 2
	run ipc sem-value -j "sysv:$k"
	assert_match '^\{"name":"sysv:'"$k"'","backend":"sysv","value":2,"id":[0-9]+,"waiters":0,"zero_waiters":0,"last_pid":[0-9]+\}$'
}

@test "sem-run: runs the command holding one count, exits with its status" {
	local n
	n=$(pname s)
	TEST_SEM+=("$n")
	ipc sem-create "$n" -v 1
	run ipc sem-run "$n" -- sh -c "timeout $TMO $IPCBOX sem-value $n; exit 7"
	assert_status 7
	assert_output 0
	[ "$(sem_val "$n")" = 1 ]
	run ipc sem-run "$n" -- sh -c 'kill -USR1 $$'
	assert_status $((128 + 10))
	[ "$(sem_val "$n")" = 1 ]
	run -127 --separate-stderr ipc sem-run "$n" -- "$T/missing/cmd" # $T/missing: never made
	assert_status 127
	assert_one_line_error sem-run
	[ "$(sem_val "$n")" = 1 ]
	# found but not executable: 126, as sh says (even root needs an x bit)
	: >"$T/noexec"
	run -126 --separate-stderr ipc sem-run "$n" -- "$T/noexec"
	assert_status 126
	assert_one_line_error sem-run
	[ "$(sem_val "$n")" = 1 ]
}

@test "sem-run --timeout: exit 124 without running the command" {
	local k
	k=$(skey s)
	TEST_SEM+=("sysv:$k")
	ipc sem-create "sysv:$k"
	run --separate-stderr ipc sem-run "sysv:$k" -t 50ms -- touch "$T/ran"
	assert_timed_out sem-run
	[ ! -e "$T/ran" ]
}

@test "sem-run: System V holder becomes its command; killed by SIGKILL, the count comes back (SEM_UNDO)" {
	local k holder
	k=$(skey s)
	TEST_SEM+=("sysv:$k")
	ipc sem-create "sysv:$k" -v 1
	bg "$IPCBOX" sem-run "sysv:$k" -- sh -c 'echo "$$" >"$1.tmp"; mv "$1.tmp" "$1"; exec sleep 60' sh "$T/held"
	wait_file "$T/held"
	holder=$(cat "$T/held")
	# sem-run became the command: the timeout(1) bg started is its parent.
	[ "$(awk '{ print $4 }' "/proc/$holder/stat")" = "$BG_PID" ]
	[ "$(sem_val "sysv:$k")" = 0 ]
	kill -KILL "$holder"
	wait_for eval '[ "$(sem_val "sysv:$k")" = 1 ]'
	wait_status "$BG_PID"
	assert_status $((128 + 9))
}

@test "sem-run: POSIX holder posts on SIGTERM, forwarding it to the command" {
	local n
	n=$(pname s)
	TEST_SEM+=("$n")
	ipc sem-create "$n" -v 1
	bg sh -c '"$0" sem-run "$1" -- sh -c "echo \$PPID >\"\$0.tmp\"; mv \"\$0.tmp\" \"\$0\"; exec sleep 60" "$2"; echo $? >"$3"' \
		"$IPCBOX" "$n" "$T/held" "$T/rc"
	wait_file "$T/held"
	[ "$(sem_val "$n")" = 0 ]
	kill -TERM "$(cat "$T/held")"
	wait_file "$T/rc"
	[ "$(cat "$T/rc")" = $((128 + 15)) ]
	[ "$(sem_val "$n")" = 1 ]
}

@test "sem-run: SIGTERM while still waiting exits 143, runs nothing, takes nothing" {
	local n
	n=$(pname s)
	TEST_SEM+=("$n")
	ipc sem-create "$n"
	bg sh -c 'echo $$ >"$2.pid"; exec "$0" sem-run "$1" -- touch "$2.ran"' "$IPCBOX" "$n" "$T/w"
	wait_file "$T/w.pid"
	# the waiter is asleep in the kernel (state S) before it is signalled
	wait_for sh -c "grep -q '^State:.*S' /proc/$(cat "$T/w.pid")/status"
	kill -TERM "$(cat "$T/w.pid")"
	wait_status "$BG_PID"
	assert_status 143
	[ ! -e "$T/w.ran" ]
	[ "$(sem_val "$n")" = 0 ]
}

@test "sem-run: SIGTERM while waiting on a System V semaphore exits 143, runs nothing" {
	local k
	k=$(skey s)
	TEST_SEM+=("sysv:$k")
	ipc sem-create "sysv:$k"
	bg sh -c 'sh -c "echo \$\$ >\"\$1.tmp\"; mv \"\$1.tmp\" \"\$1\"; exec \"\$0\" sem-run \"\$2\" -- touch \"\$1.ran\"" "$0" "$1.pid" "$2"; echo $? >"$1"' \
		"$IPCBOX" "$T/rc" "sysv:$k"
	wait_file "$T/rc.pid"
	wait_for sh -c "timeout $TMO $IPCBOX sem-value --json sysv:$k | grep -q '\"waiters\":1'"
	kill -TERM "$(cat "$T/rc.pid")"
	wait_file "$T/rc"
	[ "$(cat "$T/rc")" = 143 ]
	[ ! -e "$T/rc.ran" ]
	[ "$(sem_val "sysv:$k")" = 0 ]
}

@test "sem-run: a command that cannot be executed exits 126, one line, count given back" {
	local n
	n=$(pname s)
	TEST_SEM+=("$n")
	ipc sem-create "$n" -v 1
	printf '#!/bin/sh\necho ran\n' >"$T/noexec"
	chmod 644 "$T/noexec"
	run -126 --separate-stderr ipc sem-run "$n" -- "$T/noexec"
	assert_status 126
	assert_one_line_error sem-run
	[[ $stderr == *"$T/noexec"*"Permission denied"* ]]
	[ -z "$output" ]
	[ "$(sem_val "$n")" = 1 ]
}

@test "sem-run: SIGINT and SIGHUP are forwarded to the command; 128+N, the count given back" {
	local n sig want
	n=$(pname s)
	TEST_SEM+=("$n")
	ipc sem-create "$n" -v 1
	for sig in INT HUP; do
		rm -f "$T/held" "$T/rc"
		# the command records that it got the signal; sem-run exits as it did
		bg sh -c '"$0" sem-run "$1" -- sh -c "trap \"echo got >\\\"\$0.sig\\\"; trap - $3; kill -$3 \\\$\\\$\" $3; echo \$PPID >\"\$0.tmp\"; mv \"\$0.tmp\" \"\$0\"; while :; do sleep 1; done" "$2"; echo $? >"$2.rc"' \
			"$IPCBOX" "$n" "$T/held" "$sig"
		wait_file "$T/held"
		[ "$(sem_val "$n")" = 0 ]
		kill -"$sig" "$(cat "$T/held")"
		wait_file "$T/held.rc"
		want=$((128 + $(kill -l "$sig")))
		[ "$(cat "$T/held.rc")" = "$want" ]
		[ "$(cat "$T/held.sig")" = got ]
		[ "$(sem_val "$n")" = 1 ]
		rm -f "$T/held.rc" "$T/held.sig"
	done
}

# holder.sh LOG: one sem-run holder; counts holders inside with flock, the
# first waits until a second one is inside so the limit is reached.
make_holder() {
	cat >"$T/holder.sh" <<'EOF'
#!/bin/sh
d=$1
flock "$d/lock" sh -c 'c=$(($(cat "$1/cur") + 1)); echo $c >"$1/cur"; echo $c >>"$1/log"; echo x >>"$1/entered"' sh "$d"
while [ "$(wc -l <"$d/entered")" -lt 2 ]; do :; done
flock "$d/lock" sh -c 'echo $(($(cat "$1/cur") - 1)) >"$1/cur"' sh "$d"
EOF
	chmod +x "$T/holder.sh"
	echo 0 >"$T/cur"
	: >"$T/log"
	: >"$T/entered"
}

@test "sem-run: 8 concurrent holders of a count-2 semaphore never exceed 2, and reach 2" {
	local name n k i pids
	n=$(pname s)
	k=$(skey s)
	TEST_SEM+=("$n" "sysv:$k")
	for name in "$n" "sysv:$k"; do
		ipc sem-create "$name" -v 2
		make_holder
		pids=()
		for i in 1 2 3 4 5 6 7 8; do
			timeout -k 5 "$TMO" "$IPCBOX" sem-run "$name" -- "$T/holder.sh" "$T" &
			pids+=($!)
		done
		for i in "${pids[@]}"; do wait "$i"; done
		[ "$(wc -l <"$T/log")" -eq 8 ]
		[ "$(sort -n "$T/log" | tail -n1)" -eq 2 ]
		[ "$(sem_val "$name")" = 2 ]
	done
}

@test "sem-list: POSIX and System V with values, text and JSON" {
	local n k
	n=$(pname s)
	k=$(skey s)
	TEST_SEM+=("$n" "sysv:$k")
	ipc sem-create "$n" -v 4
	ipc sem-create "sysv:$k" -v 9
	run ipc sem-list
	assert_match "posix +/$n +4 +1 0600 $(id -un)"
	assert_match "sysv +sysv:$k +9 +1 0600 $(id -un)"
	run ipc sem-list --json
	python3 -c 'import json,sys; json.load(sys.stdin)' <<<"$output"
	assert_match '\{"backend":"posix","name":"/'"$n"'","value":4,"mode":"0600","uid":'"$(id -u)"'\}'
}

@test "sem-rm: removes POSIX and System V semaphores; a missing one is exit 1" {
	local n k
	n=$(pname s)
	k=$(skey s)
	ipc sem-create "$n"
	ipc sem-create "sysv:$k"
	run ipc sem-rm "$n" "sysv:$k"
	assert_status 0
	[ ! -e "/dev/shm/sem.$n" ]
	run sysv_exists s "$k"
	assert_status 1
	run --separate-stderr ipc sem-rm "$n"
	assert_status 1
	[ "$stderr" = "ipcbox sem-rm: $n: no such semaphore" ]
}

@test "permission denied: exit 1 with the reason (root)" {
	need_root
	local k
	k=$(skey s)
	TEST_SEM+=("sysv:$k")
	ipc sem-create "sysv:$k" -v 1
	other_ipcbox
	run --separate-stderr as_other "$OTHER_IPCBOX" sem-post "sysv:$k"
	assert_status 1
	[ "$stderr" = "ipcbox sem-post: sysv:$k: Permission denied" ]
}

@test "bad inputs: every sem applet exits 2 with one line naming the bad text" {
	local long
	long=$(printf 'x%.0s' {1..252})
	while IFS='|' read -r want args; do
		# shellcheck disable=SC2086
		run --separate-stderr ipc $args
		[ "$status" -eq 2 ] && [ -z "$output" ] && [ "${#stderr_lines[@]}" -eq 1 ] &&
			[[ $stderr == *"$want"* ]] ||
			{ echo "$args: $status [$output] [$stderr], want '$want'" >&2; return 1; }
	done <<EOF
invalid value '-1'|sem-create ipcbox-test-x -v -1
invalid value 'x'|sem-create ipcbox-test-x --value x
invalid mode '8'|sem-create ipcbox-test-x -m 8
invalid name '$long'|sem-create $long
invalid name 'a/b'|sem-post a/b
invalid count '0'|sem-post ipcbox-test-x -c 0
invalid count '32768'|sem-post sysv:0x1 -c 32768
invalid timeout '-1'|sem-wait ipcbox-test-x -t -1
invalid timeout '1x'|sem-run ipcbox-test-x -t 1x -- true
missing operand|sem-run ipcbox-test-x
missing operand|sem-wait
unexpected operand 'y'|sem-value x y
unexpected operand 'y'|sem-list y
cannot create by id|sem-create sysv-id:1
invalid name 'qt:'|sem-rm qt:
EOF
}

@test "a missing semaphore: exit 1, one line, for every applet" {
	local n
	n=$(pname none)
	for a in sem-post sem-wait sem-value sem-rm; do
		run --separate-stderr ipc "$a" "$n"
		assert_status 1
		[ "$stderr" = "ipcbox $a: $n: no such semaphore" ]
	done
	run --separate-stderr ipc sem-run "$n" -- true
	assert_status 1
}

@test "completion: sem applets offer existing names" {
	local n k
	n=$(pname s)
	k=$(skey s)
	TEST_SEM+=("$n" "sysv:$k")
	ipc sem-create "$n"
	ipc sem-create "sysv:$k"
	run ipc --complete sem-post
	grep -qx "$n" <<<"$output"
	grep -qx "sysv:$k" <<<"$output"
}
