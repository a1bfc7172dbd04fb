#!/usr/bin/env bats
# What a SIGKILL of ipcbox leaves behind, and who cleans it up: the FAILURE
# sections of ipcbox-shm(1), ipcbox-sem(1), ipcbox-channel(1), ipcbox-bus(1)
# and ipcbox-tcp(1), claim by claim.  Each test starts a holder (a lock, a
# registration, a bus name, a listener with its children), kills the
# ipcbox process itself with SIGKILL (found by pid: the one child of the
# timeout(1) that bg started), then looks at what remains and at what
# cleans it: the kernel, the next user, or nobody.

bats_require_minimum_version 1.5.0
load helpers
load ipc_helpers
load bus_helpers
load mqtt_helpers

setup() {
	common_setup
	TEST_SHM=()
	TEST_SEM=()
	export TMPDIR=$T
	export IPCBOX_CHANNEL_DIR=$T/ch
	unset IPCBOX_BROKER
}

teardown() {
	local bad=0
	# A stopped process must be able to die.
	[ -z "${STOPPED:-}" ] || kill -CONT "$STOPPED" 2>/dev/null || true
	[ -z "${BROKER_PID:-}" ] || kill -CONT "$BROKER_PID" 2>/dev/null || true
	exec 7>&- 8>&-
	stop_bg || bad=1
	common_teardown_objects
	common_teardown || bad=1
	return "$bad"
}

# ipcbox_of BG_PID: the pid of the ipcbox that bg started (timeout's one
# child), in IPID, once it exists; 1 if timeout ended first.
ipcbox_of() {
	local deadline=$((SECONDS + TMO))
	until IPID=$(cat "/proc/$1/task/$1/children" 2>/dev/null) && [ -n "$IPID" ]; do
		if ! running "$1" || ((SECONDS >= deadline)); then
			echo "ipcbox_of: no ipcbox under pid $1" >&2
			return 1
		fi
		sleep 0.01
	done
	IPID=${IPID%% *}
}

# gone PID: wait until PID has ended: a command whose ipcbox was killed is
# an orphan, and whoever adopted it may be slow to reap it (a zombie has
# ended).
gone() {
	wait_for eval "! running $1"
}

# kill_ipcbox PID: SIGKILL, and wait until it has ended.
kill_ipcbox() {
	kill -KILL "$1"
	gone "$1"
}

# wait_go FILE: a shell loop (for a command's script) that waits for FILE,
# at most 20 s.
wait_go() {
	printf 'i=0; while [ ! -e %q ] && [ $i -lt 2000 ]; do sleep 0.01; i=$((i + 1)); done' "$1"
}

# ---- shm: the lock around reads and writes ----------------------------------

# read_held NAME LOCK [OPTION]: start shm-read NAME [OPTION] and stop it
# while it holds its lock, the semaphore LOCK (value 1 when free): poll the
# value until it is 0, SIGSTOP the reader, and check it is still 0 (nobody
# else takes LOCK).  A reader that was too quick is waited for and another
# started, within $TMO.  The stopped reader's pid in IPID and STOPPED, its
# timeout's in HOLDER.
read_held() {
	local name=$1 lock=$2 deadline=$((SECONDS + TMO)) v
	while ((SECONDS < deadline)); do
		bg "$IPCBOX" shm-read "$name" ${3:+"$3"} >/dev/null
		HOLDER=$BG_PID
		# A reader may be done before its pid is seen: wait for it, and
		# start another (a loaded machine made this one fail, 1 run in 3).
		IPID=
		ipcbox_of "$HOLDER" 2>/dev/null || true
		while [ -n "$IPID" ] && running "$IPID"; do
			v=$(sem_val "$lock")
			[ "$v" = 0 ] || continue
			kill -STOP "$IPID" 2>/dev/null || continue
			STOPPED=$IPID
			[ "$(sem_val "$lock")" = 0 ] && return 0
			kill -CONT "$IPID" 2>/dev/null || true
			STOPPED=
		done
		wait_status "$HOLDER"
		assert_status 0
	done
	echo "read_held: never caught shm-read holding $lock" >&2
	return 1
}

@test "shm: a Qt lock holder killed by SIGKILL: the kernel gives the lock back (SEM_UNDO)" {
	local k=fail$$
	TEST_SHM+=("qt:$k")
	ipc shm-create "qt:$k" -s 32M
	track_qt "$k"
	read_held "qt:$k" "qt:$k"
	kill_ipcbox "$IPID"
	STOPPED=
	wait_status "$HOLDER"
	assert_status 137
	[ "$(sem_val "qt:$k")" = 1 ]
	run ipc shm-read "qt:$k" -l 4 -t 2s
	assert_status 0
}

