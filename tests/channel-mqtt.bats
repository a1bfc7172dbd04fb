#!/usr/bin/env bats
# Channels over an MQTT 5 broker (--broker, $IPCBOX_BROKER) and
# channel-bridge, against a real mosquitto that each test starts on
# 127.0.0.1 with its own config (tests/mqtt_helpers.bash), interoperating
# with mosquitto_pub and mosquitto_sub.

bats_require_minimum_version 1.5.0
load helpers
load mqtt_helpers

setup() {
	common_setup
	export IPCBOX_CHANNEL_DIR=$T/ch
	unset IPCBOX_BROKER
}

teardown() {
	# A broker a test stopped must be able to die.
	[ -z "${BROKER_PID:-}" ] || kill -CONT "$BROKER_PID" 2>/dev/null || true
	common_teardown
}

# listen NAME ARGS...: channel-listen in the background, output in
# $T/NAME.out, waiting until it is subscribed and announced (ready file).
listen() {
	local name=$1
	shift
	bg "$IPCBOX" channel-listen --ready-file "$T/$name.ready" "$@" >"$T/$name.out" 2>"$T/$name.err"
	wait_file "$T/$name.ready"
}

# exits PID STATUS: wait for a background command; did it exit with STATUS?
exits() {
	local s=0
	wait "$1" || s=$?
	[ "$s" -eq "$2" ] || { echo "pid $1 exited $s, not $2" >&2; return 1; }
}

# sub NAME ARGS...: mosquitto_sub (MQTT 5, QoS 1) in the background, output
# in $T/NAME.out, waiting until the broker has answered its SUBSCRIBE (the
# broker's log says so).
sub() {
	local name=$1
	shift
	bg mosquitto_sub -V 5 -q 1 -i "$name" -h 127.0.0.1 -p "$BROKER_PORT" "$@" >"$T/$name.out"
	wait_for grep -q "Sending SUBACK to $name" "$T/mosquitto.log"
}

# child_of PID: the one child of a timeout(1) wrapper.
child_of() {
	cat "/proc/$1/task/$1/children" | tr -d ' '
}

@test "unit: MQTT packets (round trips, reject list), URLs, pattern -> filter table" {
	run "$IPCBOX_UNIT/mqtt"
	assert_status 0
}

@test "broker: channel-send arrives at mosquitto_sub: topic PREFIX/CHANNEL, qcop-message property, payload byte for byte" {
	start_broker "log_type all"
	sub s1 -t 'ipc/#' -F '%t|%P|%x' -C 2
	local s=$BG_PID
	run --separate-stderr ipc channel-send --broker "$BROKER/ipc" QPE/System 'setVolume(int)' abc
	assert_status 0
	printf 'x\000\377y' >"$T/bin"
	run --separate-stderr ipc channel-send --broker "$BROKER/ipc" QPE/System 'raw()' - <"$T/bin"
	assert_status 0
	exits "$s" 0
	run cat "$T/s1.out"
	assert_output "ipc/QPE/System|qcop-message:setVolume(int)|616263
ipc/QPE/System|qcop-message:raw()|7800ff79"
}

@test "broker: \$IPCBOX_BROKER stands for --broker; -v says the broker acknowledged" {
	start_broker "log_type all"
	sub s2 -t 'env/#' -F '%t %p' -C 1
	local s=$BG_PID
	IPCBOX_BROKER=$BROKER/env run --separate-stderr ipc channel-send -v ch 'm()' hi
	assert_status 0
	assert_output "acknowledged by the broker"
	exits "$s" 0
	run cat "$T/s2.out"
	assert_output "env/ch hi"
}

@test "broker: mosquitto_pub with -D publish user-property reaches channel-listen; a plain publish has an empty message name" {
	start_broker
	listen l1 -c 2 -F '%c|%m|%d|%p' --broker "$BROKER/ipc" 'QPE/*'
	local l=$BG_PID
	run mosquitto_pub -V 5 -q 1 -h 127.0.0.1 -p "$BROKER_PORT" -t ipc/QPE/System -m 'on' \
		-D publish user-property qcop-message 'setMode(QString)'
	assert_status 0
	run mosquitto_pub -q 1 -h 127.0.0.1 -p "$BROKER_PORT" -t ipc/QPE/Plain -m hi
	assert_status 0
	exits "$l" 0
	run cat "$T/l1.out"
	assert_output "QPE/System|setMode(QString)|on|-
QPE/Plain||hi|-"
}

