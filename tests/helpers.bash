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
#
# Exit statuses the harness gives meaning to (ipcbox itself never uses them;
# DESIGN.md: 0, 1, 2, 124, 126, 127, 128+N):
#   99  HARNESS_EXPIRED: the harness's own limit ($TMO) ran out.  timeout(1)
#       exits 124 then, the same as an ipcbox --timeout, so `ipc`, wait_status
#       and stop_bg turn a 124 (or 137, the -k SIGKILL) that took $TMO
#       seconds or more into 99 and say "harness timeout" on stderr: a test
#       expecting ipcbox's 124 cannot pass on the harness's.
#   86  SANITIZER_STATUS: an ASan, UBSan or LSan report (make check sets
#       exitcode=86 and halt_on_error in ASAN_OPTIONS, UBSAN_OPTIONS and
#       LSAN_OPTIONS: the three share one exit code, whichever the compiler).
#       A command run by `ipc`, or a background command, ending with 86 fails
#       the test in teardown, whatever the test asserted.
HARNESS_EXPIRED=99
SANITIZER_STATUS=86

common_setup() {
	T=$(mktemp -d "$BATS_TMPDIR/ipcbox-test.XXXXXX")
	OTHER_DIR=
	BG_PIDS=()
	declare -gA BG_START=()
}

