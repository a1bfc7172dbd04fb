#!/bin/bash
# mq: a stream of lines through a message queue, mq-send -l -> mq-recv,
# against a C reference doing the same (bench/mqref.c: one mq_send per
# line, mq_receive and a newline to buffered stdout) and against a channel
# stream (channel-send -l -> channel-listen) on the same machine; POSIX and
# System V.  Then the start-up of mq-info against /bin/true.
#
#   ROUNDS=5 MSGS=200000 STARTS=300 bench/50-mq.sh
#
# A stream is timed from the start of the sender to the exit of the
# receiver (-c N): every message taken and written out.  The receiver is
# started first; the queue holds 10 messages of 64 bytes (POSIX: msg_max's
# default, what an ordinary user may have) or 640 bytes (System V).
source "$(dirname "$0")/lib.sh"

MSGS=${MSGS:-200000}
STARTS=${STARTS:-300}
bench_channel_work mq
W=$WORK
chmod 0755 "$W"
for tool in mqref startup; do
	"${CC:-cc}" -O2 -o "$W/$tool" "$(dirname "$0")/$tool.c" || exit 1
done
Q=ipcbox-bench-mq-$$
: >"$W/keyfile"
K=$(printf '0x%08x' $((($(stat -c %i "$W/keyfile") & 0xffff) | (($(stat -c %d "$W/keyfile") & 0xff) << 16) | (77 << 24))))
mq_cleanup() {
	"$IPCBOX" mq-rm "$Q" "sysv:$K" 2>/dev/null
	bench_channel_cleanup
}
trap mq_cleanup EXIT
"$IPCBOX" mq-create "$Q" --max-messages 10 --message-size 64 || exit 1
"$IPCBOX" mq-create "sysv:$K" --max-bytes 640 || exit 1

# 64-byte lines: 63 characters and the newline.
awk -v n="$MSGS" 'BEGIN {for (i = 0; i < n; i++) printf "%063d\n", i}' >"$W/lines"

# timed RECV_CMD -- SEND_CMD: seconds from the sender's start to the
# receiver's exit; the receiver's output is checked: MSGS lines.
timed() {
	local recv=() t0 t1 rp
	while [ "$1" != -- ]; do recv+=("$1"); shift; done
	shift
	"${recv[@]}" >"$W/out" &
	rp=$!
	t0=$(now)
	"$@" <"$W/lines" || bench_fail "$* failed"
	wait "$rp" || bench_fail "${recv[*]} failed"
	t1=$(now)
	[ "$(wc -l <"$W/out")" -eq "$MSGS" ] || bench_fail "${recv[*]}: not $MSGS lines"
	awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.6f\n", b - a}'
}

channel_stream() {
	local t0 t1 lp
	rm -f "$W/ready"
	"$IPCBOX" channel-listen -c "$MSGS" --ready-file "$W/ready" bench/mq >"$W/out" &
	lp=$!
	while [ ! -s "$W/ready" ]; do sleep 0.005; done
	t0=$(now)
	"$IPCBOX" channel-send -l bench/mq 'line(QString)' <"$W/lines" || bench_fail "channel-send"
	wait "$lp" || bench_fail "channel-listen"
	t1=$(now)
	awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.6f\n", b - a}'
}

rate() {
	awk -v n="$1" -v s="$2" 'BEGIN {printf "%.0f", n / s}'
}

echo
echo "mq: $MSGS 64-byte lines, $ROUNDS rounds, contenders interleaved; $(uptime | sed 's/.*load/load/')"
declare -A T
for ((i = 0; i < ROUNDS; i++)); do
	for who in $(bench_order posix-ipcbox posix-ref sysv-ipcbox sysv-ref channel); do
		case $who in
		posix-ipcbox) T[$who]+="$(timed "$IPCBOX" mq-recv "$Q" -c "$MSGS" -- "$IPCBOX" mq-send "$Q" -l) " ;;
		posix-ref) T[$who]+="$(timed "$W/mqref" recv "/$Q" "$MSGS" -- "$W/mqref" send "/$Q") " ;;
		sysv-ipcbox) T[$who]+="$(timed "$IPCBOX" mq-recv "sysv:$K" -c "$MSGS" -- "$IPCBOX" mq-send "sysv:$K" -l) " ;;
		sysv-ref) T[$who]+="$(timed "$W/mqref" sysv-recv "$K" "$MSGS" -- "$W/mqref" sysv-send "$K") " ;;
		channel) T[$who]+="$(channel_stream) " ;;
		esac
	done
done
for kind in posix sysv; do
	bench_header "mq stream ($kind), mq-send -l -> mq-recv, $MSGS lines"
	# shellcheck disable=SC2086
	base=$(median ${T[$kind-ref]})
	# shellcheck disable=SC2086
	t=$(median ${T[$kind-ipcbox]})
	bench_row "C reference, bench/mqref.c ($(rate "$MSGS" "$base") msg/s)" "$base"
	bench_row "ipcbox mq-send -l -> mq-recv ($(rate "$MSGS" "$t") msg/s)" "$t" "$base" "<= 1.25x (>= 0.8x the rate)"
	# shellcheck disable=SC2086
	c=$(median ${T[channel]})
	bench_row "ipcbox channel-send -l -> channel-listen ($(rate "$MSGS" "$c") msg/s)" "$c" "$base"
done

# Start-up: bench/startup.c runs the commands interleaved.
"$IPCBOX" mq-send "$Q" hello
mapfile -t m < <("$W/startup" "$STARTS" /bin/true -- "$IPCBOX" mq-info "$Q" -- "$IPCBOX" mq-info "sysv:$K")
[ "${#m[@]}" -eq 3 ] || bench_fail "startup"
bench_header "start-up, one run (bench/startup.c: $STARTS rounds, interleaved; median)"
bench_row "/bin/true" "${m[0]}"
bench_row "ipcbox mq-info (POSIX)" "${m[1]}" "${m[0]}" "<= 1.3x"
bench_row "ipcbox mq-info (System V)" "${m[2]}" "${m[0]}" "<= 1.3x"
