#!/usr/bin/env bats
# D-Bus beyond one machine: unixexec: addresses, ipcbox bus-bridge, -H/--host,
# and interop with busctl and systemd-stdio-bridge.  Everything runs against
# the file's private bus (bus_helpers); "remote" commands run locally, -H
# through an ssh stand-in first on PATH that records its argv.

bats_require_minimum_version 1.5.0
load helpers
load bus_helpers

# esc TEXT: TEXT as a D-Bus address value (bytes outside [-0-9A-Za-z_/.]
# written %XX).
esc() {
	local s=$1 out='' c i
	for ((i = 0; i < ${#s}; i++)); do
		c=${s:i:1}
		case $c in
		[-0-9A-Za-z_/.]) out+=$c ;;
		*) printf -v c '%%%02X' "'$c" && out+=$c ;;
		esac
	done
	printf '%s' "$out"
}

# The address that runs "ipcbox bus-bridge ARG..." as the unixexec command.
bridge_address() {
	local a i=1
	a="unixexec:path=$(esc "$IPCBOX"),argv1=bus-bridge"
	for arg in "$@"; do
		i=$((i + 1))
		a+=",argv$i=$(esc "$arg")"
	done
	printf '%s' "$a"
}

# sh_address SCRIPT: a unixexec address running /bin/sh -c SCRIPT.
sh_address() {
	printf 'unixexec:path=/bin/sh,argv1=-c,argv2=%s' "$(esc "$1")"
}

# The bus's id, asked directly: what every way through a bridge must print.
direct_id() {
	"$IPCBOX" bus-call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetId
}

# systemd-stdio-bridge where Debian installs it (systemd package).
stdio_bridge() {
	local p
	for p in "$(command -v systemd-stdio-bridge)" /usr/lib/systemd/systemd-stdio-bridge \
		/lib/systemd/systemd-stdio-bridge; do
		[ -n "$p" ] && [ -x "$p" ] && { echo "$p"; return 0; }
	done
	echo "systemd-stdio-bridge not found; install it with: sudo apt-get install -y systemd" >&2
	return 1
}

# An ssh stand-in in $T/bin (first on PATH for the test): it records its
# argv in $T/ssh-argv, one word a line, checks the -xT busctl and ipcbox
# use, and runs the remote command here, with an "ipcbox" on PATH.
ssh_stand_in() {
	mkdir -p "$T/bin"
	ln -s "$IPCBOX" "$T/bin/ipcbox"
	cat >"$T/bin/ssh" <<EOF
#!/bin/sh
printf '%s\n' "\$@" >"$T/ssh-argv"
[ "\$1" = -xT ] || { echo "ssh stand-in: expected -xT first" >&2; exit 255; }
shift 2
exec "\$@"
EOF
	chmod +x "$T/bin/ssh"
}

# The children of pid that are zombies (state Z), one pid a line.
zombies_of() {
	local c
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		[ "$(awk '{print $3}' "/proc/$c/stat" 2>/dev/null)" = Z ] && echo "$c"
	done
	return 0
}

@test "unixexec: bus-call through ipcbox bus-bridge gets the bus's reply" {
	local want
	want=$(direct_id)
	run --separate-stderr ipc bus-call --address "$(bridge_address)" \
		org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetId
	assert_status 0
	assert_output "$want"
	[ -z "$stderr" ]
}

@test "unixexec: the client through the bridge says Hello itself and gets its own unique name" {
	# The bridge sends no Hello: the name that owns our call is the caller's.
	run --separate-stderr ipc bus-call --address "$(bridge_address)" org.freedesktop.DBus \
		/org/freedesktop/DBus org.freedesktop.DBus ListNames
	assert_status 0
	# Hello gave the caller a unique name; ListNames lists it and the driver.
	assert_match '"org.freedesktop.DBus"'
	assert_match '":1\.[0-9]+"'
}

@test "unixexec: bus-monitor through the bridge sees a signal emitted on the bus" {
	bg "$IPCBOX" bus-monitor --address "$(bridge_address)" --ready-file "$T/ready" --count 1 \
		"type='signal',interface='org.ipcbox.Remote'" >"$T/out" 2>"$T/err"
	local mon=$BG_PID
	wait_file "$T/ready"
	run ipc bus-emit /org/ipcbox/Remote org.ipcbox.Remote Ping s "over the bridge"
	assert_status 0
	local st=0
	wait "$mon" || st=$?
	[ "$st" -eq 0 ] || { cat "$T/err" >&2; return 1; }
	grep -q 'interface=org.ipcbox.Remote; member=Ping' "$T/out"
	grep -q 'string "over the bridge"' "$T/out"
}

# busctl_run ARGS...: `run` busctl ARGS under the harness's timeout, its
# bridge without LeakSanitizer's exit scan.  busctl ends the unixexec child
# it started with SIGTERM and SIGCONT (systemd's sigterm_wait) and waits for
# it; a SIGCONT landing while LeakSanitizer has the exiting bridge
# ptrace-stopped for its scan hangs it (see stop_bg in helpers.bash), and
# busctl with it: 2 runs in 3 of this file under make check.  Only the
# bridges busctl starts go without the leak check.
busctl_run() {
	run --separate-stderr timeout -k 5 "$TMO" \
		env ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}detect_leaks=0" busctl "$@"
}

