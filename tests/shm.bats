#!/usr/bin/env bats
# shm-create, shm-write, shm-read, shm-info, shm-list, shm-rm on POSIX and
# System V segments (Qt: qt.bats; Python: python-interop.bats).

bats_require_minimum_version 1.5.0
load helpers
load ipc_helpers

@test "shm-create: POSIX segment in /dev/shm, mode 0600, full size allocated" {
	local n
	n=$(pname a)
	TEST_SHM+=("$n")
	run --separate-stderr ipc shm-create "$n" --size 64K
	assert_status 0
	[ "$(stat -c '%a %s' "/dev/shm/$n")" = "600 65536" ]
	# allocated, not sparse: posix_fallocate reserved the pages
	[ "$(stat -c %b "/dev/shm/$n")" -ge 128 ]
}

@test "shm-create: --mode sets the permission bits regardless of the umask" {
	local n
	n=$(pname a)
	TEST_SHM+=("$n")
	(umask 077 && ipc shm-create "$n" -s 10 -m 0644)
	[ "$(stat -c %a "/dev/shm/$n")" = 644 ]
}

@test "shm-create: exclusive; --exist-ok accepts an existing segment" {
	local n
	n=$(pname a)
	TEST_SHM+=("$n")
	ipc shm-create "$n" -s 10
	run --separate-stderr ipc shm-create "$n" -s 10
	assert_status 1
	assert_one_line_error shm-create
	[[ $stderr == *"File exists"* ]]
	run ipc shm-create "$n" -s 10 --exist-ok
	assert_status 0
}

@test "shm-create: a full /dev/shm gives 'No space left on device', never SIGBUS" {
	local n
	n=$(pname a)
	# a user namespace (-r) lets an ordinary user mount a small /dev/shm too
	run --separate-stderr unshare -r -m sh -c "mount -t tmpfs -o size=1m tmpfs /dev/shm && timeout $TMO $IPCBOX shm-create $n -s 4M; echo rc=\$?; ls /dev/shm"
	[[ $output == "rc=1" ]]
	[ "$stderr" = "ipcbox shm-create: allocate 4194304 bytes for $n: No space left on device" ]
}

@test "shm-write then shm-read: the bytes come back, the rest stays zero" {
	local n
	n=$(pname a)
	TEST_SHM+=("$n")
	ipc shm-create "$n" -s 16
	printf 'hello' | ipc shm-write "$n"
	run ipc shm-read "$n" --length 5
	assert_output hello
	ipc shm-read "$n" | od -An -c | tr -s ' ' >"$T/od"
	grep -q 'h e l l o \\0 \\0' "$T/od"
	[ "$(ipc shm-read "$n" | wc -c)" -eq 16 ]
}

@test "shm-write --offset and shm-read --offset --length address a range" {
	local n
	n=$(pname a)
	TEST_SHM+=("$n")
	ipc shm-create "$n" -s 32
	printf 'abcdefgh' | ipc shm-write "$n" -o 4
	run ipc shm-read "$n" --offset 6 -l 3
	assert_output cde
}

@test "shm-write FILE: from a regular file, binary safe (1 MiB of random bytes)" {
	local n
	n=$(pname a)
	TEST_SHM+=("$n")
	head -c 1M /dev/urandom >"$T/data"
	ipc shm-create "$n" -s 1M
	ipc shm-write "$n" "$T/data"
	ipc shm-read "$n" >"$T/back"
	cmp "$T/data" "$T/back"
}

@test "shm-write: from a pipe, larger than a pipe buffer" {
	local n
	n=$(pname a)
	TEST_SHM+=("$n")
	head -c 300000 /dev/urandom >"$T/data"
	ipc shm-create "$n" -s 300000
	cat "$T/data" | ipc shm-write "$n"
	ipc shm-read "$n" | cmp - "$T/data"
}