# harness_verdict STATUS ELAPSED_US WHAT: the status a command under our
# timeout(1) really had: HARNESS_EXPIRED when timeout(1) itself ended it
# (124, or 137 after -k, once $TMO seconds had passed); a sanitizer status is
# recorded in $T/.sanitizer for teardown.  Sets VERDICT to the status (no
# command substitution: `ipc` runs thousands of times a suite, and each
# subshell is a fork).
harness_verdict() {
	local rc=$1 us=$2
	if { [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; } && ((us >= TMO * 1000000)); then
		echo "harness timeout: $3 still running after ${TMO}s (status $rc)" >&2
		rc=$HARNESS_EXPIRED
	elif [ "$rc" -eq "$SANITIZER_STATUS" ]; then
		echo "sanitizer report (exit $rc): $3" >&2
		[ -d "${T:-}" ] && echo "exit $rc: $3" >>"$T/.sanitizer"
	fi
	VERDICT=$rc
}

# harness CMD...: CMD under timeout(1) with the harness's statuses; the time
# it took (microseconds) is left in $T/.elapsed for assert_timed_out.
harness() {
	local start=${EPOCHREALTIME/./} rc us VERDICT
	timeout -k 5 "$TMO" "$@"
	rc=$?
	us=$((${EPOCHREALTIME/./} - start))
	[ -d "${T:-}" ] && echo "$us" >"$T/.elapsed"
	harness_verdict "$rc" "$us" "$*"
	return "$VERDICT"
}

# stop_bg: end each background command itself first, then its
# timeout(1).  Killing timeout makes it send SIGTERM and then SIGCONT; under
# LeakSanitizer (make check) a SIGCONT landing while the exiting process is
# being ptrace-stopped for the leak scan hangs it.  What does not end within
# a few seconds is killed through its timeout.
#
# A background command that already ended on its own must have exited 0:
# one whose status the test did not take (wait_status, exits) is checked
# here, so a listener's failure or a sanitizer report cannot go unseen.
# Returns 1 (with the statuses on stderr) if one did not.  Safe under errexit
# (a test may call it to stop its peers early).
stop_bg() {
	local p c deadline=$((SECONDS + 5)) bad=0 state
	for p in "${BG_PIDS[@]}"; do
		state=$(awk '{ print $3 }' "/proc/$p/stat" 2>/dev/null) || true
		[ "$state" = Z ] || continue # still running (or already waited for)
		wait_status "$p"
		if [ "$status" -ne 0 ] && [ "$status" -ne 127 ]; then
			echo "background pid $p ended on its own with status $status, unchecked by the test" >&2
			bad=1
		fi
	done
	for p in "${BG_PIDS[@]}"; do
		c=$(cat "/proc/$p/task/$p/children" 2>/dev/null) || true
		# shellcheck disable=SC2086
		[ -z "$c" ] || kill $c 2>/dev/null || true
	done
	for p in "${BG_PIDS[@]}"; do
		while kill -0 "$p" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.01; done
	done
	for p in "${BG_PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${BG_PIDS[@]}"; do
		wait_status "$p" 2>/dev/null
	done
	stop_groups "${BG_PIDS[@]}"
	BG_PIDS=()
	return "$bad"
}

# stop_groups PID...: end what is left of each background command's process
# group.  timeout(1) makes one of its own (its pgid is its pid, BG_PID), and
# a grandchild (a socat SYSTEM: script, a shell's background loop) stays in
# it after its parent has gone: SIGTERM, a second to go, then SIGKILL.  Each
# timeout has been waited for: a live process with its pid is a newcomer
# that reused the number, not ours (while a member of the group lives, the
# number cannot be reused).  A pid that is no group's (a command started
# with a bare &) is refused by kill and skipped.
stop_groups() {
	local p left=() deadline=$((SECONDS + 2))
	for p in "$@"; do
		[ ! -e "/proc/$p" ] || continue
		kill -TERM -- "-$p" 2>/dev/null && left+=("$p")
	done
	for p in "${left[@]}"; do
		while kill -0 -- "-$p" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.01; done
		kill -KILL -- "-$p" 2>/dev/null || true
	done
}

# common_teardown: stop the background commands, remove the test's
# directory.  The test fails here if a sanitizer spoke: a command that exited
# SANITIZER_STATUS (recorded in $T/.sanitizer), a report in the last `run`'s
# output or stderr, or in any file the test captured under $T.
common_teardown() {
	local bad=0 f
	stop_bg || bad=1
	if [ -s "$T/.sanitizer" ]; then
		cat "$T/.sanitizer" >&2
		bad=1
	fi
	if [[ ${output:-}${stderr:-} =~ Sanitizer|runtime\ error: ]]; then
		printf 'a sanitizer report in the output:\n%s\n%s\n' "${output:-}" "${stderr:-}" >&2
		bad=1
	fi
	while IFS= read -r f; do
		echo "a sanitizer report in $f:" >&2
		head -n 40 "$f" >&2
		bad=1
	done < <(grep -rlsE -D skip -e '==[0-9]+==ERROR: [A-Za-z]+Sanitizer' -e 'runtime error: ' "$T")
	rm -rf "$T"
	[ -z "${OTHER_DIR:-}" ] || rm -rf "$OTHER_DIR"
	return "$bad"
}

setup() { common_setup; }
teardown() { common_teardown; }

# python3 -c "$PTY_READER" APPEND FILE LEN CMD [ARG]...: run CMD with its
# stdout a raw pseudo-terminal (opened O_APPEND when APPEND is 1: splice(2)
# refuses any such output), read LEN bytes from the terminal and compare
# them with FILE's first LEN; exit with CMD's status, or 3 if they differ.
# A terminal is the character device that takes what /dev/null would
# swallow unseen.
# shellcheck disable=SC2016
PTY_READER='
import os, subprocess, sys, tty
append, path, length, cmd = sys.argv[1] == "1", sys.argv[2], int(sys.argv[3]), sys.argv[4:]
m, s = os.openpty()
tty.setraw(s)
out = os.open(os.ttyname(s), os.O_WRONLY | os.O_NOCTTY | (os.O_APPEND if append else 0))
os.close(s)
p = subprocess.Popen(cmd, stdout=out, stdin=subprocess.DEVNULL)
os.close(out)
got = bytearray()
while len(got) < length:
    try:
        b = os.read(m, 65536)
    except OSError:
        break
    if not b:
        break
    got += b
sys.exit(p.wait() or (0 if got == open(path, "rb").read(length) else 3))
'

# ipc ARGS...: run the binary under the harness (use with bats' `run`).
ipc() {
	harness "$IPCBOX" "$@"
}

# bg CMD...: start CMD in the background under timeout; its pid is in BG_PID
# and is killed (by pid) in teardown, which also collects its status.
bg() {
	timeout -k 5 "$TMO" "$@" &
	BG_PID=$!
	BG_PIDS+=("$BG_PID")
	BG_START[$BG_PID]=${EPOCHREALTIME/./}
}

# bgi CMD...: bg that keeps the caller's stdin (bash gives an asynchronous
# command /dev/null otherwise, whatever the caller redirected).
bgi() {
	timeout -k 5 "$TMO" "$@" <&0 &
	BG_PID=$!
	BG_PIDS+=("$BG_PID")
	BG_START[$BG_PID]=${EPOCHREALTIME/./}
}

# wait_status PID [ERRFILE]: wait for a command started with bg/bgi and set
# `status` as `run` would (HARNESS_EXPIRED if the harness ended it, the time
# since it started in $T/.elapsed); with ERRFILE, the file its stderr went to,
# also `stderr` and `stderr_lines`, so assert_timed_out and
# assert_one_line_error work after it.  A pid already waited for gives 127.
wait_status() {
	local rc=0 us VERDICT
	wait "$1" || rc=$?
	us=$((${EPOCHREALTIME/./} - ${BG_START[$1]:-0}))
	[ -d "${T:-}" ] && [ -n "${BG_START[$1]:-}" ] && echo "$us" >"$T/.elapsed"
	if [ "$rc" -ne 127 ]; then
		harness_verdict "$rc" "$us" "background pid $1"
		rc=$VERDICT
	fi
	unset "BG_START[$1]"
	status=$rc
	if [ $# -gt 1 ]; then
		stderr=$(cat "$2")
		stderr_lines=()
		[ -z "$stderr" ] || mapfile -t stderr_lines <<<"$stderr"
	fi
	return 0
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

# no_lsan: ASAN_OPTIONS for a process strace traces (make check): the leak
# scan cannot run under ptrace and fails, exit 86, where nothing leaked.
no_lsan() {
	echo "${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}detect_leaks=0"
}

# wait_file FILE: until FILE exists and is non-empty.
wait_file() {
	wait_for test -s "$1"
}

# wait_exit PID: until the process has exited (it need not be our child).
wait_exit() {
	wait_for eval "! kill -0 $1 2>/dev/null"
}

# running PID: is the process alive (not ended, not a zombie awaiting wait)?
running() {
	local state
	state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ]
}

# port_of FILE: the port a listener wrote with --port-file.
port_of() {
	wait_file "$1" && cat "$1"
}

# OTHER_UID, OTHER_GID: the second user of the "(root)" tests, nobody, and
# a group that is not its own: a uid and a gid that differ, so a test sees
# one put in place of the other.
OTHER_UID=65534
OTHER_GID=65533

# as_other CMD...: CMD as OTHER_UID:OTHER_GID, no supplementary groups,
# under the harness (use with `run`).  CMD must be reachable by that user:
# for ipcbox, use $OTHER_IPCBOX (other_ipcbox).
as_other() {
	harness setpriv --reuid="$OTHER_UID" --regid="$OTHER_GID" --clear-groups -- "$@"
}

# other_ipcbox: a copy of $IPCBOX that another user can run, in
# $OTHER_IPCBOX.  The checkout may lie under a directory nobody else may
# enter (CI clones into a fresh mktemp -d, mode 0700), and so may $T's
# parent: the copy goes to $T/other with $T made traversable (0711), or,
# when OTHER_UID cannot reach that, to a directory of its own under /tmp
# (open to all), removed in teardown.
other_ipcbox() {
	local d=$T/other
	chmod 0711 "$T"
	mkdir -m 0755 "$d"
	cp "$IPCBOX" "$d/ipcbox"
	chmod 0755 "$d/ipcbox"
	if ! timeout -k 5 "$TMO" setpriv --reuid="$OTHER_UID" --regid="$OTHER_GID" --clear-groups \
		-- test -x "$d/ipcbox"; then
		OTHER_DIR=$(mktemp -d /tmp/ipcbox-other.XXXXXX) # lint: path-ok (/tmp is open to every user)
		chmod 0755 "$OTHER_DIR"
		d=$OTHER_DIR
		cp "$IPCBOX" "$d/ipcbox"
		chmod 0755 "$d/ipcbox"
	fi
	OTHER_IPCBOX=$d/ipcbox
}

# need_root: a test that needs root or a second uid (chown, setpriv) says
# "(root)" in its name and calls this first: run as an ordinary user it is
# skipped, and tests/run counts it apart, never as a pass (as root, a skip
# is a failure).
need_root() {
	[ "$(id -u)" -eq 0 ] || skip "needs root (a second uid)"
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

# assert_timed_out APPLET [MAX_SECONDS]: after `run --separate-stderr ipc ...`
# (or wait_status PID ERRFILE): ipcbox's own timeout, not the harness's:
# status 124, one stderr line "ipcbox APPLET: ..." and an elapsed time well
# under the harness limit (MAX_SECONDS, default half of $TMO).
assert_timed_out() {
	local max=${2:-$((TMO / 2))} us
	assert_status 124 || return 1
	assert_one_line_error "$1" || return 1
	if ! us=$(cat "$T/.elapsed" 2>/dev/null); then
		echo "assert_timed_out: no elapsed time recorded (run it with ipc or bg + wait_status)" >&2
		return 1
	fi
	if ((us >= max * 1000000)); then
		echo "timed out after $((us / 1000)) ms, not under ${max}s: not the applet's own timeout" >&2
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
