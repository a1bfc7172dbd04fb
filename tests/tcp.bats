#!/usr/bin/env bats
# tcp-listen and tcp-connect: relay, EOF rules, -k/-e serving, options,
# exit codes and bad input, against real peers (socat, OpenBSD nc, python
# sockets) and against ipcbox itself.  Every port is picked by the kernel
# (port 0) and read from --port-file or the peer's own report.

bats_require_minimum_version 1.5.0
load helpers

# listen ARGS...: start tcp-listen on port 0 in the background with a port
# file; PORT gets the port, LPID the listener's own pid, LBG bg's (timeout's:
# wait_status takes it).
listen() {
	rm -f "$T/port"
	bgi "$IPCBOX" tcp-listen --port-file "$T/port" "$@" 0
	LBG=$BG_PID
	PORT=$(port_of "$T/port")
	LPID=$(cat "/proc/$BG_PID/task/$BG_PID/children")
	LPID=${LPID%% *}
}

# peer_port FILE PATTERN: the port a socat or nc listener reported on stderr.
peer_port() {
	wait_for grep -q "$2" "$1"
	grep -o "$2[0-9]*" "$1" | head -n 1 | grep -o '[0-9]*$'
}

# data FILE SIZE_MIB: random test data.
data() {
	head -c "$(($2 * 1024 * 1024))" /dev/urandom >"$1"
}

# A port nobody listens on: one the kernel gave us a moment ago.
closed_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

@test "dispatch: tcp-listen, 'tcp listen' and a tcp-connect link all work" {
	rm -f "$T/port"
	bgi "$IPCBOX" tcp listen --port-file "$T/port" 0 </dev/null
	PORT=$(port_of "$T/port")
	ln -s "$IPCBOX" "$T/tcp-connect"
	run timeout -k 5 "$TMO" "$T/tcp-connect" 127.0.0.1 "$PORT" <<<"via link"
	assert_status 0
	run ipc tcp connect --help
	assert_status 0
	assert_match '^Usage: ipcbox tcp-connect '
	run ipc tcp
	assert_status 0
	assert_match 'connect'
	assert_match 'listen'
}

@test "relay: stdin goes to the peer and the peer's data to stdout, both ways" {
	echo from-listener >"$T/a"
	listen <"$T/a" >"$T/got-l"
	run ipc tcp-connect 127.0.0.1 "$PORT" <<<"from-connector"
	assert_status 0
	assert_output from-listener
	wait_status "$LBG"
	assert_status 0
	[ "$(cat "$T/got-l")" = from-connector ]
}

@test "half-close: a reply sent after our stdin EOF is delivered (socat peer)" {
	data "$T/in" 1
	bg socat -d -d TCP-LISTEN:0,bind=127.0.0.1 SYSTEM:'wc -c; echo done' 2>"$T/socat.err"
	PORT=$(peer_port "$T/socat.err" '127.0.0.1:')
	run ipc tcp-connect 127.0.0.1 "$PORT" <"$T/in"
	assert_status 0
	assert_output "$(printf '%s\ndone' 1048576)"
}

@test "half-close: a listener with stdin /dev/null still receives everything (nc client)" {
	data "$T/in" 4
	listen </dev/null >"$T/got"
	run timeout -k 5 "$TMO" nc.openbsd -N 127.0.0.1 "$PORT" <"$T/in"
	assert_status 0
	wait_status "$LBG"
	assert_status 0
	cmp "$T/in" "$T/got"
}

@test "half-close: the peer closing its side never truncates what we still send" {
	data "$T/in" 4
	listen <"$T/in"
	# nc -N with empty stdin half-closes at once, then reads to the end.
	timeout -k 5 "$TMO" nc.openbsd -N 127.0.0.1 "$PORT" </dev/null >"$T/got"
	wait_status "$LBG"
	assert_status 0
	cmp "$T/in" "$T/got"
}

@test "half-close: connector keeps sending after the listener's side closed (ipcbox both ends)" {
	data "$T/in" 4
	listen </dev/null >"$T/got"
	run ipc tcp-connect 127.0.0.1 "$PORT" <"$T/in"
	assert_status 0
	assert_output ""
	wait_status "$LBG"
	assert_status 0
	cmp "$T/in" "$T/got"
}

@test "8 MiB each way at once, files: checksums match (ipcbox both ends)" {
	data "$T/a" 8
	data "$T/b" 8
	listen <"$T/a" >"$T/got-b"
	ipc tcp-connect 127.0.0.1 "$PORT" <"$T/b" >"$T/got-a"
	wait_status "$LBG"
	assert_status 0
	[ "$(sha256sum <"$T/a")" = "$(sha256sum <"$T/got-a")" ]
	[ "$(sha256sum <"$T/b")" = "$(sha256sum <"$T/got-b")" ]
}

