#!/usr/bin/env bats
# qt:KEY against real Qt programs (tests/peers/qt_peer.cpp), built against
# Qt 5 and against Qt 6: their QSharedMemory and QSystemSemaphore, their
# lock, and segments made by ipcbox that Qt attaches to; every case runs
# against both.  Then QLocalServer/QLocalSocket with unix-connect and
# unix-listen, path sockets and (Qt 6.2+) the abstract namespace.

bats_require_minimum_version 1.5.0
load helpers
load ipc_helpers

QT5_PEER=$BATS_TEST_DIRNAME/../build/test/qt5_peer
QT6_PEER=$BATS_TEST_DIRNAME/../build/test/qt6_peer

# build_peer BIN PKG-CONFIG-MODULES [CXXFLAGS]: (re)build the peer against one
# Qt.  -fPIC: Debian builds Qt with reduce-relocations (reference/field.md).
build_peer() {
	local src=$BATS_TEST_DIRNAME/peers/qt_peer.cpp bin=$1 mods=$2 flags=${3:-}
	mkdir -p "$(dirname "$bin")"
	if [ ! -x "$bin" ] || [ "$src" -nt "$bin" ]; then
		# shellcheck disable=SC2046,SC2086
		timeout -k 5 600 g++ $flags -fPIC -O1 -o "$bin.tmp" "$src" \
			$(pkg-config --cflags --libs $mods) && mv "$bin.tmp" "$bin"
	fi
}

setup_file() {
	build_peer "$QT5_PEER" "Qt5Core Qt5Network"
	build_peer "$QT6_PEER" "Qt6Core Qt6Network" -std=c++17
}

# qt ARGS...: the peer of this test ($QT_PEER), under timeout.
qt() {
	timeout -k 5 "$TMO" "$QT_PEER" "$@"
}

# qkey SUFFIX: sets K to a Qt key unique to this test, with a dot and digits
# (which Qt drops from the file name), registered for cleanup.
qkey() {
	K="ipcbox.test-$$-$BATS_TEST_NUMBER-$1"
	TEST_SHM+=("qt:$K")
	TEST_SEM+=("qt:$K")
}

# qt:KEY resolves to Qt's key file: prefix, letters, SHA-1, in $TMPDIR
case_keyfile() {
	local k
	qkey a
	k=$K
	bg "$QT_PEER" create "$k" 100 "hello from Qt" "$T/ready" "$T/go"
	wait_file "$T/ready"
	track_qt "$k"
	local want
	want=$(qt_file qipc_sharedmemory_ "$k")
	[ -e "$want" ]
	run ipc shm-info "qt:$k" --json
	assert_status 0
	assert_match '"keyfile":"'"$want"'"'
	assert_match '"key":"'"$(ftok_key "$want")"'"'
	assert_match '"attached":1,'
	# the lists name the Qt key file of a System V key
	run ipc shm-list --json
	assert_match '"name":"sysv:'"$(ftok_key "$want")"'"[^}]*"qt_file":"'"${want##*/}"'"'
	run ipc sem-list
	assert_status 0
	# one line of many (other programs' semaphores may follow): match by line
	grep -qE "^sysv +sysv:$(ftok_key "$(qt_file qipc_systemsem_ "$k")") .* qipc_systemsem_${want##*/qipc_sharedmemory_}\$" <<<"$output" ||
		{ echo "no line for the lock in: $output" >&2; return 1; }
	touch "$T/go"
	wait "$BG_PID"
}

@test "Qt 5: qt:KEY resolves to Qt's key file: prefix, letters, SHA-1, in \$TMPDIR" {
	QT_PEER=$QT5_PEER
	case_keyfile
}

@test "Qt 6: qt:KEY resolves to Qt's key file: prefix, letters, SHA-1, in \$TMPDIR" {
	QT_PEER=$QT6_PEER
	case_keyfile
}

