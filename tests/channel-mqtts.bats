#!/usr/bin/env bats
# Channels over MQTT inside TLS (--broker mqtts://, $IPCBOX_BROKER) against a
# real mosquitto with a TLS listener that each test starts on 127.0.0.1
# (tests/mqtt_helpers.bash), its certificates made by tests/tls_helpers.bash,
# interoperating with mosquitto_pub and mosquitto_sub --cafile.
#
# The static musl binary has no TLS: run against it, each test that needs
# TLS skips with the reason "no TLS in this build", which tests/run counts
# apart for that binary only (tls.bats checks the one line it gives).

bats_require_minimum_version 1.5.0
load helpers
load mqtt_helpers
load tls_helpers

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

# no_tls_build: is $IPCBOX built without TLS?  Only the static binary is
# (ldd refuses a static executable); a dynamic one without TLS is a bug the
# tests below find.
no_tls_build() {
	! ldd "$IPCBOX" >/dev/null 2>&1
}

# tls_broker [CERT [CONFIG_LINE]...]: the test PKI in $T/pki and a mosquitto
# whose TLS listener shows $T/pki/CERT.pem (default server: localhost and
# 127.0.0.1), logging everything; TLS_BROKER is its mqtts:// URL.
tls_broker() {
	local cert=${1:-server}
	[ $# -eq 0 ] || shift
	make_pki "$T/pki"
	start_broker "cafile $T/pki/ca.pem" "certfile $T/pki/$cert.pem" "keyfile $T/pki/$cert.key" "log_type all" "$@"
	TLS_BROKER=mqtts://127.0.0.1:$BROKER_PORT
}

# listen NAME ARGS...: channel-listen in the background, output in
# $T/NAME.out, waiting until it is subscribed and announced (ready file).
listen() {
	local name=$1
	shift
	bg "$IPCBOX" channel-listen --ready-file "$T/$name.ready" "$@" >"$T/$name.out" 2>"$T/$name.err"
	wait_file "$T/$name.ready"
}

# sub NAME ARGS...: mosquitto_sub (MQTT 5, QoS 1, TLS with the test CA) in
# the background, output in $T/NAME.out, waiting until the broker has
# answered its SUBSCRIBE (the broker's log says so).
sub() {
	local name=$1
	shift
	bg mosquitto_sub -V 5 -q 1 -i "$name" -h localhost -p "$BROKER_PORT" --cafile "$T/pki/ca.pem" "$@" >"$T/$name.out"
	wait_for grep -q "Sending SUBACK to $name" "$T/mosquitto.log"
}

# child_of PID: the one child of a timeout(1) wrapper.
child_of() {
	cat "/proc/$1/task/$1/children" | tr -d ' '
}

@test "mqtts: channel-send arrives at mosquitto_sub --cafile: topic, qcop-message, payload byte for byte" {
	if no_tls_build; then skip "no TLS in this build (the static binary)"; fi
	tls_broker
	sub s1 -t 'ipc/#' -F '%t|%P|%x' -C 2
	local s=$BG_PID
	run --separate-stderr ipc channel-send --broker "$TLS_BROKER/ipc" --cacert "$T/pki/ca.pem" QPE/System 'setVolume(int)' abc
	assert_status 0
	printf 'x\000\377y' >"$T/bin"
	run --separate-stderr ipc channel-send --broker "$TLS_BROKER/ipc" --cacert "$T/pki/ca.pem" QPE/System 'raw()' - <"$T/bin"
	assert_status 0
	wait_status "$s"
	assert_status 0
	run cat "$T/s1.out"
	assert_output "ipc/QPE/System|qcop-message:setVolume(int)|616263
ipc/QPE/System|qcop-message:raw()|7800ff79"
}

@test "mqtts: mosquitto_pub --cafile reaches channel-listen; 1 MiB of random data arrives whole" {
	if no_tls_build; then skip "no TLS in this build (the static binary)"; fi
	tls_broker
	listen l1 -c 2 -F '%c|%m|%d' --broker "$TLS_BROKER/ipc" --cacert "$T/pki/ca.pem" 'QPE/*'
	local l=$BG_PID
	run mosquitto_pub -V 5 -q 1 -h localhost -p "$BROKER_PORT" --cafile "$T/pki/ca.pem" -t ipc/QPE/System -m on \
		-D publish user-property qcop-message 'setMode(QString)'
	assert_status 0
	head -c 1048576 /dev/urandom >"$T/big"
	run mosquitto_pub -V 5 -q 1 -h localhost -p "$BROKER_PORT" --cafile "$T/pki/ca.pem" -t ipc/QPE/Big -f "$T/big"
	assert_status 0
	wait_status "$l"
	assert_status 0
	{ printf 'QPE/System|setMode(QString)|on\nQPE/Big||'; cat "$T/big"; echo; } >"$T/want"
	cmp "$T/want" "$T/l1.out"
}

@test "mqtts: -l sends 10,000 messages, every one acknowledged, arriving complete and in order" {
	if no_tls_build; then skip "no TLS in this build (the static binary)"; fi
	tls_broker server "max_queued_messages 20000"
	listen l2 -c 10000 --broker "$TLS_BROKER/ipc" --cacert "$T/pki/ca.pem" bulk
	local l=$BG_PID
	seq 1 10000 >"$T/lines"
	run --separate-stderr ipc channel-send -l -v --broker "$TLS_BROKER/ipc" --cacert "$T/pki/ca.pem" bulk 'line()' <"$T/lines"
	assert_status 0
	assert_output "10000 messages, acknowledged by the broker: 10000"
	wait_status "$l"
	assert_status 0
	cmp "$T/lines" "$T/l2.out"
}

@test "mqtts: \$IPCBOX_BROKER alone carries the URL, and --cacert applies to it" {
	if no_tls_build; then skip "no TLS in this build (the static binary)"; fi
	tls_broker
	sub s2 -t 'env/#' -F '%t %p' -C 1
	local s=$BG_PID
	IPCBOX_BROKER=$TLS_BROKER/env run --separate-stderr ipc channel-send -v --cacert "$T/pki/ca.pem" ch 'm()' hi
	assert_status 0
	assert_output "acknowledged by the broker"
	wait_status "$s"
	assert_status 0
	run cat "$T/s2.out"
	assert_output "env/ch hi"
}

@test "mqtts: channel-registered and channel-wait over TLS" {
	if no_tls_build; then skip "no TLS in this build (the static binary)"; fi
	tls_broker
	local ca=$T/pki/ca.pem w
	run --separate-stderr ipc channel-registered --broker "$TLS_BROKER/ipc" --cacert "$ca" app/x
	assert_status 1
	bg "$IPCBOX" channel-wait --ready-file "$T/w.ready" --broker "$TLS_BROKER/ipc" --cacert "$ca" 'app/*' 'done(int)' \
		>"$T/w.out" 2>"$T/w.err"
	w=$BG_PID
	wait_file "$T/w.ready"
	run --separate-stderr ipc channel-registered --broker "$TLS_BROKER/ipc" --cacert "$ca" app/x
	assert_status 0
	run --separate-stderr ipc channel-send --broker "$TLS_BROKER/ipc" --cacert "$ca" app/x 'other()' no
	assert_status 0
	run --separate-stderr ipc channel-send --broker "$TLS_BROKER/ipc" --cacert "$ca" app/x 'done(int)' 42
	assert_status 0
	wait_status "$w" "$T/w.err"
	assert_status 0
	run cat "$T/w.out"
	assert_output 42
	# Gone, its presence is cleared.
	run --separate-stderr ipc channel-registered --broker "$TLS_BROKER/ipc" --cacert "$ca" app/x
	assert_status 1
}

@test "mqtts: channel-bridge joins two local namespaces through a TLS broker, each message once" {
	if no_tls_build; then skip "no TLS in this build (the static binary)"; fi
	tls_broker
	local A=$T/a B=$T/b ba bb ca=$T/pki/ca.pem
	IPCBOX_CHANNEL_DIR=$A bg "$IPCBOX" channel-bridge --broker "$TLS_BROKER/ipc" --cacert "$ca" --ready-file "$T/ba" 'app/*'
	ba=$BG_PID
	IPCBOX_CHANNEL_DIR=$B bg "$IPCBOX" channel-bridge --broker "$TLS_BROKER/ipc" --cacert "$ca" --ready-file "$T/bb" 'app/*'
	bb=$BG_PID
	wait_file "$T/ba"
	wait_file "$T/bb"
	IPCBOX_CHANNEL_DIR=$A listen la -v 'app/*'
	IPCBOX_CHANNEL_DIR=$B listen lb -v 'app/*'
	IPCBOX_CHANNEL_DIR=$A run ipc channel-send app/x 'fromA(int)' one
	assert_status 0
	IPCBOX_CHANNEL_DIR=$B run ipc channel-send app/y 'fromB(int)' two
	assert_status 0
	run mosquitto_pub -V 5 -q 1 -h localhost -p "$BROKER_PORT" --cafile "$ca" -t ipc/app/z -m three \
		-D publish user-property qcop-message 'z()'
	assert_status 0
	wait_for eval "[ \$(wc -l <$T/la.out) -eq 3 ] && [ \$(wc -l <$T/lb.out) -eq 3 ]"
	kill -TERM "$(child_of "$ba")" "$(child_of "$bb")"
	wait_status "$ba"
	assert_status 0
	wait_status "$bb"
	assert_status 0
	run sort "$T/la.out"
	assert_output "app/x fromA(int) one
app/y fromB(int) two
app/z z() three"
	run sort "$T/lb.out"
	assert_output "app/x fromA(int) one
app/y fromB(int) two
app/z z() three"
}

@test "mqtts: a CA the broker's certificate does not chain to: one line, exit 1" {
	if no_tls_build; then skip "no TLS in this build (the static binary)"; fi
	tls_broker
	# Not in the system's trust store, nor in an unrelated --cacert.
	run --separate-stderr ipc channel-send --broker "$TLS_BROKER/ipc" ch 'm()' d
	assert_status 1
	assert_one_line_error channel-send
	[[ $stderr == *"port $BROKER_PORT: TLS: certificate verify failed: "*"--cacert FILE names your CA"* ]]
	run --separate-stderr ipc channel-listen --broker "$TLS_BROKER/ipc" --cacert "$T/pki/ca2.pem" ch
	assert_status 1
	assert_one_line_error channel-listen
	[[ $stderr == *"certificate verify failed"* ]]
	run --separate-stderr ipc channel-registered --broker "$TLS_BROKER/ipc" --cacert "$T/pki/ca2.pem" ch
	assert_status 1
	assert_one_line_error channel-registered
	[[ $stderr == *"certificate verify failed"* ]]
}

@test "mqtts: a certificate for another name: one line, exit 1; --servername names the one it holds" {
	if no_tls_build; then skip "no TLS in this build (the static binary)"; fi
	tls_broker other
	run --separate-stderr ipc channel-send --broker "$TLS_BROKER/ipc" --cacert "$T/pki/ca.pem" ch 'm()' d
	assert_status 1
	assert_one_line_error channel-send
	[[ $stderr == *"certificate verify failed"*"other.test"*"127.0.0.1"* ]]
	run --separate-stderr ipc channel-wait --broker "$TLS_BROKER/ipc" --cacert "$T/pki/ca.pem" -t 10s ch
	assert_status 1
	assert_one_line_error channel-wait
	run --separate-stderr ipc channel-send --broker "$TLS_BROKER/ipc" --cacert "$T/pki/ca.pem" --servername other.test \
		ch 'm()' d
	assert_status 0
}

@test "mqtts: a broker that requires a client certificate: refused without one (one line, exit 1), taken with --cert and --key" {
	if no_tls_build; then skip "no TLS in this build (the static binary)"; fi
	tls_broker server "require_certificate true" "use_identity_as_username true"
	local ca=$T/pki/ca.pem
	run --separate-stderr ipc channel-send --broker "$TLS_BROKER/ipc" --cacert "$ca" ch 'm()' d
	assert_status 1
	assert_one_line_error channel-send
	[[ $stderr == *"requires a client certificate"* ]]
	run --separate-stderr ipc channel-listen --broker "$TLS_BROKER/ipc" --cacert "$ca" ch
	assert_status 1
	assert_one_line_error channel-listen
	sub s3 --cert "$T/pki/client.pem" --key "$T/pki/client.key" -t 'ipc/#' -F '%t %p' -C 1
	local s=$BG_PID
	run --separate-stderr ipc channel-send --broker "$TLS_BROKER/ipc" --cacert "$ca" \
		--cert "$T/pki/client.pem" --key "$T/pki/client.key" ch 'm()' with-cert
	assert_status 0
	wait_status "$s"
	assert_status 0
	run cat "$T/s3.out"
	assert_output "ipc/ch with-cert"
	# The broker knew us by the certificate's common name.
	grep -q "u'ipcbox test client'" "$T/mosquitto.log"
}

@test "mqtts: --pin with the broker's pin connects without a CA; another pin: one line, exit 1; --insecure connects" {
	if no_tls_build; then skip "no TLS in this build (the static binary)"; fi
	tls_broker other
	local pin wrong
	pin=$(pin_of "$T/pki/other.pem")
	wrong=$(pin_of "$T/pki/ca2.pem")
	# A pin is the identity: neither the CA nor the name (other.test) is checked.
	run --separate-stderr ipc channel-send --broker "$TLS_BROKER/ipc" --pin "$wrong" --pin "$pin" ch 'm()' d
	assert_status 0
	run --separate-stderr ipc channel-send --broker "$TLS_BROKER/ipc" --pin "$wrong" ch 'm()' d
	assert_status 1
	assert_one_line_error channel-send
	[[ $stderr == *"pin mismatch: the peer's key is $pin"* ]]
	run --separate-stderr ipc channel-send --broker "$TLS_BROKER/ipc" --insecure ch 'm()' d
	assert_status 0
}

@test "mqtts: --timeout covers a handshake the broker does not answer (send exit 1, wait exit 124)" {
	if no_tls_build; then skip "no TLS in this build (the static binary)"; fi
	tls_broker
	kill -STOP "$BROKER_PID"
	run --separate-stderr ipc channel-send -t 500ms --broker "$TLS_BROKER/ipc" --cacert "$T/pki/ca.pem" ch 'm()' d
	assert_status 1
	assert_one_line_error channel-send
	[[ $stderr == *"port $BROKER_PORT: "*"TLS handshake"*"in time"* ]]
	run --separate-stderr ipc channel-wait -t 500ms --broker "$TLS_BROKER/ipc" --cacert "$T/pki/ca.pem" ch
	assert_timed_out channel-wait
	kill -CONT "$BROKER_PID"
}

@test "mqtts: TLS options are usage errors without an mqtts:// URL, and bad values are too (exit 2, one line)" {
	local pin=sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=
	run --separate-stderr ipc channel-send --broker mqtt://127.0.0.1:1/ipc --cacert "$T/ca.pem" ch 'm()' d
	assert_status 2
	assert_one_line_error channel-send
	[[ $stderr == *"--cacert is for an mqtts:// broker"* ]]
	run --separate-stderr ipc channel-listen --insecure ch
	assert_status 2
	assert_one_line_error channel-listen
	IPCBOX_BROKER=mqtt://127.0.0.1:1 run --separate-stderr ipc channel-wait --pin "$pin" ch
	assert_status 2
	assert_one_line_error channel-wait
	run --separate-stderr ipc channel-registered --cert "$T/c.pem" --key "$T/c.key" ch
	assert_status 2
	assert_one_line_error channel-registered
	run --separate-stderr ipc channel-bridge --broker mqtt://127.0.0.1:1 --servername x ch
	assert_status 2
	assert_one_line_error channel-bridge
	run --separate-stderr ipc channel-send --broker mqtts://127.0.0.1:1/ipc --pin sha256//short ch 'm()' d
	assert_status 2
	assert_one_line_error channel-send
	[[ $stderr == *"invalid --pin"* ]]
	run --separate-stderr ipc channel-send --broker mqtts://127.0.0.1:1/ipc --insecure --pin "$pin" ch 'm()' d
	assert_status 2
	assert_one_line_error channel-send
	run --separate-stderr ipc channel-listen --broker mqtts://127.0.0.1:1/ipc --key "$T/c.key" ch
	assert_status 2
	assert_one_line_error channel-listen
	run --separate-stderr ipc channel-send --broker 'mqtts://h:99999' ch 'm()' d
	assert_status 2
	assert_one_line_error channel-send
	[[ $stderr == *"invalid broker URL"* ]]
}

@test "mqtts: the port is 8883 unless the URL gives one" {
	if no_tls_build; then skip "no TLS in this build (the static binary)"; fi
	# Whatever answers there (nothing, as a rule), the line names the port.
	run --separate-stderr ipc channel-send -t 5s --broker mqtts://127.0.0.1/ipc --cacert "$T/none.pem" ch 'm()' d
	assert_status 1
	assert_one_line_error channel-send
	[[ $stderr == *"cannot"*"none.pem"* ]]
	make_pki "$T/pki"
	run --separate-stderr ipc channel-send -t 5s --broker mqtts://127.0.0.1/ipc --cacert "$T/pki/ca.pem" ch 'm()' d
	assert_status 1
	assert_one_line_error channel-send
	[[ $stderr == *"broker 127.0.0.1 port 8883"* ]]
}

@test "mqtts: without OpenSSL (a libssl.so.3 that cannot load, or the static binary): one line, exit 1" {
	if no_tls_build; then skip "no TLS in this build (the static binary)"; fi
	mkdir "$T/nossl"
	: >"$T/nossl/libssl.so.3"
	LD_LIBRARY_PATH=$T/nossl run --separate-stderr ipc channel-listen --broker mqtts://127.0.0.1:1/ipc ch
	assert_status 1
	assert_one_line_error channel-listen
	[[ $stderr == *"libssl.so.3"*"libssl3"* ]]
	# The plain URL does not need it.
	LD_LIBRARY_PATH=$T/nossl run --separate-stderr ipc channel-send --broker mqtt://127.0.0.1:1/ipc ch 'm()' d
	assert_status 1
	[[ $stderr == *"Connection refused"* ]]
}
