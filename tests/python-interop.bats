#!/usr/bin/env bats
# Python's multiprocessing.shared_memory and a POSIX semaphore opened by
# Python (ctypes sem_open) against ipcbox, both directions.

bats_require_minimum_version 1.5.0
load helpers
load ipc_helpers

PY=/usr/bin/python3

@test "python: ipcbox reads and writes a SharedMemory that Python created" {
	local n
	n=$(pname py)
	TEST_SHM+=("$n")
	cat >"$T/peer.py" <<'PYEOF'
import os, sys, time
from multiprocessing import shared_memory
name, d = sys.argv[1], sys.argv[2]
shm = shared_memory.SharedMemory(name=name, create=True, size=4096)
shm.buf[:11] = b"from python"
open(d + "/ready.tmp", "w").write("1"); os.rename(d + "/ready.tmp", d + "/ready")
while not os.path.exists(d + "/written"):
    time.sleep(0.01)
open(d + "/seen.tmp", "wb").write(bytes(shm.buf[:12])); os.rename(d + "/seen.tmp", d + "/seen")
shm.close()
shm.unlink()
PYEOF
	bg "$PY" "$T/peer.py" "$n" "$T"
	wait_file "$T/ready"
	[ "$(stat -c '%a %s' "/dev/shm/$n")" = "600 4096" ]
	run ipc shm-read "$n" -l 11
	assert_output "from python"
	printf 'from ipcbox!' | ipc shm-write "$n"
	touch "$T/written"
	wait_file "$T/seen"
	[ "$(cat "$T/seen")" = "from ipcbox!" ]
	wait "$BG_PID"
	[ ! -e "/dev/shm/$n" ]
}

@test "python: SharedMemory attaches to a segment ipcbox created and reads it" {
	local n
	n=$(pname py)
	TEST_SHM+=("$n")
	ipc shm-create "$n" -s 100
	printf 'made by ipcbox' | ipc shm-write "$n"
	run "$PY" - "$n" <<'PYEOF'
import sys
from multiprocessing import shared_memory, resource_tracker
shm = shared_memory.SharedMemory(name=sys.argv[1])
# before 3.13 an attaching process registers the segment too and would
# unlink it at exit: it is ipcbox's, not ours
resource_tracker.unregister(shm._name, "shared_memory")
print(shm.size, bytes(shm.buf[:14]).decode())
shm.close()
PYEOF
	assert_status 0
	assert_output "100 made by ipcbox"
	[ -e "/dev/shm/$n" ]
}

@test "python: a POSIX semaphore posted by ipcbox wakes a Python sem_wait" {
	local n
	n=$(pname py)
	TEST_SEM+=("$n")
	ipc sem-create "$n"
	cat >"$T/peer.py" <<'PYEOF'
import ctypes, os, sys
libc = ctypes.CDLL("libc.so.6", use_errno=True)
libc.sem_open.restype = ctypes.c_void_p
libc.sem_open.argtypes = [ctypes.c_char_p, ctypes.c_int]
libc.sem_wait.argtypes = [ctypes.c_void_p]
sem = libc.sem_open(("/" + sys.argv[1]).encode(), 0)
if not sem or sem == ctypes.c_void_p(-1).value:
    sys.exit("sem_open: " + os.strerror(ctypes.get_errno()))
d = sys.argv[2]
open(d + "/ready", "w").write("1")
if libc.sem_wait(sem) != 0:
    sys.exit("sem_wait: " + os.strerror(ctypes.get_errno()))
open(d + "/woke.tmp", "w").write("woke"); os.rename(d + "/woke.tmp", d + "/woke")
PYEOF
	bg "$PY" "$T/peer.py" "$n" "$T"
	wait_file "$T/ready"
	[ ! -e "$T/woke" ]
	ipc sem-post "$n"
	wait_file "$T/woke"
	wait "$BG_PID"
	[ "$(ipc sem-value "$n")" = 0 ]
}

@test "python: sem-value and sem-wait work on a semaphore Python created" {
	local n
	n=$(pname py)
	TEST_SEM+=("$n")
	"$PY" - "$n" <<'PYEOF'
import ctypes, sys
libc = ctypes.CDLL("libc.so.6", use_errno=True)
libc.sem_open.restype = ctypes.c_void_p
libc.sem_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_uint, ctypes.c_uint]
sem = libc.sem_open(("/" + sys.argv[1]).encode(), 0o100 | 0o200, 0o600, 3)  # O_CREAT|O_EXCL
sys.exit(0 if sem and sem != ctypes.c_void_p(-1).value else 1)
PYEOF
	run ipc sem-value "$n"
	assert_output 3
	ipc sem-wait "$n" --try
	run ipc sem-value "$n"
	assert_output 2
}