# qt:KEY honours $TMPDIR through a symlink, as QDir::tempPath() does
case_tmpdir_symlink() {
	local k
	qkey a
	k=$K
	mkdir "$T/real"
	ln -s "$T/real" "$T/link"
	export TMPDIR=$T/link # for Qt, and for the cleanup in teardown
	bg "$QT_PEER" create "$k" 64 "via link" "$T/ready" "$T/go"
	wait_file "$T/ready"
	[ -e "$(TMPDIR=$T/real qt_file qipc_sharedmemory_ "$k")" ]
	TMPDIR=$T/real track_qt "$k"
	run env TMPDIR="$T/link/" timeout -k 5 "$TMO" "$IPCBOX" shm-read "qt:$k" -l 8
	assert_status 0
	assert_output "via link"
	touch "$T/go"
	wait "$BG_PID"
}

@test "Qt 5: qt:KEY honours \$TMPDIR through a symlink, as QDir::tempPath() does" {
	QT_PEER=$QT5_PEER
	case_tmpdir_symlink
}

@test "Qt 6: qt:KEY honours \$TMPDIR through a symlink, as QDir::tempPath() does" {
	QT_PEER=$QT6_PEER
	case_tmpdir_symlink
}

# shm-read qt:KEY reads what a Qt QSharedMemory wrote
case_read() {
	local k
	qkey a
	k=$K
	bg "$QT_PEER" create "$k" 100 "hello from Qt" "$T/ready" "$T/go"
	wait_file "$T/ready"
	track_qt "$k"
	run ipc shm-read "qt:$k"
	assert_status 0
	[ "$(printf '%s' "$output" | tr -d '\0')" = "hello from Qt" ]
	run ipc shm-read "qt:$k" -x -l 5
	assert_output "00000000: 6865 6c6c 6f                             hello"
	touch "$T/go"
	wait "$BG_PID"
	wait_for sh -c "! timeout $TMO $IPCBOX shm-info qt:$k >/dev/null 2>&1"
}

@test "Qt 5: shm-read qt:KEY reads what a Qt QSharedMemory wrote" {
	QT_PEER=$QT5_PEER
	case_read
}

@test "Qt 6: shm-read qt:KEY reads what a Qt QSharedMemory wrote" {
	QT_PEER=$QT6_PEER
	case_read
}

# shm-read qt:KEY waits while Qt holds lock(), then reads the finished write
case_lock_wait() {
	local k
	qkey a
	k=$K
	bg "$QT_PEER" hold "$k" 65536 "$T/ready" "$T/go"
	local qt=$BG_PID
	wait_file "$T/ready"
	track_qt "$k"
	# --no-lock does not wait: it sees the first pattern
	run ipc shm-read "qt:$k" --no-lock
	[ "${#output}" -eq 65536 ]
	[ "$(printf '%s' "$output" | tr -d A | wc -c)" -eq 0 ]
	# a short timeout expires with 124 while Qt holds the lock
	run --separate-stderr ipc shm-read "qt:$k" --timeout 100ms
	assert_timed_out shm-read
	# a reader queues on Qt's lock semaphore; then Qt finishes and unlocks
	bg sh -c '"$0" shm-read "$1" >"$2.tmp" && mv "$2.tmp" "$2"' "$IPCBOX" "qt:$k" "$T/out"
	wait_for sh -c "timeout $TMO $IPCBOX sem-value --json qt:$k | grep -q '\"waiters\":1'"
	[ ! -e "$T/out" ]
	touch "$T/go"
	wait "$qt"
	wait_file "$T/out"
	[ "$(wc -c <"$T/out")" -eq 65536 ]
	[ "$(tr -d B <"$T/out" | wc -c)" -eq 0 ]
}

@test "Qt 5: shm-read qt:KEY waits while Qt holds lock(), then reads the finished write" {
	QT_PEER=$QT5_PEER
	case_lock_wait
}

@test "Qt 6: shm-read qt:KEY waits while Qt holds lock(), then reads the finished write" {
	QT_PEER=$QT6_PEER
	case_lock_wait
}