@test "8 MiB each way at once through pipes (the splice path): checksums match" {
	data "$T/a" 8
	data "$T/b" 8
	rm -f "$T/port"
	bg bash -c "cat '$T/a' | '$IPCBOX' tcp-listen --port-file '$T/port' 0 | cat >'$T/got-b'"
	PORT=$(port_of "$T/port")
	cat "$T/b" | ipc tcp-connect 127.0.0.1 "$PORT" | cat >"$T/got-a"
	wait_for cmp -s "$T/b" "$T/got-b"
	cmp "$T/a" "$T/got-a"
}

# pipe_end: write $T/pipe_end, the far end of a pipe.  "pipe_end in FILE
# SIZEFILE" copies FILE to stdout (the pipe), "pipe_end out FILE SIZEFILE"
# copies stdin (the pipe) to FILE; then each writes the pipe's size
# (F_GETPIPE_SZ) into SIZEFILE.
pipe_end() {
	cat >"$T/pipe_end" <<'PY'
#!/usr/bin/python3
import fcntl, shutil, sys
mode, path, size = sys.argv[1:]
if mode == "in":
    with open(path, "rb") as f:
        shutil.copyfileobj(f, sys.stdout.buffer, 1 << 16)
    sys.stdout.flush()
    fd = 1
else:
    with open(path, "wb") as f:
        shutil.copyfileobj(sys.stdin.buffer, f, 1 << 16)
    fd = 0
open(size, "w").write("%d\n" % fcntl.fcntl(fd, 1032))
PY
	chmod +x "$T/pipe_end"
}

# piped_listen A GOT_B: tcp-listen between two pipes: pipe_end in A, pipe_end
# out GOT_B; the pipe sizes land in $T/lin and $T/lout.
piped_listen() {
	rm -f "$T/port"
	bg bash -c "set -o pipefail; '$T/pipe_end' in '$1' '$T/lin' |
		'$IPCBOX' tcp-listen --port-file '$T/port' 0 | '$T/pipe_end' out '$2' '$T/lout'"
	PORT=$(port_of "$T/port")
}

@test "copy paths: stdin and stdout pipes are enlarged to 1 MiB, every byte arrives" {
	data "$T/a" 8
	data "$T/b" 8
	pipe_end
	piped_listen "$T/a" "$T/got-b"
	run timeout -k 5 "$TMO" bash -c "set -o pipefail; '$T/pipe_end' in '$T/b' '$T/cin' |
		'$IPCBOX' tcp-connect 127.0.0.1 $PORT | '$T/pipe_end' out '$T/got-a' '$T/cout'"
	assert_status 0
	wait $BG_PID
	cmp "$T/a" "$T/got-a"
	cmp "$T/b" "$T/got-b"
	for f in lin lout cin cout; do
		[ "$(cat "$T/$f")" = 1048576 ] || { echo "$f: pipe size $(cat "$T/$f")" >&2; false; }
	done
}

@test "IPCBOX_COPY=plain: read/write on every path (files, pipes), pipes keep their size" {
	data "$T/a" 8
	data "$T/b" 8
	pipe_end
	export IPCBOX_COPY=plain
	piped_listen "$T/a" "$T/got-b"
	ipc tcp-connect 127.0.0.1 "$PORT" <"$T/b" >"$T/got-a"
	wait $BG_PID
	cmp "$T/a" "$T/got-a"
	cmp "$T/b" "$T/got-b"
	[ "$(cat "$T/lin")" = 65536 ]
	[ "$(cat "$T/lout")" = 65536 ]
}

@test "stdout a file open for append: every byte arrives after what it held" {
	data "$T/in" 8
	echo head >"$T/got"
	listen </dev/null >>"$T/got"
	ipc tcp-connect 127.0.0.1 "$PORT" <"$T/in"
	wait_status "$LBG"
	assert_status 0
	{ echo head; cat "$T/in"; } | cmp - "$T/got"
}

@test "fallback: splice refused mid-stream (a terminal open for append) still gets every byte" {
	# splice(2) refuses any O_APPEND output with EINVAL, after the socket's
	# bytes are already in the private pipe: they must be handed on
	data "$T/in" 3
	listen <"$T/in"
	run timeout -k 5 "$TMO" python3 -c "$PTY_READER" 1 "$T/in" $((3 * 1048576)) \
		"$IPCBOX" tcp-connect 127.0.0.1 "$PORT"
	assert_status 0
	wait_status "$LBG"
	assert_status 0
}

@test "socket to socket (read/write and private-pipe paths): a proxy chain passes data both ways" {
	data "$T/a" 3
	data "$T/b" 3
	listen <"$T/a" >"$T/got-b"
	local back=$PORT back_bg=$LBG
	listen -e "'$IPCBOX' tcp-connect 127.0.0.1 $back"
	ipc tcp-connect 127.0.0.1 "$PORT" <"$T/b" >"$T/got-a"
	wait_status "$back_bg"
	assert_status 0
	cmp "$T/a" "$T/got-a"
	cmp "$T/b" "$T/got-b"
}

