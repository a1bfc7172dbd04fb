#!/bin/bash
# bus-diagram on a 100,000-message capture (tests/peers/diagram-gen.py: calls,
# returns, errors and broadcast signals between two connections, 1 ms apart):
# wall time per output, SVG bytes a message, and what the --max default does.
# No other tool draws a capture from the command line (Bustle needs a
# window; tshark -z flow is per address, not per D-Bus call), so the rows are
# bus-diagram's own outputs against DESIGN section 5's goal; "read-only" is
# the reader and the model with nothing drawn (--stats --max 1).
# Goal: 100,000 messages in < 2 s; SVG <= ~300 bytes a message.
source "$(dirname "$0")/lib.sh"

N=${N:-100000}
dir=$(mktemp -d "${BENCH_TMP}/ipcbox-bench-diagram.XXXXXX")
trap 'rm -rf "$dir"' EXIT
have /usr/bin/python3 || exit 0
/usr/bin/python3 "$(dirname "$0")/../tests/peers/diagram-gen.py" "$N" "$dir/cap" pcap || exit 1
/usr/bin/python3 "$(dirname "$0")/../tests/peers/diagram-gen.py" "$N" "$dir/cap.pcapng" pcapng || exit 1
msgs=$((N + 1))

echo "bus-diagram, $msgs messages ($(stat -c %s "$dir/cap") bytes pcap), ROUNDS=$ROUNDS, medians of wall seconds:"
declare -A t
names=(read-only svg-all svg-max-default html-all mermaid-all text-all stats pcapng-svg-all)
run_one() {
	case $1 in
	read-only) "$IPCBOX" bus-diagram --stats --max 1 "$dir/cap" ;;
	svg-all) "$IPCBOX" bus-diagram --max 0 "$dir/cap" ;;
	svg-max-default) "$IPCBOX" bus-diagram "$dir/cap" ;;
	html-all) "$IPCBOX" bus-diagram --html --max 0 "$dir/cap" ;;
	mermaid-all) "$IPCBOX" bus-diagram --mermaid --max 0 "$dir/cap" ;;
	text-all) "$IPCBOX" bus-diagram --text --width 100 --max 0 "$dir/cap" ;;
	stats) "$IPCBOX" bus-diagram --stats "$dir/cap" ;;
	pcapng-svg-all) "$IPCBOX" bus-diagram --max 0 "$dir/cap.pcapng" ;;
	esac
}
for _ in $(seq "$ROUNDS"); do
	for n in $(bench_order "${names[@]}"); do
		t[$n]="${t[$n]:-} $(elapsed run_one "$n")"
	done
done
for n in "${names[@]}"; do
	# shellcheck disable=SC2086
	m=$(median ${t[$n]})
	case $n in
	svg-all | pcapng-svg-all | html-all | mermaid-all | text-all) goal="goal < 2 s: $(awk -v m="$m" 'BEGIN {print (m < 2) ? "met" : "MISSED"}')" ;;
	*) goal= ;;
	esac
	printf '  %-44s %12.6f  %s\n' "bus-diagram $n" "$m" "$goal"
done
svg=$("$IPCBOX" bus-diagram --max 0 "$dir/cap" | wc -c)
def=$("$IPCBOX" bus-diagram "$dir/cap" 2>"$dir/err" | wc -c)
printf '  %-44s %12d  %.1f bytes/message, goal <= ~300: %s\n' "SVG bytes, --max 0 (every message)" "$svg" \
	"$(awk -v s="$svg" -v n="$msgs" 'BEGIN {print s / n}')" \
	"$(awk -v s="$svg" -v n="$msgs" 'BEGIN {print (s / n <= 300) ? "met" : "MISSED"}')"
printf '  %-44s %12d  %s\n' "SVG bytes, --max default (5000 drawn)" "$def" "$(cat "$dir/err")"
