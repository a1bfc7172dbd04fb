#!/bin/bash
# channel over an MQTT broker: channel-send -l --broker -> channel-listen
# --broker through a private mosquitto on 127.0.0.1, against mosquitto_pub
# -l -q 1 -> mosquitto_sub -q 1 through the same broker, with the local
# namespace (no broker) beside them.  QoS 1 on both sides.  The same over
# TLS: the broker's second listener speaks TLS with a certificate made here
# by openssl (P-256, signed by a CA made here), ipcbox's --broker mqtts://
# --cacert against mosquitto_pub/mosquitto_sub --cafile, both verifying it.
#
#   ROUNDS=5 MSGS=20000 bench/41-channel-broker.sh
#
# A stream is timed from the start of the sender to the exit of the
# receiver (-c N / -C N): every message delivered and written out.  The
# contenders run in a new random order each round.
source "$(dirname "$0")/lib.sh"

MSGS=${MSGS:-20000}
bench_channel_work broker

bench_header "channel over a broker (QoS 1), $MSGS 64-byte lines, 1 subscriber"
PATH=$PATH:/usr/sbin # Debian keeps the broker there
have mosquitto || exit 0
have mosquitto_pub || exit 0
have mosquitto_sub || exit 0

awk -v n="$MSGS" 'BEGIN {for (i = 0; i < n; i++) printf "%063d\n", i}' >"$WORK/lines"

# TLS: a CA and a server certificate for 127.0.0.1 and localhost.  Without
# openssl, or an ipcbox without mqtts://, the TLS rows are named, not run.
TLS=1
have openssl || TLS=
if [ -n "$TLS" ] && ! "$IPCBOX" channel-send --help 2>&1 | grep -q -- --cacert; then
	echo "  (ipcbox: this build has no mqtts://: the TLS rows are not measured)"
	TLS=
fi
make_certs() {
	local o=(-days 2 -noenc -newkey ec -pkeyopt ec_paramgen_curve:P-256)
	openssl req -x509 "${o[@]}" -subj /CN=ipcbox-bench-ca -keyout "$WORK/ca.key" -out "$WORK/ca.pem" &&
		openssl req "${o[@]}" -subj /CN=localhost -keyout "$WORK/srv.key" -out "$WORK/srv.csr" &&
		printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$WORK/ext" &&
		openssl x509 -req -in "$WORK/srv.csr" -CA "$WORK/ca.pem" -CAkey "$WORK/ca.key" -CAcreateserial \
			-days 2 -extfile "$WORK/ext" -out "$WORK/srv.pem"
}
if [ -n "$TLS" ] && ! make_certs >/dev/null 2>"$WORK/certs.err"; then
	echo "  (openssl could not make the certificates: $(tail -n 1 "$WORK/certs.err"); TLS rows not measured)"
	TLS=
fi