@test "busctl through ipcbox bus-bridge (unixexec: address)" {
	local want
	want=$(direct_id)
	busctl_run --address="$(bridge_address)" \
		call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetId
	assert_status 0
	assert_output "$want"
	busctl_run --address="$(bridge_address)" \
		--json=short call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
		NameHasOwner s org.freedesktop.DBus
	assert_status 0
	assert_output '{"type":"b","data":[true]}'
}

@test "ipcbox through systemd-stdio-bridge (unixexec: address)" {
	local bridge want addr
	bridge=$(stdio_bridge)
	want=$(direct_id)
	addr="unixexec:path=$(esc "$bridge"),argv1=$(esc "--bus-path=$BUS_ADDR")"
	run --separate-stderr ipc bus-call --address "$addr" \
		org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetId
	assert_status 0
	assert_output "$want"
	run --separate-stderr ipc bus-list --address "$addr"
	assert_status 0
	assert_match 'org\.freedesktop\.DBus'
}

@test "ipcbox through systemd-stdio-bridge, the address written as systemd writes it (unescaped '=' and ':' in a value)" {
	local bridge want
	bridge=$(stdio_bridge)
	want=$(direct_id)
	# The bus's unix: address (its guid dropped: a ',' ends a value): its
	# ':' and '=' stand unescaped, as sd-bus reads them.
	local path=${BUS_ADDR%%,*}
	[[ $path == unix:*=* && $path != *[\;%]* ]]
	run --separate-stderr ipc bus-call --address "unixexec:path=$bridge,argv1=--bus-path=$path" \
		org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetId
	assert_status 0
	assert_output "$want"
}

@test "bus-monitor through systemd-stdio-bridge sees a signal" {
	local bridge addr
	bridge=$(stdio_bridge)
	addr="unixexec:path=$(esc "$bridge"),argv1=$(esc "--bus-path=$BUS_ADDR")"
	bg "$IPCBOX" bus-monitor --address "$addr" --ready-file "$T/ready" --count 1 \
		"type='signal',interface='org.ipcbox.Remote'" >"$T/out" 2>"$T/err"
	local mon=$BG_PID
	wait_file "$T/ready"
	run ipc bus-emit /org/ipcbox/Remote org.ipcbox.Remote Pong u 7
	assert_status 0
	local st=0
	wait "$mon" || st=$?
	[ "$st" -eq 0 ] || { cat "$T/err" >&2; return 1; }
	grep -q 'member=Pong' "$T/out"
	grep -q 'uint32 7' "$T/out"
}

@test "-H: ssh -xT HOST ipcbox bus-bridge runs, and the call goes through it" {
	ssh_stand_in
	local want
	want=$(direct_id)
	PATH="$T/bin:$PATH" run --separate-stderr ipc bus-call -H alice@example.test \
		org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetId
	assert_status 0
	assert_output "$want"
	[ "$(cat "$T/ssh-argv")" = "$(printf '%s\n' -xT alice@example.test ipcbox bus-bridge)" ]
}

