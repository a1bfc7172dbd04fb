#!/bin/bash
# channel: one-shot channel-send against /bin/true, and streams (send -l)
# to 1 and to 16 listeners, against mosquitto through its broker when it is
# installed.
#
#   ROUNDS=5 MSGS=200000 FANOUT_MSGS=50000 bench/40-channel.sh
#
# A stream is timed from the start of the sender to the exit of the last
# listener (-c N): every message delivered and written out.
source "$(dirname "$0")/lib.sh"

MSGS=${MSGS:-200000}
FANOUT_MSGS=${FANOUT_MSGS:-50000}
STARTS=${STARTS:-300}
bench_channel_work channel

# 64-byte lines.
awk -v n="$MSGS" 'BEGIN {for (i = 0; i < n; i++) printf "%063d\n", i}' >"$WORK/lines"
head -n "$FANOUT_MSGS" "$WORK/lines" >"$WORK/fanout"

# listeners N COUNT CHANNEL: start N listeners, each exits after COUNT
# messages; their pids in LPIDS once all are registered.
listeners() {
	local n=$1 count=$2 ch=$3 i
	LPIDS=()
	for ((i = 0; i < n; i++)); do
		rm -f "$WORK/ready.$i"
		"$IPCBOX" channel-listen -c "$count" --ready-file "$WORK/ready.$i" "$ch" >/dev/null &
		LPIDS+=($!)
	done
	for ((i = 0; i < n; i++)); do
		while [ ! -s "$WORK/ready.$i" ]; do sleep 0.005; done
	done
}

# stream N FILE: seconds from the start of send -l to the last listener's exit.
stream() {
	local n=$1 file=$2 count t0 t1
	count=$(wc -l <"$file")
	listeners "$n" "$count" "bench/$n"
	t0=$(now)
	"$IPCBOX" channel-send -l "bench/$n" 'line(QString)' <"$file" || echo "bench: send failed" >&2
	wait "${LPIDS[@]}"
	t1=$(now)
	awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.6f\n", b - a}'
}

mosq_stream() {
	local port=$1 t0 t1 sub
	mosquitto_sub -p "$port" -t bench -C "$MSGS" >/dev/null &
	sub=$!
	sleep 0.3 # mosquitto_sub has no readiness signal; not part of the timing
	t0=$(now)
	mosquitto_pub -p "$port" -t bench -l <"$WORK/lines"
	wait "$sub"
	t1=$(now)
	awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.6f\n", b - a}'
}

rate() {
	awk -v n="$1" -v s="$2" 'BEGIN {printf "%.0f", n / s}'
}

# One-shot: 4 listeners registered, as the reference prototype measured.
listeners 4 999999999 bench/oneshot
PIDS+=("${LPIDS[@]}")
t_true=() t_send=()
json=$WORK/hf.json
for ((i = 0; i < ROUNDS; i++)); do
	if command -v hyperfine >/dev/null; then
		hyperfine -N -w 20 -r "$STARTS" --export-json "$json" /bin/true \
			"$IPCBOX channel-send bench/oneshot x() hello" >/dev/null 2>&1
		mapfile -t m < <(python3 -c 'import json,sys; [print(r["median"]) for r in json.load(open(sys.argv[1]))["results"]]' "$json")
	else
		m=()
		for c in /bin/true "$IPCBOX channel-send bench/oneshot x() hello"; do
			t0=$(now)
			for ((j = 0; j < STARTS; j++)); do $c >/dev/null; done
			m+=("$(awk -v a="$t0" -v b="$(now)" -v n="$STARTS" 'BEGIN {printf "%.6f\n", (b - a) / n}')")
		done
	fi
	t_true+=("${m[0]}") t_send+=("${m[1]}")
done
kill "${PIDS[@]}" 2>/dev/null
wait "${PIDS[@]}" 2>/dev/null
PIDS=()
bench_header "channel-send one-shot to 4 listeners ($(command -v hyperfine >/dev/null && echo "hyperfine -N" || echo loop), $STARTS runs x $ROUNDS rounds)"
base=$(median "${t_true[@]}")
bench_row "/bin/true" "$base"
bench_row "ipcbox channel-send" "$(median "${t_send[@]}")" "$base" "<= 1.5x"

# Streams, interleaved round by round.
s1=() s16=() mq=()
if command -v mosquitto >/dev/null && command -v mosquitto_pub >/dev/null; then
	port=$((20000 + RANDOM % 20000))
	mosquitto -p "$port" >/dev/null 2>&1 &
	PIDS+=($!)
	sleep 0.3
	have_mosq=1
fi
for ((i = 0; i < ROUNDS; i++)); do
	s1+=("$(stream 1 "$WORK/lines")")
	s16+=("$(stream 16 "$WORK/fanout")")
	[ -z "${have_mosq:-}" ] || mq+=("$(mosq_stream "$port")")
done
bench_header "channel stream (send -l), $MSGS 64-byte lines to 1 listener"
t=$(median "${s1[@]}")
if [ -n "${have_mosq:-}" ]; then
	base=$(median "${mq[@]}")
	bench_row "mosquitto_pub -l -> broker -> mosquitto_sub ($(rate "$MSGS" "$base") msg/s)" "$base"
	bench_row "ipcbox channel-send -l -> channel-listen ($(rate "$MSGS" "$t") msg/s)" "$t" "$base" "<= 0.5x"
else
	have mosquitto
	bench_row "ipcbox channel-send -l -> channel-listen" "$t"
fi
echo "  $(rate "$MSGS" "$t") msg/s (goal >= 200000)"
bench_header "channel stream (send -l), $FANOUT_MSGS lines to 16 listeners"
t=$(median "${s16[@]}")
bench_row "ipcbox channel-send -l -> 16 x channel-listen" "$t"
echo "  $(rate $((FANOUT_MSGS * 16)) "$t") deliveries/s (goal >= 100000)"
