#!/usr/bin/env bats
# channel-send, channel-listen, channel-wait, channel-list, channel-registered:
# named channels through a private directory of per-listener datagram sockets.
# Every test has its own channel directory under its temp dir.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	common_setup
	export IPCBOX_CHANNEL_DIR=$T/ch
}

# listen NAME ARGS...: start channel-listen in the background with its
# output in $T/NAME.out and wait until it is registered; its pid (as the
# listener wrote it) in LPID, the timeout wrapper's in BG_PID.
listen() {
	local name=$1
	shift
	bg "$IPCBOX" channel-listen --ready-file "$T/$name.ready" "$@" >"$T/$name.out" 2>"$T/$name.err"
	wait_file "$T/$name.ready"
	LPID=$(cat "$T/$name.ready")
}

# exits PID STATUS: wait for a background command; did it exit with STATUS?
exits() {
	local status
	wait_status "$1"
	[ "$status" -eq "$2" ] || { echo "pid $1 exited $status, not $2" >&2; return 1; }
}

# frame CHANNEL MESSAGE DATA: a version 1 frame, as the man page describes it.
frame_py='
import struct, sys, socket
ch, msg, data = (a.encode() for a in sys.argv[2:5])
f = b"IPCh" + struct.pack("<BBHHHI", 1, 0, len(ch), len(msg), 0, len(data)) + ch + msg + data
if sys.argv[5:] == ["garbage"]:
    f = b"IPCh" + b"\x01\x00\xff\xff"
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(f, sys.argv[1])
'

@test "unit: frame format, length checks, pattern matching, registration parsing" {
	run "$IPCBOX_UNIT/channel_frame"
	assert_status 0
}

@test "unit: the -F engine channel-listen shares with bus-listen (directives by callback, escapes, refusals)" {
	run "$IPCBOX_UNIT/format"
	assert_status 0
}

@test "send: every registered listener gets each message exactly once" {
	local p1 p2 p3
	listen a -c 3 news
	p1=$BG_PID
	listen b -c 3 news
	p2=$BG_PID
	listen c -c 3 'n*'
	p3=$BG_PID
	for m in one two three; do
		run ipc channel-send news 'text(QString)' "$m"
		assert_status 0
	done
	exits "$p1" 0
	exits "$p2" 0
	exits "$p3" 0
	for f in a b c; do
		[ "$(cat "$T/$f.out")" = "$(printf 'one\ntwo\nthree')" ]
	done
}

@test "send: 12 listeners on one channel, each gets every message once" {
	local pids=() i
	for i in $(seq 12); do
		listen "l$i" -c 2 fan
		pids+=("$BG_PID")
	done
	run ipc channel-send -v fan 'x()' first
	assert_output "delivered to 12 of 12 listeners"
	ipc channel-send fan 'x()' second
	for i in $(seq 12); do
		exits "${pids[$((i - 1))]}" 0
		[ "$(cat "$T/l$i.out")" = "$(printf 'first\nsecond')" ]
	done
}

@test "send -v: says how many listeners received the message" {
	listen a -c 1 ch
	listen b -c 1 ch
	run --separate-stderr ipc channel-send -v ch 'x()' hi
	assert_status 0
	assert_output "delivered to 2 of 2 listeners"
	run ipc channel-send -v nobody-here 'x()' hi
	assert_status 0
	assert_output "delivered to 0 of 0 listeners"
}

@test "send -l: 10000 lines arrive in order, one message each" {
	local p
	listen a -c 10000 stream
	p=$BG_PID
	seq 10000 | ipc channel-send -l stream 'line(QString)'
	exits "$p" 0
	seq 10000 | cmp - "$T/a.out"
}

@test "send -l: a last line without a newline is sent; empty lines are messages" {
	local p
	listen a -c 4 ch
	p=$BG_PID
	printf 'a\n\nb\nlast' | ipc channel-send -l ch 'x()'
	exits "$p" 0
	[ "$(cat "$T/a.out")" = "$(printf 'a\n\nb\nlast')" ]
	listen b -c 1 ch
	p=$BG_PID
	run ipc channel-send -v -l ch 'x()' < <(printf 'x\n')
	assert_output "1 messages, delivered to 1 of 1 listeners"
	exits "$p" 0
}