@test "broker: without PREFIX the topic is the channel (mosquitto_pub -t ch -m hi)" {
	start_broker
	listen l2 -c 1 -v --broker "$BROKER" ch
	local l=$BG_PID
	run mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -t ch -m hi
	assert_status 0
	exits "$l" 0
	run cat "$T/l2.out"
	assert_output "ch  hi"
}

@test "broker: wildcard mapping: exact filters, wider filters filtered locally, overlapping patterns deliver once" {
	start_broker
	# QPE/* is exact (ipc/QPE/+/#); QPE/Sys* is not (ipc/QPE/+/# and a glob
	# here); a/x matches both a/* and a/x: one copy.
	listen l3 -v --broker "$BROKER/ipc" 'QPE/*'
	listen l4 -v --broker "$BROKER/ipc" 'QPE/Sys*'
	listen l5 -v --broker "$BROKER/ipc" 'a/*' a/x 'end'
	for ch in QPE/System QPE/Other QPE/a/b QPEX/a QPE a/x a/y; do
		run ipc channel-send --broker "$BROKER/ipc" "$ch" 'm()' "$ch"
		assert_status 0
	done
	run ipc channel-send --broker "$BROKER/ipc" end 'm()' end
	assert_status 0
	run mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -t ipc/QPE/System -m last
	assert_status 0
	wait_for grep -q 'end' "$T/l5.out"
	wait_for grep -q 'last' "$T/l4.out"
	wait_for grep -q 'last' "$T/l3.out"
	run cat "$T/l3.out"
	assert_output "QPE/System m() QPE/System
QPE/Other m() QPE/Other
QPE/a/b m() QPE/a/b
QPE/System  last"
	run cat "$T/l4.out"
	assert_output "QPE/System m() QPE/System
QPE/System  last"
	run cat "$T/l5.out"
	assert_output "a/x m() a/x
a/y m() a/y
end m() end"
}

@test "broker: patterns and channels MQTT cannot carry are refused before connecting (exit 2)" {
	run --separate-stderr ipc channel-listen --broker mqtt://127.0.0.1:9/p 'a+b'
	assert_status 2
	assert_one_line_error channel-listen
	run --separate-stderr ipc channel-send --broker mqtt://127.0.0.1:9/p 'a#b' 'm()'
	assert_status 2
	assert_one_line_error channel-send
	run --separate-stderr ipc channel-wait --broker mqtt://127.0.0.1:9/p "$(printf 'x\ty')"
	assert_status 2
	assert_one_line_error channel-wait
	run --separate-stderr ipc channel-send --broker mqtt://127.0.0.1:9/p ch "$(printf 'm\001')"
	assert_status 2
	assert_one_line_error channel-send
}

@test "broker: -l sends 10,000 messages, every one acknowledged, arriving complete and in order" {
	# The listener may lag: let mosquitto queue them all for it.
	start_broker "max_queued_messages 20000"
	listen l6 -c 10000 --broker "$BROKER/ipc" bulk
	local l=$BG_PID
	seq 1 10000 >"$T/lines"
	run --separate-stderr ipc channel-send -l -v --broker "$BROKER/ipc" bulk 'line()' <"$T/lines"
	assert_status 0
	assert_output "10000 messages, acknowledged by the broker: 10000"
	exits "$l" 0
	cmp "$T/lines" "$T/l6.out"
}

@test "broker: -l sends a last line without a newline; a line over 1 MiB is refused (exit 2)" {
	start_broker
	listen l10 -c 3 --broker "$BROKER/ipc" lines
	local l=$BG_PID
	printf 'one\n\nlast' >"$T/in"
	run --separate-stderr ipc channel-send -l --broker "$BROKER/ipc" lines 'line()' <"$T/in"
	assert_status 0
	exits "$l" 0
	run cat "$T/l10.out"
	assert_output "one

last"
	head -c 1048577 /dev/zero | tr '\0' x >"$T/big"
	run --separate-stderr ipc channel-send -l --broker "$BROKER/ipc" lines 'line()' <"$T/big"
	assert_status 2
	assert_one_line_error channel-send
}

@test "broker: a message the broker refuses (PUBACK reason code) makes channel-send exit 1, saying how many and why" {
	start_broker "message_size_limit 10"
	run --separate-stderr ipc channel-send -v --broker "$BROKER/ipc" ch 'm()' 'more than ten bytes'
	assert_status 1
	assert_output "not acknowledged by the broker"
	assert_one_line_error channel-send
	[ "$stderr" = "ipcbox channel-send: 1 of 1 message not acknowledged: the broker answered Packet too large" ]
	printf 'short\nmuch longer than ten\nok\n' >"$T/in"
	run --separate-stderr ipc channel-send -l -v --broker "$BROKER/ipc" ch 'm()' <"$T/in"
	assert_status 1
	assert_output "3 messages, acknowledged by the broker: 2"
	[ "$stderr" = "ipcbox channel-send: 1 of 3 messages not acknowledged: the broker answered Packet too large" ]
}

