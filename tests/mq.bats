#!/usr/bin/env bats
# mq-create, mq-send, mq-recv, mq-peek, mq-info, mq-list, mq-rm on POSIX and
# System V message queues, against real peers: a C program using glibc's
# mq_open/mq_send/mq_receive (tests/peers/mq_peer.c), util-linux ipcmk,
# ipcs and ipcrm, and Python's sysv_ipc.

bats_require_minimum_version 1.5.0
load helpers
load ipc_helpers

PY=/usr/bin/python3
MQ_PEER=$BATS_TEST_DIRNAME/../build/test/mq_peer

setup_file() {
	local src=$BATS_TEST_DIRNAME/peers/mq_peer.c
	mkdir -p "$(dirname "$MQ_PEER")"
	if [ ! -x "$MQ_PEER" ] || [ "$src" -nt "$MQ_PEER" ]; then
		timeout -k 5 120 cc -Wall -Wextra -Werror -O1 -o "$MQ_PEER.tmp.$$" "$src" && mv "$MQ_PEER.tmp.$$" "$MQ_PEER"
	fi
}

# peer ARGS...: the C peer under the harness.
peer() {
	harness "$MQ_PEER" "$@"
}

# pq SUFFIX: sets Q to a new POSIX queue name of this test, registered.
pq() {
	Q=$(mqname "$1")
	TEST_MQ+=("$Q")
}

# sq SUFFIX: sets K to a new System V key of this test, registered.
sq() {
	K=$(skey "$1")
	TEST_MQ+=("sysv:$K")
}

# info_field NAME FIELD: one number from mq-info --json.
info_field() {
	"$IPCBOX" mq-info --json "$1" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$2"
}

# child_of PID: the one child of PID (the applet that timeout(1) runs).
# (A /proc file's size is 0: read it, not test -s.)
child_of() {
	local c= deadline=$((SECONDS + TMO))
	while :; do
		read -r c _ <"/proc/$1/task/$1/children" || true
		[ -z "$c" ] || break
		((SECONDS < deadline)) || { echo "child_of: no child of $1" >&2; return 1; }
		sleep 0.01
	done
	echo "$c"
}

@test "mq-create: POSIX queue, mode 0600, the sizes asked for, exclusive, --exist-ok" {
	pq a
	run ipc mq-create "$Q" --max-messages 4 --message-size 100
	assert_status 0
	run peer attr "/$Q"
	assert_output "4 100 0"
	run ipc mq-info --json "$Q"
	assert_match '"mode":"0600"'
	run --separate-stderr ipc mq-create "$Q"
	assert_status 1
	assert_one_line_error mq-create
	[[ $stderr == *"File exists"* ]]
	run ipc mq-create "$Q" --exist-ok
	assert_status 0
}

@test "mq-create: --mode applies exactly, despite the umask, POSIX and System V" {
	pq a
	sq a
	(umask 077 && "$IPCBOX" mq-create "$Q" --mode 0640 && "$IPCBOX" mq-create "sysv:$K" -m 640)
	run ipc mq-info --json "$Q"
	assert_match '"mode":"0640"'
	run ipc mq-info --json "sysv:$K"
	assert_match '"mode":"0640"'
	# util-linux sees the same queue
	run harness ipcs -q -i "$(info_field "sysv:$K" id)"
	assert_status 0
	assert_match 'mode=0640'
}

@test "mq-create: System V exclusive, --exist-ok, --max-bytes as ipcs shows it" {
	sq a
	ipc mq-create "sysv:$K" --max-bytes 1K
	run --separate-stderr ipc mq-create "sysv:$K"
	assert_status 1
	assert_one_line_error mq-create
	run ipc mq-create "sysv:$K" --exist-ok
	assert_status 0
	run harness ipcs -q -i "$(info_field "sysv:$K" id)"
	assert_match 'qbytes=1024'
	[ "$(info_field "sysv:$K" max_bytes)" = 1024 ]
}

