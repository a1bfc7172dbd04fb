#!/usr/bin/env bats
# tcp-connect --tls and tcp-listen --tls against real peers: openssl
# s_server and s_client, socat OPENSSL: and OPENSSL-LISTEN:, Python's ssl
# module (tests/peers/tls_peer.py), Qt 5's and Qt 6's QSslSocket
# (tests/peers/qt_tls_peer.cpp), and ipcbox itself.  Certificates are made
# per run by tls_helpers.bash's make_pki; every port is the kernel's pick.
#
# The static musl binary is built without TLS (tls_static: ldd says so, not
# --tls, so that a dynamic build with broken TLS fails rather than skips).
# Against it the build test shows that each TLS entry point says so in one
# line, the option checks run as against any build, and every other test
# skips with the reason "no TLS in this build" (need_tls): never a pass.
# tests/run is to count those skips apart for a static $IPCBOX, as it counts
# "(root)" skips apart for an ordinary user.

bats_require_minimum_version 1.5.0
load helpers
load tls_helpers

PEER=$BATS_TEST_DIRNAME/peers/tls_peer.py
QT5_TLS=$BATS_TEST_DIRNAME/../build/test/qt5_tls_peer
QT6_TLS=$BATS_TEST_DIRNAME/../build/test/qt6_tls_peer

# tls_static: is $IPCBOX a static executable (the musl build, without TLS)?
# Decided by the file, not by what --tls answers, so that a dynamic build
# whose TLS is broken fails here rather than skipping.
tls_static() {
	LC_ALL=C ldd "$IPCBOX" 2>&1 | grep -q 'not a dynamic executable'
}

# build_qt BIN PKG-CONFIG-MODULES [CXXFLAGS]: (re)build the Qt peer, as
# qt.bats builds its own.
build_qt() {
	local src=$BATS_TEST_DIRNAME/peers/qt_tls_peer.cpp bin=$1 mods=$2 flags=${3:-}
	mkdir -p "$(dirname "$bin")"
	if [ ! -x "$bin" ] || [ "$src" -nt "$bin" ]; then
		# shellcheck disable=SC2046,SC2086
		timeout -k 5 600 g++ $flags -fPIC -O1 -o "$bin.tmp" "$src" \
			$(pkg-config --cflags --libs $mods) && mv "$bin.tmp" "$bin"
	fi
}

setup_file() {
	if tls_static; then
		export TLS_NONE=1
		return
	fi
	export TLS_NONE=0
	build_qt "$QT5_TLS" "Qt5Core Qt5Network"
	build_qt "$QT6_TLS" "Qt6Core Qt6Network" -std=c++17
}

setup() {
	common_setup
	P=$T/pki
	[ "$TLS_NONE" = 1 ] || make_pki "$P"
	# the system trust store is the default: nothing from the caller's env
	unset SSL_CERT_FILE SSL_CERT_DIR
}

# teardown: the shared-memory object of the test without libssl, if it
# failed halfway, then the usual.
teardown() {
	[ -z "${SHM_NAME:-}" ] || "$IPCBOX" shm-rm "$SHM_NAME" 2>/dev/null || true
	common_teardown
}

# need_tls: the test needs a build with TLS.
need_tls() {
	[ "$TLS_NONE" = 0 ] || skip "no TLS in this build (the static binary)"
}

# listen ARGS...: tcp-listen --tls on port 0 in the background with a port
# file; PORT gets the port, LBG the background pid (for wait_status), LPID
# the listener's own.  Redirect the call for its stdin, stdout, stderr.
listen() {
	rm -f "$T/port"
	bgi "$IPCBOX" tcp-listen --tls --port-file "$T/port" "$@" 0
	LBG=$BG_PID
	PORT=$(port_of "$T/port")
	LPID=$(cat "/proc/$BG_PID/task/$BG_PID/children")
	LPID=${LPID%% *}
}

# listen_pki ARGS...: listen with the localhost certificate of the test PKI.
listen_pki() {
	listen --cert "$P/server.pem" --key "$P/server.key" "$@"
}

# connect ARGS...: tcp-connect --tls under the harness (for `run`).
connect() {
	harness "$IPCBOX" tcp-connect --tls "$@"
}

# connect_to FILE ARGS...: connect with its stdout into FILE (`run` would
# take it otherwise).
connect_to() {
	local out=$1
	shift
	harness "$IPCBOX" tcp-connect --tls "$@" >"$out"
}

# py_server ARGS...: tls_peer.py server with the localhost certificate
# (ARGS: its options); PORT gets its port, PYBG its background pid.
py_server() {
	rm -f "$T/pyport"
	bg "$PEER" server "$T/pyport" "$P/server.pem" "$P/server.key" "$@"
	PYBG=$BG_PID
	PORT=$(port_of "$T/pyport")
}