# copy_paths NAME: write 3 MiB + 5 of random bytes at offset 3 of NAME (a
# segment of 3 MiB + 8) from a file and from a pipe, read them back to a
# file, a file open for append, a pipe and /dev/null; every copy compared.
copy_paths() {
	local n=$1 len=$((3 * 1048576 + 5))
	head -c "$len" /dev/urandom >"$T/data"
	ipc shm-write "$n" --offset 3 "$T/data"
	ipc shm-read "$n" --offset 3 >"$T/file"
	cmp "$T/data" "$T/file"
	head -c "$len" /dev/urandom >"$T/data2"
	run bash -c "set -o pipefail; cat '$T/data2' | timeout -k 5 $TMO '$IPCBOX' shm-write '$n' -o 3"
	assert_status 0
	echo head >"$T/append"
	ipc shm-read "$n" --offset 3 >>"$T/append"
	{ echo head; cat "$T/data2"; } | cmp - "$T/append"
	run bash -c "set -o pipefail; timeout -k 5 $TMO '$IPCBOX' shm-read '$n' -o 3 | cat >'$T/piped'"
	assert_status 0
	cmp "$T/data2" "$T/piped"
	ipc shm-read "$n" --length 3 | cmp - <(head -c 3 /dev/zero)
	ipc shm-read "$n" >/dev/null
	run --separate-stderr bash -c "timeout -k 5 $TMO '$IPCBOX' shm-read '$n' >/dev/full"
	assert_status 1
	assert_one_line_error shm-read
	[[ $stderr == *"write output: No space left on device" ]]
}

@test "copy paths, POSIX: from a file and a pipe; to a file, an appending file, a pipe, /dev/null, /dev/full" {
	local n
	n=$(pname a)
	TEST_SHM+=("$n")
	ipc shm-create "$n" -s $((3 * 1048576 + 8))
	copy_paths "$n"
}

@test "copy paths, IPCBOX_COPY=plain: the same copies by read/write, POSIX and System V" {
	local n k
	export IPCBOX_COPY=plain
	n=$(pname a)
	TEST_SHM+=("$n")
	ipc shm-create "$n" -s $((3 * 1048576 + 8))
	copy_paths "$n"
	k=$(skey a)
	ipc shm-create "sysv:$k" -s $((3 * 1048576 + 8))
	TEST_SHM+=("sysv:$k")
	copy_paths "sysv:$k"
}

@test "copy paths, System V: the segment's descriptor (root) and its mapping (another user) (root)" {
	local k
	[ "$(id -u)" -eq 0 ] || skip "needs root: /proc/self/map_files and a second uid"
	k=$(skey a)
	ipc shm-create "sysv:$k" -s $((3 * 1048576 + 8)) --mode 0666
	TEST_SHM+=("sysv:$k")
	copy_paths "sysv:$k"
	# nobody may not open /proc/self/map_files: the copies use the mapping
	head -c $((3 * 1048576 + 5)) /dev/urandom >"$T/data3"
	other_ipcbox
	as_other "$OTHER_IPCBOX" shm-write "sysv:$k" -o 3 <"$T/data3"
	as_other "$OTHER_IPCBOX" shm-read "sysv:$k" -o 3 >"$T/back3"
	cmp "$T/data3" "$T/back3"
	ipc shm-read "sysv:$k" -o 3 | cmp - "$T/data3"
}

@test "copy paths, System V without map_files: process_vm_readv/writev and vmsplice on the mapping, as an ordinary user" {
	local k real=$IPCBOX
	k=$(skey a)
	if [ "$(id -u)" -eq 0 ]; then
		# root may open /proc/self/map_files: run every copy as nobody,
		# who may not, as every ordinary user is
		other_ipcbox
		printf '#!/bin/sh\nexec setpriv --reuid=%s --regid=%s --clear-groups "%s" "$@"\n' \
			"$OTHER_UID" "$OTHER_GID" "$OTHER_IPCBOX" >"$T/as-nobody"
		chmod 0755 "$T/as-nobody"
		IPCBOX=$T/as-nobody
	fi
	ipc shm-create "sysv:$k" -s $((3 * 1048576 + 8))
	TEST_SHM+=("sysv:$k")
	copy_paths "sysv:$k"
	# to a character device whose bytes can be compared: a raw pty, which
	# takes splice(2); then opened for append, which splice refuses (the
	# vmsplice path hands over what its pipe holds, then copies)
	for append in 0 1; do
		run timeout -k 5 "$TMO" python3 -c "$PTY_READER" "$append" "$T/data2" 2100000 \
			"$IPCBOX" shm-read "sysv:$k" -o 3 -l 2100000
		assert_status 0
	done
	# a range that starts and ends inside a page, under the lock (the
	# same-named semaphore): the snapshot paths
	head -c 10000 /dev/urandom >"$T/mid"
	ipc sem-create "sysv:$k" --value 1
	TEST_SEM+=("sysv:$k")
	ipc shm-read "sysv:$k" -o 4094 -l 1 >"$T/before"
	ipc shm-read "sysv:$k" -o 14095 -l 1 >>"$T/before"
	ipc shm-write "sysv:$k" -o 4095 --lock "$T/mid"
	ipc shm-read "sysv:$k" -o 4095 -l 10000 --lock | cmp - "$T/mid"
	# the bytes on either side are untouched
	{
		ipc shm-read "sysv:$k" -o 4094 -l 1
		ipc shm-read "sysv:$k" -o 14095 -l 1
	} | cmp - "$T/before"
	IPCBOX=$real
}