# A private broker: loopback, a free port (and a second, TLS, one), every
# message queued for a slow subscriber (the default 1000 would drop some),
# subscriptions logged so that mosquitto_sub's readiness can be seen.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
port=$(free_port)
tport=$(free_port)
while [ "$tport" = "$port" ]; do tport=$(free_port); done
{
	echo "listener $port 127.0.0.1"
	if [ -n "$TLS" ]; then
		echo "listener $tport 127.0.0.1"
		echo "cafile $WORK/ca.pem"
		echo "certfile $WORK/srv.pem"
		echo "keyfile $WORK/srv.key"
	fi
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
if [ -n "$TLS" ]; then
	until "$IPCBOX" tcp-connect -z 127.0.0.1 "$tport" 2>/dev/null; do sleep 0.02; done
	TBROKER=mqtts://127.0.0.1:$tport/bench
fi

since() {
	awk -v a="$1" -v b="$(now)" 'BEGIN {printf "%.6f\n", b - a}'
}

# ipcbox_stream [--broker URL [TLS-OPTION]...]: send -l -> listen -c, seconds.
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

# mosq_stream PORT [TLS-OPTION]...: mosquitto_pub -l -> mosquitto_sub -C,
# seconds.
mosq_stream() {
	local t0 s id=mqsub$RANDOM p=$1
	shift
	mosquitto_sub -V 5 -q 1 -i "$id" -p "$p" -h 127.0.0.1 "$@" -t bench/mq -C "$MSGS" >/dev/null &
	s=$!
	until grep -q " $id 1 bench/mq" "$WORK/mosquitto.log" 2>/dev/null; do sleep 0.005; done
	t0=$(now)
	mosquitto_pub -V 5 -q 1 -p "$p" -h 127.0.0.1 "$@" -t bench/mq -l <"$WORK/lines"
	wait "$s"
	since "$t0"
}

rate() {
	awk -v n="$1" -v s="$2" 'BEGIN {printf "%.0f", n / s}'
}

# one_stream WHO: one stream of the contender WHO, seconds.
one_stream() {
	case $1 in
	mq) mosq_stream "$port" ;;
	ib) ipcbox_stream --broker "$BROKER" ;;
	lo) ipcbox_stream ;;
	mqs) mosq_stream "$tport" --cafile "$WORK/ca.pem" ;;
	ibs) ipcbox_stream --broker "$TBROKER" --cacert "$WORK/ca.pem" ;;
	esac
}

WHO=(mq ib lo)
[ -z "$TLS" ] || WHO+=(mqs ibs)
declare -A T
for ((i = 0; i < ROUNDS; i++)); do
	for who in $(bench_order "${WHO[@]}"); do
		T[$who]+=" $(one_stream "$who")"
	done
done
# shellcheck disable=SC2086
base=$(median ${T[mq]})
# shellcheck disable=SC2086
t=$(median ${T[ib]})
# shellcheck disable=SC2086
l=$(median ${T[lo]})
bench_row "mosquitto_pub -l -q 1 -> mosquitto_sub -q 1" "$base"
verdict=
awk -v a="$base" -v b="$t" 'BEGIN {exit !(a / b < 1.0)}' && verdict=" LOSES"
bench_row "ipcbox channel-send -l --broker -> listen" "$t" "$base" "<= 1.0x (time)$verdict"
bench_row "ipcbox local (no broker), for scale" "$l" "$base"
echo "  rates: mosquitto tools $(rate "$MSGS" "$base") msg/s, ipcbox --broker $(rate "$MSGS" "$t") msg/s," \
	"ipcbox local $(rate "$MSGS" "$l") msg/s"
echo "  ipcbox --broker / mosquitto tools: $(awk -v a="$base" -v b="$t" 'BEGIN {printf "%.2f", a / b}')x the rate (goal >= 1.0x)"

bench_header "channel over a broker over TLS (mqtts://, QoS 1), $MSGS 64-byte lines, 1 subscriber"
if [ -z "$TLS" ]; then
	echo "  (not measured: see above)"
	exit 0
fi
# shellcheck disable=SC2086
tbase=$(median ${T[mqs]})
# shellcheck disable=SC2086
tt=$(median ${T[ibs]})
verdict=
awk -v a="$tbase" -v b="$tt" 'BEGIN {exit !(a / b < 1.0)}' && verdict=" LOSES"
bench_row "mosquitto_pub -l --cafile -> mosquitto_sub" "$tbase"
bench_row "ipcbox channel-send -l --broker mqtts://" "$tt" "$tbase" "<= 1.0x (time)$verdict"
echo "  rates: mosquitto tools $(rate "$MSGS" "$tbase") msg/s, ipcbox mqtts:// $(rate "$MSGS" "$tt") msg/s;" \
	"ipcbox mqtts:// / mosquitto tools: $(awk -v a="$tbase" -v b="$tt" 'BEGIN {printf "%.2f", a / b}')x the rate (goal >= 1.0x)"
echo "  both verify the broker's certificate (--cacert, --cafile: a CA made for the run); TLS 1.3"
echo "  raw seconds: $(for w in "${WHO[@]}"; do printf '%s:%s; ' "$w" "${T[$w]}"; done)"
