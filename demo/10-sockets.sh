#!/bin/bash
# Demo: TCP and Unix stream sockets with tcp-listen, tcp-connect,
# unix-listen and unix-connect, on loopback only.
source "$(dirname "$0")/lib.sh"

D=${DEMO_DIR:-$(mktemp -d)}/sockets
mkdir -p "$D"
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
}
trap cleanup EXIT

# start_listener PORTFILE ARGS...: a listener in the background, ready when
# its port file exists.
start_listener() {
	local pf=$1
	shift
	rm -f "$pf"
	ipcbox "$@" </dev/null &
	PIDS+=($!)
	until [ -s "$pf" ]; do sleep 0.01; done
}

# run TEXT: print a shell command line, then run it.
run() {
	printf '$ %s\n' "$1"
	bash -c "$1"
}

say "A listener binds loopback (127.0.0.1) unless told otherwise. Port 0 asks the" \
	"kernel for a free port; --port-file tells us which one it got."
printf '$ ipcbox tcp-listen --port-file %s/port -v 0 > %s/received &\n' "$D" "$D"
rm -f "$D/port"
ipcbox tcp-listen --port-file "$D/port" -v 0 </dev/null >"$D/received" &
L1=$!
until [ -s "$D/port" ]; do sleep 0.01; done
P=$(cat "$D/port")

say "tcp-connect sends its stdin. At stdin's end it half-closes (shutdown SHUT_WR):" \
	"the listener sees end of file, but replies could still come back."
run "echo 'hello over TCP' | ipcbox tcp-connect -v 127.0.0.1 $P"
wait "$L1"
show cat "$D/received"

say "The half-close in action: a server that answers only after reading everything." \
	"-k keeps listening; -e runs a command per connection with the socket as its stdin/stdout."
start_listener "$D/port2" tcp-listen -k -e 'wc -c' --port-file "$D/port2" 0
P2=$(cat "$D/port2")
run "seq 1 100000 | ipcbox tcp-connect 127.0.0.1 $P2"

say "Each command learns who called from UCSPI variables (the names tcpserver uses)."
start_listener "$D/port3" tcp-listen -k -e 'echo "hello $TCPREMOTEIP:$TCPREMOTEPORT, this is port $TCPLOCALPORT ($PROTO)"' --port-file "$D/port3" 0
P3=$(cat "$D/port3")
run "ipcbox tcp-connect 127.0.0.1 $P3 < /dev/null"

say "Unix sockets live in the file system (mode 0600 by default). The kernel tells the" \
	"listener the caller's pid, uid and gid (SO_PEERCRED): no password needed to know who it is."
ipcbox unix-listen -k -e 'echo "you are pid $UNIXREMOTEPID, uid $UNIXREMOTEUID"' "$D/who.sock" </dev/null &
PIDS+=($!)
W=$!
until [ -S "$D/who.sock" ]; do sleep 0.01; done
show ls -l "$D/who.sock"
run "ipcbox unix-connect $D/who.sock < /dev/null"

say "-z only checks that something accepts. Exit status: 0 yes, 1 refused, 124 timed out."
run "ipcbox tcp-connect -z 127.0.0.1 $P2; echo \"exit \$?\""
run "ipcbox tcp-connect -z -w 1s 127.0.0.1 $P; echo \"exit \$?\""

say "Stopping a Unix listener removes its socket file."
kill "$W"
wait "$W" 2>/dev/null
show ls "$D"