# SOCK_PEER in|out FILE CMD...: CMD with a stream socket for stdin (in: FILE
# sent to it 4 KiB at a time) or stdout (out: read 4 KiB at a time and
# compared with FILE); every 256 KiB CMD is stopped and continued, which
# cuts a blocked read or write short.  Never in the last MiB: CMD may be
# exiting by then, and a stop that lands in LeakSanitizer's stop-the-world
# at exit (make check) hung it.  Exits with CMD's status, or 3 if what
# came out differs.
SOCK_PEER='
import os, signal, socket, subprocess, sys
mode, path, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
a, b = socket.socketpair()
data = open(path, "rb").read()
p = subprocess.Popen(cmd, stdin=a if mode == "in" else subprocess.DEVNULL,
                     stdout=a if mode == "out" else None)
a.close()
def nudge(done):
    if done % 262144 < 4096 and done < len(data) - 1048576:
        p.send_signal(signal.SIGSTOP)
        p.send_signal(signal.SIGCONT)
got = bytearray()
if mode == "in":
    for i in range(0, len(data), 4096):
        b.sendall(data[i:i + 4096])
        nudge(i)
    b.shutdown(socket.SHUT_WR)
else:
    while True:
        d = b.recv(4096)
        if not d:
            break
        got += d
        nudge(len(got))
status = p.wait()
sys.exit(status or (0 if mode == "in" or got == data else 3))
'

@test "copy paths: a socket on stdin and stdout, read and written in pieces while the copy is stopped and continued; a file shorter than the room" {
	local n k seg copy
	n=$(pname a)
	k=$(skey a)
	TEST_SHM+=("$n" "sysv:$k")
	ipc shm-create "$n" -s $((3 * 1048576 + 8))
	ipc shm-create "sysv:$k" -s $((3 * 1048576 + 8))
	head -c $((3 * 1048576 + 5)) /dev/urandom >"$T/data"
	head -c 1000 /dev/urandom >"$T/short"
	{ cat "$T/short"; tail -c +1001 "$T/data"; } >"$T/data-short"
	for copy in default plain; do
		for seg in "$n" "sysv:$k"; do
			run timeout -k 5 "$TMO" python3 -c "$SOCK_PEER" in "$T/data" \
				env IPCBOX_COPY=$copy "$IPCBOX" shm-write "$seg" -o 3
			assert_status 0
			ipc shm-read "$seg" -o 3 | cmp - "$T/data"
			run timeout -k 5 "$TMO" python3 -c "$SOCK_PEER" out "$T/data" \
				env IPCBOX_COPY=$copy "$IPCBOX" shm-read "$seg" -o 3
			assert_status 0
			# 1000 bytes from a file: they land at the offset, the rest stays
			IPCBOX_COPY=$copy ipc shm-write "$seg" -o 3 "$T/short"
			ipc shm-read "$seg" -o 3 | cmp - "$T/data-short"
			IPCBOX_COPY=$copy ipc shm-read "$seg" -o 3 -l 1000 | cmp - "$T/short"
		done
	done
}

