#!/bin/bash
# demo: shared memory and semaphores, POSIX and System V, and a Qt key.
source "$(dirname "$0")/lib.sh"
IPCBOX=${IPCBOX:-ipcbox}
d=${DEMO_DIR:-$(mktemp -d)}
seg=ipcbox-demo-$$
sem=ipcbox-demo-$$
: >"$d/keyfile"
cleanup() {
	"$IPCBOX" shm-rm "$seg" "systemv:$d/keyfile" 2>/dev/null
	"$IPCBOX" sem-rm "$sem" "systemv:$d/keyfile" 2>/dev/null
	TMPDIR=$d "$IPCBOX" shm-rm qt:demo 2>/dev/null
}
trap cleanup EXIT

say "A POSIX shared memory segment is a file in the tmpfs on /dev/shm. Create 4 KiB, allocated up front:"
show "$IPCBOX" shm-create "$seg" --size 4K
show ls -l "/dev/shm/$seg"
say "Write into it from stdin (one copy: read(2) straight into the mapping), read it back as xxd would:"
echo "hello, shared memory" | "$IPCBOX" shm-write "$seg"
show "$IPCBOX" shm-read "$seg" --length 32 --hex
say "Who maps it? shm-info reads /proc/PID/maps. Nobody yet:"
show "$IPCBOX" shm-info "$seg"

say "A System V segment is found by a key: here ftok() of a file, as a Qt 6.6 native key string names it:"
show "$IPCBOX" shm-create "systemv:$d/keyfile" --size 100
show "$IPCBOX" shm-list

say "A semaphore with value 2 lets two holders in at once; sem-run waits, runs, posts:"
show "$IPCBOX" sem-create "$sem" --value 2
show "$IPCBOX" sem-run "$sem" -- "$IPCBOX" sem-value "$sem"
show "$IPCBOX" sem-value "$sem" --json
say "A wait that cannot succeed gives up with exit 124 (monotonic clock):"
show "$IPCBOX" sem-create "systemv:$d/keyfile"
show "$IPCBOX" sem-wait "systemv:$d/keyfile" --timeout 200ms 2>&1
echo "exit status $?"

say "Qt's QSharedMemory(\"demo\") is a System V segment whose key comes from a file in \$TMPDIR named after the SHA-1 of the key. ipcbox makes one Qt can attach to:"
TMPDIR=$d show "$IPCBOX" shm-create qt:demo --size 64
ls "$d" | grep qipc
TMPDIR=$d show "$IPCBOX" shm-info qt:demo
say "Reads and writes of qt: names take Qt's lock, the semaphore of the same key (value 1 = free):"
TMPDIR=$d show "$IPCBOX" sem-value qt:demo --json
say "shm-rm removes segments; for qt: names also Qt's key files and lock."
TMPDIR=$d show "$IPCBOX" shm-rm qt:demo "$seg"