# shm-read qt:KEY never sees a torn write while Qt rewrites under lock()
case_torn() {
	local k i qt
	qkey a
	k=$K
	# the peer must outlive all the reads, which wait for Qt's busy lock: on
	# a loaded machine that can take longer than $TMO, and a peer killed by
	# its timeout in the middle of a fill leaves a torn segment
	timeout -k 5 $((TMO * 15)) "$QT_PEER" flip "$k" 262144 "$T/ready" "$T/stop" &
	BG_PID=$!
	BG_PIDS+=("$BG_PID")
	qt=$BG_PID
	wait_file "$T/ready"
	track_qt "$k"
	# 10 reads: with shm-read's lock taken out, 28 of 30 reads (Qt 5) and
	# 30 of 30 (Qt 6) were torn, so 10 miss a lost lock with odds of about
	# 1 in 10^11 (was 30 reads, half a minute of the suite)
	for i in $(seq 10); do
		ipc shm-read "qt:$k" >"$T/snap"
		[ "$(wc -c <"$T/snap")" -eq 262144 ]
		local a b
		a=$(tr -d B <"$T/snap" | wc -c)
		b=$(tr -d A <"$T/snap" | wc -c)
		running "$qt" || { echo "the Qt peer ended before read $i" >&2; return 1; }
		[ "$a" -eq 0 ] || [ "$b" -eq 0 ] || { echo "torn read: $a A, $b B" >&2; return 1; }
	done
	touch "$T/stop"
	wait_status "$qt"
	assert_status 0
}

@test "Qt 5: shm-read qt:KEY never sees a torn write while Qt rewrites under lock()" {
	QT_PEER=$QT5_PEER
	case_torn
}

@test "Qt 6: shm-read qt:KEY never sees a torn write while Qt rewrites under lock()" {
	QT_PEER=$QT6_PEER
	case_torn
}

# shm-write qt:KEY takes Qt's lock; Qt reads the bytes
case_write() {
	local k
	qkey a
	k=$K
	bg "$QT_PEER" create "$k" 100 "old" "$T/ready" "$T/go"
	wait_file "$T/ready"
	track_qt "$k"
	printf 'new from ipcbox\0' | ipc shm-write "qt:$k"
	run qt attach "$k" "$T/got"
	assert_status 0
	[ "$(cat "$T/got")" = "new from ipcbox" ]
	# the lock was given back
	[ "$(ipc sem-value "qt:$k")" = 1 ]
	touch "$T/go"
	wait "$BG_PID"
}

@test "Qt 5: shm-write qt:KEY takes Qt's lock; Qt reads the bytes" {
	QT_PEER=$QT5_PEER
	case_write
}

@test "Qt 6: shm-write qt:KEY takes Qt's lock; Qt reads the bytes" {
	QT_PEER=$QT6_PEER
	case_write
}

# sem-post qt:KEY wakes a Qt QSystemSemaphore::acquire()
case_sem_post() {
	local k
	qkey a
	k=$K
	bg "$QT_PEER" acquire "$k" "$T/ready" "$T/out"
	wait_file "$T/ready"
	track_qt "$k"
	run ipc sem-value "qt:$k" --json
	assert_match '"value":0'
	wait_for sh -c "timeout $TMO $IPCBOX sem-value --json qt:$k | grep -q '\"waiters\":1'"
	[ ! -e "$T/out" ]
	ipc sem-post "qt:$k"
	wait_file "$T/out"
	[ "$(cat "$T/out")" = acquired ]
	wait "$BG_PID"
}

@test "Qt 5: sem-post qt:KEY wakes a Qt QSystemSemaphore::acquire()" {
	QT_PEER=$QT5_PEER
	case_sem_post
}

@test "Qt 6: sem-post qt:KEY wakes a Qt QSystemSemaphore::acquire()" {
	QT_PEER=$QT6_PEER
	case_sem_post
}