@test "shm-read: a stdout pipe is enlarged to 1 MiB (not under IPCBOX_COPY=plain), every byte arrives" {
	local n k
	n=$(pname a)
	k=$(skey a)
	TEST_SHM+=("$n" "sysv:$k")
	ipc shm-create "$n" -s 3000000
	ipc shm-create "sysv:$k" -s 3000000
	head -c 3000000 /dev/urandom >"$T/data"
	# the reader: every byte compared, then the pipe's size (F_GETPIPE_SZ)
	cat >"$T/reader" <<'PY'
#!/usr/bin/python3
import fcntl, sys
got = sys.stdin.buffer.read()
print(fcntl.fcntl(0, 1032), got == open(sys.argv[1], "rb").read())
PY
	chmod +x "$T/reader"
	for name in "$n" "sysv:$k"; do
		ipc shm-write "$name" "$T/data"
		run timeout -k 5 "$TMO" bash -c "set -o pipefail; '$IPCBOX' shm-read '$name' | '$T/reader' '$T/data'"
		assert_status 0
		[ "$output" = "1048576 True" ]
		run timeout -k 5 "$TMO" env IPCBOX_COPY=plain bash -c "set -o pipefail; '$IPCBOX' shm-read '$name' | '$T/reader' '$T/data'"
		assert_status 0
		[ "$output" = "65536 True" ]
	done
}

@test "shm-write: a file larger than the space left is refused before writing" {
	local n
	n=$(pname a)
	TEST_SHM+=("$n")
	ipc shm-create "$n" -s 8
	printf '0123456789' >"$T/ten"
	run --separate-stderr ipc shm-write "$n" "$T/ten"
	assert_status 1
	assert_one_line_error shm-write
	[[ $stderr == *"does not fit"* ]]
	[[ $stderr == *"nothing written"* ]]
	[ "$(ipc shm-read "$n" | tr -d '\0' | wc -c)" -eq 0 ]
}

@test "shm-write: a pipe with more bytes than fit fails with exit 1" {
	local n
	n=$(pname a)
	TEST_SHM+=("$n")
	ipc shm-create "$n" -s 8
	run --separate-stderr bash -c "printf 0123456789 | timeout $TMO $IPCBOX shm-write $n -o 4"
	assert_status 1
	[[ $stderr == "ipcbox shm-write: input larger than the 4 bytes from offset 4"* ]]
}

@test "shm-read --hex prints what xxd prints" {
	local n
	n=$(pname a)
	TEST_SHM+=("$n")
	ipc shm-create "$n" -s 40
	head -c 40 /dev/urandom >"$T/data"
	ipc shm-write "$n" "$T/data"
	run ipc shm-read "$n" --hex
	assert_output "$(xxd "$T/data")"
	run ipc shm-read "$n" -x -o 3 -l 20
	assert_output "$(xxd -s 3 -l 20 "$T/data")"
}

@test "shm-read: offset and length outside the segment are refused with exit 2" {
	local n
	n=$(pname a)
	TEST_SHM+=("$n")
	ipc shm-create "$n" -s 100
	run --separate-stderr ipc shm-read "$n" -o 101
	assert_status 2
	assert_one_line_error shm-read
	[[ $stderr == *"offset 101 is past the end"*"(100 bytes)"* ]]
	run --separate-stderr ipc shm-read "$n" -o 50 -l 51
	assert_status 2
	[[ $stderr == *"beyond the end"* ]]
	run --separate-stderr ipc shm-write "$n" -o 200 /dev/null
	assert_status 2
	run ipc shm-read "$n" -o 100
	assert_status 0
	assert_output ""
}

@test "sizes: the T suffix is tebibytes (1T, 1TiB, 1TB), overflow refused" {
	local n want
	n=$(pname a)
	TEST_SHM+=("$n")
	ipc shm-create "$n" -s 100
	want=$((1024 * 1024 * 1024 * 1024))
	for t in 1T 1TiB 1TB; do
		run --separate-stderr ipc shm-read "$n" -o "$t"
		assert_status 2
		assert_one_line_error shm-read
		[[ $stderr == *"offset $want is past the end"* ]]
	done
	run --separate-stderr ipc shm-write "$n" -o 3T /dev/null
	assert_status 2
	[[ $stderr == *"offset $((3 * want)) is past the end"* ]]
	# 2^64 bytes do not fit in 64 bits
	run --separate-stderr ipc shm-create "$n-big" -s 16777216T
	assert_status 2
	assert_one_line_error shm-create
	[[ $stderr == *"invalid size '16777216T'"* ]]
}