@test "-H with --system: the remote bridge gets --system" {
	ssh_stand_in
	local want
	want=$(direct_id)
	# The "remote" system bus is the private bus; the session bus is a path
	# in our directory that does not exist.
	DBUS_SYSTEM_BUS_ADDRESS=$BUS_ADDR DBUS_SESSION_BUS_ADDRESS="unix:path=$(esc "$T/no-bus")" \
		PATH="$T/bin:$PATH" run --separate-stderr ipc bus-call --host=example.test --system \
		org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetId
	assert_status 0
	assert_output "$want"
	[ "$(cat "$T/ssh-argv")" = "$(printf '%s\n' -xT example.test ipcbox bus-bridge --system)" ]
}

@test "-H: a host that ssh would take for an option, or junk, exits 2 in one line; ssh never runs" {
	ssh_stand_in
	local h
	for h in "-oProxyCommand=touch%20$T/ran" -x '' 'a b' $'a\tb' 'user@' '@host'; do
		PATH="$T/bin:$PATH" run --separate-stderr ipc bus-call -H "$h" \
			org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetId
		assert_status 2
		assert_one_line_error bus-call
		[[ $stderr == *"invalid --host"* ]]
	done
	PATH="$T/bin:$PATH" run --separate-stderr ipc bus-list -H host --address "$BUS_ADDR"
	assert_status 2
	[[ $stderr == *"--host and --address cannot be used together"* ]]
	[ ! -e "$T/ssh-argv" ]
	[ ! -e "$T/ran" ]
}

@test "bad unixexec: addresses exit 2 in one line" {
	local a
	for a in 'unixexec:' 'unixexec:argv1=x' 'unixexec:path=' 'unixexec:path=sh,argv2=x' \
		'unixexec:path=sh,argv01=x' 'unixexec:path=sh,frob=1' 'unixexec:path=a%zz' \
		'unixexec:path=sh,argv1=a%00b' 'unixexec:path=sh,argv1=x,argv1=y'; do
		run --separate-stderr ipc bus-call --address "$a" org.freedesktop.DBus / a.b C
		assert_status 2
		assert_one_line_error bus-call
		[[ $stderr == *"invalid address"* ]] || { echo "$a: $stderr" >&2; return 1; }
	done
}

@test "a unixexec: command that cannot start exits 1 in one line" {
	run --separate-stderr ipc bus-call --address "unixexec:path=$(esc "$T/no-such-program")" \
		org.freedesktop.DBus / a.b C
	assert_status 1
	assert_one_line_error bus-call
	[[ $stderr == *"No such file or directory"* ]]
}

@test "';' fallbacks: a unixexec: command that fails gives way to the next address" {
	local want
	want=$(direct_id)
	run --separate-stderr ipc bus-call --address "$(sh_address 'exit 3');$BUS_ADDR" \
		org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetId
	assert_status 0
	assert_output "$want"
}

@test "a unixexec: command that exits during authentication: exit 1, one line with its status" {
	run --separate-stderr ipc bus-call --address "$(sh_address 'exit 3')" \
		org.freedesktop.DBus / a.b C
	assert_status 1
	assert_one_line_error bus-call
	[[ $stderr == *"exited with status 3"* ]]
	# bus-bridge itself fails the same way when its bus is out of reach: a
	# socket path in our directory that does not exist.
	local nowhere
	nowhere="unix:path=$(esc "$T/no-bus")"
	run --separate-stderr ipc bus-call --address "$(bridge_address --address "$nowhere")" \
		org.freedesktop.DBus / a.b C
	assert_status 1
	[ "${#stderr_lines[@]}" -eq 2 ] # the bridge's line, then ours
	[[ ${stderr_lines[0]} == "ipcbox bus-bridge: connect to $nowhere: No such file or directory" ]]
	[[ ${stderr_lines[1]} == "ipcbox bus-call: "*"exited with status 1"* ]]
}

