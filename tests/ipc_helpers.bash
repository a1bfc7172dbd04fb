# Shared by the shm, sem, mq, qt and python bats files: load ipc_helpers
#
# Every object a test makes has a recognisable name: POSIX names start with
# ipcbox-test-, System V keys come from files under the test's directory.
# Each System V key is recorded in $IPC_KEYS before the object is made, so
# zz-leaks.bats can prove at the end of the run that nothing was left
# behind (the key files are gone by then); POSIX queue names go to
# $IPC_MQNAMES the same way (the mqueue file system, where they could be
# listed, may not be mounted).  Teardown removes the objects registered in
# TEST_SHM, TEST_SEM and TEST_MQ.

# tests/run runs files in several bats at once and gives them one list and
# one tag (IPCBOX_TEST_KEYS, IPCBOX_TEST_RUN); a bats run alone has its own.
IPC_KEYS=${IPCBOX_TEST_KEYS:-$BATS_RUN_TMPDIR/ipcbox-sysv-keys}
IPC_MQNAMES=$IPC_KEYS.mq
# This run's tag in POSIX names, so a suite running at the same time in
# another checkout neither disturbs nor is blamed by this run's leak check.
IPC_RUN=${IPCBOX_TEST_RUN:-${BATS_RUN_TMPDIR##*/bats-run-}}
IPC_RUN=${IPC_RUN:-norun}

setup() {
	common_setup
	TEST_SHM=()
	TEST_SEM=()
	TEST_MQ=()
	# Qt puts its key files in $TMPDIR: keep them in the test's directory.
	export TMPDIR=$T
}

# Stop the test's processes first (a peer may still hold or recreate an
# object), then remove the objects, then the directory.
teardown() {
	local bad=0
	stop_bg || bad=1
	common_teardown_objects
	common_teardown || bad=1
	return "$bad"
}

# common_teardown_objects: remove what the test registered (it may be gone).
common_teardown_objects() {
	local n
	for n in "${TEST_SHM[@]}"; do "$IPCBOX" shm-rm "$n" 2>/dev/null; done
	for n in "${TEST_SEM[@]}"; do "$IPCBOX" sem-rm "$n" 2>/dev/null; done
	for n in "${TEST_MQ[@]}"; do "$IPCBOX" mq-rm "$n" 2>/dev/null; done
	true
}

# pname SUFFIX: a POSIX name unique to this test (the leak check finds the
# prefix ipcbox-test-RUN-).
pname() {
	echo "ipcbox-test-$IPC_RUN-$$-$BATS_TEST_NUMBER-$1"
}

# ftok_key PATH [PROJ]: glibc's ftok(PATH, PROJ) as 0x%08x (PROJ default 'Q').
ftok_key() {
	local ino dev proj=${2:-81}
	read -r ino dev < <(stat -c '%i %d' "$1")
	printf '0x%08x\n' $(((ino & 0xffff) | ((dev & 0xff) << 16) | ((proj & 0xff) << 24)))
}

# track_key KEY: record a System V key the test is about to use.
track_key() {
	echo "$1" >>"$IPC_KEYS"
}

# sysv_key_free KEY: does no System V segment, semaphore or queue have KEY?
sysv_key_free() {
	local d=$(($1))
	awk -v a="$d" -v b="$((d >= 2147483648 ? d - 4294967296 : d))" \
		'FNR > 1 && ($1 == a || $1 == b) { found = 1 } END { exit found ? 1 : 0 }' \
		/proc/sysvipc/shm /proc/sysvipc/sem /proc/sysvipc/msg
}

# skey SUFFIX: a System V key made from a new file under $T, recorded.
# ftok keeps 16 bits of the inode, so a new file's key may be one that an
# object the suite did not make already has (another suite's, or one left
# on the machine): that file is kept aside, its inode still taken, and
# another made, until the key is free.
skey() {
	local k i
	for ((i = 0; i < 20; i++)); do
		: >"$T/key-$1"
		k=$(ftok_key "$T/key-$1")
		if sysv_key_free "$k"; then
			track_key "$k"
			echo "$k"
			return 0
		fi
		mv "$T/key-$1" "$T/key-$1.taken$i"
	done
	echo "skey: no free key in 20 files" >&2
	return 1
}

# qt_file PREFIX KEY: the file Qt uses for KEY (PREFIX qipc_sharedmemory_ or
# qipc_systemsem_): letters of KEY + sha1(KEY), in $TMPDIR.
qt_file() {
	local letters hash
	letters=$(printf '%s' "$2" | tr -cd 'a-zA-Z')
	hash=$(printf '%s' "$2" | sha1sum | cut -d' ' -f1)
	echo "$TMPDIR/$1$letters$hash"
}

# track_qt KEY: record the keys of Qt's files for KEY once they exist.
track_qt() {
	local f
	for f in "$(qt_file qipc_sharedmemory_ "$1")" "$(qt_file qipc_systemsem_ "$1")"; do
		[ -e "$f" ] && track_key "$(ftok_key "$f")"
	done
	true
}

# sysv_exists KIND KEY: is there a System V shm (m) or sem (s) with KEY?
sysv_exists() {
	local want=$(($2)) file=/proc/sysvipc/shm
	[ "$1" = s ] && file=/proc/sysvipc/sem
	awk -v k="$want" 'NR > 1 && ($1 == k || $1 + 4294967296 == k) { found = 1 } END { exit !found }' "$file"
}

# sem_val NAME: the value now.
sem_val() {
	"$IPCBOX" sem-value "$1"
}

# mqname SUFFIX: a POSIX queue name unique to this test, recorded for the
# leak check and registered for removal.
mqname() {
	local n
	n=$(pname "$1")
	echo "$n" >>"$IPC_MQNAMES"
	echo "$n"
}