@test "--lock on a non-Qt name takes the semaphore of the same name (POSIX and System V)" {
	local n k name
	n=$(pname a)
	k=$(skey a)
	TEST_SHM+=("$n" "sysv:$k")
	TEST_SEM+=("$n" "sysv:$k")
	for name in "$n" "sysv:$k"; do
		ipc shm-create "$name" -s 16
		printf old | ipc shm-write "$name"
		ipc sem-create "$name" -v 0 # the lock, held by someone else
		run --separate-stderr ipc shm-read "$name" --lock -t 200ms -l 3
		assert_status 124
		assert_one_line_error shm-read
		[[ $stderr == *"lock still held by another process after the timeout"* ]]
		# A POSIX lock has no undo: the message names the repair.
		if [ "$name" = "$n" ]; then
			[[ $stderr == *"(if its holder was killed, sem-post /${n#/} gives it back)" ]]
		else
			[[ $stderr == *"after the timeout" ]]
		fi
		[ -z "$output" ]
		run --separate-stderr bash -c 'printf new | timeout "$1" "$2" shm-write "$3" --lock -t 200ms' _ "$TMO" "$IPCBOX" "$name"
		assert_status 124
		assert_one_line_error shm-write
		run ipc shm-read "$name" -l 3 # without --lock nobody waits
		assert_status 0
		assert_output old
		ipc sem-post "$name" # the lock is free: both go through, and give it back
		printf new | ipc shm-write "$name" --lock
		run ipc shm-read "$name" --lock -l 3
		assert_status 0
		assert_output new
		[ "$(sem_val "$name")" = 1 ]
	done
}

@test "System V: shm-create sysv:KEY, write, read, info, rm" {
	local k
	k=$(skey a)
	run ipc shm-create "sysv:$k" -s 4096
	assert_status 0
	TEST_SHM+=("sysv:$k")
	sysv_exists m "$k"
	printf 'sysv data' | ipc shm-write "sysv:$k"
	run ipc shm-read "sysv:$k" -l 9
	assert_output 'sysv data'
	run ipc shm-info "sysv:$k" --json
	assert_status 0
	assert_match '"backend":"sysv","key":"'"$k"'"'
	assert_match '"size":4096,"mode":"0600"'
	run ipc shm-rm "sysv:$k"
	assert_status 0
	! sysv_exists m "$k"
}

@test "System V: systemv:/path and sysv-id:ID name the same segment" {
	local k id
	: >"$T/qtfile"
	k=$(ftok_key "$T/qtfile")
	track_key "$k"
	TEST_SHM+=("sysv:$k")
	ipc shm-create "systemv:$T/qtfile" -s 100
	sysv_exists m "$k"
	printf 'same' | ipc shm-write "sysv:$k"
	run ipc shm-read "systemv:$T/qtfile" -l 4
	assert_output same
	id=$(ipc shm-info "sysv:$k" --json | sed 's/.*"id":\([0-9]*\).*/\1/')
	run ipc shm-read "sysv-id:$id" -l 4
	assert_output same
	# systemv-N:/path is ftok(path, N); percent-escapes are decoded
	k2=$(ftok_key "$T/qtfile" 7)
	track_key "$k2"
	TEST_SHM+=("sysv:$k2")
	ipc shm-create "systemv-7:${T//\//%2F}/qtfile" -s 10
	sysv_exists m "$k2"
}

# map_in_bg PATH: python maps PATH until $T/stop appears; returns once it
# has, with its pid in $T/ready
map_in_bg() {
	bg /usr/bin/python3 -c "
import mmap, os, sys, time
f = open(sys.argv[1], 'r+b'); m = mmap.mmap(f.fileno(), 4096)
open('$T/ready', 'w').write(str(os.getpid()))
while not os.path.exists('$T/stop'): time.sleep(0.01)
" "$1"
	wait_file "$T/ready"
}

@test "shm-info: names the processes that map a POSIX segment" {
	local n
	n=$(pname a)
	TEST_SHM+=("$n")
	ipc shm-create "$n" -s 4096
	map_in_bg "/dev/shm/$n"
	run ipc shm-info "$n" --json
	assert_status 0
	assert_match '"path":"/dev/shm/'"$n"'"'
	assert_match '"processes":\[\{"pid":[0-9]+,"command":"python3"\}\]'
	assert_match '"attached":1'
	run ipc shm-info "$n"
	assert_match "mapped by [0-9]+ python3"
	touch "$T/stop"
}

