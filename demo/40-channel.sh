#!/bin/bash
# Demo: QCOP-style named channels with channel-listen, channel-send,
# channel-list, channel-registered and channel-wait, in a private directory.
source "$(dirname "$0")/lib.sh"

D=${DEMO_DIR:-$(mktemp -d)}/channel
mkdir -p "$D"
export IPCBOX_CHANNEL_DIR=$D/ch
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
}
trap cleanup EXIT

# run TEXT: print a shell command line, then run it (stderr in order).
run() {
	printf '$ %s\n' "$1"
	bash -c "$1" 2>&1
}

# listener NAME ARGS...: channel-listen in the background, output in
# $D/NAME.out, ready once its --ready-file exists.
listener() {
	local name=$1
	shift
	printf '$ ipcbox channel-listen %s > %s.out &\n' "$*" "$name"
	ipcbox channel-listen --ready-file "$D/$name.ready" "$@" >"$D/$name.out" &
	PIDS+=($!)
	until [ -s "$D/$name.ready" ]; do sleep 0.01; done
}

say "Channels live in a private directory (mode 0700, refused otherwise); here" \
	"IPCBOX_CHANNEL_DIR points to a fresh one. Two listeners register: one on a" \
	"channel, one on every channel under QPE/ (a * wildcard, as QCOP had)."
listener sys -c 1 QPE/System
SYS=${PIDS[-1]}
listener all -c 2 -v 'QPE/*'
ALL=${PIDS[-1]}
show ls -l "$IPCBOX_CHANNEL_DIR"
say "Each listener owns a datagram socket (s.ID) and a registration (r.ID: its pid" \
	"and patterns). channel-list counts the live listeners per pattern."
show ipcbox channel-list
show ipcbox channel-registered QPE/Card
echo "exit status $? (a listener on QPE/* would take it)"

say "A message is a channel, a message name (a signature, by convention) and data." \
	"The sender connects to every matching listener and sends one datagram each."
show ipcbox channel-send -v QPE/System 'setVolume(int,int)' 0 100
show ipcbox channel-send -v QPE/Card 'inserted(QString)' /media/card
wait "$SYS" "$ALL"
show cat "$D/sys.out"
show cat "$D/all.out"

say "A stream: one message per line of stdin, in order, to every listener."
listener json -c 3 --json log
run "printf 'starting\\nrunning\\ndone' | ipcbox channel-send -l -v log 'line(QString)'"
wait "${PIDS[-1]}"
show cat "$D/json.out"

say "Backpressure: a stopped listener cannot take messages. The sender waits for it" \
	"(here 300ms), names it, and exits 1; nothing is lost silently."
listener stuck log
kill -STOP "${PIDS[-1]}"
run "seq 100 | ipcbox channel-send -l -t 300ms log 'line(QString)'"
echo "exit status $?"
kill -CONT "${PIDS[-1]}"

say "Request and reply: channel-wait prints the data of one matching message."
ipcbox channel-wait --ready-file "$D/w.ready" 'app/*' 'done(int)' >"$D/w.out" &
PIDS+=($!)
until [ -s "$D/w.ready" ]; do sleep 0.01; done
echo '$ ipcbox channel-wait '"'app/*' 'done(int)'"' &'
show ipcbox channel-send app/job 'done(int)' 0
wait "${PIDS[-1]}"
show cat "$D/w.out"