@test "broker: killed mid-stream: exit 1, one line counting the messages not acknowledged" {
	start_broker "log_type all"
	listen l7 -c 3 --broker "$BROKER/ipc" s
	local l=$BG_PID sender rchar0 want
	mkfifo "$T/in"
	# Read-write: opening does not wait for a reader (fd 3 is bats' own).
	exec 5<>"$T/in"
	bgi "$IPCBOX" channel-send -l --broker "$BROKER/ipc" s 'm()' <"$T/in" 2>"$T/send.err"
	local s=$BG_PID
	printf '1\n2\n3\n' >&5
	exits "$l" 0
	# The three are acknowledged; the broker stops; five more go out unanswered.
	sender=$(child_of "$s")
	kill -STOP "$BROKER_PID"
	rchar0=$(sed -n 's/^rchar: //p' "/proc/$sender/io")
	printf '4\n5\n6\n7\n8\n' >&5
	want=$((rchar0 + 10))
	wait_for eval "[ \$(sed -n 's/^rchar: //p' /proc/$sender/io) -ge $want ]"
	kill -KILL "$BROKER_PID"
	exits "$s" 1
	exec 5>&-
	run cat "$T/send.err"
	assert_output "ipcbox channel-send: the broker closed the connection: 5 of 8 messages not acknowledged"
}

@test "broker: stops answering after CONNACK (SIGSTOP): --timeout ends the send, exit 1, the unacknowledged counted" {
	start_broker
	listen l7b -c 3 --broker "$BROKER/ipc" s
	local l=$BG_PID s sender rchar0 want
	mkfifo "$T/in"
	exec 5<>"$T/in"
	bgi "$IPCBOX" channel-send -l -t 1s --broker "$BROKER/ipc" s 'm()' <"$T/in" 2>"$T/send.err"
	s=$BG_PID
	printf '1\n2\n3\n' >&5
	exits "$l" 0
	# The three are acknowledged; the broker stops answering, alive: two
	# more go out and no PUBACK comes for them within the second.
	sender=$(child_of "$s")
	kill -STOP "$BROKER_PID"
	rchar0=$(sed -n 's/^rchar: //p' "/proc/$sender/io")
	printf '4\n5\n' >&5
	want=$((rchar0 + 4))
	wait_for eval "[ \$(sed -n 's/^rchar: //p' /proc/$sender/io) -ge $want ]"
	exits "$s" 1
	exec 5>&-
	kill -CONT "$BROKER_PID"
	run cat "$T/send.err"
	assert_output "ipcbox channel-send: timed out after 1000 ms waiting for the broker: 2 of 5 messages not acknowledged"
}

@test "broker: wrong credentials (password file): one line with the CONNACK reason, exit 1; right ones %-decoded" {
	mosquitto_passwd -c -b "$T/pw" alice 's3cr:t@x' 2>/dev/null
	start_broker "password_file $T/pw" "allow_anonymous false"
	run --separate-stderr ipc channel-send --broker "mqtt://alice:wrong@127.0.0.1:$BROKER_PORT/ipc" ch 'm()' d
	assert_status 1
	assert_one_line_error channel-send
	[[ $stderr == *"refused the connection: Not authorized"* ]]
	run --separate-stderr ipc channel-send --broker "mqtt://127.0.0.1:$BROKER_PORT/ipc" ch 'm()' d
	assert_status 1
	assert_one_line_error channel-send
	run --separate-stderr ipc channel-send --broker "mqtt://alice:s3cr%3At%40x@127.0.0.1:$BROKER_PORT/ipc" ch 'm()' d
	assert_status 0
}

@test "broker: unreachable broker: one line, exit 1" {
	local port
	port=$(free_port)
	run --separate-stderr ipc channel-send --broker "mqtt://127.0.0.1:$port/ipc" ch 'm()' d
	assert_status 1
	assert_one_line_error channel-send
	[[ $stderr == *"Connection refused"* ]]
	run --separate-stderr ipc channel-listen --broker "mqtt://127.0.0.1:$port/ipc" ch
	assert_status 1
	assert_one_line_error channel-listen
}