@test "shm-info: a process that maps an older segment of the same name, removed since, is not counted" {
	local n
	n=$(pname a)
	TEST_SHM+=("$n")
	ipc shm-create "$n" -s 4096
	map_in_bg "/dev/shm/$n"
	ipc shm-rm "$n"
	ipc shm-create "$n" -s 4096
	# its maps line reads "/dev/shm/NAME (deleted)": another file
	grep -q "/dev/shm/$n (deleted)" "/proc/$(cat "$T/ready")/maps"
	run ipc shm-info "$n" --json
	assert_status 0
	assert_match '"attached":0'
	assert_match '"processes":\[\]'
	touch "$T/stop"
}

@test "shm-info: a process that maps the segment under another path (a hard link) is counted" {
	local n
	n=$(pname a)
	TEST_SHM+=("$n" "$n-link")
	ipc shm-create "$n" -s 4096
	ln "/dev/shm/$n" "/dev/shm/$n-link"
	map_in_bg "/dev/shm/$n-link"
	run ipc shm-info "$n" --json
	assert_status 0
	assert_match '"attached":1'
	assert_match '"processes":\[\{"pid":[0-9]+,"command":"python3"\}\]'
	touch "$T/stop"
}

@test "shm-info: System V attach count and mapping processes" {
	local k
	k=$(skey a)
	TEST_SHM+=("sysv:$k")
	ipc shm-create "sysv:$k" -s 3M
	# shm-read stays attached while it waits to write into a full pipe
	# (3 MiB: more than the 1 MiB it enlarges the pipe to)
	mkfifo "$T/fifo"
	bg sh -c 'exec "$0" shm-read "$1" >"$2"' "$IPCBOX" "sysv:$k" "$T/fifo"
	local rd reader=$BG_PID
	exec {rd}<"$T/fifo"
	wait_for sh -c "timeout $TMO $IPCBOX shm-info sysv:$k | grep -q 'attached  1'"
	run ipc shm-info "sysv:$k" --json
	assert_match '"attached":1'
	assert_match '"processes":\[\{"pid":[0-9]+,"command":"ipcbox[^"]*"\}\]'
	# its reader gone, shm-read ends on SIGPIPE, quietly (128 + 13), at
	# once: this test takes that status, before teardown would stop it
	exec {rd}<&-
	wait_status "$reader"
	assert_status 141
}

@test "shm-info: says when some processes could not be inspected (root)" {
	need_root
	local n
	n=$(pname a)
	TEST_SHM+=("$n")
	ipc shm-create "$n" -s 10 -m 644
	other_ipcbox
	run as_other "$OTHER_IPCBOX" shm-info "$n"
	assert_status 0
	assert_match 'processes could not be inspected'
}

@test "shm-list: lists POSIX and System V segments, text and JSON" {
	local n k
	n=$(pname a)
	k=$(skey a)
	TEST_SHM+=("$n" "sysv:$k")
	ipc shm-create "$n" -s 123
	ipc shm-create "sysv:$k" -s 456
	run ipc shm-list
	assert_status 0
	assert_match "posix +/$n +123 0600 $(id -un)"
	assert_match "sysv +sysv:$k +456 0600 $(id -un) +0"
	run ipc shm-list --json
	assert_match '\{"backend":"posix","name":"/'"$n"'","size":123,"mode":"0600","uid":'"$(id -u)"'\}'
	assert_match '\{"backend":"sysv","name":"sysv:'"$k"'","size":456,"mode":"0600","uid":'"$(id -u)"',"attached":0\}'
	python3 -c 'import json,sys; json.load(sys.stdin)' <<<"$output"
}

@test "shm-rm: removes several, reports the missing one, exit 1" {
	local a b
	a=$(pname a)
	b=$(pname b)
	ipc shm-create "$a" -s 1
	run --separate-stderr ipc shm-rm "$a" "$b"
	assert_status 1
	[ "$stderr" = "ipcbox shm-rm: $b: no such segment" ]
	[ ! -e "/dev/shm/$a" ]
}