@test "8 MiB each way at once against socat: checksums match" {
	data "$T/a" 8
	data "$T/b" 8
	listen <"$T/a" >"$T/got-b"
	timeout -k 5 "$TMO" socat -t 20 TCP:127.0.0.1:"$PORT" STDIO <"$T/b" >"$T/got-a"
	wait_status "$LBG"
	assert_status 0
	cmp "$T/a" "$T/got-a"
	cmp "$T/b" "$T/got-b"
}

# OpenBSD nc as a listener ends the connection as soon as the peer has
# half-closed and its own two buffers happen to be empty, leaving the rest of
# its stdin unsent (netcat.c, readwrite: "listen and net in gone, queues
# empty"): a client that half-closes at once gets 16 KiB of it, one read of
# nc's.  That is nc's rule, not a loss of ipcbox's; so against an nc
# listener, tcp-connect's stdin stays open until all of nc's data has come,
# the 8 MiB still crossing both ways at once.
@test "8 MiB each way at once against an OpenBSD nc listener: every byte arrives both ways" {
	data "$T/a" 8
	data "$T/b" 8
	bgi nc.openbsd -v -N -l 127.0.0.1 0 <"$T/a" >"$T/got-b" 2>"$T/nc.err"
	local nc=$BG_PID
	PORT=$(peer_port "$T/nc.err" 'localhost ')
	{
		cat "$T/b"
		wait_for eval '[ "$(stat -c %s "$T/got-a" 2>/dev/null)" = $((8 << 20)) ]'
	} | ipc tcp-connect 127.0.0.1 "$PORT" >"$T/got-a"
	cmp "$T/a" "$T/got-a"
	wait_status "$nc"
	assert_status 0
	cmp "$T/b" "$T/got-b"
}

@test "8 MiB each way at once against an OpenBSD nc connector: every byte arrives both ways" {
	data "$T/a" 8
	data "$T/b" 8
	listen <"$T/a" >"$T/got-b"
	# nc -N half-closes after its stdin; as a connector it reads to the end
	timeout -k 5 "$TMO" nc.openbsd -N 127.0.0.1 "$PORT" <"$T/b" >"$T/got-a"
	wait_status "$LBG"
	assert_status 0
	cmp "$T/a" "$T/got-a"
	cmp "$T/b" "$T/got-b"
}

@test "connect refused: exit 1 with 'connect to ADDR: Connection refused'" {
	local p
	p=$(closed_port)
	run --separate-stderr ipc tcp-connect 127.0.0.1 "$p"
	assert_status 1
	[ "$stderr" = "ipcbox tcp-connect: connect to 127.0.0.1:$p: Connection refused" ]
}

@test "-w/--wait: no answer within the connect timeout is exit 124" {
	# A listener whose backlog is full drops further SYNs: connect hangs.
	bg /usr/bin/python3 -c '
import socket, sys, os, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)
held = []
for i in range(3):
    c = socket.socket(); c.setblocking(False)
    try: c.connect(s.getsockname())
    except BlockingIOError: pass
    held.append(c)
open(sys.argv[1] + ".tmp", "w").write("%d\n" % s.getsockname()[1])
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(60)' "$T/port"
	PORT=$(port_of "$T/port")
	run --separate-stderr ipc tcp-connect -w 200ms 127.0.0.1 "$PORT"
	assert_timed_out tcp-connect
	[[ $stderr == *"no answer within 200ms" ]]
	run --separate-stderr ipc tcp-connect --wait=0.2 127.0.0.1 "$PORT"
	assert_timed_out tcp-connect
}

@test "-i/--idle on tcp-connect: no data either way is exit 124" {
	mkfifo "$T/fifo" "$T/fifo2"
	listen <>"$T/fifo"
	run --separate-stderr ipc tcp-connect -i 200ms 127.0.0.1 "$PORT" <>"$T/fifo2"
	assert_timed_out tcp-connect
	[[ $stderr == *"idle for 200ms"* ]]
}

@test "-i/--idle on tcp-listen: an idle connection ends it with exit 124" {
	mkfifo "$T/fifo" "$T/cin"
	rm -f "$T/port"
	bgi "$IPCBOX" tcp-listen --idle=200ms --port-file "$T/port" 0 <>"$T/fifo" 2>"$T/lerr"
	local lp=$BG_PID
	PORT=$(port_of "$T/port")
	bgi "$IPCBOX" tcp-connect 127.0.0.1 "$PORT" <>"$T/cin"
	wait_status "$lp" "$T/lerr"
	assert_timed_out tcp-listen
}