# shm-create qt:KEY makes a segment (and its lock) that Qt attaches to and reads
case_shm_create() {
	local k
	qkey a
	k=$K
	: >"$(qt_file qipc_sharedmemory_ "$k")"
	: >"$(qt_file qipc_systemsem_ "$k")"
	track_qt "$k"
	rm "$(qt_file qipc_sharedmemory_ "$k")" "$(qt_file qipc_systemsem_ "$k")"
	ipc shm-create "qt:$k" --size 4K
	track_qt "$k"
	[ "$(stat -c %a "$(qt_file qipc_sharedmemory_ "$k")")" = 640 ]
	[ "$(ipc sem-value "qt:$k")" = 1 ]
	printf 'made by ipcbox\0' | ipc shm-write "qt:$k"
	run qt attach "$k" "$T/got"
	assert_status 0
	[ "$(cat "$T/got")" = "made by ipcbox" ]
}

@test "Qt 5: shm-create qt:KEY makes a segment (and its lock) that Qt attaches to and reads" {
	QT_PEER=$QT5_PEER
	case_shm_create
}

@test "Qt 6: shm-create qt:KEY makes a segment (and its lock) that Qt attaches to and reads" {
	QT_PEER=$QT6_PEER
	case_shm_create
}

# shm-rm qt:KEY cleans up after a crashed Qt program: segment, lock, key files
case_crash_cleanup() {
	local k
	qkey a
	k=$K
	bg "$QT_PEER" create "$k" 100 "crash" "$T/ready" "$T/never"
	wait_file "$T/ready"
	track_qt "$k"
	kill -KILL "$(pgrep -f "^$QT_PEER create $k")"
	wait_for sh -c "timeout $TMO $IPCBOX shm-info qt:$k | grep -q 'attached  0'"
	local shmkey semkey
	shmkey=$(ftok_key "$(qt_file qipc_sharedmemory_ "$k")")
	semkey=$(ftok_key "$(qt_file qipc_systemsem_ "$k")")
	sysv_exists m "$shmkey"
	sysv_exists s "$semkey"
	run ipc shm-rm "qt:$k"
	assert_status 0
	[ ! -e "$(qt_file qipc_sharedmemory_ "$k")" ]
	[ ! -e "$(qt_file qipc_systemsem_ "$k")" ]
	if sysv_exists m "$shmkey"; then echo "segment $shmkey left" >&2; return 1; fi
	if sysv_exists s "$semkey"; then echo "semaphore $semkey left" >&2; return 1; fi
	run --separate-stderr ipc shm-rm "qt:$k"
	assert_status 1
	[ "$stderr" = "ipcbox shm-rm: qt:$k: no such segment" ]
}

@test "Qt 5: shm-rm qt:KEY cleans up after a crashed Qt program: segment, lock, key files" {
	QT_PEER=$QT5_PEER
	case_crash_cleanup
}

@test "Qt 6: shm-rm qt:KEY cleans up after a crashed Qt program: segment, lock, key files" {
	QT_PEER=$QT6_PEER
	case_crash_cleanup
}

# qt_segment SUFFIX SIZE: K gets a new Qt key and ipcbox makes its segment
# and lock (as shm-create qt:KEY does); their System V keys are recorded.
qt_segment() {
	qkey "$1"
	: >"$(qt_file qipc_sharedmemory_ "$K")"
	: >"$(qt_file qipc_systemsem_ "$K")"
	track_qt "$K"
	rm "$(qt_file qipc_sharedmemory_ "$K")" "$(qt_file qipc_systemsem_ "$K")"
	ipc shm-create "qt:$K" --size "$2"
	track_qt "$K"
}

@test "shm-rm qt:KEY removes Qt's lock semaphore with the segment" {
	local shmkey semkey
	qt_segment r 4K
	shmkey=$(ftok_key "$(qt_file qipc_sharedmemory_ "$K")")
	semkey=$(ftok_key "$(qt_file qipc_systemsem_ "$K")")
	sysv_exists m "$shmkey"
	sysv_exists s "$semkey"
	run ipc shm-rm "qt:$K"
	assert_status 0
	if sysv_exists s "$semkey"; then
		echo "the lock semaphore $semkey is still there" >&2
		return 1
	fi
	if sysv_exists m "$shmkey"; then
		echo "the segment $shmkey is still there" >&2
		return 1
	fi
}