@test "shm: a System V --lock holder killed by SIGKILL: the kernel gives the lock back" {
	local k
	k=$(skey m)
	TEST_SHM+=("sysv:$k")
	TEST_SEM+=("sysv:$k")
	ipc shm-create "sysv:$k" -s 32M
	ipc sem-create "sysv:$k" -v 1
	read_held "sysv:$k" "sysv:$k" --lock
	kill_ipcbox "$IPID"
	STOPPED=
	wait_status "$HOLDER"
	assert_status 137
	[ "$(sem_val "sysv:$k")" = 1 ]
}

@test "shm: a POSIX --lock holder killed by SIGKILL leaves the lock taken until sem-post" {
	local n
	n=$(pname m)
	TEST_SHM+=("$n")
	TEST_SEM+=("$n")
	ipc shm-create "$n" -s 32M
	ipc sem-create "$n" -v 1
	read_held "$n" "$n" --lock
	kill_ipcbox "$IPID"
	STOPPED=
	wait_status "$HOLDER"
	assert_status 137
	[ "$(sem_val "$n")" = 0 ]
	run --separate-stderr ipc shm-read "$n" --lock -l 4 -t 200ms
	assert_timed_out shm-read
	# --no-lock still reads; sem-post is the repair.
	run ipc shm-read "$n" --no-lock -l 4
	assert_status 0
	run ipc sem-post "$n"
	assert_status 0
	run ipc shm-read "$n" --lock -l 4 -t 2s
	assert_status 0
	[ "$(sem_val "$n")" = 1 ]
}

# python3 -c "$HALFWAY" SHMID SIZE BG_PID: attach the System V segment
# SHMID (SIZE bytes, every byte A) read-only and watch a writer of Bs at
# work: once its middle byte is B and its last is not, SIGKILL the ipcbox
# that timeout BG_PID runs, and exit 0; exit 2 if the writer was done (or
# gone) before it was seen halfway.
HALFWAY='
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
shmid, size, bg = (int(a) for a in sys.argv[1:4])
addr = libc.shmat(shmid, None, 0o10000)
if addr in (None, ctypes.c_void_p(-1).value):
    sys.exit("shmat: " + os.strerror(ctypes.get_errno()))