@test "permission denied is reported with exit 1 (root)" {
	need_root
	local n k
	n=$(pname a)
	k=$(skey a)
	TEST_SHM+=("$n" "sysv:$k")
	ipc shm-create "$n" -s 10
	ipc shm-create "sysv:$k" -s 10
	other_ipcbox
	run --separate-stderr as_other "$OTHER_IPCBOX" shm-read "$n"
	assert_status 1
	[ "$stderr" = "ipcbox shm-read: $n: Permission denied" ]
	run --separate-stderr as_other "$OTHER_IPCBOX" shm-write "sysv:$k" /dev/null
	assert_status 1
	[ "$stderr" = "ipcbox shm-write: sysv:$k: Permission denied" ]
}

@test "bad inputs: every shm applet exits 2 with one line naming the bad text" {
	local long
	long=$(printf 'x%.0s' {1..256})
	while IFS='|' read -r want args; do
		# shellcheck disable=SC2086
		run --separate-stderr ipc $args
		[ "$status" -eq 2 ] && [ -z "$output" ] && [ "${#stderr_lines[@]}" -eq 1 ] &&
			[[ $stderr == *"$want"* ]] ||
			{ echo "$args: $status [$output] [$stderr], want '$want'" >&2; return 1; }
	done <<EOF
invalid size '12Q'|shm-create ipcbox-test-x --size 12Q
invalid size '-1'|shm-create ipcbox-test-x --size -1
invalid size '0'|shm-create ipcbox-test-x --size 0
missing --size|shm-create ipcbox-test-x
invalid mode '999'|shm-create ipcbox-test-x -s 1 -m 999
invalid name 'a/b'|shm-create a/b -s 1
invalid name '$long'|shm-create $long -s 1
invalid name 'sysv:0x1g'|shm-read sysv:0x1g
invalid name 'sysv:0x100000000'|shm-read sysv:0x100000000
invalid name 'sysv:0'|shm-create sysv:0 -s 1
invalid name 'sysv-id:x'|shm-info sysv-id:x
invalid name 'systemv-0:$T'|shm-info systemv-0:$T
invalid name 'systemv-256:$T'|shm-info systemv-256:$T
invalid name 'qt:'|shm-read qt:
invalid name 'what:ever'|shm-rm what:ever
invalid name '/'|shm-rm /
cannot create by id|shm-create sysv-id:5 -s 1
invalid offset 'x'|shm-read ipcbox-test-x -o x
invalid length '1.5'|shm-read ipcbox-test-x -l 1.5
invalid timeout 'soon'|shm-read ipcbox-test-x -t soon
missing operand|shm-read
unexpected operand 'b'|shm-read a b
unexpected operand 'x'|shm-list x
missing operand|shm-rm
invalid offset '-4'|shm-write ipcbox-test-x -o -4
invalid timeout 'x'|shm-write ipcbox-test-x -t x
unexpected operand 'c'|shm-write a b c
unknown option '-q'|shm-info a -q
EOF
}

@test "a missing segment: exit 1, one line" {
	local n
	n=$(pname none)
	for a in shm-read shm-info shm-rm; do
		run --separate-stderr ipc "$a" "$n"
		assert_status 1
		[ "$stderr" = "ipcbox $a: $n: no such segment" ]
	done
	run --separate-stderr ipc shm-write "$n" /dev/null
	assert_status 1
	run --separate-stderr ipc shm-read "systemv:$T/nofile"
	assert_status 1
	[[ $stderr == "ipcbox shm-read: systemv:$T/nofile: no such segment" ]]
}

@test "completion: shm applets offer existing POSIX names and sysv keys" {
	local n k
	n=$(pname a)
	k=$(skey a)
	TEST_SHM+=("$n" "sysv:$k")
	ipc shm-create "$n" -s 1
	ipc shm-create "sysv:$k" -s 1
	run ipc --complete shm-read
	assert_status 0
	grep -qx "$n" <<<"$output"
	grep -qx "sysv:$k" <<<"$output"
}

@test "unit: SHA-1 test vectors and the xxd layout" {
	run "$IPCBOX_UNIT/sha1"
	assert_status 0
}

@test "unit: NAME syntax and Qt's key file names" {
	run "$IPCBOX_UNIT/ipcname"
	assert_status 0
}

@test "unit: listed System V names, missing objects, removal of POSIX objects by NAME" {
	run "$IPCBOX_UNIT/ipcobj"
	assert_status 0
}

@test "unit: lines read in blocks (shm-info's maps, passwd): whole lines whatever the read sizes, overlong lines skipped whole" {
	run "$IPCBOX_UNIT/io"
	assert_status 0
}