@test "half-close: no timer in the half-closed phase, a late reply still arrives" {
	# the peer waits for $T/go at most $TMO seconds (20 polls a second)
	cat >"$T/peer.sh" <<-EOF
		cat >'$T/recv'
		touch '$T/eof-seen'
		i=0
		until [ -e '$T/go' ]; do
			i=\$((i + 1))
			[ "\$i" -le $((TMO * 20)) ] || exit 1
			sleep 0.05
		done
		echo late-reply
	EOF
	bg socat -d -d TCP-LISTEN:0,bind=127.0.0.1 SYSTEM:"sh $T/peer.sh" 2>"$T/socat.err"
	PORT=$(peer_port "$T/socat.err" '127.0.0.1:')
	bgi "$IPCBOX" tcp-connect 127.0.0.1 "$PORT" <<<"question" >"$T/got"
	local cpid=$BG_PID
	wait_for test -e "$T/eof-seen" # the peer has our EOF: we are half-closed now
	kill -0 "$cpid"
	touch "$T/go"
	wait_status "$cpid"
	assert_status 0
	[ "$(cat "$T/got")" = late-reply ]
	[ "$(cat "$T/recv")" = question ]
}

# slow_lines: ten lines on stdout, 0.3 s apart, from one process (a shell
# loop forks a sleep a line, which a loaded machine can hold up for seconds)
slow_lines='
import sys, time
for i in range(1, 11):
    sys.stdout.write("%d\n" % i)
    sys.stdout.flush()
    time.sleep(0.3)
'

@test "-i counts reads and writes: a slow but steady stream is never cut" {
	# Ten lines 0.3 s apart take 3 s, longer than -i 2s: only resetting the
	# timer on every read (first) and every write (second) lets them all
	# through.  The time allowed (15 s) is the 5 s it takes, loaded.
	mkfifo "$T/hold1" "$T/hold2"
	bgi bash -c '/usr/bin/python3 -c "$3" | exec "$1" tcp-listen --port-file "$2" 0' _ "$IPCBOX" "$T/port" "$slow_lines"
	PORT=$(port_of "$T/port")
	run --separate-stderr ipc tcp-connect -i 2s 127.0.0.1 "$PORT" <>"$T/hold1"
	assert_timed_out tcp-connect 15
	[ "$output" = "$(seq 1 10)" ]
	rm -f "$T/port"
	bgi "$IPCBOX" tcp-listen --port-file "$T/port" 0 <>"$T/hold2" >"$T/got"
	PORT=$(port_of "$T/port")
	run --separate-stderr harness bash -c '/usr/bin/python3 -c "$3" | exec "$1" tcp-connect -i 2s 127.0.0.1 "$2"' _ "$IPCBOX" "$PORT" "$slow_lines"
	assert_timed_out tcp-connect 15
	[ "$(cat "$T/got")" = "$(seq 1 10)" ]
}

@test "-z/--zero: exit 0 if the port accepts, sending nothing; 1 if refused" {
	listen </dev/null >"$T/got"
	run ipc tcp-connect -z 127.0.0.1 "$PORT" <<<"not sent"
	assert_status 0
	wait_status "$LBG"
	assert_status 0
	[ ! -s "$T/got" ]
	run --separate-stderr ipc tcp-connect --zero 127.0.0.1 "$(closed_port)"
	assert_status 1
	assert_one_line_error tcp-connect
}

@test "-v/--verbose: listening on, connection from, connected to" {
	rm -f "$T/port"
	bgi "$IPCBOX" tcp-listen -v --port-file "$T/port" 0 </dev/null 2>"$T/l.err"
	PORT=$(port_of "$T/port")
	wait_for grep -q "listening on 127.0.0.1:$PORT\$" "$T/l.err"
	[ "$(head -n 1 "$T/l.err")" = "ipcbox tcp-listen: listening on 127.0.0.1:$PORT" ]
	run --separate-stderr ipc tcp-connect --verbose 127.0.0.1 "$PORT" </dev/null
	assert_status 0
	[ "$stderr" = "ipcbox tcp-connect: connected to 127.0.0.1:$PORT" ]
	wait_for grep -q "connection from 127.0.0.1:" "$T/l.err"
}

@test "--port-file holds the bound port, written whole" {
	listen -v </dev/null 2>"$T/l.err"
	[[ $PORT =~ ^[0-9]+$ ]]
	[ "$(wc -l <"$T/port")" -eq 1 ]
	wait_for grep -q ":$PORT\$" "$T/l.err"
	ls "$T" | { ! grep -q '\.tmp$'; }
}

@test "-6/--ipv6: listener on ::1, connector to ::1" {
	grep -q . /proc/net/if_inet6 || { echo "no IPv6 on this machine" >&2; return 1; }
	rm -f "$T/port"
	bgi "$IPCBOX" tcp-listen -6 -v --port-file "$T/port" 0 </dev/null >"$T/got" 2>"$T/l.err"
	PORT=$(port_of "$T/port")
	wait_for grep -q "listening on \[::1\]:$PORT" "$T/l.err"
	run ipc tcp-connect --ipv6 ::1 "$PORT" <<<"over v6"
	assert_status 0
	wait_for grep -q "over v6" "$T/got"
}