@test "mq-create: limits from /proc/sys/fs/mqueue named when exceeded" {
	pq a
	run --separate-stderr ipc mq-create "$Q" --max-messages 100000 --message-size 16
	assert_status 1
	assert_one_line_error mq-create
	[[ $stderr == *"msg_max ($(cat /proc/sys/fs/mqueue/msg_max), /proc/sys/fs/mqueue/msg_max)"* ]]
	run --separate-stderr ipc mq-create "$Q" --max-messages 1 --message-size 64M
	assert_status 1
	[[ $stderr == *"msgsize_max ($(cat /proc/sys/fs/mqueue/msgsize_max)"* ]]
	run ipc mq-info "$Q"
	assert_status 1
}

@test "mq-create --max-bytes past msgmnb without privilege: msgmnb and CAP_SYS_RESOURCE named, nothing left" {
	sq a
	local over=$(($(cat /proc/sys/kernel/msgmnb) + 1))
	if [ "$(id -u)" -eq 0 ]; then
		other_ipcbox
		run --separate-stderr as_other "$OTHER_IPCBOX" mq-create "sysv:$K" --max-bytes "$over"
	else
		run --separate-stderr ipc mq-create "sysv:$K" --max-bytes "$over"
	fi
	assert_status 1
	assert_one_line_error mq-create
	[[ $stderr == *"msgmnb ($((over - 1)), /proc/sys/kernel/msgmnb)"*CAP_SYS_RESOURCE* ]]
	run ipc mq-info "sysv:$K"
	assert_status 1
}

@test "bad input: names, sizes, conflicting options: one line, exit 2, nothing made" {
	local args
	pq a
	sq a
	while IFS= read -r args; do
		# shellcheck disable=SC2086
		eval "run --separate-stderr ipc $args"
		[ "$status" -eq 2 ] && [ "${#stderr_lines[@]}" -eq 1 ] && [ -z "$output" ] ||
			{ echo "$args: status $status, stderr [$stderr], out [$output]" >&2; return 1; }
	done <<EOF
mq-create sysv:0xzz
mq-create sysv:0
mq-create qt:key
mq-create 'a/b'
mq-create posix:
mq-create sysv:id=x
mq-create sysv:$T/f:0
mq-create sysv:$T/f:256
mq-create sysv::7
mq-create "$Q" --max-messages 0
mq-create "$Q" --message-size 12Q
mq-create "$Q" --max-bytes 100
mq-create sysv:$K --max-messages 3
mq-create sysv:$K --mode 1777
mq-create sysv-id:1
mq-send "$Q" --type 2 x
mq-send sysv:$K --priority 1 x
mq-send "$Q" --priority 32768 x
mq-send sysv:$K --type 0 x
mq-send "$Q" --nowait -t 1s x
mq-send "$Q" -l data
mq-send "$Q" a b
mq-send "$Q" -t 1x x
mq-recv "$Q" --type 1
mq-recv sysv:$K --json --hex
mq-recv sysv:$K -0 -e cat
mq-recv sysv:$K -c 0
mq-recv sysv:$K --type 1.5
mq-recv
mq-info
mq-list extra
mq-rm
mq-peek sysv:$K --bogus
EOF
	run ipc mq-info "$Q"
	assert_status 1
	run ipc mq-info "sysv:$K"
	assert_status 1
}

@test "POSIX: ipcbox sends with priorities, the C peer takes them highest first, FIFO within one" {
	pq a
	ipc mq-create "$Q"
	ipc mq-send "$Q" --priority 1 low1
	ipc mq-send "$Q" --priority 9 high
	ipc mq-send "$Q" low2 --priority 1
	ipc mq-send "$Q" zero
	run peer recv "/$Q" 4
	assert_status 0
	assert_output "9 4 high
1 4 low1
1 4 low2
0 4 zero"
}

