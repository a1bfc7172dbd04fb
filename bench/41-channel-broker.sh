#!/bin/bash
# channel over an MQTT broker: channel-send -l --broker -> channel-listen
# --broker through a private mosquitto on 127.0.0.1, against mosquitto_pub
# -l -q 1 -> mosquitto_sub -q 1 through the same broker, with the local
# namespace (no broker) beside them.  QoS 1 on both sides.
#
#   ROUNDS=5 MSGS=20000 bench/41-channel-broker.sh
#
# A stream is timed from the start of the sender to the exit of the
# receiver (-c N / -C N): every message delivered and written out.
source "$(dirname "$0")/lib.sh"

MSGS=${MSGS:-20000}
bench_channel_work broker

bench_header "channel over a broker (QoS 1), $MSGS 64-byte lines, 1 subscriber"
PATH=$PATH:/usr/sbin # Debian keeps the broker there
have mosquitto || exit 0
have mosquitto_pub || exit 0
have mosquitto_sub || exit 0

awk -v n="$MSGS" 'BEGIN {for (i = 0; i < n; i++) printf "%063d\n", i}' >"$WORK/lines"

# A private broker: loopback, a free port, every message queued for a slow
# subscriber (the default 1000 would drop some), subscriptions logged so
# that mosquitto_sub's readiness can be seen.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
{
	echo "listener $port 127.0.0.1"
	echo "allow_anonymous true"
	echo "persistence false"
	echo "max_queued_messages 0"
	echo "log_dest file $WORK/mosquitto.log"
	echo "log_type subscribe"
	[ "$(id -u)" != 0 ] || echo "user root"
} >"$WORK/mosquitto.conf"
mosquitto -c "$WORK/mosquitto.conf" 2>/dev/null &
PIDS+=($!)
until "$IPCBOX" tcp-connect -z 127.0.0.1 "$port" 2>/dev/null; do sleep 0.02; done
BROKER=mqtt://127.0.0.1:$port/bench

since() {
	awk -v a="$1" -v b="$(now)" 'BEGIN {printf "%.6f\n", b - a}'
}

# ipcbox_stream [--broker URL]: send -l -> listen -c, seconds.
ipcbox_stream() {
	local t0 l
	rm -f "$WORK/ready"
	"$IPCBOX" channel-listen -c "$MSGS" --ready-file "$WORK/ready" "$@" stream >/dev/null &
	l=$!
	while [ ! -s "$WORK/ready" ]; do sleep 0.005; done
	t0=$(now)
	"$IPCBOX" channel-send -l "$@" stream 'line(QString)' <"$WORK/lines" || echo "bench: send failed" >&2
	wait "$l" || echo "bench: listener failed" >&2
	since "$t0"
}

mosq_stream() {
	local t0 s id=mqsub$RANDOM
	mosquitto_sub -V 5 -q 1 -i "$id" -p "$port" -h 127.0.0.1 -t bench/mq -C "$MSGS" >/dev/null &
	s=$!
	until grep -q " $id 1 bench/mq" "$WORK/mosquitto.log" 2>/dev/null; do sleep 0.005; done
	t0=$(now)
	mosquitto_pub -V 5 -q 1 -p "$port" -h 127.0.0.1 -t bench/mq -l <"$WORK/lines"
	wait "$s"
	since "$t0"
}

rate() {
	awk -v n="$1" -v s="$2" 'BEGIN {printf "%.0f", n / s}'
}

ib=() mq=() lo=()
for ((i = 0; i < ROUNDS; i++)); do
	mq+=("$(mosq_stream)")
	ib+=("$(ipcbox_stream --broker "$BROKER")")
	lo+=("$(ipcbox_stream)")
done
base=$(median "${mq[@]}")
t=$(median "${ib[@]}")
l=$(median "${lo[@]}")
bench_row "mosquitto_pub -l -q 1 -> mosquitto_sub -q 1" "$base"
bench_row "ipcbox channel-send -l --broker -> listen" "$t" "$base" "<= 1.0x (time)"
bench_row "ipcbox local (no broker), for scale" "$l" "$base"
echo "  rates: mosquitto tools $(rate "$MSGS" "$base") msg/s, ipcbox --broker $(rate "$MSGS" "$t") msg/s," \
	"ipcbox local $(rate "$MSGS" "$l") msg/s"
echo "  ipcbox --broker / mosquitto tools: $(awk -v a="$base" -v b="$t" 'BEGIN {printf "%.2f", a / b}')x the rate (goal >= 1.0x)"