@test "-4/--ipv4 with an IPv6 address fails to resolve: exit 1" {
	run --separate-stderr ipc tcp-connect -4 ::1 80
	assert_status 1
	assert_one_line_error tcp-connect
	[[ $stderr == *"resolve ::1"* ]]
}

@test "-b/--bind: '*' listens on every address, ADDR on that one" {
	rm -f "$T/port"
	bgi "$IPCBOX" tcp-listen -b '*' -v --port-file "$T/port" 0 </dev/null 2>"$T/l.err"
	PORT=$(port_of "$T/port")
	wait_for grep -q "listening on 0.0.0.0:$PORT" "$T/l.err"
	run ipc tcp-connect -z 127.0.0.1 "$PORT"
	assert_status 0
	rm -f "$T/port"
	bgi "$IPCBOX" tcp-listen --bind 127.0.0.2 -v --port-file "$T/port" 0 </dev/null 2>"$T/l2.err"
	PORT=$(port_of "$T/port")
	wait_for grep -q "listening on 127.0.0.2:$PORT" "$T/l2.err"
	run ipc tcp-connect -z 127.0.0.2 "$PORT"
	assert_status 0
}

@test "--allow: a peer outside the blocks is closed at once and logged; -s picks the source" {
	listen -k -v --allow 127.0.0.2 --allow 10.0.0.0/8 </dev/null 2>"$T/l.err" >"$T/got"
	run ipc tcp-connect -s 127.0.0.1 127.0.0.1 "$PORT" </dev/null
	assert_status 0
	assert_output ""
	wait_for grep -q "refused connection from 127.0.0.1:" "$T/l.err"
	run ipc tcp-connect --source 127.0.0.2 127.0.0.1 "$PORT" <<<"allowed data"
	assert_status 0
	wait_for grep -q "allowed data" "$T/got"
	grep -q "connection from 127.0.0.2:" "$T/l.err"
}

@test "-e/--exec on tcp-listen: one connection, the command's exit status" {
	listen -e 'cat; exit 7'
	run ipc tcp-connect 127.0.0.1 "$PORT" <<<"echoed"
	assert_status 0
	assert_output echoed
	wait_status "$BG_PID"
	assert_status 7
}

@test "-e/--exec on tcp-connect: CMD talks over the socket, its status is ours" {
	listen </dev/null >"$T/got"
	run ipc tcp-connect --exec 'echo "$PROTO $TCPREMOTEPORT"; exit 3' 127.0.0.1 "$PORT"
	assert_status 3
	wait_status "$LBG"
	assert_status 0
	[ "$(cat "$T/got")" = "TCP $PORT" ]
}

@test "-k -e: 50 concurrent clients all answered, UCSPI variables right" {
	# the listener outlives 50 clients, each under $TMO: it gets three times
	# that (at load 40, with the file taking 6 times its usual time, 44 of
	# the 50 were refused: the listener gone, its $TMO over by all signs)
	TMO=$((TMO * 3)) listen -k -e 'read -r line; echo "$line $PROTO $TCPLOCALIP $TCPLOCALPORT $TCPREMOTEIP $TCPREMOTEPORT"'
	local i pids=()
	for i in $(seq 1 50); do
		timeout -k 5 "$TMO" "$IPCBOX" tcp-connect 127.0.0.1 "$PORT" <<<"client$i" >"$T/c$i" &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i"; done
	for i in $(seq 1 50); do
		read -r name proto lip lport rip rport <"$T/c$i"
		[ "$name $proto $lip $lport $rip" = "client$i TCP 127.0.0.1 $PORT 127.0.0.1" ] ||
			{ echo "client $i got: $(cat "$T/c$i")" >&2; return 1; }
		[[ $rport =~ ^[0-9]+$ ]]
		[ "$rport" != "$PORT" ]
	done
}

@test "-k -e: no zombie children and a stable fd count afterwards" {
	listen -k -e cat
	local before i
	before=$(ls "/proc/$LPID/fd" | wc -l)
	[ "$before" -gt 2 ] # the listener is there to look at
	for i in $(seq 1 30); do
		timeout -k 5 "$TMO" "$IPCBOX" tcp-connect 127.0.0.1 "$PORT" <<<"x$i" >"$T/c$i" &
	done
	wait_for bash -c "for i in \$(seq 1 30); do grep -qx x\$i '$T'/c\$i || exit 1; done"
	# Every child reaped: none left under the listener, none a zombie.
	wait_for bash -c "[ -z \"\$(cat /proc/$LPID/task/*/children)\" ]"
	[ "$(ls "/proc/$LPID/fd" | wc -l)" -eq "$before" ]
	! ps -o stat= --ppid "$LPID" | grep -q Z
}