@test "the bridge dies under bus-monitor: exit 1, one line, the command reaped" {
	# sh starts the bridge in the background and exits: the connection lives
	# on through the bridge while sh must not stay a zombie of bus-monitor.
	local script
	script="exec 3<&0; $IPCBOX bus-bridge <&3 & echo \$! >$T/bridge.pid"
	bg "$IPCBOX" bus-monitor --address "$(sh_address "$script")" --ready-file "$T/ready" \
		"type='signal',interface='org.ipcbox.Remote'" >"$T/out" 2>"$T/err"
	local mon=$BG_PID
	wait_file "$T/ready"
	wait_file "$T/bridge.pid"
	# Each signal wakes bus-monitor, which reaps an ended command before it
	# waits again.
	emit_and_no_zombie() {
		"$IPCBOX" bus-emit /org/ipcbox/Remote org.ipcbox.Remote Tick || return 1
		[ -z "$(zombies_of "$mon")" ]
	}
	wait_for emit_and_no_zombie
	kill "$(cat "$T/bridge.pid")"
	local st=0
	wait "$mon" || st=$?
	[ "$st" -eq 1 ] || { echo "bus-monitor exited $st" >&2; return 1; }
	[ "$(wc -l <"$T/err")" -eq 1 ]
	grep -qx 'ipcbox bus-monitor: the bus closed the connection' "$T/err"
	grep -q 'member=Tick' "$T/out"
}

@test "the unixexec command killed: bus-monitor exits 1 with one line naming the signal" {
	bg "$IPCBOX" bus-monitor --address "$(sh_address "echo \$\$ >$T/bridge.pid; exec $IPCBOX bus-bridge")" \
		--ready-file "$T/ready" "type='signal',interface='org.ipcbox.Remote'" >"$T/out" 2>"$T/err"
	local mon=$BG_PID
	wait_file "$T/ready"
	wait_file "$T/bridge.pid"
	kill -KILL "$(cat "$T/bridge.pid")"
	local st=0
	wait "$mon" || st=$?
	[ "$st" -eq 1 ] || { echo "bus-monitor exited $st" >&2; return 1; }
	[ "$(wc -l <"$T/err")" -eq 1 ]
	grep -q 'ipcbox bus-monitor: the bus closed the connection' "$T/err"
}

@test "no process is left behind: the bridge ends with the client, reaped" {
	run --separate-stderr ipc bus-call \
		--address "$(sh_address "echo \$\$ >$T/bridge.pid; exec $IPCBOX bus-bridge")" \
		org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetId
	assert_status 0
	# bus-call reaped its command before exiting: the pid is gone, not a zombie.
	if kill -0 "$(cat "$T/bridge.pid")" 2>/dev/null; then
		echo "the bridge outlived bus-call" >&2
		return 1
	fi
}

@test "bus-bridge: a client whose first byte is not NUL is dropped, exit 1, one line" {
	run --separate-stderr ipc bus-bridge --address "$BUS_ADDR" <<<"AUTH EXTERNAL"
	assert_status 1
	assert_one_line_error bus-bridge
	[[ $stderr == *"not NUL"* ]]
}