@test "send -l: a listener registered during the stream gets the lines from then on" {
	local pa pb
	mkfifo "$T/fifo"
	listen a ch
	pa=$LPID
	# read-write, so that neither open waits for the other side
	exec 8<>"$T/fifo"
	bgi "$IPCBOX" channel-send -l ch 'x()' <"$T/fifo"
	echo first >&8
	wait_for test -s "$T/a.out"
	listen b ch
	pb=$LPID
	# the sender looks for new listeners at most every 100 ms: feed it lines
	# until one reaches the new listener
	feed() { echo more >&8 && test -s "$T/b.out"; }
	wait_for feed
	echo last >&8
	exec 8>&-
	wait_for eval '[ "$(tail -n 1 "$T/b.out")" = last ] && [ "$(tail -n 1 "$T/a.out")" = last ]'
	[ "$(head -n 1 "$T/a.out")" = first ]
	run grep -c first "$T/b.out"
	assert_output 0
	[ "$(grep -c . "$T/a.out")" -ge "$(grep -c . "$T/b.out")" ]
	kill "$pa" "$pb"
}

@test "send DATA -: the data is standard input, byte for byte" {
	local p
	listen a -c 1 -0 ch
	p=$BG_PID
	printf 'two\nlines' | ipc channel-send ch 'x()' -
	exits "$p" 0
	[ "$(od -An -c "$T/a.out" | tr -s ' ')" = "$(printf 'two\nlines\0' | od -An -c | tr -s ' ')" ]
}

@test "send: several DATA operands are joined by one space" {
	local p
	listen a -c 1 ch
	p=$BG_PID
	ipc channel-send ch 'x()' a 'b c' d
	exits "$p" 0
	[ "$(cat "$T/a.out")" = "a b c d" ]
}

@test "patterns: exact names and * wildcards, as QCOP had" {
	local p1 p2 p3
	listen star -c 3 -v '*'
	p1=$BG_PID
	listen qpe -c 2 -v 'QPE/*'
	p2=$BG_PID
	listen mid -c 1 -v 'a*b*c' 'never'
	p3=$BG_PID
	ipc channel-send QPE/System 'restart()'
	ipc channel-send Other/X 'y()'
	ipc channel-send QPE/Card 'z()' 1
	ipc channel-send a-x-b-c 'w()'
	ipc channel-send abd 'w()'
	exits "$p1" 0
	exits "$p2" 0
	exits "$p3" 0
	[ "$(cat "$T/star.out")" = "$(printf 'QPE/System restart() \nOther/X y() \nQPE/Card z() 1')" ]
	[ "$(cat "$T/qpe.out")" = "$(printf 'QPE/System restart() \nQPE/Card z() 1')" ]
	[ "$(cat "$T/mid.out")" = "a-x-b-c w() " ]
}

@test "backpressure: a stopped listener makes the sender wait, then it is reported by name, exit 1" {
	local fast stopped
	listen fast -c 200 ch
	fast=$BG_PID
	listen slow ch
	stopped=$LPID
	kill -STOP "$stopped"
	local t0=$SECONDS
	run --separate-stderr ipc channel-send -l -t 500ms ch 'x()' < <(seq 200)
	kill -CONT "$stopped"
	assert_status 1
	[[ $stderr == *"listener $stopped (ch): not taking messages: timed out after 500 ms"* ]]
	[[ $stderr == *"listener $stopped (ch): missed "*" of 200 messages"* ]]
	((SECONDS - t0 < 10))
	exits "$fast" 0
	seq 200 | cmp - "$T/fast.out"
}