@test "-k -e: the command inherits only its connection, none of the listener's descriptors" {
	listen -k -e 'for f in /proc/$$/fd/*; do echo "${f##*/} $(readlink "$f")"; done'
	local own
	# What the listener opened itself (the listening socket, the signal
	# pipe), not what it inherited from timeout(1) and the test harness.
	own=$(comm -23 <(for f in /proc/"$LPID"/fd/*; do readlink "$f"; done | sort) \
		<(for f in /proc/"$BG_PID"/fd/*; do readlink "$f"; done | sort))
	grep -q "socket:" <<<"$own"
	run ipc tcp-connect 127.0.0.1 "$PORT" </dev/null
	assert_status 0
	assert_match '^0 socket:'
	assert_match $'\n1 socket:'
	local line
	while read -r line; do
		if grep -qF -- " $line" <<<"$output"; then
			echo "child inherited $line: $output" >&2
			return 1
		fi
	done <<<"$own"
}

@test "long options: --keep --max --exec --ipv4 --bind" {
	rm -f "$T/port"
	bgi "$IPCBOX" tcp-listen --ipv4 --bind '*' --keep --max 3 --exec 'echo ok' --verbose --port-file "$T/port" 0 </dev/null 2>"$T/l.err"
	PORT=$(port_of "$T/port")
	wait_for grep -q "listening on 0.0.0.0:$PORT" "$T/l.err"
	run ipc tcp-connect --ipv4 127.0.0.1 "$PORT" </dev/null
	assert_status 0
	assert_output ok
}

@test "-m/--max 2: a third client waits in the backlog until a slot frees" {
	listen -k -m 2 -e 'touch "'"$T"'/started.$TCPREMOTEPORT"; cat'
	mkfifo "$T/in1" "$T/in2" "$T/in3"
	exec 4<>"$T/in1" 5<>"$T/in2" 6<>"$T/in3"
	bgi "$IPCBOX" tcp-connect 127.0.0.1 "$PORT" <"$T/in1" >"$T/out1" 4>&- 5>&- 6>&-
	bgi "$IPCBOX" tcp-connect 127.0.0.1 "$PORT" <"$T/in2" >"$T/out2" 4>&- 5>&- 6>&-
	wait_for bash -c "[ \$(ls '$T' | grep -c started) -eq 2 ]"
	bgi "$IPCBOX" tcp-connect -v 127.0.0.1 "$PORT" <"$T/in3" >"$T/out3" 2>"$T/err3" 4>&- 5>&- 6>&-
	# The third is connected (the kernel completed it) and has sent data...
	wait_for grep -q "connected to" "$T/err3"
	echo third >&6
	echo first >&4
	wait_for grep -q first "$T/out1"
	# ...but no command runs for it while two are running.
	[ "$(ls "$T" | grep -c started)" -eq 2 ]
	[ ! -s "$T/out3" ]
	exec 4>&- # the first client finishes, its child exits, a slot frees
	wait_for grep -q third "$T/out3"
	[ "$(ls "$T" | grep -c started)" -eq 3 ]
	exec 5>&- 6>&-
}

@test "-k without -e: clients served at once, whole chunks to stdout, stdin to every client" {
	mkfifo "$T/lin" "$T/hold"
	exec 5<>"$T/lin"
	listen -k -v <"$T/lin" >"$T/got" 2>"$T/l.err" 5>&-
	local i
	for i in 1 2; do
		bgi bash -c "{ echo from-$i; cat '$T/hold'; } | exec '$IPCBOX' tcp-connect 127.0.0.1 $PORT >'$T/c$i'" 5>&-
	done
	wait_for bash -c "[ \$(grep -c 'connection from' '$T/l.err') -eq 2 ]"
	wait_for grep -qx from-1 "$T/got"
	wait_for grep -qx from-2 "$T/got"
	echo broadcast >&5
	exec 5>&-
	wait_for grep -qx broadcast "$T/c1"
	wait_for grep -qx broadcast "$T/c2"
	kill -0 "$LPID" # still listening after stdin EOF
	: >"$T/hold" # the clients' stdin ends: they finish
}

@test "-k -i: an idle client is closed, the listener goes on serving others" {
	mkfifo "$T/lin"
	listen -k -i 300ms -v <>"$T/lin" >"$T/got" 2>"$T/l.err"
	# an idle client: the listener closes it, so its read ends at EOF
	run timeout -k 5 "$TMO" bash -c 'exec 4<>"/dev/tcp/127.0.0.1/$1"; cat <&4; echo closed' _ "$PORT"
	assert_status 0
	assert_output closed
	grep -q 'closed an idle connection' "$T/l.err"
	kill -0 "$LPID"
	run bash -c 'echo hello | timeout -k 5 "$1" "$2" tcp-connect 127.0.0.1 "$3"' _ "$TMO" "$IPCBOX" "$PORT"
	assert_status 0
	wait_for grep -qx hello "$T/got"
	kill -0 "$LPID"
}

# chunk_client PORT LETTER GO: 20 lines of 500 bytes, one send each, once GO
# exists.  10 KB a client fit in the socket buffers, so no send is split
# and every line is one read's worth or part of a larger one: a line cut in
# two on stdout would be another client's chunk written inside this one's.
chunk_client='
import os, socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
while not os.path.exists(sys.argv[3]):
    time.sleep(0.01)
line = (sys.argv[2] * 499 + "\n").encode()
for i in range(20):
    s.sendall(line)
s.shutdown(socket.SHUT_WR)
while s.recv(65536):
    pass
'

@test "-k without -e: chunks from clients sending at once never interleave on stdout" {
	local c pids=()
	mkfifo "$T/lin"
	listen -k -v <>"$T/lin" >"$T/got" 2>"$T/l.err"
	for c in a b c; do
		timeout -k 5 "$TMO" /usr/bin/python3 -c "$chunk_client" "$PORT" "$c" "$T/go" &
		pids+=($!)
	done
	# all three connected before any sends: their data arrives at once
	wait_for bash -c "[ \$(grep -c 'connection from' '$T/l.err') -eq 3 ]"
	touch "$T/go"
	for c in "${pids[@]}"; do wait "$c"; done
	wait_for bash -c "[ \$(wc -l <'$T/got') -eq 60 ]"
	run grep -cvE '^(a{499}|b{499}|c{499})$' "$T/got"
	assert_output 0
	for c in a b c; do
		[ "$(grep -c "^$c" "$T/got")" -eq 20 ]
	done
}

# pending FIFO: how many bytes wait unread in the pipe.
pending() {
	/usr/bin/python3 -c 'import fcntl, os, struct, sys, termios
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NONBLOCK)
print(struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0" * 4))[0])' "$1"
}

# switches PID: the times it has gone to sleep.
switches() {
	sed -n 's/^voluntary_ctxt_switches:[[:space:]]*//p' "/proc/$1/status"
}

@test "-k without -e: stdin is read only while a client is connected, nothing typed before is lost" {
	local c0
	mkfifo "$T/lin"
	exec 5<>"$T/lin"
	listen -k <"$T/lin" >"$T/got" 5>&-
	wait_for sh -c "grep -q '^State:.*S' /proc/$LPID/status"
	echo early >&5
	# wake the listener's loop (SIGCHLD is one of its events) and let it
	# go back to sleep: had it polled stdin, it would have read it by then
	c0=$(switches "$LPID")
	kill -CHLD "$LPID"
	wait_for bash -c "[ \$(sed -n 's/^voluntary_ctxt_switches:[[:space:]]*//p' /proc/$LPID/status) -gt $c0 ] && grep -q '^State:.*S' /proc/$LPID/status"
	[ "$(pending "$T/lin")" -eq 6 ]
	run timeout -k 5 "$TMO" bash -c 'exec 4<>"/dev/tcp/127.0.0.1/$1"; head -n 1 <&4' _ "$PORT"
	assert_status 0
	assert_output early
	exec 5>&-
}

@test "SIGTERM and SIGINT end a listener with status 0" {
	listen </dev/null
	kill -TERM "$LPID"
	wait_status "$BG_PID"
	assert_status 0
	listen -k </dev/null
	kill -INT "$LPID"
	wait_status "$BG_PID"
	assert_status 0
}

@test "SIGHUP ends a listener with status 0, with or without -k" {
	listen </dev/null
	kill -HUP "$LPID"
	wait_status "$BG_PID"
	assert_status 0
	listen -k </dev/null
	kill -HUP "$LPID"
	wait_status "$BG_PID"
	assert_status 0
}

@test "a connector ended by SIGTERM, SIGINT or SIGHUP exits 128+N" {
	local sig cpid
	mkfifo "$T/lin" "$T/cin"
	listen -k <>"$T/lin" >/dev/null
	for sig in TERM INT HUP; do
		bgi "$IPCBOX" tcp-connect 127.0.0.1 "$PORT" <>"$T/cin" >/dev/null
		wait_for grep -q . "/proc/$BG_PID/task/$BG_PID/children"
		cpid=$(cat "/proc/$BG_PID/task/$BG_PID/children")
		cpid=${cpid%% *}
		wait_for sh -c "grep -q '^State:.*S' /proc/$cpid/status"
		kill -"$sig" "$cpid"
		wait_status "$BG_PID"
		assert_status $((128 + $(kill -l "$sig")))
	done
}

@test "bad ports: exit 2 with the text quoted" {
	for p in 0 65536 -1 abc 80x 0x50 ''; do
		run --separate-stderr ipc tcp-connect -- 127.0.0.1 "$p"
		assert_status 2
		[ "$stderr" = "ipcbox tcp-connect: invalid port '$p'" ] || { echo "$stderr" >&2; return 1; }
	done
	run --separate-stderr ipc tcp-listen 70000
	assert_status 2
	assert_one_line_error tcp-listen
}

@test "unknown host: exit 1, 'resolve HOST: ...'" {
	run --separate-stderr ipc tcp-connect no-such-host.invalid 80
	assert_status 1
	assert_one_line_error tcp-connect
	[[ $stderr == "ipcbox tcp-connect: resolve no-such-host.invalid: "* ]]
	run --separate-stderr ipc tcp-listen -b no-such-host.invalid 0
	assert_status 1
}

@test "bad durations: exit 2 with the text quoted" {
	run --separate-stderr ipc tcp-connect -w 1x 127.0.0.1 80
	assert_status 2
	[ "$stderr" = "ipcbox tcp-connect: invalid connect timeout '1x'" ]
	run --separate-stderr ipc tcp-connect -i -5 127.0.0.1 80
	assert_status 2
	run --separate-stderr ipc tcp-listen --idle=0 0
	assert_status 2
	[ "$stderr" = "ipcbox tcp-listen: invalid idle time '0'" ]
}

@test "unknown options, missing and extra operands: exit 2, one line" {
	run --separate-stderr ipc tcp-connect --frob 127.0.0.1 80
	assert_status 2
	assert_one_line_error tcp-connect
	run --separate-stderr ipc tcp-connect 127.0.0.1
	assert_status 2
	assert_one_line_error tcp-connect
	[[ $stderr == *"missing operand"* ]]
	run --separate-stderr ipc tcp-listen
	assert_status 2
	run --separate-stderr ipc tcp-listen 1 2
	assert_status 2
	[[ $stderr == *"unexpected operand '2'"* ]]
	run --separate-stderr ipc tcp-listen -b
	assert_status 2
	[[ $stderr == *"needs an argument"* ]]
}

@test "conflicting options: exit 2 naming both" {
	run --separate-stderr ipc tcp-connect -4 -6 ::1 80
	assert_status 2
	[[ $stderr == *"-4 and -6"* ]]
	run --separate-stderr ipc tcp-connect -z -e cat 127.0.0.1 80
	assert_status 2
	[[ $stderr == *"-z and -e"* ]]
	run --separate-stderr ipc tcp-listen -m 2 0
	assert_status 2
	[[ $stderr == *"-m needs -k"* ]]
	run --separate-stderr ipc tcp-listen -e cat -i 1s 0
	assert_status 2
	run --separate-stderr ipc tcp-listen -k -m 0 -e cat 0
	assert_status 2
	run --separate-stderr ipc tcp-listen --allow 300.1.1.1 0
	assert_status 2
	[ "$stderr" = "ipcbox tcp-listen: invalid address block '300.1.1.1'" ]
	run --separate-stderr ipc tcp-listen --allow 10.0.0.0/33 0
	assert_status 2
}

@test "listen on a port in use: exit 1, one line" {
	listen </dev/null
	run --separate-stderr ipc tcp-listen "$PORT"
	assert_status 1
	[ "$stderr" = "ipcbox tcp-listen: listen on 127.0.0.1:$PORT: Address already in use" ]
}

@test "stdout closed by its reader: tcp-connect ends quietly" {
	data "$T/in" 8
	listen <"$T/in" 2>"$T/l.err"
	run --separate-stderr bash -c "timeout $TMO '$IPCBOX' tcp-connect 127.0.0.1 $PORT </dev/null | head -c 10 >/dev/null; echo \${PIPESTATUS[0]}"
	assert_output 0
	[ -z "$stderr" ]
	# The listener ends too, either way: 0 when the kernel had all its data
	# before the connector closed, 1 with one line when the close reset it
	# while it still sent.  Taken here: when it ended before teardown
	# stopped it, teardown failed the test on that status.
	wait_status "$LBG" "$T/l.err"
	if [ "$status" -ne 0 ]; then
		assert_status 1
		assert_one_line_error tcp-listen
	fi
}

@test "--port-file: a symlink planted at the path is replaced, never followed; the file is mode 0600" {
	local lp
	echo precious >"$T/target"
	ln -s "$T/target" "$T/port"
	bgi "$IPCBOX" tcp-listen --port-file "$T/port" 0 </dev/null
	lp=$BG_PID
	wait_for test ! -L "$T/port"
	wait_file "$T/port"
	run ipc tcp-connect -z 127.0.0.1 "$(cat "$T/port")"
	assert_status 0
	wait "$lp"
	run cat "$T/target"
	assert_output precious
	[ -f "$T/port" ]
	[ ! -L "$T/port" ]
	run stat -c %a "$T/port"
	assert_output 600
}