@test "bus-bridge: SASL server answers (DATA, OK with the bus's guid, REJECTED, ERROR)" {
	local entry guid
	# One listening address of the bus, and the guid it announces for it.
	entry=$(tr ';' '\n' <<<"$BUS_ADDR" | grep '^unix:path=')
	guid=$(sed -n 's/.*,guid=\([0-9a-f]*\)$/\1/p' <<<"$entry")
	[ ${#guid} -eq 32 ]
	printf '\0AUTH\r\nAUTH KERBEROS_V4\r\nAUTH EXTERNAL\r\nDATA\r\nNEGOTIATE_UNIX_FD\r\nCANCEL\r\nAUTH ANONYMOUS 6970\r\nBEGIN\r\n' >"$T/in"
	run --separate-stderr ipc bus-bridge --address "$entry" <"$T/in"
	assert_status 0
	assert_output "$(printf 'REJECTED EXTERNAL ANONYMOUS\r\nREJECTED EXTERNAL ANONYMOUS\r\nDATA\r\nOK %s\r\nERROR file descriptors cannot cross this bridge\r\nREJECTED EXTERNAL ANONYMOUS\r\nOK %s\r' "$guid" "$guid")"
}

@test "bus-bridge: a client that never authenticates is dropped at --timeout (exit 124)" {
	mkfifo "$T/fifo"
	# The fifo stays open for writing (fd 7) but nothing is sent.
	exec 7<>"$T/fifo"
	run --separate-stderr ipc bus-bridge --address "$BUS_ADDR" -t 300ms <"$T/fifo"
	exec 7>&-
	assert_status 124
	assert_one_line_error bus-bridge
}

@test "unixexec: SASL EXTERNAL goes without an identity, as busctl's does" {
	# A command that records the first 22 bytes it is sent, then exits.  It
	# waits for them (select): sd-bus gives its unixexec command a
	# non-blocking socket, and head(1) reading before busctl has written
	# fails with EAGAIN and records nothing.
	cat >"$T/record" <<'PY'
#!/usr/bin/python3
import os, select, sys
got = b""
while len(got) < 22:
    select.select([0], [], [])
    try:
        b = os.read(0, 22 - len(got))
    except BlockingIOError:
        continue
    if not b:
        break
    got += b
open(sys.argv[1], "wb").write(got)
PY
	chmod +x "$T/record"
	run --separate-stderr ipc bus-call --address "unixexec:path=$(esc "$T/record"),argv1=$(esc "$T/ours")" \
		org.freedesktop.DBus / a.b C
	assert_status 1
	run --separate-stderr timeout -k 5 "$TMO" busctl \
		--address="unixexec:path=$(esc "$T/record"),argv1=$(esc "$T/busctl")" call org.freedesktop.DBus / a.b C
	[ "$status" -ne 0 ]
	local ours theirs
	ours=$(od -An -c "$T/ours")
	theirs=$(od -An -c "$T/busctl")
	if [ "$ours" != "$theirs" ]; then
		printf 'ipcbox sent:\n%s\nbusctl sent:\n%s\n' "$ours" "$theirs" >&2
		return 1
	fi
	[ "$(tr -d ' \n' <<<"$ours")" = '\0AUTHEXTERNAL\r\nDATA\r\n' ]
}

@test "busctl -H (ssh stand-in) reaches the bus through ipcbox bus-bridge in systemd-stdio-bridge's place" {
	mkdir -p "$T/bin"
	# busctl runs: ssh -xT -- HOST systemd-stdio-bridge; "remotely" that is
	# our bridge to the system bus, which here is the private bus.
	cat >"$T/bin/ssh" <<EOS
#!/bin/sh
printf '%s\n' "\$@" >"$T/ssh-argv"
[ "\$4" = systemd-stdio-bridge ] || exit 255
DBUS_SYSTEM_BUS_ADDRESS='$BUS_ADDR' exec "$IPCBOX" bus-bridge --system
EOS
	chmod +x "$T/bin/ssh"
	local want
	want=$(direct_id)
	PATH="$T/bin:$PATH" busctl_run -H bob@example.test \
		call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetId
	assert_status 0
	assert_output "$want"
	[ "$(cat "$T/ssh-argv")" = "$(printf '%s\n' -xT -- bob@example.test systemd-stdio-bridge)" ]
}

@test "bus-bridge: the bus drops the client: the bridge ends, exit 1, one line, though stdin is open" {
	mkfifo "$T/fifo"
	# Authenticate, then send 16 bytes that are no message: the bus closes
	# the connection.  The fifo stays open for writing (fd 7): no EOF.
	exec 7<>"$T/fifo"
	printf '\0AUTH EXTERNAL\r\nDATA\r\nBEGIN\r\nXXXXXXXXXXXXXXXX' >&7
	run --separate-stderr ipc bus-bridge --address "$BUS_ADDR" <"$T/fifo"
	exec 7>&-
	assert_status 1
	assert_one_line_error bus-bridge
	[ "$stderr" = "ipcbox bus-bridge: the bus closed the connection" ]
}

@test "bus-bridge: SIGTERM while relaying ends it cleanly, exit 0" {
	mkfifo "$T/fifo"
	exec 7<>"$T/fifo"
	printf '\0AUTH EXTERNAL\r\nDATA\r\nBEGIN\r\n' >&7
	bgi "$IPCBOX" bus-bridge --address "$BUS_ADDR" <"$T/fifo" >"$T/out" 2>"$T/err"
	local tmo=$BG_PID bridge
	wait_for grep -q '^OK ' "$T/out"
	bridge=$(cat "/proc/$tmo/task/$tmo/children")
	[ -n "$bridge" ]
	kill -TERM "$bridge"
	local st=0
	wait "$tmo" || st=$?
	exec 7>&-
	[ "$st" -eq 0 ] || { echo "bus-bridge exited $st: $(cat "$T/err")" >&2; return 1; }
	[ ! -s "$T/err" ]
}