@test "shm-read qt:KEY never holds the lock while its output waits on a slow pipe" {
	local pid
	qt_segment p 4M
	mkfifo "$T/out"
	bg sh -c 'echo $$ >"$3.pid"; exec "$0" shm-read "$1" >"$2"' "$IPCBOX" "qt:$K" "$T/out" "$T/r"
	local rpid=$BG_PID
	exec 5<"$T/out"
	# one byte read: shm-read is writing its output now, into a full pipe
	# (4 MiB do not fit), and stays blocked until we read on
	head -c 1 <&5 >/dev/null
	pid=$(cat "$T/r.pid")
	wait_for sh -c "grep -q '^State:.*S' /proc/$pid/status"
	[ "$(sem_val "qt:$K")" = 1 ]
	run ipc sem-wait "qt:$K" --try # a Qt lock() would get it at once
	assert_status 0
	ipc sem-post "qt:$K"
	kill -0 "$pid" # still blocked on its output all along
	cat <&5 >/dev/null
	exec 5<&-
	wait "$rpid"
}

@test "qt:KEY with no Qt key file: exit 1 naming the file" {
	run --separate-stderr ipc shm-read "qt:nothing-here"
	assert_status 1
	[ "$stderr" = "ipcbox shm-read: qt:nothing-here: no such segment (no Qt key file $(qt_file qipc_sharedmemory_ nothing-here))" ]
	run --separate-stderr ipc sem-wait "qt:nothing-here"
	assert_status 1
	[[ $stderr == *"(no Qt key file $(qt_file qipc_systemsem_ nothing-here))" ]]
}

@test "qt:KEY falls back to Qt's POSIX backend names (QT_POSIX_IPC) when no key file exists" {
	local k shm sem
	qkey posix
	k=$K
	shm=$(basename "$(qt_file qipc_sharedmemory_ "$k")")
	sem=$(basename "$(qt_file qipc_systemsem_ "$k")")
	# what a Qt built with QT_POSIX_IPC makes: /dev/shm/qipc_sharedmemory_...
	# and the lock /dev/shm/sem.qipc_systemsem_... with value 1
	/usr/bin/python3 - "$shm" "$sem" <<'PYEOF'
import ctypes, sys
from multiprocessing import shared_memory, resource_tracker
shm = shared_memory.SharedMemory(name=sys.argv[1], create=True, size=64)
resource_tracker.unregister(shm._name, "shared_memory")
shm.buf[:12] = b"posix Qt app"
libc = ctypes.CDLL("libc.so.6")
libc.sem_open.restype = ctypes.c_void_p
libc.sem_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_uint, ctypes.c_uint]
sys.exit(0 if libc.sem_open(("/" + sys.argv[2]).encode(), 0o300, 0o600, 1) else 1)
PYEOF
	run ipc shm-read "qt:$k" -l 12
	assert_status 0
	assert_output "posix Qt app"
	run ipc shm-info "qt:$k" --json
	assert_match '"backend":"posix","path":"/dev/shm/'"$shm"'"'
	# the lock is the POSIX semaphore: held, the read times out
	ipc sem-wait "qt:$k" --try
	run --separate-stderr ipc shm-read "qt:$k" -t 100ms
	assert_timed_out shm-read
	ipc sem-post "qt:$k"
	[ "$(ipc sem-value "qt:$k")" = 1 ]
	run ipc shm-rm "qt:$k"
	assert_status 0
	[ ! -e "/dev/shm/$shm" ]
	[ ! -e "/dev/shm/sem.$sem" ]
}