@test "POSIX: the C peer sends, mq-recv takes them highest first with their priorities" {
	pq a
	peer create "/$Q" 10 64
	peer send "/$Q" 2 b1 b2
	peer send "/$Q" 7 a1
	run --separate-stderr ipc mq-recv "$Q" -c 3 --json
	assert_status 0
	assert_output '{"priority":7,"size":2,"data":"a1"}
{"priority":2,"size":2,"data":"b1"}
{"priority":2,"size":2,"data":"b2"}'
	[ "$(info_field "$Q" messages)" = 0 ]
}

@test "boundaries: a message with newlines and NULs arrives whole with --raw and -0, POSIX and System V" {
	local name
	pq a
	sq a
	printf 'line one\n\0two\n\n' >"$T/msg"
	for name in "$Q" "sysv:$K"; do
		ipc mq-create "$name"
		ipc mq-send "$name" <"$T/msg"
		ipc mq-send "$name" <"$T/msg"
		ipc mq-recv "$name" -c 1 --raw >"$T/raw"
		cmp "$T/msg" "$T/raw"
		ipc mq-recv "$name" -c 1 -0 >"$T/nul"
		printf '\0' | cat "$T/msg" - | cmp - "$T/nul"
	done
}

@test "text output: printable UTF-8 as is, newline, backslash, control and non-UTF-8 bytes escaped; printf %b restores them" {
	sq a
	ipc mq-create "sysv:$K"
	printf 'caf\xc3\xa9 a\\b\nc\x01\xff\t' >"$T/msg"
	ipc mq-send "sysv:$K" <"$T/msg"
	run ipc mq-recv "sysv:$K" -c 1
	assert_status 0
	assert_output 'café a\\b\nc\x01\xff\t'
	printf '%b' "$output" | cmp - "$T/msg"
}

@test "--hex: xxd's layout per message; --json: type, size, lossless data" {
	sq a
	ipc mq-create "sysv:$K"
	printf 'hello, message queue\n' >"$T/msg"
	ipc mq-send "sysv:$K" --type 3 <"$T/msg"
	ipc mq-send "sysv:$K" --type 4 "$(printf 'x\xfe')"
	run ipc mq-recv "sysv:$K" -c 1 --hex
	assert_output "$(xxd "$T/msg")"
	run ipc mq-recv "sysv:$K" -c 1 --json
	assert_output '{"type":4,"size":2,"data":"x\udcfe"}'
}

@test "mq-send -l: one message per line, an empty line an empty message, the last line without newline too" {
	pq a
	ipc mq-create "$Q"
	printf 'one\n\nthree' | ipc mq-send "$Q" -l
	run peer recv "/$Q" 3
	assert_output "0 3 one
0 0 
0 5 three"
}

@test "message size: a longer line, stdin or DATA is refused with the limit named, exit 1, nothing sent" {
	pq a
	ipc mq-create "$Q" --max-messages 2 --message-size 8
	run --separate-stderr ipc mq-send "$Q" 123456789
	assert_status 1
	assert_one_line_error mq-send
	[[ $stderr == *"9 bytes"*"(8, its message size)"* ]]
	printf 'ok\n123456789\n' >"$T/lines"
	run --separate-stderr ipc mq-send -l "$Q" <"$T/lines"
	assert_status 1
	[[ $stderr == *"line 2 is longer than the queue's messages (8 bytes)"* ]]
	run --separate-stderr ipc mq-send "$Q" <"$T/lines"
	assert_status 1
	[[ $stderr == *"standard input is longer"* ]]
	[ "$(info_field "$Q" messages)" = 1 ] # the line before the long one
}

@test "full queue: --nowait exit 1, --timeout exit 124, POSIX and System V" {
	local name
	pq a
	sq a
	ipc mq-create "$Q" --max-messages 1 --message-size 16
	ipc mq-create "sysv:$K" --max-bytes 16
	for name in "$Q" "sysv:$K"; do
		ipc mq-send "$name" 0123456789abcdef
		run --separate-stderr ipc mq-send "$name" x --nowait
		assert_status 1
		assert_one_line_error mq-send
		[[ $stderr == *"the queue is full" ]]
		run --separate-stderr ipc mq-send "$name" x -t 200ms
		assert_timed_out mq-send
		[[ $stderr == *"timed out waiting for room in the queue" ]]
		[ "$(info_field "$name" messages)" = 1 ]
	done
}

