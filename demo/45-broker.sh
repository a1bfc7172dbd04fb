#!/bin/bash
# Demo: two "machines" (two channel directories) joined through an MQTT
# broker: channel-bridge on each side, channel-send --broker, and
# channel-registered --broker.  Starts a private mosquitto on 127.0.0.1 if
# it is installed; otherwise says how to install it.
source "$(dirname "$0")/lib.sh"

D=${DEMO_DIR:-$(mktemp -d)}/broker
mkdir -p "$D"
PIDS=()
cleanup() {
	local i
	# The broker last, so that no bridge sees it go.
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
		kill "${PIDS[i]}" 2>/dev/null
		wait "${PIDS[i]}" 2>/dev/null
	done
	wait 2>/dev/null
}
trap cleanup EXIT

say "Channels over an MQTT broker: two channel directories stand for two machines."
if ! command -v mosquitto >/dev/null && [ ! -x /usr/sbin/mosquitto ]; then
	echo "mosquitto is not installed; to see this step:"
	echo "  sudo apt-get install mosquitto mosquitto-clients"
	exit 0
fi
PATH=$PATH:/usr/sbin

# A private broker on a free loopback port, never the system's.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
{
	echo "listener $port 127.0.0.1"
	echo "allow_anonymous true"
	echo "persistence false"
	echo "log_dest file $D/mosquitto.log"
	[ "$(id -u)" != 0 ] || echo "user root"
} >"$D/mosquitto.conf"
printf '$ mosquitto -c mosquitto.conf &    # listener %s 127.0.0.1\n' "$port"
mosquitto -c "$D/mosquitto.conf" 2>/dev/null &
PIDS+=($!)
until ipcbox tcp-connect -z 127.0.0.1 "$port" 2>/dev/null; do sleep 0.02; done
export IPCBOX_BROKER=mqtt://127.0.0.1:$port/demo

# on MACHINE CMD...: run CMD with MACHINE's channel directory.
on() {
	local m=$1
	shift
	IPCBOX_CHANNEL_DIR=$D/$m "$@"
}

say "Each machine runs a bridge for the channels under app/; IPCBOX_BROKER names the" \
	"broker (mqtt://127.0.0.1:$port/demo: topics demo/CHANNEL)."
for m in alpha beta; do
	printf '$ IPCBOX_CHANNEL_DIR=%s ipcbox channel-bridge '"'"'app/*'"'"' &\n' "$m"
	IPCBOX_CHANNEL_DIR=$D/$m ipcbox channel-bridge --ready-file "$D/$m.bridge" 'app/*' &
	PIDS+=($!)
done
until [ -s "$D/alpha.bridge" ] && [ -s "$D/beta.bridge" ]; do sleep 0.01; done

say "On beta, an ordinary local listener; on alpha, an ordinary local send."
echo "$ IPCBOX_CHANNEL_DIR=beta ipcbox channel-listen -c 1 -v 'app/*' &"
IPCBOX_CHANNEL_DIR=$D/beta IPCBOX_BROKER= ipcbox channel-listen -c 1 -v --ready-file "$D/beta.ready" 'app/*' >"$D/beta.out" &
L=$!
PIDS+=($L)
until [ -s "$D/beta.ready" ]; do sleep 0.01; done
echo "$ IPCBOX_CHANNEL_DIR=alpha ipcbox channel-send app/greeting 'hello(QString)' 'from alpha'"
on alpha env -u IPCBOX_BROKER ipcbox channel-send app/greeting 'hello(QString)' 'from alpha'
wait "$L"
echo "beta's listener printed:"
cat "$D/beta.out"

say "Without a bridge, straight to the broker: a listener with --broker announces" \
	"itself, so channel-registered --broker can answer; it exits 1 once it is gone."
echo "$ ipcbox channel-listen -c 1 'QPE/*' &"
ipcbox channel-listen -c 1 --ready-file "$D/direct.ready" 'QPE/*' >"$D/direct.out" &
L=$!
PIDS+=($L)
until [ -s "$D/direct.ready" ]; do sleep 0.01; done
show ipcbox channel-registered QPE/System
echo "exit status $?"
show ipcbox channel-send -v QPE/System 'setVolume(int)' 7
wait "$L"
echo "the listener printed: $(cat "$D/direct.out")"
show ipcbox channel-registered QPE/System
echo "exit status $?"
if command -v mosquitto_pub >/dev/null; then
	say "mosquitto's own tools interoperate: the message name is the user property qcop-message."
	echo "$ IPCBOX_CHANNEL_DIR=beta ipcbox channel-wait app/x &"
	IPCBOX_CHANNEL_DIR=$D/beta IPCBOX_BROKER= ipcbox channel-wait --ready-file "$D/wait.ready" app/x >"$D/wait.out" &
	L=$!
	PIDS+=($L)
	until [ -s "$D/wait.ready" ]; do sleep 0.01; done
	show mosquitto_pub -h 127.0.0.1 -p "$port" -t demo/app/x -m 'from mosquitto_pub'
	wait "$L"
	echo "beta's channel-wait printed: $(cat "$D/wait.out")"
fi