# s_server CERT ARGS...: openssl s_server for one connection with CERT's pem
# and key, its stdin the fifo $T/s.in held open on fd 5 (its EOF ends
# s_server's connection), its output in $T/s.out; PORT gets its port, SBG its
# background pid.
s_server() {
	local cert=$1
	shift
	mkfifo "$T/s.in"
	exec 5<>"$T/s.in"
	bgi openssl s_server -accept 127.0.0.1:0 -naccept 1 -cert "$P/$cert.pem" -key "$P/$cert.key" \
		"$@" <"$T/s.in" >"$T/s.out" 2>"$T/s.err" 5>&-
	SBG=$BG_PID
	wait_for grep -q '^ACCEPT 127.0.0.1:' "$T/s.out"
	PORT=$(sed -n 's/^ACCEPT 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$T/s.out")
}

# socat_port: the port socat -d -d reported listening on, from $T/socat.err.
socat_port() {
	wait_for grep -q 'listening on .*127.0.0.1:' "$T/socat.err"
	grep -o 'listening on .*127\.0\.0\.1:[0-9]*' "$T/socat.err" | head -n 1 | grep -o '[0-9]*$'
}

# stderr_has TEXT...: the stderr of the last `run --separate-stderr` (or
# wait_status with a file) holds each TEXT; if not, says so with all of it.
stderr_has() {
	local w
	for w in "$@"; do
		if [[ $stderr != *"$w"* ]]; then
			printf 'stderr lacks "%s":\n%s\n' "$w" "$stderr" >&2
			return 1
		fi
	done
}

# data FILE SIZE_MIB: random test data.
data() {
	head -c "$(($2 * 1024 * 1024))" /dev/urandom >"$1"
}

# same_sum A B: the two files' SHA-256 sums are the same.
same_sum() {
	local a b
	a=$(sha256sum <"$1")
	b=$(sha256sum <"$2")
	if [ "$a" != "$b" ]; then
		echo "sha256 differs: $1 ($(stat -c %s "$1") bytes) and $2 ($(stat -c %s "$2") bytes)" >&2
		return 1
	fi
}

# ---- the build ---------------------------------------------------------------

@test "build: ldd shows no libssl or libcrypto; a static build says it has no TLS, one line, at every TLS entry point" {
	run --separate-stderr env LC_ALL=C ldd "$IPCBOX"
	if [ "$TLS_NONE" = 0 ]; then
		assert_status 0
		assert_match 'libc\.so'
		if [[ $output == *libssl* || $output == *libcrypto* ]]; then
			echo "linked against OpenSSL: $output" >&2
			return 1
		fi
		run --separate-stderr ipc tcp-connect --tls --pin junk 127.0.0.1 1
		assert_status 2 # a TLS build parses the pin
		return 0
	fi
	[[ "$output$stderr" == *"not a dynamic executable"* ]]
	local args
	for args in "tcp-connect --tls 127.0.0.1 1" "tcp-connect --tls --insecure 127.0.0.1 1" \
		"tcp-listen --tls 0" "tcp-listen --tls --cert /dev/null --key /dev/null 0" \
		"channel-send --broker mqtts://127.0.0.1:1 c x"; do
		# shellcheck disable=SC2086
		run --separate-stderr ipc $args </dev/null
		assert_status 1
		assert_one_line_error "${args%% *}"
		[[ $stderr == *"has no TLS"* ]] || { echo "$args: $stderr" >&2; return 1; }
	done
}

# ---- interop -----------------------------------------------------------------

@test "interop: openssl s_client against tcp-listen --tls: data both ways, its close_notify ends it" {
	need_tls
	mkfifo "$T/lin"
	exec 4<>"$T/lin"
	listen_pki <"$T/lin" >"$T/got" 4>&-
	# -quiet implies -ign_eof: s_client goes on after its stdin's end
	bgi openssl s_client -connect "127.0.0.1:$PORT" -CAfile "$P/ca.pem" -verify_return_error \
		-verify_ip 127.0.0.1 -quiet <<<"from s_client" >"$T/c.out" 2>"$T/c.err" 4>&-
	local cbg=$BG_PID
	echo "from ipcbox" >&4
	wait_for grep -q "from s_client" "$T/got"
	exec 4>&- # our close_notify; s_client answers with its own
	wait_status "$cbg"
	assert_status 0
	[ "$(cat "$T/c.out")" = "from ipcbox" ]
	wait_status "$LBG"
	assert_status 0
	[ "$(cat "$T/got")" = "from s_client" ]
}

@test "interop: tcp-connect --tls against openssl s_server: data both ways, its close_notify answers ours" {
	need_tls
	s_server server
	mkfifo "$T/cin"
	exec 6<>"$T/cin"
	bgi "$IPCBOX" tcp-connect --tls --cacert "$P/ca.pem" 127.0.0.1 "$PORT" <"$T/cin" >"$T/got" 2>"$T/err" 5>&- 6>&-
	local cbg=$BG_PID
	echo "from ipcbox" >&6
	wait_for grep -q "^CIPHER is" "$T/s.out"
	echo "from s_server" >&5
	wait_for grep -q "from ipcbox" "$T/s.out"
	wait_for grep -q "from s_server" "$T/got"
	exec 6>&- # our close_notify: s_server answers with its own
	wait_status "$cbg" "$T/err"
	assert_status 0
	[ "$(cat "$T/got")" = "from s_server" ]
	wait_status "$SBG"
	assert_status 0
}

@test "interop: openssl s_server ending at its stdin's EOF sends no close_notify: all written, one line, exit 1" {
	need_tls
	s_server server
	mkfifo "$T/cin"
	exec 6<>"$T/cin"
	bgi "$IPCBOX" tcp-connect --tls --cacert "$P/ca.pem" 127.0.0.1 "$PORT" <"$T/cin" >"$T/got" 2>"$T/err" 5>&- 6>&-
	local cbg=$BG_PID
	# s_server misses its stdin's EOF now and then if its data came before
	# the handshake ended
	wait_for grep -q "^CIPHER is" "$T/s.out"
	echo "from s_server" >&5
	wait_for grep -q "from s_server" "$T/got"
	exec 5>&- # s_server closes TCP at once
	wait_status "$cbg" "$T/err"
	assert_status 1
	assert_one_line_error tcp-connect
	stderr_has "without close_notify"
	[ "$(cat "$T/got")" = "from s_server" ]
	wait_status "$SBG"
	assert_status 0
}

@test "interop: openssl s_server requiring a client certificate accepts tcp-connect --cert/--key" {
	need_tls
	s_server server -Verify 1 -CAfile "$P/ca.pem" -verify_return_error
	run --separate-stderr connect -v --cacert "$P/ca.pem" --cert "$P/client.pem" --key "$P/client.key" \
		127.0.0.1 "$PORT" <<<"with a certificate" 5>&-
	assert_status 0
	wait_for grep -q "with a certificate" "$T/s.out"
	wait_status "$SBG"
	assert_status 0
	grep -q "CN *= *ipcbox test client" "$T/s.out"
}

@test "interop: socat OPENSSL: against tcp-listen --tls, data both ways" {
	need_tls
	echo "from ipcbox" >"$T/in"
	listen_pki <"$T/in" >"$T/got"
	run --separate-stderr harness socat -t "$TMO" - "OPENSSL:127.0.0.1:$PORT,cafile=$P/ca.pem" <<<"from socat"
	assert_status 0
	assert_output "from ipcbox"
	wait_status "$LBG"
	assert_status 0
	[ "$(cat "$T/got")" = "from socat" ]
}

@test "interop: tcp-connect --tls against socat OPENSSL-LISTEN: a reply sent after our EOF arrives" {
	need_tls
	data "$T/in" 1
	bg socat -d -d -t "$TMO" \
		"OPENSSL-LISTEN:0,bind=127.0.0.1,cert=$P/server.pem,key=$P/server.key,verify=0" \
		SYSTEM:'wc -c; echo done' 2>"$T/socat.err"
	PORT=$(socat_port)
	run --separate-stderr connect --cacert "$P/ca.pem" 127.0.0.1 "$PORT" <"$T/in"
	assert_status 0
	assert_output "$(printf '%s\ndone' 1048576)"
}

@test "interop: socat OPENSSL-LISTEN requiring a client certificate accepts tcp-connect --cert/--key" {
	need_tls
	bg socat -d -d -t "$TMO" \
		"OPENSSL-LISTEN:0,bind=127.0.0.1,cert=$P/server.pem,key=$P/server.key,cafile=$P/ca.pem,verify=1" \
		SYSTEM:'cat; echo done' 2>"$T/socat.err"
	PORT=$(socat_port)
	run --separate-stderr connect --cacert "$P/ca.pem" --cert "$P/client.pem" --key "$P/client.key" \
		127.0.0.1 "$PORT" <<<"client data"
	assert_status 0
	assert_output "$(printf 'client data\ndone')"
}

@test "interop: tcp-connect --tls against Python's ssl: data both ways, a reply sent after our EOF arrives" {
	need_tls
	echo "from python" >"$T/py.in"
	data "$T/in" 1
	py_server --send "$T/py.in" --answer --out "$T/got"
	run --separate-stderr connect --cacert "$P/ca.pem" 127.0.0.1 "$PORT" <"$T/in"
	assert_status 0
	assert_output "$(printf 'from python\ngot 1048576 bytes %s' "$(sha256sum <"$T/in" | cut -d' ' -f1)")"
	wait_status "$PYBG"
	assert_status 0
	cmp "$T/in" "$T/got"
}

@test "interop: Python's ssl client against tcp-listen --tls: data both ways, close_notify each way" {
	need_tls
	data "$T/in" 1
	echo "from python" >"$T/py.in"
	listen_pki <"$T/in" >"$T/got"
	run --separate-stderr harness "$PEER" client localhost "$PORT" --cafile "$P/ca.pem" --send "$T/py.in" --out "$T/py.got"
	assert_status 0
	cmp "$T/in" "$T/py.got"
	wait_status "$LBG"
	assert_status 0
	[ "$(cat "$T/got")" = "from python" ]
}

# qt_client PEER: Qt's QSslSocket client against tcp-listen --tls.  Qt
# answers a close_notify by closing TCP without one, so it is Qt that ends
# the connection here (once it has our line), and our stdin stays open till
# then.
qt_client() {
	need_tls
	mkfifo "$T/lin"
	exec 4<>"$T/lin"
	listen_pki <"$T/lin" >"$T/got" 4>&-
	bgi "$1" client 127.0.0.1 "$PORT" "$P/ca.pem" localhost "from ipcbox" <<<"from qt" >"$T/q.out" 2>"$T/q.err" 4>&-
	local qbg=$BG_PID
	echo "from ipcbox" >&4
	wait_status "$qbg" "$T/q.err"
	assert_status 0
	[ "$(cat "$T/q.out")" = "from ipcbox" ]
	exec 4>&-
	wait_status "$LBG"
	assert_status 0
	[ "$(cat "$T/got")" = "from qt" ]
}

@test "interop: Qt 5 QSslSocket client against tcp-listen --tls, data both ways" {
	qt_client "$QT5_TLS"
}

@test "interop: Qt 6 QSslSocket client against tcp-listen --tls, data both ways" {
	qt_client "$QT6_TLS"
}

# qt_server PEER: tcp-connect --tls against Qt's QTcpServer and
# QSslSocket::startServerEncryption; Qt ends the connection (see qt_client).
qt_server() {
	need_tls
	rm -f "$T/qport"
	bgi "$1" server "$P/server.pem" "$P/server.key" "$T/qport" "from ipcbox" <<<"from qt" >"$T/q.out" 2>"$T/q.err"
	local qbg=$BG_PID
	PORT=$(port_of "$T/qport")
	mkfifo "$T/cin"
	exec 6<>"$T/cin"
	bgi "$IPCBOX" tcp-connect --tls --cacert "$P/ca.pem" 127.0.0.1 "$PORT" <"$T/cin" >"$T/got" 2>"$T/err" 6>&-
	local cbg=$BG_PID
	echo "from ipcbox" >&6
	wait_status "$qbg" "$T/q.err"
	assert_status 0
	[ "$(cat "$T/q.out")" = "from ipcbox" ]
	exec 6>&-
	wait_status "$cbg" "$T/err"
	assert_status 0
	[ "$(cat "$T/got")" = "from qt" ]
}

@test "interop: tcp-connect --tls against a Qt 5 QSslSocket server, data both ways" {
	qt_server "$QT5_TLS"
}

@test "interop: tcp-connect --tls against a Qt 6 QSslSocket server, data both ways" {
	qt_server "$QT6_TLS"
}

@test "64 MiB each way at once, ipcbox both ends: checksums match" {
	need_tls
	# an ASan build (make check) takes 15 s for this alone
	local TMO=$((TMO * 4))
	data "$T/a" 64
	data "$T/b" 64
	listen_pki <"$T/a" >"$T/got-b"
	run --separate-stderr connect_to "$T/got-a" --cacert "$P/ca.pem" 127.0.0.1 "$PORT" <"$T/b"
	assert_status 0
	wait_status "$LBG"
	assert_status 0
	same_sum "$T/a" "$T/got-a"
	same_sum "$T/b" "$T/got-b"
}

@test "64 MiB each way at once against socat OPENSSL-LISTEN: checksums match" {
	need_tls
	# an ASan build (make check) takes 15 s for this alone
	local TMO=$((TMO * 4))
	data "$T/a" 64
	data "$T/b" 64
	bg socat -d -d -t "$TMO" -b 1048576 \
		"OPENSSL-LISTEN:0,bind=127.0.0.1,cert=$P/server.pem,key=$P/server.key,verify=0" \
		SYSTEM:"cat '$T/a' & cat >'$T/got-b'; wait" 2>"$T/socat.err"
	PORT=$(socat_port)
	run --separate-stderr connect_to "$T/got-a" --cacert "$P/ca.pem" 127.0.0.1 "$PORT" <"$T/b"
	assert_status 0
	same_sum "$T/a" "$T/got-a"
	same_sum "$T/b" "$T/got-b"
}

@test "64 MiB each way at once, socat OPENSSL: against tcp-listen --tls: checksums match" {
	need_tls
	# an ASan build (make check) takes 15 s for this alone
	local TMO=$((TMO * 4))
	data "$T/a" 64
	data "$T/b" 64
	listen_pki <"$T/a" >"$T/got-b"
	run --separate-stderr harness socat -t "$TMO" -b 1048576 "OPENSSL:127.0.0.1:$PORT,cafile=$P/ca.pem" \
		SYSTEM:"cat '$T/b' & cat >'$T/got-a'; wait"
	assert_status 0
	wait_status "$LBG"
	assert_status 0
	same_sum "$T/a" "$T/got-a"
	same_sum "$T/b" "$T/got-b"
}

# ---- verification ------------------------------------------------------------

@test "verify: a server certificate from an unknown CA: exit 1, one line with OpenSSL's reason" {
	need_tls
	py_server
	run --separate-stderr connect --cacert "$P/ca2.pem" 127.0.0.1 "$PORT" </dev/null
	assert_status 1
	assert_one_line_error tcp-connect
	stderr_has "certificate verify failed"
	stderr_has "unable to get local issuer certificate"
	wait_status "$PYBG"
}

@test "verify: on by default: the system trust store does not know the test CA" {
	need_tls
	py_server
	run --separate-stderr connect -4 localhost "$PORT" </dev/null
	assert_status 1
	assert_one_line_error tcp-connect
	stderr_has "unable to get local issuer certificate"
	stderr_has --cacert # the hint
	wait_status "$PYBG"
}

@test "verify: a certificate for another name: exit 1, one line naming both" {
	need_tls
	rm -f "$T/pyport"
	bg "$PEER" server "$T/pyport" "$P/other.pem" "$P/other.key"
	PORT=$(port_of "$T/pyport")
	run --separate-stderr connect --cacert "$P/ca.pem" 127.0.0.1 "$PORT" </dev/null
	assert_status 1
	assert_one_line_error tcp-connect
	stderr_has "127.0.0.1"
	stderr_has "other.test"
	wait_status "$BG_PID"
	rm -f "$T/pyport"
	bg "$PEER" server "$T/pyport" "$P/other.pem" "$P/other.key"
	PORT=$(port_of "$T/pyport")
	run --separate-stderr connect -4 --cacert "$P/ca.pem" localhost "$PORT" </dev/null
	assert_status 1
	assert_one_line_error tcp-connect
	stderr_has localhost
	stderr_has "other.test"
	wait_status "$BG_PID"
}

@test "verify: an expired certificate: exit 1, one line" {
	need_tls
	rm -f "$T/pyport"
	bg "$PEER" server "$T/pyport" "$P/expired.pem" "$P/expired.key"
	PORT=$(port_of "$T/pyport")
	run --separate-stderr connect --cacert "$P/ca.pem" 127.0.0.1 "$PORT" </dev/null
	assert_status 1
	assert_one_line_error tcp-connect
	stderr_has "certificate has expired"
	wait_status "$BG_PID"
}

@test "verify: --pin mismatch: exit 1, one line with the pin the server showed" {
	need_tls
	py_server
	run --separate-stderr connect --pin "$(pin_of "$P/ca2.pem")" 127.0.0.1 "$PORT" </dev/null
	assert_status 1
	assert_one_line_error tcp-connect
	stderr_has "$(pin_of "$P/server.pem")"
	wait_status "$PYBG"
}

@test "verify: --pin of the server's key connects without any CA; several pins, one matching" {
	need_tls
	py_server --send /dev/null
	run --separate-stderr connect --pin "$(pin_of "$P/ca2.pem")" --pin "$(pin_of "$P/server.pem")" \
		127.0.0.1 "$PORT" <<<"pinned"
	assert_status 0
	wait_status "$PYBG"
	assert_status 0
}

@test "verify: a TLS 1.2-only server is refused under --tls-min 1.3 (exit 1, one line), accepted without" {
	need_tls
	s_server server -tls1_2
	run --separate-stderr connect --tls-min 1.3 --cacert "$P/ca.pem" 127.0.0.1 "$PORT" </dev/null 5>&-
	assert_status 1
	assert_one_line_error tcp-connect
	stderr_has "version"
	stderr_has "1.3"
	wait_status "$SBG"
	exec 5>&-
	rm -f "$T/s.in"
	s_server server -tls1_2
	mkfifo "$T/cin"
	exec 6<>"$T/cin"
	bgi "$IPCBOX" tcp-connect --tls -v --cacert "$P/ca.pem" 127.0.0.1 "$PORT" <"$T/cin" >"$T/got" 2>"$T/err" 5>&- 6>&-
	local cbg=$BG_PID
	wait_for grep -q "^CIPHER is" "$T/s.out"
	echo "over 1.2" >&5
	wait_for grep -q "over 1.2" "$T/got"
	exec 6>&- # our close_notify; s_server answers
	wait_status "$cbg" "$T/err"
	assert_status 0
	grep -q "TLSv1.2" "$T/err"
}

@test "--insecure: connects to an unknown CA's certificate for another name, and says so once with -v" {
	need_tls
	rm -f "$T/pyport"
	bg "$PEER" server "$T/pyport" "$P/other.pem" "$P/other.key" --send /dev/null --out "$T/got"
	PORT=$(port_of "$T/pyport")
	run --separate-stderr connect --insecure -v --cacert "$P/ca2.pem" 127.0.0.1 "$PORT" <<<"insecure"
	assert_status 0
	[ "$(grep -c -i insecure <<<"$stderr")" -eq 1 ]
	wait_status "$BG_PID"
	assert_status 0
	[ "$(cat "$T/got")" = insecure ]
}

@test "--servername NAME: connects to 127.0.0.1 with a certificate for NAME, and sends NAME as SNI" {
	need_tls
	listen --cert "$P/other.pem" --key "$P/other.key" -e 'echo "sni=$TLS_SNI"'
	run --separate-stderr connect --cacert "$P/ca.pem" --servername other.test 127.0.0.1 "$PORT" </dev/null
	assert_status 0
	assert_output "sni=other.test"
	wait_status "$LBG"
	assert_status 0
}

# ---- the ephemeral certificate -------------------------------------------------

@test "ephemeral: tcp-listen --tls without --cert prints its pin; --pin connects, another pin fails with the one seen" {
	need_tls
	listen -k -e 'echo pinned' 2>"$T/l.err"
	wait_for grep -q 'sha256//' "$T/l.err"
	[ "$(wc -l <"$T/l.err")" -eq 1 ]
	local pin
	pin=$(grep -o 'sha256//[A-Za-z0-9+/]*=$' "$T/l.err")
	[ ${#pin} -eq 52 ]
	# the pin is the one of the certificate the listener shows
	timeout -k 5 "$TMO" openssl s_client -connect "127.0.0.1:$PORT" </dev/null 2>/dev/null |
		openssl x509 >"$T/shown.pem"
	[ "$(pin_of "$T/shown.pem")" = "$pin" ]
	run --separate-stderr connect --pin "$pin" 127.0.0.1 "$PORT" </dev/null
	assert_status 0
	assert_output pinned
	run --separate-stderr connect --pin "$(pin_of "$P/server.pem")" 127.0.0.1 "$PORT" </dev/null
	assert_status 1
	assert_one_line_error tcp-connect
	stderr_has "$pin"
	# the CA route refuses a self-signed certificate
	run --separate-stderr connect --cacert "$P/ca.pem" 127.0.0.1 "$PORT" </dev/null
	assert_status 1
	assert_one_line_error tcp-connect
}

# ---- client certificates -------------------------------------------------------

@test "--client-ca: a client without a certificate is refused in the handshake: one line each side, exit 1" {
	need_tls
	listen_pki --client-ca "$P/ca.pem" </dev/null 2>"$T/l.err"
	run --separate-stderr connect --cacert "$P/ca.pem" 127.0.0.1 "$PORT" <<<"no certificate"
	assert_status 1
	assert_one_line_error tcp-connect
	stderr_has "certificate"
	wait_status "$LBG" "$T/l.err"
	assert_status 1
	assert_one_line_error tcp-listen
	stderr_has "certificate"
}

@test "--client-ca: a client certificate signed by the CA is accepted (--cert/--key)" {
	need_tls
	echo "to the client" >"$T/in"
	listen_pki --client-ca "$P/ca.pem" <"$T/in" >"$T/got"
	run --separate-stderr connect --cacert "$P/ca.pem" --cert "$P/client.pem" --key "$P/client.key" \
		127.0.0.1 "$PORT" <<<"with a certificate"
	assert_status 0
	assert_output "to the client"
	wait_status "$LBG"
	assert_status 0
	[ "$(cat "$T/got")" = "with a certificate" ]
}

@test "--client-ca: a certificate from another CA is refused too" {
	need_tls
	listen_pki --client-ca "$P/ca2.pem" </dev/null 2>"$T/l.err"
	run --separate-stderr connect --cacert "$P/ca.pem" --cert "$P/client.pem" --key "$P/client.key" \
		127.0.0.1 "$PORT" <<<"wrong CA"
	assert_status 1
	assert_one_line_error tcp-connect
	wait_status "$LBG" "$T/l.err"
	assert_status 1
	assert_one_line_error tcp-listen
}

@test "--client-ca with -k: a refused client does not stop the listener, the next one is served" {
	need_tls
	listen_pki -k --client-ca "$P/ca.pem" -e 'echo served' 2>"$T/l.err"
	run --separate-stderr connect --cacert "$P/ca.pem" 127.0.0.1 "$PORT" </dev/null
	assert_status 1
	assert_one_line_error tcp-connect
	run --separate-stderr connect --cacert "$P/ca.pem" --cert "$P/client.pem" --key "$P/client.key" \
		127.0.0.1 "$PORT" </dev/null
	assert_status 0
	assert_output served
	running "$LPID"
}

@test "-k -e: TLS_PROTOCOL, TLS_CIPHER, TLS_SNI, TLS_PEER_SUBJECT, TLS_PEER_PIN beside the UCSPI variables" {
	need_tls
	# shellcheck disable=SC2016
	listen_pki -k --client-ca "$P/ca.pem" -e 'read -r line; printf "%s\n" "$line" "$TLS_PROTOCOL" "$TLS_CIPHER" "sni=${TLS_SNI-unset}" "$TLS_PEER_SUBJECT" "$TLS_PEER_PIN" "$PROTO $TCPREMOTEIP $TCPLOCALPORT"'
	run --separate-stderr connect -4 --cacert "$P/ca.pem" --cert "$P/client.pem" --key "$P/client.key" \
		localhost "$PORT" <<<"plaintext"
	assert_status 0
	local cipher
	cipher=$(sed -n 3p <<<"$output")
	[[ $cipher == TLS_*_SHA* ]] # one of TLS 1.3's suites
	assert_output "$(printf '%s\n' plaintext TLSv1.3 "$cipher" sni=localhost "CN=ipcbox test client" \
		"$(pin_of "$P/client.pem")" "TCP 127.0.0.1 $PORT")"
	# by address: no SNI (RFC 6066), so no TLS_SNI
	run --separate-stderr connect --cacert "$P/ca.pem" --cert "$P/client.pem" --key "$P/client.key" \
		127.0.0.1 "$PORT" <<<"by address"
	assert_status 0
	[ "$(sed -n 4p <<<"$output")" = sni=unset ]
}

@test "-k -e without a client certificate: no TLS_PEER_SUBJECT nor TLS_PEER_PIN" {
	need_tls
	# shellcheck disable=SC2016
	listen_pki -k -e 'echo "${TLS_PROTOCOL-unset} ${TLS_PEER_SUBJECT-unset} ${TLS_PEER_PIN-unset}"'
	run --separate-stderr connect --cacert "$P/ca.pem" 127.0.0.1 "$PORT" </dev/null
	assert_status 0
	assert_output "TLSv1.3 unset unset"
}

@test "tcp-connect --tls -e: the command talks plaintext and gets the server's TLS variables" {
	need_tls
	listen_pki -e 'read -r line; echo "server got $line"' >"$T/got"
	# shellcheck disable=SC2016
	run --separate-stderr connect --cacert "$P/ca.pem" \
		-e 'echo hello; read -r reply; printf "%s\n" "$reply" "$TLS_PROTOCOL" "$TLS_PEER_SUBJECT" "$TLS_PEER_PIN" >&2' \
		127.0.0.1 "$PORT"
	assert_status 0
	[ "$stderr" = "$(printf '%s\n' "server got hello" TLSv1.3 CN=localhost "$(pin_of "$P/server.pem")")" ]
	wait_status "$LBG"
	assert_status 0
}

@test "-k -e -m 2: a client that connects and sends nothing does not keep another from being served" {
	need_tls
	listen_pki -k -m 2 -e 'echo served'
	# a silent TCP client: no ClientHello at all
	bg bash -c 'exec 4<>"/dev/tcp/127.0.0.1/$1"; cat <&4 >/dev/null' _ "$PORT"
	local i
	for i in 1 2 3; do
		run --separate-stderr connect --cacert "$P/ca.pem" 127.0.0.1 "$PORT" </dev/null
		assert_status 0
		assert_output served
	done
}

@test "-k -i 1s: a client that connects and sends nothing is dropped at the idle limit, the listener goes on" {
	need_tls
	mkfifo "$T/lin"
	listen_pki -k -i 1s <>"$T/lin" >"$T/got"
	run harness bash -c 'exec 4<>"/dev/tcp/127.0.0.1/$1"; cat <&4; echo closed' _ "$PORT"
	assert_status 0
	assert_output closed
	[ "$(cat "$T/.elapsed")" -lt $((TMO / 2 * 1000000)) ]
	run --separate-stderr connect --cacert "$P/ca.pem" 127.0.0.1 "$PORT" <<<"served"
	assert_status 0
	wait_for grep -qx served "$T/got"
}

@test "-k -e -m 1: a silent client holds its slot until the handshake deadline (10 s) drops it, then the next is served" {
	need_tls
	listen_pki -k -m 1 -e 'echo served' 2>"$T/l.err"
	# connected (in the backlog, first in line) before the next one comes
	bg bash -c 'exec 4<>"/dev/tcp/127.0.0.1/$1"; echo >"$2"; cat <&4; echo closed >"$3"' _ "$PORT" \
		"$T/connected" "$T/silent"
	wait_file "$T/connected"
	run --separate-stderr connect --cacert "$P/ca.pem" 127.0.0.1 "$PORT" </dev/null
	assert_status 0
	assert_output served
	local us
	us=$(cat "$T/.elapsed")
	# -m counted the silent client (no upper bound here: a loaded machine
	# is slow; a silent client never dropped would hold the slot until the
	# harness's limit, status 99, not 0)
	((us >= 9000000))
	wait_file "$T/silent"
	grep -q "handshake" "$T/l.err"
}

# ---- the ends of a connection ----------------------------------------------------

@test "ends: the peer's close_notify ends the incoming direction only: what we still send arrives, exit 0" {
	need_tls
	data "$T/in" 4
	echo "early end" >"$T/py.in"
	# the peer sends its line and its close_notify at once, then reads on
	py_server --send "$T/py.in" --out "$T/got"
	run --separate-stderr connect --cacert "$P/ca.pem" 127.0.0.1 "$PORT" <"$T/in"
	assert_status 0
	assert_output "early end"
	wait_status "$PYBG"
	assert_status 0
	cmp "$T/in" "$T/got"
}

@test "ends: a reply after our EOF arrives (tcp-listen --tls -e at the other end)" {
	need_tls
	data "$T/in" 2
	listen_pki -e 'wc -c; echo done'
	run --separate-stderr connect --cacert "$P/ca.pem" 127.0.0.1 "$PORT" <"$T/in"
	assert_status 0
	assert_output "$(printf '%s\ndone' 2097152)"
	wait_status "$LBG"
	assert_status 0
}

@test "ends: a peer that closes TCP without close_notify: all it sent is written, one line about truncation, exit 1" {
	need_tls
	data "$T/py.in" 1
	py_server --send "$T/py.in" --cut
	run --separate-stderr connect_to "$T/got" --cacert "$P/ca.pem" 127.0.0.1 "$PORT" </dev/null
	assert_status 1
	assert_one_line_error tcp-connect
	stderr_has "without close_notify"
	cmp "$T/py.in" "$T/got"
	wait_status "$PYBG"
	assert_status 0
}

@test "ends: tcp-listen --tls, a client that closes TCP without close_notify: one line, exit 1" {
	need_tls
	data "$T/py.in" 1
	listen_pki </dev/null >"$T/got" 2>"$T/l.err"
	run harness "$PEER" client 127.0.0.1 "$PORT" --cafile "$P/ca.pem" --send "$T/py.in" --cut
	assert_status 0
	wait_status "$LBG" "$T/l.err"
	assert_status 1
	assert_one_line_error tcp-listen
	stderr_has "without close_notify"
	cmp "$T/py.in" "$T/got"
}

# ---- bad input -------------------------------------------------------------------

@test "bad TLS options: exit 2, one line naming the option (the static build parses them too)" {
	local long pin=sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=
	long=$(printf 'a%.0s' $(seq 1 256))
	# each case: the words its line must hold, then the command
	local -a cases=(
		"--pin|tcp-connect --tls --pin junk 127.0.0.1 1"
		"--pin|tcp-connect --tls --pin sha256//short= 127.0.0.1 1"
		"--pin|tcp-connect --tls --pin ${pin%=}A 127.0.0.1 1"
		"--tls-min|tcp-connect --tls --tls-min 1.1 127.0.0.1 1"
		"--tls-min|tcp-connect --tls --tls-min 1.4 127.0.0.1 1"
		"--tls-min|tcp-listen --tls --tls-min 1.0 0"
		"--alpn|tcp-connect --tls --alpn h2,,x 127.0.0.1 1"
		"--alpn|tcp-connect --tls --alpn $long 127.0.0.1 1"
		"--alpn|tcp-listen --tls --alpn $long 0"
		"--cacert|tcp-connect --cacert /dev/null 127.0.0.1 1"
		"--cert|tcp-listen --cert /dev/null --key /dev/null 0"
		"--insecure|tcp-connect --tls --insecure --pin $pin 127.0.0.1 1"
		"--key|tcp-connect --tls --key $T/client.key 127.0.0.1 1"
		"--key|tcp-listen --tls --key $T/server.key 0"
	)
	local c words
	for c in "${cases[@]}"; do
		words=${c%%|*}
		c=${c#*|}
		# shellcheck disable=SC2086
		run --separate-stderr ipc $c </dev/null
		if [ "$status" -ne 2 ] || [ "${#stderr_lines[@]}" -ne 1 ] || [[ $stderr != *"$words"* ]]; then
			printf '%s: status %s, stderr:\n%s\n' "$c" "$status" "$stderr" >&2
			return 1
		fi
		assert_one_line_error "${c%% *}"
	done
	run --separate-stderr ipc tcp-connect --tls --alpn '' 127.0.0.1 1
	assert_status 2
	assert_one_line_error tcp-connect
	stderr_has "--alpn"
	run --separate-stderr ipc tcp-connect --tls --insecure --pin "$pin" 127.0.0.1 1
	stderr_has "--pin"
}

@test "unusable files: a missing --cacert exits 1, a key that is not the certificate's exits before listening" {
	need_tls
	run --separate-stderr ipc tcp-connect --tls --cacert "$T/missing.pem" 127.0.0.1 1 </dev/null
	assert_status 1
	assert_one_line_error tcp-connect
	stderr_has "$T/missing.pem"
	run --separate-stderr ipc tcp-listen --tls --cert "$P/server.pem" --key "$P/other.key" --port-file "$T/port" 0 </dev/null
	if [ "$status" -ne 1 ] && [ "$status" -ne 2 ]; then
		echo "status $status" >&2
		return 1
	fi
	assert_one_line_error tcp-listen
	[ ! -e "$T/port" ] # it never listened
	run --separate-stderr ipc tcp-listen --tls --cert "$T/missing.pem" --key "$P/server.key" --port-file "$T/port" 0 </dev/null
	assert_status 1
	assert_one_line_error tcp-listen
	[ ! -e "$T/port" ]
}

# ---- without the library -----------------------------------------------------------

@test "without libssl.so.3: a TLS option exits 1 naming it and the package libssl3; other applets still work" {
	need_tls
	# an empty file first in the library path: dlopen finds it and fails
	mkdir "$T/nolib"
	: >"$T/nolib/libssl.so.3"
	: >"$T/nolib/libcrypto.so.3"
	export LD_LIBRARY_PATH=$T/nolib
	run --separate-stderr ipc tcp-connect --tls --insecure 127.0.0.1 1 </dev/null
	assert_status 1
	assert_one_line_error tcp-connect
	stderr_has "libssl.so.3"
	stderr_has "libssl3"
	run --separate-stderr ipc tcp-listen --tls 0 </dev/null
	assert_status 1
	assert_one_line_error tcp-listen
	stderr_has "libssl.so.3"
	# plain TCP and shared memory need no library
	echo "plain" >"$T/in"
	rm -f "$T/port"
	bgi "$IPCBOX" tcp-listen --port-file "$T/port" 0 <"$T/in"
	PORT=$(port_of "$T/port")
	run --separate-stderr ipc tcp-connect 127.0.0.1 "$PORT" </dev/null
	assert_status 0
	assert_output plain
	SHM_NAME=ipcbox-test-${IPCBOX_TEST_RUN:-tls}-$$-$BATS_TEST_NUMBER
	run --separate-stderr ipc shm-create "$SHM_NAME" --size 4096
	assert_status 0
	run --separate-stderr ipc shm-rm "$SHM_NAME"
	assert_status 0
	SHM_NAME=
}