mid = ctypes.c_char.from_address(addr + size // 2)
last = ctypes.c_char.from_address(addr + size - 1)
deadline = time.monotonic() + 20
while time.monotonic() < deadline and os.path.exists("/proc/%d" % bg):
    if last.value == b"B":
        sys.exit(2)
    if mid.value == b"B":
        with open("/proc/%d/task/%d/children" % (bg, bg)) as f:
            os.kill(int(f.read().split()[0]), 9)
        sys.exit(0)
sys.exit(2)
'

# fill NAME CHAR: every byte of the 32 MiB segment NAME is CHAR.
fill() {
	head -c 32M /dev/zero | tr '\0' "$2" >"$T/fill"
	ipc shm-write "$1" "$T/fill"
}

@test "shm: a writer killed under the lock leaves its write half done, and the lock comes back" {
	local k=torn$$ try shmid seen
	TEST_SHM+=("qt:$k")
	ipc shm-create "qt:$k" -s 32M
	track_qt "$k"
	shmid=$("$IPCBOX" shm-info -j "qt:$k" | grep -o '"id":[0-9]*' | cut -d: -f2)
	head -c 32M /dev/zero | tr '\0' B >"$T/b"
	# The writer copies only under the lock: killed once the middle of the
	# segment is written and before its end is, it dies holding the lock.
	# One that was done before the watcher saw it halfway, or that finished
	# the copy before the SIGKILL landed (a loaded machine: seen once), is
	# tried again.
	for try in $(seq 10); do
		fill "qt:$k" A
		bg "$IPCBOX" shm-write "qt:$k" "$T/b"
		run timeout -k 5 "$TMO" /usr/bin/python3 -c "$HALFWAY" "$shmid" $((32 << 20)) "$BG_PID"
		wait_status "$BG_PID"
		[ "$status" -ne 0 ] || continue
		assert_status 137
		seen=$("$IPCBOX" shm-read --no-lock "qt:$k" | tr -s AB)
		if [ "$seen" = B ]; then
			continue
		fi
		break
	done
	echo "killed halfway after $try tries" >&3
	assert_status 137
	[ "$(sem_val "qt:$k")" = 1 ]
	seen=$("$IPCBOX" shm-read "qt:$k" | tr -s AB)
	[ "$seen" = BA ]
}

# ---- sem: waiters and POSIX holders ------------------------------------------

@test "sem-wait killed while waiting takes nothing, System V and POSIX" {
	local k n
	k=$(skey s)
	n=$(pname s)
	TEST_SEM+=("sysv:$k" "$n")
	ipc sem-create "sysv:$k"
	ipc sem-create "$n"
	bg "$IPCBOX" sem-wait "sysv:$k"
	local sv=$BG_PID
	ipcbox_of "$sv"
	local svpid=$IPID
	bg "$IPCBOX" sem-wait "$n"
	local px=$BG_PID
	ipcbox_of "$px"
	local pxpid=$IPID
	wait_for eval '"$IPCBOX" sem-value -j "sysv:$k" | grep -q "\"waiters\":1,"'
	wait_for eval "grep -q '^State:.*S' /proc/$pxpid/status"
	kill_ipcbox "$svpid"
	kill_ipcbox "$pxpid"
	wait_status "$sv"
	assert_status 137
	wait_status "$px"
	assert_status 137
	run ipc sem-value -j "sysv:$k"
	assert_match '"value":0,.*"waiters":0,'
	ipc sem-post "sysv:$k"
	ipc sem-post "$n"
	[ "$(sem_val "sysv:$k")" = 1 ]
	[ "$(sem_val "$n")" = 1 ]
}

@test "sem-run on a POSIX name killed by SIGKILL: the command runs on, and its count stays taken" {
	local n cmd
	n=$(pname s)
	TEST_SEM+=("$n")
	ipc sem-create "$n" -v 1
	bg "$IPCBOX" sem-run "$n" -- sh -c "echo \$\$ >$T/cmd.tmp; mv $T/cmd.tmp $T/cmd; $(wait_go "$T/go"); echo done >$T/done"
	local holder=$BG_PID
	ipcbox_of "$holder"
	wait_file "$T/cmd"
	cmd=$(cat "$T/cmd")
	[ "$(sem_val "$n")" = 0 ]
	kill_ipcbox "$IPID"
	running "$cmd"
	touch "$T/go"
	wait_file "$T/done"
	gone "$cmd"
	[ "$(sem_val "$n")" = 0 ]
	run ipc sem-run "$n" -t 100ms -- true
	assert_status 124
	ipc sem-post "$n"
	run ipc sem-run "$n" -t 2s -- true
	assert_status 0
	wait_status "$holder"
	assert_status 137
}

# ---- channels -----------------------------------------------------------------

# entries: the channel directory's entries, sorted, on one line.
entries() {
	(cd "$T/ch" && ls -A | sort | tr '\n' ' ')
}

@test "channel: a killed listener's entries stay until a send to a channel it matches" {
	bg "$IPCBOX" channel-listen --ready-file "$T/ready" 'news/*'
	local l=$BG_PID id
	wait_file "$T/ready"
	ipcbox_of "$l"
	id=$(cd "$T/ch" && ls r.*)
	id=${id#r.}
	kill_ipcbox "$IPID"
	wait_status "$l"
	assert_status 137
	[ "$(entries)" = "r.$id s.$id " ]
	# Looking changes nothing, and finds no live listener.
	run ipc channel-registered news/a
	assert_status 1
	run ipc channel-list
	assert_status 0
	assert_output ''
	# A send to a channel the pattern does not match does not look at it.
	run ipc channel-send -v other 'x()'
	assert_status 0
	assert_output "delivered to 0 of 0 listeners"
	[ "$(entries)" = "r.$id s.$id " ]
	run ipc channel-send -v news/a 'x()'
	assert_status 0
	assert_output "delivered to 0 of 0 listeners"
	[ -z "$(entries)" ]
}

@test "channel-wait killed: its entries stay until a send to a channel it matches" {
	bg "$IPCBOX" channel-wait --ready-file "$T/ready" 'app/*' 'go()'
	local w=$BG_PID
	wait_file "$T/ready"
	ipcbox_of "$w"
	kill_ipcbox "$IPID"
	wait_status "$w"
	assert_status 137
	[ -n "$(entries)" ]
	run ipc channel-registered app/x
	assert_status 1
	run ipc channel-send -v app/x 'go()'
	assert_status 0
	assert_output "delivered to 0 of 0 listeners"
	[ -z "$(entries)" ]
}

@test "channel: a listener killed while registering (after bind, before the rename) is swept by the next send, to any channel" {
	# strace delivers the SIGKILL on entry to the renameat that publishes
	# r.ID: what is left is exactly what such a death leaves.
	run timeout -k 5 "$TMO" strace -f -qq -o /dev/null -e trace=renameat -e inject=renameat:signal=KILL \
		env ASAN_OPTIONS="$(no_lsan)" "$IPCBOX" channel-listen 'news/*'
	assert_status 137
	local s tmp
	s=$(cd "$T/ch" && echo s.*)
	tmp=$(cd "$T/ch" && echo r.*.tmp)
	[ "$(entries)" = "$tmp $s " ]
	[ "$tmp" = "r.${s#s.}.tmp" ]
	# Looking changes nothing.
	run ipc channel-list
	assert_status 0
	assert_output ''
	[ "$(entries)" = "$tmp $s " ]
	# A send to any channel, matched or not, removes both.
	run ipc channel-send -v other 'x()'
	assert_status 0
	assert_output "delivered to 0 of 0 listeners"
	[ -z "$(entries)" ]
}

@test "channel: a send leaves alone a listener that is still registering (stopped between bind and rename), which then registers" {
	# strace stops the listener as its second setsockopt (the receive
	# buffer, just after the bind) returns: s.ID exists, r.ID not yet.
	bg strace -f -qq -o /dev/null -e trace=setsockopt -e inject=setsockopt:signal=STOP:when=2 \
		env ASAN_OPTIONS="$(no_lsan)" "$IPCBOX" channel-listen -c 1 'news/*' >"$T/out"
	local l=$BG_PID s pid
	wait_for eval '[ -n "$(cd "$T/ch" 2>/dev/null && ls -- s.* 2>/dev/null)" ]'
	s=$(cd "$T/ch" && echo s.*)
	pid=${s#s.}
	pid=${pid%%-*}
	wait_for eval '[ "$(awk "{ print \$3 }" /proc/$pid/stat)" = t ]'
	run ipc channel-send -v other 'x()'
	assert_status 0
	assert_output "delivered to 0 of 0 listeners"
	[ "$(entries)" = "$s " ]
	kill -CONT "$pid"
	wait_for ipc channel-registered news/a
	run ipc channel-send -v news/a 'x()' hello
	assert_status 0
	assert_output "delivered to 1 of 1 listeners"
	wait_status "$l"
	assert_status 0
	[ "$(cat "$T/out")" = hello ]
}

@test "channel-listen -e: the command of a killed listener runs on to its end, with its data and output" {
	bg "$IPCBOX" channel-listen --ready-file "$T/ready" -e "cat >$T/data.tmp; mv $T/data.tmp $T/data; $(wait_go "$T/go"); echo late; echo done >$T/done" ch >"$T/out"
	local l=$BG_PID
	wait_file "$T/ready"
	ipcbox_of "$l"
	run ipc channel-send ch 'm()' payload
	assert_status 0
	wait_file "$T/data"
	kill_ipcbox "$IPID"
	touch "$T/go"
	wait_file "$T/done"
	[ "$(cat "$T/data")" = payload ]
	[ "$(cat "$T/out")" = late ]
	wait_status "$l"
	assert_status 137
}

@test "channel-send -l killed mid-stream: its listeners go on and keep what it sent" {
	bg "$IPCBOX" channel-listen --ready-file "$T/ready" ch >"$T/out"
	local l=$BG_PID
	wait_file "$T/ready"
	mkfifo "$T/in"
	exec 7<>"$T/in"
	bgi "$IPCBOX" channel-send -l ch 'line()' <"$T/in"
	local s=$BG_PID
	ipcbox_of "$s"
	echo one >&7
	echo two >&7
	wait_for eval '[ "$(cat "$T/out")" = "$(printf "one\ntwo")" ]'
	kill_ipcbox "$IPID"
	wait_status "$s"
	assert_status 137
	run ipc channel-send -v ch 'line()' three
	assert_status 0
	assert_output "delivered to 1 of 1 listeners"
	wait_for eval '[ "$(cat "$T/out")" = "$(printf "one\ntwo\nthree")" ]'
}

@test "channel: a listener killed while a sender streams to it: the sender removes its entries at once, the other listener gets every line" {
	bg "$IPCBOX" channel-listen --ready-file "$T/a.ready" ch >"$T/a.out"
	local a=$BG_PID
	wait_file "$T/a.ready"
	bg "$IPCBOX" channel-listen --ready-file "$T/b.ready" ch >"$T/b.out"
	local b=$BG_PID bid
	wait_file "$T/b.ready"
	ipcbox_of "$b"
	bid=$(grep -l "^$IPID\$" "$T"/ch/r.* | head -n 1)
	bid=${bid##*/r.}
	mkfifo "$T/in"
	exec 7<>"$T/in"
	# Not fd 7: the sender must see the end of its input when 7 closes.
	bgi "$IPCBOX" channel-send -l ch 'line()' <"$T/in" 7>&-
	local s=$BG_PID
	echo one >&7
	wait_for eval '[ "$(cat "$T/b.out")" = one ]'
	kill_ipcbox "$IPID"
	wait_status "$b"
	assert_status 137
	# The stream goes on; its next message finds b refusing, and the
	# sender, not a later one, removes b's two entries.
	echo two >&7
	wait_for eval '[ ! -e "$T/ch/r.$bid" ] && [ ! -e "$T/ch/s.$bid" ]'
	running "$s"
	echo three >&7
	exec 7>&-
	wait_status "$s"
	assert_status 0
	wait_for eval '[ "$(cat "$T/a.out")" = "$(printf "one\ntwo\nthree")" ]'
}

@test "channel over a broker: a killed listener's Will clears its presence, and its session ends" {
	start_broker
	bg "$IPCBOX" channel-listen --broker "$BROKER/ipc" --ready-file "$T/ready" 'QPE/*'
	local l=$BG_PID
	wait_file "$T/ready"
	ipcbox_of "$l"
	run ipc channel-registered --broker "$BROKER/ipc" QPE/System
	assert_status 0
	kill_ipcbox "$IPID"
	wait_status "$l"
	assert_status 137
	wait_for eval '! "$IPCBOX" channel-registered --broker "$BROKER/ipc" QPE/System'
	# Its session ends with the connection (a clean start).
	wait_for grep -q 'Client ipcbox[0-9a-f]* closed its connection' "$T/mosquitto.log"
	# What is retained there now is the Will's empty message: nothing.
	run --separate-stderr timeout -k 5 "$TMO" mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" -t 'ipc.presence/#' -W 1 -v
	assert_output ''
}

@test "channel-bridge killed: its local entries stay until the next matching send, the broker drops it" {
	start_broker
	bg "$IPCBOX" channel-bridge --broker "$BROKER/ipc" --ready-file "$T/ready" 'app/*'
	local b=$BG_PID
	wait_file "$T/ready"
	ipcbox_of "$b"
	[ -n "$(entries)" ]
	kill_ipcbox "$IPID"
	wait_status "$b"
	assert_status 137
	wait_for grep -q 'Client ipcbox[0-9a-f]* closed its connection' "$T/mosquitto.log"
	[ -n "$(entries)" ]
	run ipc channel-send -v app/x 'm()'
	assert_status 0
	assert_output "delivered to 0 of 0 listeners"
	[ -z "$(entries)" ]
}

# ---- bus ------------------------------------------------------------------------

NAME=org.ipcbox.Failure.t

# has_owner NAME: does NAME have an owner on the bus?
has_owner() {
	[ "$("$IPCBOX" bus-call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
		NameHasOwner s "$1")" = "b true" ]
}

@test "bus-serve killed: the bus releases its name, and another bus-serve takes it at once" {
	local name=$NAME$$_$BATS_TEST_NUMBER
	bg "$IPCBOX" bus-serve --ready-file "$T/ready" "$name" /calc org.ipcbox.Calc Run s s -- echo one
	local s=$BG_PID
	wait_file "$T/ready"
	ipcbox_of "$s"
	has_owner "$name"
	kill_ipcbox "$IPID"
	wait_status "$s"
	assert_status 137
	wait_for eval '! has_owner "$name"'
	rm "$T/ready"
	bg "$IPCBOX" bus-serve --ready-file "$T/ready" "$name" /calc org.ipcbox.Calc Run s s -- echo two
	wait_file "$T/ready"
	run ipc bus-call "$name" /calc org.ipcbox.Calc Run s x
	assert_status 0
	assert_output 's "two"'
}

@test "bus-serve killed mid-call: the caller gets an error at once, the command runs on to its end" {
	local name=$NAME$$_$BATS_TEST_NUMBER
	bg "$IPCBOX" bus-serve --ready-file "$T/ready" "$name" /calc org.ipcbox.Calc Run s s -- \
		sh -c "echo \$\$ >$T/cmd.tmp; mv $T/cmd.tmp $T/cmd; $(wait_go "$T/go"); echo done >$T/done; echo late"
	local s=$BG_PID
	wait_file "$T/ready"
	ipcbox_of "$s"
	bg "$IPCBOX" bus-call "$name" /calc org.ipcbox.Calc Run s x 2>"$T/call.err"
	local c=$BG_PID
	wait_file "$T/cmd"
	kill_ipcbox "$IPID"
	wait_status "$c" "$T/call.err"
	assert_status 1
	assert_one_line_error bus-call
	[[ $stderr == *NoReply* ]]
	running "$(cat "$T/cmd")"
	touch "$T/go"
	wait_file "$T/done"
	wait_status "$s"
	assert_status 137
}

@test "bus-listen and bus-wait killed: the bus drops their match rules; a -e command runs on" {
	bg "$IPCBOX" bus-listen --ready-file "$T/ready" -e "cat >$T/sig.tmp; mv $T/sig.tmp $T/sig; $(wait_go "$T/go"); echo done >$T/done" \
		"type='signal',interface=org.ipcbox.FailureListen$$"
	local l=$BG_PID w
	wait_file "$T/ready"
	ipcbox_of "$l"
	bg "$IPCBOX" bus-wait --signal /p "org.ipcbox.FailureWait$$" Tock
	w=$BG_PID
	wait_for match_rule_with "org.ipcbox.FailureWait$$"
	match_rule_with "org.ipcbox.FailureListen$$"
	ipc bus-emit /p "org.ipcbox.FailureListen$$" Tick s hi
	wait_file "$T/sig"
	kill_ipcbox "$IPID"
	wait_status "$l"
	assert_status 137
	ipcbox_of "$w"
	kill_ipcbox "$IPID"
	wait_status "$w"
	assert_status 137
	wait_for eval '! match_rule_with "org.ipcbox.FailureListen$$"'
	wait_for eval '! match_rule_with "org.ipcbox.FailureWait$$"'
	touch "$T/go"
	wait_file "$T/done"
	[ "$(cat "$T/sig")" = 's "hi"' ]
}

# esc STRING: STRING %-escaped for a D-Bus address value.
esc() {
	local s=$1 out= c i
	for ((i = 0; i < ${#s}; i++)); do
		c=${s:i:1}
		case $c in
		[-0-9A-Za-z_/.]) out+=$c ;;
		*) printf -v c '%%%02X' "'$c" && out+=$c ;;
		esac
	done
	printf '%s' "$out"
}

@test "bus: a killed client's unixexec command reads end of file and ends; the bus releases the name" {
	local name=$NAME$$_$BATS_TEST_NUMBER addr
	addr="unixexec:path=/bin/sh,argv1=-c,argv2=$(esc "echo \$\$ >$T/bridge.tmp; mv $T/bridge.tmp $T/bridge; exec \"$IPCBOX\" bus-bridge")"
	bg "$IPCBOX" bus-serve --address "$addr" --ready-file "$T/ready" "$name" /calc org.ipcbox.Calc Run s s -- echo one
	local s=$BG_PID bridge
	wait_file "$T/ready"
	ipcbox_of "$s"
	wait_file "$T/bridge"
	bridge=$(cat "$T/bridge")
	has_owner "$name"
	kill_ipcbox "$IPID"
	wait_status "$s"
	assert_status 137
	gone "$bridge"
	wait_for eval '! has_owner "$name"'
}

@test "bus-bridge killed: its client reads the end of the connection, and the bus releases the client's name" {
	local name=$NAME$$_$BATS_TEST_NUMBER addr
	addr="unixexec:path=/bin/sh,argv1=-c,argv2=$(esc "echo \$\$ >$T/bridge.tmp; mv $T/bridge.tmp $T/bridge; exec \"$IPCBOX\" bus-bridge")"
	bg "$IPCBOX" bus-serve --address "$addr" --ready-file "$T/ready" "$name" /calc org.ipcbox.Calc Run s s -- echo one 2>"$T/serve.err"
	local s=$BG_PID
	wait_file "$T/ready"
	wait_file "$T/bridge"
	has_owner "$name"
	kill_ipcbox "$(cat "$T/bridge")"
	wait_status "$s" "$T/serve.err"
	assert_status 1
	assert_one_line_error bus-serve
	wait_for eval '! has_owner "$name"'
}

# ---- tcp and unix listeners -------------------------------------------------------

# ECHO_CMD: a -e command that records its pid (in $T/cmd), answers each
# line with "got LINE" and notes its end of file (in $T/eof).
echo_cmd() {
	printf '%s' "echo \$\$ >$T/cmd.tmp; mv $T/cmd.tmp $T/cmd; while read -r l; do echo \"got \$l\"; done; echo eof >$T/eof"
}

# client ARGS...: ipcbox ARGS with its stdin the fifo $T/in, held open on
# fd 7 here (exec 7>&- is its end of file); its output in $T/out, stderr in
# $T/cerr; timeout's pid in C.
client() {
	mkfifo "$T/in"
	exec 7<>"$T/in"
	# Our write ends stay ours: a client holding fd 7 never reads its EOF.
	bgi "$IPCBOX" "$@" <"$T/in" >"$T/out" 2>"$T/cerr" 7>&- 8>&-
	C=$BG_PID
}

# says LINE: has the client printed LINE?
says() {
	wait_for grep -qx "$1" "$T/out"
}

@test "tcp-listen -k -e killed: each command keeps its connection, the backlog is reset, the port is free at once" {
	bg "$IPCBOX" tcp-listen -k -m 1 -e "$(echo_cmd)" --port-file "$T/port" 0
	local l=$BG_PID port waiting
	port=$(port_of "$T/port")
	ipcbox_of "$l"
	client tcp-connect 127.0.0.1 "$port"
	echo one >&7
	says "got one"
	# A second client waits in the backlog: -m 1 is reached.
	bg sh -c 'echo hi | "$0" tcp-connect -v 127.0.0.1 "$1"' "$IPCBOX" "$port" 2>"$T/c2err" 7>&-
	waiting=$BG_PID
	wait_for grep -q 'connected' "$T/c2err"
	kill_ipcbox "$IPID"
	wait_status "$l"
	assert_status 137
	wait_status "$waiting"
	assert_status 1
	grep -q 'Connection reset by peer' "$T/c2err"
	echo two >&7
	says "got two"
	# A new listener binds the port while the old connection lives on.
	rm "$T/port"
	bg "$IPCBOX" tcp-listen -e 'echo second' --port-file "$T/port" "$port" 7>&-
	port_of "$T/port"
	run ipc tcp-connect 127.0.0.1 "$port" </dev/null
	assert_status 0
	assert_output second
	exec 7>&-
	wait_file "$T/eof"
	wait_status "$C"
	assert_status 0
}

# tls_static: is $IPCBOX the static build, which has no TLS?
tls_static() {
	LC_ALL=C ldd "$IPCBOX" 2>&1 | grep -q 'not a dynamic executable'
}

# tls_listen ARGS...: tcp-listen --tls ARGS on port 0 in the background,
# its ephemeral certificate's pin in PIN, its port in PORT, its pid in IPID,
# timeout's in L.
tls_listen() {
	bgi "$IPCBOX" tcp-listen --tls --port-file "$T/port" "$@" 0 2>"$T/lerr"
	L=$BG_PID
	PORT=$(port_of "$T/port")
	PIN=$(grep -o 'sha256//.*' "$T/lerr")
	ipcbox_of "$L"
}

@test "tcp-listen -k -e --tls killed: each connection's child relays on; that child killed, the client sees no close_notify" {
	if tls_static; then skip "no TLS in this build (the static binary)"; fi
	local child cmd
	tls_listen -k -e "$(echo_cmd)"
	client tcp-connect --tls --pin "$PIN" 127.0.0.1 "$PORT"
	echo one >&7
	says "got one"
	kill_ipcbox "$IPID"
	wait_status "$L"
	assert_status 137
	echo two >&7
	says "got two"
	# The command's parent is the connection's child, an ipcbox.
	cmd=$(cat "$T/cmd")
	child=$(awk '{ print $4 }' "/proc/$cmd/stat")
	[ "$(readlink "/proc/$child/exe")" = "$(readlink -f "$IPCBOX")" ]
	kill_ipcbox "$child"
	wait_file "$T/eof"
	wait_status "$C" "$T/cerr"
	assert_status 1
	assert_one_line_error tcp-connect
	[[ $stderr == *"without close_notify"* ]]
}

@test "tcp-listen -k -e --tls: a command killed by a signal sends its client no close_notify; one that exits does" {
	if tls_static; then skip "no TLS in this build (the static binary)"; fi
	local cmd
	tls_listen -k -e "$(echo_cmd)"
	client tcp-connect --tls --pin "$PIN" 127.0.0.1 "$PORT"
	echo one >&7
	says "got one"
	cmd=$(cat "$T/cmd")
	kill -KILL "$cmd"
	wait_status "$C" "$T/cerr"
	assert_status 1
	assert_one_line_error tcp-connect
	[[ $stderr == *"without close_notify"* ]]
	wait_for grep -q 'the command was killed by a signal' "$T/lerr"
	# The same command ending on its own: close_notify, status 0.
	rm -f "$T/in" "$T/out" "$T/cerr"
	exec 7>&-
	client tcp-connect --tls --pin "$PIN" 127.0.0.1 "$PORT"
	echo two >&7
	says "got two"
	exec 7>&-
	wait_status "$C" "$T/cerr"
	assert_status 0
	[ -z "$stderr" ]
}

@test "tcp-listen --tls -e killed, relaying itself: its command reads end of file, the client sees no close_notify" {
	if tls_static; then skip "no TLS in this build (the static binary)"; fi
	tls_listen -e "$(echo_cmd)"
	client tcp-connect --tls --pin "$PIN" 127.0.0.1 "$PORT"
	echo one >&7
	says "got one"
	kill_ipcbox "$IPID"
	wait_status "$L"
	assert_status 137
	wait_file "$T/eof"
	wait_status "$C" "$T/cerr"
	assert_status 1
	assert_one_line_error tcp-connect
	[[ $stderr == *"without close_notify"* ]]
}

@test "tcp-listen -k --tls killed: its clients get no close_notify, so a cut-short stream ends with status 1" {
	if tls_static; then skip "no TLS in this build (the static binary)"; fi
	mkfifo "$T/lin"
	exec 8<>"$T/lin"
	tls_listen -k <"$T/lin"
	client tcp-connect --tls --pin "$PIN" 127.0.0.1 "$PORT"
	echo first >&8
	says first
	kill_ipcbox "$IPID"
	wait_status "$L"
	assert_status 137
	# The client ends by itself (its stdin still open): a close_notify of
	# its own, sent meanwhile, would meet a closed socket and a reset.
	wait_status "$C" "$T/cerr"
	exec 7>&-
	assert_status 1
	assert_one_line_error tcp-connect
	[[ $stderr == *"without close_notify"* ]]
	[ "$(cat "$T/out")" = first ]
}

@test "tcp-listen -k killed: its clients see the end of the stream, status 0" {
	mkfifo "$T/lin"
	exec 8<>"$T/lin"
	bgi "$IPCBOX" tcp-listen -k --port-file "$T/port" 0 <"$T/lin"
	local l=$BG_PID port
	port=$(port_of "$T/port")
	ipcbox_of "$l"
	client tcp-connect 127.0.0.1 "$port"
	echo first >&8
	says first
	kill_ipcbox "$IPID"
	wait_status "$l"
	assert_status 137
	exec 7>&-
	wait_status "$C" "$T/cerr"
	assert_status 0
	[ "$(cat "$T/out")" = first ]
}

@test "unix-listen -k -e killed: its socket file stays and refuses, its command keeps its connection; the next unix-listen replaces the file" {
	bg "$IPCBOX" unix-listen -k -e "$(echo_cmd)" "$T/sock"
	local l=$BG_PID
	ipcbox_of "$l"
	wait_for test -S "$T/sock"
	client unix-connect "$T/sock"
	echo one >&7
	says "got one"
	kill_ipcbox "$IPID"
	wait_status "$l"
	assert_status 137
	[ -S "$T/sock" ]
	echo two >&7
	says "got two"
	run --separate-stderr ipc unix-connect "$T/sock" </dev/null
	assert_status 1
	[[ $stderr == *"Connection refused"* ]]
	bg "$IPCBOX" unix-listen -e 'echo second' "$T/sock" 7>&-
	local l2=$BG_PID
	wait_for eval '"$IPCBOX" unix-connect "$T/sock" </dev/null | grep -qx second'
	wait_status "$l2"
	assert_status 0
	[ ! -e "$T/sock" ]
	exec 7>&-
	wait_file "$T/eof"
	wait_status "$C"
	assert_status 0
}

@test "tcp-listen -e killed (one connection): the command keeps its connection" {
	bg "$IPCBOX" tcp-listen -e "$(echo_cmd)" --port-file "$T/port" 0
	local l=$BG_PID port
	port=$(port_of "$T/port")
	ipcbox_of "$l"
	client tcp-connect 127.0.0.1 "$port"
	echo one >&7
	says "got one"
	kill_ipcbox "$IPID"
	wait_status "$l"
	assert_status 137
	echo two >&7
	says "got two"
	exec 7>&-
	wait_file "$T/eof"
	wait_status "$C"
	assert_status 0
}