@test "full queue: a blocked sender goes on when a receiver makes room, POSIX and System V" {
	local name p
	pq a
	sq a
	ipc mq-create "$Q" --max-messages 1 --message-size 16
	ipc mq-create "sysv:$K" --max-bytes 4
	for name in "$Q" "sysv:$K"; do
		ipc mq-send "$name" aaaa
		bg "$IPCBOX" mq-send "$name" bbbb -t 10s
		p=$BG_PID
		run ipc mq-recv "$name" -c 1
		assert_output aaaa
		wait_status "$p"
		assert_status 0
		run ipc mq-recv "$name" -c 1 -t 5s
		assert_output bbbb
	done
}

@test "empty queue: mq-recv -t exits 124; a blocked receiver wakes when a message comes, POSIX and System V" {
	local name p
	pq a
	sq a
	for name in "$Q" "sysv:$K"; do
		ipc mq-create "$name"
		run --separate-stderr ipc mq-recv "$name" -t 200ms
		assert_timed_out mq-recv
		[ "$stderr" = "ipcbox mq-recv: $name: timed out waiting for a message" ]
		run --separate-stderr ipc mq-recv "$name" -c 1 -t 0
		assert_status 124
		bg sh -c '"$0" mq-recv "$1" -c 1 -t 15s >"$2"' "$IPCBOX" "$name" "$T/got"
		p=$BG_PID
		ipc mq-send "$name" wake
		wait_status "$p"
		assert_status 0
		[ "$(cat "$T/got")" = wake ]
	done
}

@test "System V --type: N takes the first of type N, -N the lowest type up to N, 0 the first" {
	sq a
	ipc mq-create "sysv:$K"
	ipc mq-send "sysv:$K" --type 5 five
	ipc mq-send "sysv:$K" --type 3 three
	ipc mq-send "sysv:$K" --type 7 seven
	ipc mq-send "sysv:$K" --type 2 two
	run ipc mq-recv "sysv:$K" -c 1 --type 7
	assert_output seven
	run ipc mq-recv "sysv:$K" -c 1 --type -4
	assert_output two
	run ipc mq-recv "sysv:$K" -c 1 --type 0
	assert_output five
	run --separate-stderr ipc mq-recv "sysv:$K" -c 1 --type 9 -t 100ms
	assert_status 124
	run ipc mq-recv "sysv:$K" -c 1 --json
	assert_output '{"type":3,"size":5,"data":"three"}'
}

@test "mq-peek: System V messages shown without taking them (MSG_COPY): counts and bytes unchanged" {
	local id before
	sq a
	ipc mq-create "sysv:$K"
	ipc mq-send "sysv:$K" --type 2 first
	ipc mq-send "sysv:$K" --type 9 "$(printf 'sec\nond')"
	id=$(info_field "sysv:$K" id)
	before=$(ipcs -q | awk -v id="$id" '$2 == id { print $5, $6 }')
	[ "$before" = "12 2" ]
	run ipc mq-peek "sysv:$K"
	assert_status 0
	assert_output 'first
sec\nond'
	run ipc mq-peek "sysv:$K" --json
	assert_output '{"type":2,"size":5,"data":"first"}
{"type":9,"size":7,"data":"sec\nond"}'
	[ "$(ipcs -q | awk -v id="$id" '$2 == id { print $5, $6 }')" = "$before" ]
	run ipc mq-recv "sysv:$K" -c 2
	assert_output 'first
sec\nond'
}

