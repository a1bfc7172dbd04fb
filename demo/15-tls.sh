#!/bin/bash
# Demo: a pinned TLS pipe with tcp-listen --tls and tcp-connect --tls, on
# loopback: an ephemeral certificate, its pin read from the listener's
# stderr line, verification refusing a client without it.  OpenSSL 3 is
# opened only now; without it (or in the static binary) the step says so
# and moves on.
source "$(dirname "$0")/lib.sh"

D=${DEMO_DIR:-$(mktemp -d)}/tls
mkdir -p "$D"
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
}
trap cleanup EXIT

# run TEXT: print a shell command line, then run it.
run() {
	printf '$ %s\n' "$1"
	bash -c "$1"
}

# start_tls_listener NAME ARGS...: tcp-listen --tls ARGS in the background,
# stdout to $D/NAME.out and stderr to $D/NAME.err; ready when its port file
# $D/NAME.port exists.  Returns 1 if it ended first (no OpenSSL: its line
# is in $D/NAME.err), and sets PIN to the pin its stderr line ends with.
start_tls_listener() {
	local name=$1 i
	shift
	rm -f "$D/$name.port"
	ipcbox tcp-listen --tls --port-file "$D/$name.port" "$@" 0 </dev/null \
		>"$D/$name.out" 2>"$D/$name.err" &
	PIDS+=($!)
	LISTENER=$!
	for ((i = 0; i < 1000; i++)); do
		[ -s "$D/$name.port" ] && break
		kill -0 "$LISTENER" 2>/dev/null || return 1
		sleep 0.01
	done
	[ -s "$D/$name.port" ] || return 1
	PIN=$(grep -o 'sha256//[A-Za-z0-9+/=]*$' "$D/$name.err")
}

say "TLS between two machines with no certificates to manage: a listener without" \
	"--cert makes a throwaway (ephemeral) certificate and says its pin on stderr."
printf '$ ipcbox tcp-listen --tls --port-file port 0 > received &\n'
if ! start_tls_listener one; then
	wait "$LISTENER"
	cat "$D/one.err"
	if grep -q 'libssl\|no TLS' "$D/one.err"; then
		echo "This ipcbox cannot speak TLS here (above: why); the TLS step is skipped."
		exit 0
	fi
	echo "demo: the TLS listener did not start" >&2
	exit 1
fi
P=$(cat "$D/one.port")
cat "$D/one.err"

say "The client gives that pin: it checks the server's key against it, not a CA or a" \
	"name, so a bare address will do. -v shows what was agreed."
run "echo 'hello over TLS' | ipcbox tcp-connect -v --tls --pin $PIN 127.0.0.1 $P"
wait "$LISTENER"
show cat "$D/one.out"

say "Verification is on by default. -k -e runs a command per connection; it reads and" \
	"writes plaintext and learns the TLS facts from TLS_* variables."
start_tls_listener two -k -e 'echo "hello $TCPREMOTEIP, this is $TLS_PROTOCOL with $TLS_CIPHER"' ||
	{ cat "$D/two.err"; exit 1; }
P2=$(cat "$D/two.port")
echo "\$ ipcbox tcp-listen --tls -k -e 'echo \"hello \$TCPREMOTEIP, this is \$TLS_PROTOCOL with \$TLS_CIPHER\"' --port-file port2 0 &"
cat "$D/two.err"
echo "# (a new listener, a new key: another pin)"
echo "# a client without the pin refuses the self-signed certificate:"
run "ipcbox tcp-connect --tls 127.0.0.1 $P2 < /dev/null; echo \"exit \$?\""
echo "# with it:"
run "ipcbox tcp-connect --tls --pin $PIN 127.0.0.1 $P2 < /dev/null"