@test "broker: bad URLs are usage errors: one line, exit 2" {
	local url
	for url in http://h mqtt:// mqtt://h: mqtt://h:0 mqtt://h:99999 mqtt://h:1x mqtt://@h 'mqtt://u%zz@h' \
		'mqtt://u%00@h' 'mqtt://[::1' 'mqtt://h/$SYS' mqtt://h/a/ 'mqtt://h/a+b'; do
		run --separate-stderr ipc channel-send --broker "$url" ch 'm()' d
		assert_status 2
		assert_one_line_error channel-send
		[[ $stderr == *"invalid broker URL"* ]]
	done
	IPCBOX_BROKER=nonsense run --separate-stderr ipc channel-registered ch
	assert_status 2
	assert_one_line_error channel-registered
}

@test "broker: --timeout covers a broker that does not answer (send exit 1, wait exit 124)" {
	start_broker
	kill -STOP "$BROKER_PID"
	run --separate-stderr ipc channel-send -t 500ms --broker "$BROKER/ipc" ch 'm()' d
	assert_status 1
	assert_one_line_error channel-send
	[[ $stderr == *"timed out"* ]]
	run --separate-stderr ipc channel-wait -t 500ms --broker "$BROKER/ipc" ch
	assert_status 124
	kill -CONT "$BROKER_PID"
}

@test "broker: channel-registered answers from the listeners' presence, cleared when a listener ends or is killed" {
	start_broker
	run ipc channel-registered --broker "$BROKER/ipc" QPE/System
	assert_status 1
	listen l8 --broker "$BROKER/ipc" 'QPE/*'
	local l=$BG_PID lp
	run ipc channel-registered --broker "$BROKER/ipc" QPE/System
	assert_status 0
	run ipc channel-registered --broker "$BROKER/ipc" Other
	assert_status 1
	lp=$(cat "$T/l8.ready")
	kill -TERM "$lp"
	exits "$l" 0
	run ipc channel-registered --broker "$BROKER/ipc" QPE/System
	assert_status 1
	# Killed: its Will clears the presence.
	listen l9 --broker "$BROKER/ipc" 'QPE/*'
	l=$BG_PID
	lp=$(cat "$T/l9.ready")
	kill -KILL "$lp"
	exits "$l" 137
	wait_for eval "! ipc channel-registered --broker '$BROKER/ipc' QPE/System"
}

@test "channel-bridge: two local namespaces joined through one broker, each message once, no echo" {
	start_broker
	local A=$T/a B=$T/b ba bb la lb
	IPCBOX_CHANNEL_DIR=$A bg "$IPCBOX" channel-bridge --broker "$BROKER/ipc" --ready-file "$T/ba" 'app/*'
	ba=$BG_PID
	IPCBOX_CHANNEL_DIR=$B bg "$IPCBOX" channel-bridge --broker "$BROKER/ipc" --ready-file "$T/bb" 'app/*'
	bb=$BG_PID
	wait_file "$T/ba"
	wait_file "$T/bb"
	IPCBOX_CHANNEL_DIR=$A listen la -v 'app/*'
	la=$BG_PID
	IPCBOX_CHANNEL_DIR=$B listen lb -v 'app/*'
	lb=$BG_PID
	IPCBOX_CHANNEL_DIR=$A run ipc channel-send app/x 'fromA(int)' one
	assert_status 0
	IPCBOX_CHANNEL_DIR=$B run ipc channel-send app/y 'fromB(int)' two
	assert_status 0
	IPCBOX_CHANNEL_DIR=$A run ipc channel-send app/end 'end()' A
	assert_status 0
	IPCBOX_CHANNEL_DIR=$B run ipc channel-send app/end 'end()' B
	assert_status 0
	wait_for eval "[ \$(grep -c end $T/la.out) -eq 2 ] && [ \$(grep -c end $T/lb.out) -eq 2 ]"
	# Both listeners saw every message exactly once (no echo from the other side).
	run sort "$T/la.out"
	assert_output "app/end end() A
app/end end() B
app/x fromA(int) one
app/y fromB(int) two"
	run sort "$T/lb.out"
	assert_output "app/end end() A
app/end end() B
app/x fromA(int) one
app/y fromB(int) two"
	# A message from mosquitto_pub reaches both namespaces once.
	run mosquitto_pub -V 5 -h 127.0.0.1 -p "$BROKER_PORT" -t ipc/app/z -m three -D publish user-property qcop-message 'z()'
	assert_status 0
	wait_for grep -q three "$T/la.out"
	wait_for grep -q three "$T/lb.out"
	kill -TERM "$(child_of "$ba")" "$(child_of "$bb")"
	exits "$ba" 0
	exits "$bb" 0
	run grep -c three "$T/la.out"
	assert_output 1
	run grep -c three "$T/lb.out"
	assert_output 1
}