@test "mq-peek: a POSIX queue is refused in one line, exit 1, its messages left alone" {
	pq a
	ipc mq-create "$Q"
	ipc mq-send "$Q" keep
	run --separate-stderr ipc mq-peek "$Q"
	assert_status 1
	assert_one_line_error mq-peek
	[[ $stderr == *"cannot be read without taking its messages"* ]]
	[ -z "$output" ]
	[ "$(info_field "$Q" messages)" = 1 ]
}

@test "mq-info: System V counts, limits, owner and last sender agree with ipcs -q -i and the kernel's table" {
	local id pid
	sq a
	ipc mq-create "sysv:$K" --max-bytes 2048
	# Python's sysv_ipc sends, and says who it is
	pid=$(harness "$PY" -c '
import os, sys, sysv_ipc
sysv_ipc.MessageQueue(int(sys.argv[1], 16)).send(b"abcdef")
print(os.getpid())' "$K")
	id=$(info_field "sysv:$K" id)
	run ipc mq-info --json "sysv:$K"
	assert_status 0
	assert_match '"backend":"sysv","key":"'"$K"'","id":'"$id"',"messages":1,"bytes":6,"max_bytes":2048,"mode":"0600","uid":'"$(id -u)"
	assert_match '"last_send_pid":'"$pid"','
	run harness ipcs -q -i "$id"
	assert_match 'qbytes=2048'
	assert_match 'qnum=1'
	assert_match "lspid=$pid"
	run ipc mq-info "sysv:id=$id"
	assert_match "key        $K"
	assert_match "last send  pid $pid, "
	run ipc mq-info "sysv-id:$id"
	assert_match "messages   1"
}

@test "mq-info: POSIX messages, limits and queued bytes (QSIZE) as the C peer sees them" {
	pq a
	peer create "/$Q" 5 32
	peer send "/$Q" 1 abc defgh
	run ipc mq-info "$Q"
	assert_status 0
	assert_match 'messages   2 of 5'
	assert_match 'msg size   32'
	assert_match 'bytes      8'
	assert_match 'notify     none'
	run ipc mq-info --json "$Q"
	assert_match '"messages":2,"max_messages":5,"message_size":32,"bytes":8,'
}

@test "mq-info: the process registered with mq_notify, its signal and sigev_notify" {
	local pid
	pq a
	peer create "/$Q" 5 32
	bg "$MQ_PEER" notify "/$Q" "$T/ready"
	wait_file "$T/ready"
	pid=$(cat "$T/ready")
	run ipc mq-info --json "$Q"
	assert_match '"notify":0,"signo":10,"notify_pid":'"$pid"','
	run ipc mq-info "$Q"
	assert_match "notify     pid $pid \(sigev_notify 0, signal 10\)"
}

@test "mq-list: both kinds in text and JSON; POSIX through the mqueue file system or a one-line note how to mount it" {
	pq a
	sq a
	ipc mq-create "$Q" --max-messages 3 --message-size 40
	ipc mq-create "sysv:$K"
	ipc mq-send "sysv:$K" hello
	run --separate-stderr ipc mq-list --json
	assert_status 0
	"$PY" -c '
import json, sys
rows = json.loads(sys.argv[1])
sysv = [r for r in rows if r["name"] == "sysv:" + sys.argv[2]]
assert len(sysv) == 1 and sysv[0]["messages"] == 1 and sysv[0]["bytes"] == 5, sysv
' "$output" "$K"
	if grep -q ' /dev/mqueue mqueue ' /proc/mounts || [ "$(id -u)" -eq 0 ]; then
		# mounted, or root: a private mount of our own (fsmount)
		[ -z "$stderr" ]
		"$PY" -c '
import json, sys
rows = json.loads(sys.argv[1])
p = [r for r in rows if r["name"] == "/" + sys.argv[2]]
assert len(p) == 1 and p[0]["backend"] == "posix" and p[0]["max_messages"] == 3 and p[0]["message_size"] == 40, p
' "$output" "$Q"
	else
		[ "${#stderr_lines[@]}" -eq 1 ]
		[[ $stderr == "ipcbox mq-list: POSIX queues not listed: "*"mount -t mqueue none /dev/mqueue"* ]]
	fi
	run ipc mq-list
	assert_match "sysv +sysv:$K +1 +5 "
}

@test "mq-list: IPCBOX_MQUEUE_DIR not an mqueue file system: a note, System V still listed" {
	sq a
	ipc mq-create "sysv:$K"
	IPCBOX_MQUEUE_DIR=$T run --separate-stderr ipc mq-list
	assert_status 0
	[ "$stderr" = "ipcbox mq-list: POSIX queues not listed: no mqueue file system at $T (as root: mount -t mqueue none /dev/mqueue)" ]
	assert_match "sysv:$K"
}

@test "mq-list: POSIX queues through an mqueue mount at IPCBOX_MQUEUE_DIR (root)" {
	need_root
	pq a
	ipc mq-create "$Q" --max-messages 3 --message-size 16
	ipc mq-send "$Q" abc
	mkdir "$T/mq"
	run harness unshare -m sh -c 'mount -t mqueue none "$1" && IPCBOX_MQUEUE_DIR=$1 "$2" mq-list' sh "$T/mq" "$IPCBOX"
	assert_status 0
	assert_match "posix +/$Q +1 +3 +3x16 0600 "
}

@test "mq-rm: several names, a missing one reported, exit 1; an invalid name removes nothing, exit 2" {
	pq a
	sq a
	ipc mq-create "$Q"
	ipc mq-create "sysv:$K"
	run --separate-stderr ipc mq-rm "$Q" 'sysv:zz'
	assert_status 2
	run ipc mq-info "$Q"
	assert_status 0
	run --separate-stderr ipc mq-rm "$Q" "$Q-missing" "sysv:$K"
	assert_status 1
	[ "$stderr" = "ipcbox mq-rm: $Q-missing: no such queue" ]
	run ipc mq-info "$Q"
	assert_status 1
	run ipc mq-info "sysv:$K"
	assert_status 1
}

@test "util-linux: ipcbox uses a queue ipcmk -Q made (sysv:id=ID, sysv-id:ID); ipcs counts; ipcrm removes ipcbox's" {
	local id k2
	id=$(harness ipcmk -Q -p 0600 | awk '{ print $NF }')
	[ -n "$id" ]
	TEST_MQ+=("sysv:id=$id")
	ipc mq-send "sysv:id=$id" --type 4 from-ipcbox
	run harness ipcs -q -i "$id"
	assert_match 'qnum=1'
	run ipc mq-recv "sysv-id:$id" -c 1 --json
	assert_output '{"type":4,"size":11,"data":"from-ipcbox"}'
	ipc mq-rm "sysv:id=$id"
	run harness ipcs -q -i "$id"
	assert_match "id $id not found"
	sq b
	k2=$K
	ipc mq-create "sysv:$k2"
	run harness ipcrm -Q "$k2"
	assert_status 0
	run ipc mq-info "sysv:$k2"
	assert_status 1
}

@test "python sysv_ipc: both directions with types; sysv:PATH:PROJ is sysv_ipc's ftok(PATH, PROJ)" {
	local k
	: >"$T/keyfile"
	k=$("$PY" -c 'import sys, sysv_ipc; print("0x%08x" % (sysv_ipc.ftok(sys.argv[1], 7, silence_warning=True) & 0xffffffff))' "$T/keyfile")
	track_key "$k"
	TEST_MQ+=("sysv:$k")
	ipc mq-create "sysv:$T/keyfile:7"
	"$PY" -c '
import sys, sysv_ipc
q = sysv_ipc.MessageQueue(int(sys.argv[1], 16))
q.send(b"py-two", type=2)
q.send(b"py\x00bin", type=6)
' "$k"
	run ipc mq-recv "sysv:$k" -c 1 --type 6 --json
	assert_output '{"type":6,"size":6,"data":"py\u0000bin"}'
	ipc mq-send "sysv:$T/keyfile:7" --type 9 from-ipcbox
	run harness "$PY" -c '
import sys, sysv_ipc
q = sysv_ipc.MessageQueue(int(sys.argv[1], 16))
print(q.receive(type=9, block=False), q.receive(block=False))
' "$k"
	assert_output "(b'from-ipcbox', 9) (b'py-two', 2)"
	# systemv-N:/path (Qt's form) and sysv:PATH:PROJ name the same key
	run ipc mq-info --json "systemv-7:$T/keyfile"
	assert_match '"key":"'"$k"'"'
	# a one-character PROJ is that character's code, as ftok(path, 'A')
	k=$(ftok_key "$T/keyfile" 65)
	track_key "$k"
	TEST_MQ+=("sysv:$k")
	ipc mq-create "sysv:$T/keyfile:A"
	run ipc mq-info --json "sysv:$k"
	assert_status 0
	assert_match '"key":"'"$k"'"'
}

@test "mq-recv -e: a command per message, data on stdin, MQ_NAME and MQ_PRIORITY / MQ_TYPE; -c exits with the last status" {
	pq a
	sq a
	ipc mq-create "$Q"
	ipc mq-create "sysv:$K"
	ipc mq-send "$Q" --priority 4 p1
	ipc mq-send "$Q" --priority 2 p2
	run ipc mq-recv "$Q" -c 2 -e 'printf "%s %s %s\n" "$MQ_NAME" "$MQ_PRIORITY" "$(cat)"'
	assert_status 0
	assert_output "$Q 4 p1
$Q 2 p2"
	ipc mq-send "sysv:$K" --type 8 "$(printf 'a\nb')"
	run ipc mq-recv "sysv:$K" -c 1 -e 'printf "%s " "$MQ_TYPE"; od -An -c | tr -s " "; exit 5'
	assert_status 5
	assert_output '8  a \n b'
}

@test "SIGINT and SIGTERM between messages end mq-recv with 0, what it took printed, POSIX and System V" {
	local name sig p c
	pq a
	sq a
	for name in "$Q" "sysv:$K"; do
		ipc mq-create "$name"
		for sig in INT TERM; do
			ipc mq-send "$name" "before-$sig"
			bg sh -c 'exec "$0" mq-recv "$1" >"$2"' "$IPCBOX" "$name" "$T/out"
			p=$BG_PID
			wait_file "$T/out"
			c=$(child_of "$p")
			[ -n "$c" ]
			kill "-$sig" "$c"
			wait_status "$p"
			assert_status 0
			[ "$(cat "$T/out")" = "before-$sig" ]
			rm "$T/out"
		done
	done
}

@test "concurrency: 3 senders and 3 receivers, every message received exactly once, POSIX and System V" {
	local name i j c total=900 r s
	pq a
	sq a
	ipc mq-create "$Q" --max-messages 5 --message-size 64
	ipc mq-create "sysv:$K" --max-bytes 256
	for name in "$Q" "sysv:$K"; do
		r=()
		s=()
		for i in 1 2 3; do
			bg sh -c 'exec "$0" mq-recv "$1" >"$2"' "$IPCBOX" "$name" "$T/r$i"
			r+=("$BG_PID")
		done
		for i in 1 2 3; do
			seq -f "s$i-%g" 1 300 >"$T/in$i"
			bgi "$IPCBOX" mq-send "$name" -l <"$T/in$i"
			s[i]=$BG_PID
		done
		for i in 1 2 3; do
			wait_status "${s[i]}"
			assert_status 0
		done
		wait_for sh -c '[ "$(cat "$0"/r1 "$0"/r2 "$0"/r3 | wc -l)" -ge "$1" ]' "$T" "$total"
		for i in 1 2 3; do
			c=$(child_of "${r[i - 1]}")
			[ -n "$c" ]
			kill -TERM "$c"
			wait_status "${r[i - 1]}"
			assert_status 0
		done
		cat "$T/in1" "$T/in2" "$T/in3" | sort >"$T/want"
		cat "$T/r1" "$T/r2" "$T/r3" | sort >"$T/got"
		cmp "$T/want" "$T/got"
		# each sender's messages in order at each receiver
		for i in 1 2 3; do
			for j in 1 2 3; do
				grep -h "^s$j-" "$T/r$i" | cut -d- -f2 | sort -n -c
			done
		done
		rm "$T"/r? "$T"/in?
	done
}

@test "permission denied (root): another user cannot send to, take from or remove 0600 queues; their counts stay" {
	need_root
	other_ipcbox
	pq a
	sq a
	chmod 0711 "$T"
	ipc mq-create "$Q"
	ipc mq-create "sysv:$K"
	local name
	for name in "$Q" "sysv:$K"; do
		ipc mq-send "$name" mine
		run --separate-stderr as_other "$OTHER_IPCBOX" mq-send "$name" theirs
		assert_status 1
		assert_one_line_error mq-send
		[[ $stderr == *"Permission denied" ]]
		run --separate-stderr as_other "$OTHER_IPCBOX" mq-recv "$name" -c 1 -t 1s
		assert_status 1
		[[ $stderr == *"Permission denied" ]]
		run --separate-stderr as_other "$OTHER_IPCBOX" mq-rm "$name"
		assert_status 1
		[ "$(info_field "$name" messages)" = 1 ]
	done
	run --separate-stderr as_other "$OTHER_IPCBOX" mq-peek "sysv:$K"
	assert_status 1
	[[ $stderr == *"Permission denied" ]]
}

@test "an ordinary user's run (root): another uid and gid create, use and remove their own queues" {
	need_root
	other_ipcbox
	pq a
	sq a
	chmod 0711 "$T"
	local name
	for name in "$Q" "sysv:$K"; do
		run as_other "$OTHER_IPCBOX" mq-create "$name"
		assert_status 0
		run ipc mq-info --json "$name"
		assert_match '"mode":"0600","uid":'"$OTHER_UID"',"gid":'"$OTHER_GID"
		run as_other sh -c '"$0" mq-send "$1" hi && "$0" mq-recv "$1" -c 1 -t 5s && "$0" mq-rm "$1"' "$OTHER_IPCBOX" "$name"
		assert_status 0
		assert_output hi
		run ipc mq-info "$name"
		assert_status 1
	done
}

@test "ipcbox mq VERB is mq-VERB; the family lists its verbs; --help comes from the table" {
	pq a
	run ipc mq create "$Q"
	assert_status 0
	run ipc mq info "$Q"
	assert_match "backend    posix"
	run ipc mq
	assert_status 0
	assert_match 'peek +print a System V queue'
	run ipc mq-recv --help
	assert_status 0
	assert_match -- '--type=N'
}

@test "completion: mq applets offer existing queue names; the shells know the mq family" {
	pq a
	sq a
	ipc mq-create "$Q"
	ipc mq-create "sysv:$K"
	run ipc --complete mq-send
	assert_status 0
	grep -qx "sysv:$K" <<<"$output"
	if grep -q ' /dev/mqueue mqueue ' /proc/mounts || [ "$(id -u)" -eq 0 ]; then
		grep -qx "$Q" <<<"$output"
	else # the names of POSIX queues cannot be listed without the file system
		run grep -cx "$Q" <<<"$output"
		assert_output 0
	fi
	mkdir "$T/bin"
	ln -s "$IPCBOX" "$T/bin/ipcbox"
	run env PATH="$T/bin:$PATH" timeout -k 5 "$TMO" bash -c '
		source "$0"/completions/ipcbox.bash
		COMP_WORDS=(ipcbox mq pe); COMP_CWORD=2
		_ipcbox; printf "%s\n" "${COMPREPLY[@]}"' "$BATS_TEST_DIRNAME/.."
	assert_output peek
}