@test "Qt 5 and Qt 6 derive the same qt:KEY: each attaches to the other's segment" {
	local k
	qkey a
	k=$K
	QT_PEER=$QT5_PEER
	run qt version
	assert_match '^5\.'
	bg "$QT5_PEER" create "$k" 100 "made by Qt 5" "$T/ready5" "$T/go5"
	wait_file "$T/ready5"
	track_qt "$k"
	QT_PEER=$QT6_PEER
	run qt version
	assert_match '^6\.'
	run qt attach "$k" "$T/got6"
	assert_status 0
	[ "$(cat "$T/got6")" = "made by Qt 5" ]
	run ipc shm-read "qt:$k" -l 12
	assert_output "made by Qt 5"
	touch "$T/go5"
	wait "$BG_PID"
	qkey b
	k=$K
	bg "$QT6_PEER" create "$k" 100 "made by Qt 6" "$T/ready6" "$T/go6"
	wait_file "$T/ready6"
	track_qt "$k"
	QT_PEER=$QT5_PEER
	run qt attach "$k" "$T/got5"
	assert_status 0
	[ "$(cat "$T/got5")" = "made by Qt 6" ]
	touch "$T/go6"
	wait "$BG_PID"
}

# unix-connect to a QLocalServer on a path (NAME, or @NAME with "abstract"):
# a line each way.  ipcbox keeps its write side open until the reply is in:
# Qt takes a half-close as the end of the connection (ipcbox-tcp(1)).
case_lserver() {
	local name=$1 target=$2
	bg "$QT_PEER" lserver "$name" "$T/ready" "$T/line" ${3:+"$3"}
	local srv=$BG_PID
	wait_file "$T/ready"
	[ "$(cat "$T/ready")" = "$name" ]
	{
		echo "hello from ipcbox"
		wait_for grep -q "qt got" "$T/out"
	} | ipc unix-connect "$target" >"$T/out"
	wait "$srv"
	[ "$(cat "$T/line")" = "hello from ipcbox" ]
	[ "$(cat "$T/out")" = "qt got: hello from ipcbox" ]
}

# A QLocalSocket connects to unix-listen (NAME, or @NAME with "abstract"): a
# line each way; ipcbox's half-close at its end of input ends Qt's socket,
# and what was sent before it is all there.
case_lclient() {
	local name=$1 listen=$2
	bgi "$IPCBOX" unix-listen "$listen" >"$T/got" <<<"from ipcbox"
	local lis=$BG_PID
	if [[ $listen == @* ]]; then
		wait_for grep -q " @${listen#@}\$" /proc/net/unix
	else
		wait_for test -S "$listen"
	fi
	run qt lclient "$name" "$T/qt-got" ${3:+"$3"}
	assert_status 0
	wait "$lis"
	[ "$(cat "$T/qt-got")" = "from ipcbox" ]
	[ "$(cat "$T/got")" = "from qt" ]
}

@test "Qt 5: unix-connect talks to a QLocalServer on a path, both ways" {
	QT_PEER=$QT5_PEER
	case_lserver "$T/qt.sock" "$T/qt.sock"
}

@test "Qt 6: unix-connect talks to a QLocalServer on a path, both ways" {
	QT_PEER=$QT6_PEER
	case_lserver "$T/qt.sock" "$T/qt.sock"
}

@test "Qt 5: a QLocalSocket talks to unix-listen on a path, both ways" {
	QT_PEER=$QT5_PEER
	case_lclient "$T/ipcbox.sock" "$T/ipcbox.sock"
}

@test "Qt 6: a QLocalSocket talks to unix-listen on a path, both ways" {
	QT_PEER=$QT6_PEER
	case_lclient "$T/ipcbox.sock" "$T/ipcbox.sock"
}

@test "Qt 6: unix-connect @name reaches a QLocalServer with AbstractNamespaceOption" {
	QT_PEER=$QT6_PEER
	local name=ipcbox-test-qt-$$-$BATS_TEST_NUMBER
	case_lserver "$name" "@$name" abstract
	# no file anywhere: the name lives in the abstract namespace only
	[ ! -e "$name" ]
	[ ! -e "$T/$name" ]
}

@test "Qt 6: a QLocalSocket with AbstractNamespaceOption reaches unix-listen @name" {
	QT_PEER=$QT6_PEER
	local name=ipcbox-test-qt-$$-$BATS_TEST_NUMBER
	case_lclient "$name" "@$name" abstract
}