@test "backpressure: --drop skips a stopped listener after one timeout, reported, exit 1" {
	local stopped
	listen slow ch
	stopped=$LPID
	kill -STOP "$stopped"
	local t0=$SECONDS
	run --separate-stderr ipc channel-send -l --drop -t 300ms ch 'x()' < <(seq 200)
	kill -CONT "$stopped"
	assert_status 1
	assert_one_line_error channel-send
	[[ $stderr == *"listener $stopped (ch): missed "*" of 200 messages (dropped: queue full)" ]]
	((SECONDS - t0 < 10))
	# what was not dropped arrives, in order: nothing lost silently
	local missed=${stderr##*missed }
	missed=${missed%% of*}
	wait_for eval '[ "$(wc -l <"$T/slow.out")" -eq $((200 - missed)) ]'
	seq $((200 - missed)) | cmp - "$T/slow.out"
}

@test "backpressure: a slow listener that keeps taking messages never times the sender out" {
	# 20 messages, each taking the listener 0.2 s and more: over 4 s in
	# all, beyond -t 2s; the timeout runs only while a listener takes
	# nothing, and this one never stops taking.
	local p
	listen s -c 20 -e 'sleep 0.2; cat; echo' ch
	p=$BG_PID
	run --separate-stderr ipc channel-send -l -t 2s ch 'x()' < <(seq 20)
	assert_status 0
	[ -z "$stderr" ]
	exits "$p" 0
	[ "$(cat "$T/s.out")" = "$(seq 20)" ]
}

@test "a dead listener's entries are removed by the next sender" {
	local p
	listen dead ch
	p=$LPID
	kill -KILL "$p"
	wait_exit "$p"
	[ -S "$T/ch/s.$(cd "$T/ch" && ls s.* | sed 's/^s\.//')" ]
	run ipc channel-registered ch
	assert_status 1
	run --separate-stderr ipc channel-send -v ch 'x()'
	assert_status 0
	assert_output "delivered to 0 of 0 listeners"
	[ -z "$(ls -A "$T/ch")" ]
}

@test "1 MiB of data is delivered intact" {
	local p
	head -c 1048576 /dev/urandom >"$T/big"
	listen a -c 1 ch
	p=$BG_PID
	ipc channel-send ch 'blob(QByteArray)' - <"$T/big"
	exits "$p" 0
	[ "$(stat -c %s "$T/a.out")" = 1048577 ]
	head -c 1048576 "$T/a.out" | cmp - "$T/big"
}

@test "data over 1 MiB is refused with a clear error, exit 2" {
	head -c 1048577 /dev/zero >"$T/big"
	run --separate-stderr ipc channel-send ch 'x()' - <"$T/big"
	assert_status 2
	assert_one_line_error channel-send
	[[ $stderr == *"larger than the 1048576-byte message limit"* ]]
	run --separate-stderr ipc channel-send -l ch 'x()' < <(echo short; tr '\0' x <"$T/big")
	assert_status 2
	assert_one_line_error channel-send
	[[ $stderr == *"line 2: longer than the 1048576-byte message limit"* ]]
}

@test "listen -v, -F and -0 formats" {
	local p
	listen v -c 1 -v ch
	p=$BG_PID
	ipc channel-send ch 'set(int,int)' 1 2
	exits "$p" 0
	[ "$(cat "$T/v.out")" = "ch set(int,int) 1 2" ]
	listen f -c 1 -F '%c|%m|%d|%u|%%|\t' ch
	p=$BG_PID
	ipc channel-send ch 'm()' data
	exits "$p" 0
	[ "$(cat "$T/f.out")" = "$(printf 'ch|m()|data|%s|%%|\t' "$(id -u)")" ]
	listen z -c 2 -0 ch
	p=$BG_PID
	printf 'a\nb\n' | ipc channel-send -l ch 'm()'
	exits "$p" 0
	[ "$(od -An -c "$T/z.out" | tr -s ' ')" = "$(printf 'a\0b\0' | od -An -c | tr -s ' ')" ]
}

@test "listen -F %p and %t: the sender's pid and the time received" {
	local p spid t0 t1 pid t
	listen f -c 1 -F '%p %t' ch
	p=$BG_PID
	t0=$(date +%s)
	(
		echo "$BASHPID" >"$T/spid"
		exec "$IPCBOX" channel-send ch 'm()' data
	)
	exits "$p" 0
	t1=$(date +%s)
	spid=$(cat "$T/spid")
	read -r pid t <"$T/f.out"
	[ "$pid" = "$spid" ]
	[[ $t =~ ^[0-9]+\.[0-9]{6}$ ]]
	[ "${t%.*}" -ge "$t0" ]
	[ "${t%.*}" -le "$t1" ]
}

@test "listen --json: one object per line, pid of the sender, non-UTF-8 escaped" {
	local p spid
	listen j -c 1 --json ch
	p=$BG_PID
	(
		echo "$BASHPID" >"$T/spid"
		exec "$IPCBOX" channel-send ch 'x(QByteArray)' - < <(printf 'ok\xff')
	)
	exits "$p" 0
	spid=$(cat "$T/spid")
	run cat "$T/j.out"
	assert_match '^\{"channel":"ch","message":"x\(QByteArray\)","data":"ok\\udcff","pid":'"$spid"',"uid":'"$(id -u)"',"time":[0-9]+\.[0-9]{6}\}$'
	/usr/bin/python3 -c 'import json,sys; json.loads(open(sys.argv[1]).read())' "$T/j.out"
}

@test "listen -e: runs the command per message, data on stdin, CHANNEL MESSAGE SENDER_PID set" {
	local p spid
	listen e -c 2 -e 'printf "%s|%s|%s|" "$CHANNEL" "$MESSAGE" "$SENDER_PID"; cat; echo' 'c*'
	p=$BG_PID
	(
		echo "$BASHPID" >"$T/spid"
		exec "$IPCBOX" channel-send chan 'msg(QString)' hello
	)
	ipc channel-send cx 'other()' world
	exits "$p" 0
	spid=$(cat "$T/spid")
	[ "$(head -n 1 "$T/e.out")" = "chan|msg(QString)|$spid|hello" ]
	[[ $(tail -n 1 "$T/e.out") == "cx|other()|"*"|world" ]]
}

@test "listen -e with -c: exit status is the last command's" {
	local p
	listen e -c 1 -e 'exit 7' ch
	p=$BG_PID
	ipc channel-send ch 'x()'
	exits "$p" 7
}

@test "listen --timeout: exit 124 when nothing came; SIGTERM: exit 0, socket removed" {
	run --separate-stderr ipc channel-listen -t 200ms ch
	assert_timed_out channel-listen
	[ -z "$(ls -A "$T/ch")" ]
	local p
	listen a ch
	p=$BG_PID
	ipc channel-send ch 'x()' before
	wait_file "$T/a.out"
	kill -TERM "$LPID"
	exits "$p" 0
	[ "$(cat "$T/a.out")" = before ]
	[ -z "$(ls -A "$T/ch")" ]
}

@test "channel-wait: the first matching message's data, exit 0; --timeout exit 124" {
	local p
	bg "$IPCBOX" channel-wait --ready-file "$T/w.ready" 'app/*' 'done(int)' >"$T/w.out"
	p=$BG_PID
	wait_file "$T/w.ready"
	ipc channel-send app/x 'progress(int)' 50
	ipc channel-send other 'done(int)' 1
	ipc channel-send app/y 'done(int)' 0
	exits "$p" 0
	[ "$(cat "$T/w.out")" = 0 ]
	run --separate-stderr ipc channel-wait -t 100ms ch
	assert_timed_out channel-wait
	[ -z "$output" ]
}

@test "channel-list: patterns and listener counts, text and JSON" {
	listen a ch
	local pa=$LPID
	listen b ch 'b/*'
	local pb=$LPID
	run ipc channel-list
	assert_status 0
	assert_output "$(printf 'b/* 1\nch 2')"
	run ipc channel-list --json
	assert_status 0
	/usr/bin/python3 -c '
import json, sys
rows = json.loads(sys.argv[1])
assert rows[0] == {"channel": "b/*", "listeners": 1, "pids": [int(sys.argv[3])]}, rows
assert rows[1]["channel"] == "ch" and rows[1]["listeners"] == 2, rows
assert sorted(rows[1]["pids"]) == sorted([int(sys.argv[2]), int(sys.argv[3])]), rows
' "$output" "$pa" "$pb"
	stop_bg
	run ipc channel-list --json
	assert_output "[]"
}

@test "channel-registered: 0 with a live listener whose pattern matches, else 1" {
	run ipc channel-registered QPE/System
	assert_status 1
	listen a 'QPE/*'
	run ipc channel-registered QPE/System
	assert_status 0
	run ipc channel-registered Other
	assert_status 1
}

@test "directory: created 0700; wrong mode, a symlink: refused in one line, exit 1" {
	run ipc channel-list
	assert_status 0
	[ "$(stat -c %a "$T/ch")" = 700 ]
	chmod 755 "$T/ch"
	run --separate-stderr ipc channel-send ch 'x()'
	assert_status 1
	assert_one_line_error channel-send
	[[ $stderr == *"$T/ch: refused as channel directory: mode 0755, must be 0700" ]]
	mkdir -m 700 "$T/real"
	export IPCBOX_CHANNEL_DIR=$T/link
	ln -s "$T/real" "$T/link"
	run --separate-stderr ipc channel-registered ch
	assert_status 1
	assert_one_line_error channel-registered
	[[ $stderr == *"$T/link: refused as channel directory: is a symbolic link" ]]
	[ -z "$(ls -A "$T/real")" ]
}

@test "directory: another uid's is refused in one line, exit 1 (root)" {
	need_root
	run ipc channel-list
	assert_status 0
	chown 65534 "$T/ch"
	run --separate-stderr ipc channel-listen ch
	assert_status 1
	assert_one_line_error channel-listen
	[[ $stderr == *"owned by uid 65534, not by uid 0" ]]
}

@test "directory: \$XDG_RUNTIME_DIR/ipcbox when IPCBOX_CHANNEL_DIR is unset" {
	mkdir -m 700 "$T/xdg"
	unset IPCBOX_CHANNEL_DIR
	XDG_RUNTIME_DIR=$T/xdg run ipc channel-list
	assert_status 0
	[ "$(stat -c %a "$T/xdg/ipcbox")" = 700 ]
}

@test "directory: /tmp/ipcbox-UID when neither IPCBOX_CHANNEL_DIR nor XDG_RUNTIME_DIR is set" {
	local d=/tmp/ipcbox-$(id -u) made=0 ch=ipcbox-test-$$-$BATS_TEST_NUMBER p
	[ -e "$d" ] || made=1
	unset IPCBOX_CHANNEL_DIR XDG_RUNTIME_DIR
	listen t -c 1 "$ch"
	p=$BG_PID
	[ -d "$d" ]
	[ ! -L "$d" ]
	[ "$(stat -c '%a %u' "$d")" = "700 $(id -u)" ]
	IPCBOX_CHANNEL_DIR=$d run ipc channel-registered "$ch"
	assert_status 0
	ipc channel-send "$ch" 'm()' found
	exits "$p" 0
	[ "$(cat "$T/t.out")" = found ]
	# ours only if we made it, and only if nobody else has a listener in it
	[ "$made" -eq 0 ] || rmdir "$d" 2>/dev/null || true
}

@test "messages from another uid and malformed frames are dropped, reported on stderr (root)" {
	need_root
	local p sock
	listen a -c 1 -v ch
	p=$BG_PID
	sock=$(ls "$T/ch"/s.*)
	chmod 711 "$T" "$T/ch"
	chmod 666 "$sock"
	setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 -c "$frame_py" "$sock" ch 'x()' from-nobody
	/usr/bin/python3 -c "$frame_py" "$sock" ch 'x()' x garbage
	/usr/bin/python3 -c "$frame_py" "$sock" ch 'y()' from-root
	exits "$p" 0
	[ "$(cat "$T/a.out")" = "ch y() from-root" ]
	grep -q "dropped a message from uid 65534" "$T/a.err"
	grep -q "dropped a malformed message from pid [0-9]*: " "$T/a.err"
}

@test "bad input: every applet exits 2 with one line" {
	local args
	while IFS= read -r args; do
		eval "run --separate-stderr ipc $args"
		[ "$status" -eq 2 ] || { echo "$args: status $status" >&2; return 1; }
		assert_one_line_error "${args%% *}"
	done <<'EOF'
channel-send
channel-send ch
channel-send '' 'x()'
channel-send "$(printf 'a\nb')" 'x()'
channel-send "$(head -c 256 /dev/zero | tr '\0' a)" 'x()'
channel-send -l ch 'x()' data
channel-send -t soon ch 'x()'
channel-listen
channel-listen -c 0 ch
channel-listen -c x ch
channel-listen -F '%z' ch
channel-listen -F 'a\q' ch
channel-listen --json -v ch
channel-listen -e true -F x ch
channel-listen -0 --json ch
channel-listen -t -1 ch
channel-wait
channel-wait a b c
channel-wait -t x ch
channel-list extra
channel-registered
channel-registered a b
channel-registered ''
EOF
}

@test "--ready-file: a symlink planted at the path is replaced, never followed; the file is mode 0600" {
	local lp
	echo precious >"$T/target"
	ln -s "$T/target" "$T/a.ready"
	bg "$IPCBOX" channel-listen --ready-file "$T/a.ready" -c 1 planted >"$T/a.out"
	lp=$BG_PID
	wait_for test ! -L "$T/a.ready"
	wait_file "$T/a.ready"
	run ipc channel-send planted 'm()' hello
	assert_status 0
	wait "$lp"
	run cat "$T/a.out"
	assert_output hello
	run cat "$T/target"
	assert_output precious
	[ -f "$T/a.ready" ]
	[ ! -L "$T/a.ready" ]
	run stat -c %a "$T/a.ready"
	assert_output 600
}
