# Shared by every bats file: load helpers
#
# Every test gets its own directory ($T), removed afterwards.  Every process
# runs under timeout(1).  Waits poll against a deadline, never a bare sleep.

IPCBOX=${IPCBOX:-$BATS_TEST_DIRNAME/../ipcbox}
IPCBOX_UNIT=${IPCBOX_UNIT:-$BATS_TEST_DIRNAME/../build/rel/unit}
# Upper bound for any single command in a test: generous, a loaded CI runner
# is slow, and a hang must still end.
TMO=${TMO:-20}
# Every timeout(1) in the suite is "timeout -k 5 $TMO ...": SIGKILL 5 s after
# the SIGTERM, so a process that cannot die on SIGTERM (a sanitizer stuck at
# exit) still ends.

common_setup() {
	T=$(mktemp -d "${BATS_TMPDIR:-/tmp}/ipcbox-test.XXXXXX")
	BG_PIDS=()
}

# stop_bg: end each background command itself first, then its
# timeout(1).  Killing timeout makes it send SIGTERM and then SIGCONT; under
# LeakSanitizer (make check) a SIGCONT landing while the exiting process is
# being ptrace-stopped for the leak scan hangs it.  What does not end within
# a few seconds is killed through its timeout.
stop_bg() {
	local p c deadline=$((SECONDS + 5))
	for p in "${BG_PIDS[@]}"; do
		c=$(cat "/proc/$p/task/$p/children" 2>/dev/null)
		# shellcheck disable=SC2086
		[ -z "$c" ] || kill $c 2>/dev/null
	done
	for p in "${BG_PIDS[@]}"; do
		while kill -0 "$p" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.01; done
	done
	for p in "${BG_PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${BG_PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	BG_PIDS=()
}

# common_teardown: stop the background commands, remove the test's directory.
common_teardown() {
	stop_bg
	rm -rf "$T"
}

setup() { common_setup; }
teardown() { common_teardown; }

# ipc ARGS...: run the binary under timeout (use with bats' `run`).
ipc() {
	timeout -k 5 "$TMO" "$IPCBOX" "$@"
}

# bg CMD...: start CMD in the background under timeout; its pid is in BG_PID
# and is killed (by pid) in teardown.
bg() {
	timeout -k 5 "$TMO" "$@" &
	BG_PID=$!
	BG_PIDS+=("$BG_PID")
}

# bgi CMD...: bg that keeps the caller's stdin (bash gives an asynchronous
# command /dev/null otherwise, whatever the caller redirected).
bgi() {
	timeout -k 5 "$TMO" "$@" <&0 &
	BG_PID=$!
	BG_PIDS+=("$BG_PID")
}

# wait_for COND_CMD... : poll until the command succeeds, up to $TMO seconds.
wait_for() {
	local deadline=$((SECONDS + TMO))
	until "$@"; do
		if ((SECONDS >= deadline)); then
			echo "wait_for: timed out: $*" >&2
			return 1
		fi
		sleep 0.01
	done
}

# wait_file FILE: until FILE exists and is non-empty.
wait_file() {
	wait_for test -s "$1"
}

# wait_exit PID: until the process has exited (it need not be our child).
wait_exit() {
	wait_for eval "! kill -0 $1 2>/dev/null"
}

# port_of FILE: the port a listener wrote with --port-file.
port_of() {
	wait_file "$1" && cat "$1"
}

# The status and output checks, with a readable diagnostic on failure.
assert_status() {
	if [ "$status" -ne "$1" ]; then
		echo "expected status $1, got $status; output: $output" >&2
		return 1
	fi
}

assert_output() {
	if [ "$output" != "$1" ]; then
		printf 'expected output:\n%s\ngot:\n%s\n' "$1" "$output" >&2
		return 1
	fi
}

assert_match() {
	if ! [[ $output =~ $1 ]]; then
		printf 'output does not match /%s/:\n%s\n' "$1" "$output" >&2
		return 1
	fi
}

# assert_one_line_error APPLET: a usage or runtime error is exactly one line
# on stderr, prefixed "ipcbox APPLET: " (run with --separate-stderr).
assert_one_line_error() {
	local prefix="ipcbox $1: "
	if [ "${#stderr_lines[@]}" -ne 1 ] || [[ ${stderr_lines[0]} != "$prefix"* ]]; then
		printf 'expected one line "%s...", got stderr:\n%s\n' "$prefix" "$stderr" >&2
		return 1
	fi
}
