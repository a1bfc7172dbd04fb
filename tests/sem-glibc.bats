#!/usr/bin/env bats
# POSIX semaphores in glibc's format (lib/ipcsem.c), whichever libc ipcbox
# links: the static musl build must share /dev/shm/sem.NAME with glibc
# programs, sleeping and waking on the same futex.  The glibc side is
# Python calling libc's sem_* through ctypes.

bats_require_minimum_version 1.5.0
load helpers
load ipc_helpers

PY=/usr/bin/python3

# glibc_sem NAME CMD [VALUE]: libc's sem_open (creating with VALUE for
# "create"), then CMD: create | post | wait (touching $T/ready before and
# $T/woke after).
glibc_sem() {
	[ -f "$T/sem.py" ] || glibc_sem_script
	timeout -k 5 "$TMO" "$PY" "$T/sem.py" "$@" "$T"
}

glibc_sem_script() {
	cat >"$T/sem.py" <<'PYEOF'
import ctypes, os, sys
libc = ctypes.CDLL("libc.so.6", use_errno=True)
libc.sem_open.restype = ctypes.c_void_p
libc.sem_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_uint, ctypes.c_uint]
libc.sem_post.argtypes = [ctypes.c_void_p]
libc.sem_wait.argtypes = [ctypes.c_void_p]
name, cmd, d = "/" + sys.argv[1], sys.argv[2], sys.argv[-1]
flags, value = (0o300, int(sys.argv[3])) if cmd == "create" else (0, 0)
sem = libc.sem_open(name.encode(), flags, 0o600, value)
if not sem or sem == ctypes.c_void_p(-1).value:
    sys.exit("sem_open: " + os.strerror(ctypes.get_errno()))
if cmd == "post" and libc.sem_post(sem) != 0:
    sys.exit("sem_post: " + os.strerror(ctypes.get_errno()))
if cmd == "wait":
    open(d + "/ready", "w").write("1")
    if libc.sem_wait(sem) != 0:
        sys.exit("sem_wait: " + os.strerror(ctypes.get_errno()))
    open(d + "/woke.tmp", "w").write("woke"); os.rename(d + "/woke.tmp", d + "/woke")
PYEOF
}

# waiters NAME: the waiter count glibc keeps in the high half of the first
# 64-bit word of /dev/shm/sem.NAME (little-endian).
waiters() {
	od -An -tu4 -j4 -N4 "/dev/shm/sem.$1" | tr -d ' '
}

# has_waiters NAME N: are N processes asleep on it (for wait_for)?
has_waiters() {
	[ "$(waiters "$1")" = "$2" ]
}

@test "glibc's sem_wait asleep on the futex is woken by sem-post" {
	local n
	n=$(pname g)
	TEST_SEM+=("$n")
	ipc sem-create "$n"
	glibc_sem_script
	bg "$PY" "$T/sem.py" "$n" wait "$T"
	local peer=$BG_PID
	# asleep for sure: it counted itself as a waiter
	wait_for has_waiters "$n" 1
	[ ! -e "$T/woke" ]
	ipc sem-post "$n"
	wait_file "$T/woke"
	wait "$peer"
	[ "$(ipc sem-value "$n")" = 0 ]
	[ "$(waiters "$n")" = 0 ]
}

@test "sem-wait asleep on a glibc semaphore is woken by glibc's sem_post" {
	local n
	n=$(pname g)
	TEST_SEM+=("$n")
	glibc_sem "$n" create 0
	bg "$IPCBOX" sem-wait "$n"
	local waiter=$BG_PID
	wait_for has_waiters "$n" 1
	glibc_sem "$n" post
	wait "$waiter"
	[ "$(ipc sem-value "$n")" = 0 ]
	[ "$(waiters "$n")" = 0 ]
}

@test "sem-wait --timeout on a glibc semaphore: 124, and the waiter count is given back" {
	local n
	n=$(pname g)
	TEST_SEM+=("$n")
	glibc_sem "$n" create 0
	run --separate-stderr ipc sem-wait "$n" --timeout 200ms
	assert_status 124
	[ "$(waiters "$n")" = 0 ]
	glibc_sem "$n" post
	run ipc sem-wait "$n" --try
	assert_status 0
}

@test "sem-create writes the bytes glibc's sem_open writes: value, no waiters, shared" {
	local a b
	a=$(pname mine)
	b=$(pname glibc)
	TEST_SEM+=("$a" "$b")
	ipc sem-create "$a" --value 5
	glibc_sem "$b" create 5
	[ "$(stat -c %s "/dev/shm/sem.$a")" = 32 ]
	cmp "/dev/shm/sem.$a" "/dev/shm/sem.$b"
}

@test "a /dev/shm/sem.NAME that is no semaphore is refused, never mapped past its end" {
	local n
	n=$(pname short)
	TEST_SEM+=("$n")
	printf 'abc' >"/dev/shm/sem.$n"
	for a in sem-value sem-post sem-wait; do
		run --separate-stderr ipc "$a" "$n"
		assert_status 1
		assert_one_line_error "$a"
		[ "$stderr" = "ipcbox $a: $n: /dev/shm/sem.$n is not a semaphore (not glibc's sem_t)" ]
	done
	[ "$(cat "/dev/shm/sem.$n")" = abc ]
}

@test "a /dev/shm/sem.NAME symlink is not followed" {
	local n
	n=$(pname link)
	TEST_SEM+=("$n")
	glibc_sem "$(pname target)" create 1
	TEST_SEM+=("$(pname target)")
	ln -s "/dev/shm/sem.$(pname target)" "/dev/shm/sem.$n"
	run --separate-stderr ipc sem-post "$n"
	assert_status 1
	assert_one_line_error sem-post
	[ "$(ipc sem-value "$(pname target)")" = 1 ]
}
