#!/bin/bash
# tcp --tls: bulk throughput and handshakes per second.
#
#   bulk   a SIZE file of random bytes on tmpfs through TLS over loopback,
#          every cell of {stdin: the file, cat file |} x {receiver's stdout:
#          /dev/null, | dd bs=128K of=/dev/null}, the connector sending:
#          ipcbox tcp-connect --tls -> tcp-listen --tls against socat
#          -b1048576 OPENSSL -> OPENSSL-LISTEN and ncat --ssl -> ncat --ssl -l,
#          in a new random order each round; every transfer checked (exit
#          statuses, bytes taken and delivered).  Wall time, and the CPU
#          time of both ends (the same goals; steadier on a loaded machine).
#          All of them use one
#          certificate made here by openssl (P-256, signed by a CA made here)
#          and every client verifies it against that CA (ncat by the name
#          localhost: it checks no IP address); the listeners ask for no
#          client certificate.  TLS 1.3, TLS_AES_256_GCM_SHA384 for all.
#   floor  bench/tlsconn.c: the same transfer with the least work (blocking
#          SSL_write of 1 MiB reads, SSL_read into stdout, no poll loop), and
#          one core's AES-256-GCM over SIZE in 16 KiB records: the cipher's
#          share of the time
#   hs/s   tcp-listen -k --tls -e cat against socat OPENSSL-LISTEN,fork
#          EXEC:cat, driven by bench/tlsconn.c (CONNS full handshakes, each
#          verified, "ping", close_notify, the echo read to the server's
#          end), sequential and PAR at a time; the servers' own CPU time per
#          connection (their utime + stime and their reaped children's)
#          beside the rate.  ncat -k -e is not in it: it ends a connection at
#          the client's close_notify before its command's echo is out.
#
#   ROUNDS=5 SIZE=1G INS="file pipe" OUTS="null pipe" CONNS=200 PAR=4 \
#       [PEERS="ipcbox socat ncat floor"] bash bench/15-tls.sh
source "$(dirname "$0")/lib.sh"
set -o pipefail

SIZE=${SIZE:-1G}
CONNS=${CONNS:-200}
PAR=${PAR:-4}
CC=${CC:-cc}
W=$(mktemp -d "$BENCH_TMP/ipcbox-bench-tls.XXXXXX")
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT

echo
echo "tcp --tls: $SIZE file on $BENCH_TMP, $ROUNDS rounds, contenders interleaved; $(uptime | sed 's/.*load/load/')"
have openssl || exit 0
# bench/tlsconn.c is linked against libssl: it needs libssl-dev's headers.
if ! "$CC" -O2 -o "$W/tlsconn" "$(dirname "$0")/tlsconn.c" -lssl -lcrypto 2>"$W/cc.err"; then
	echo "  (bench/tlsconn.c did not build: $(head -n 1 "$W/cc.err"); libssl-dev missing? not measured)"
	exit 0
fi
IPCBOX_TLS=1
if ! "$IPCBOX" tcp-connect --help 2>&1 | grep -q -- --tls; then
	echo "  (ipcbox: this build has no tcp-connect --tls: not measured, no ratios)"
	IPCBOX_TLS=
fi

# One CA and one server certificate for 127.0.0.1 and localhost, P-256.
make_certs() {
	local o=(-days 2 -noenc -newkey ec -pkeyopt ec_paramgen_curve:P-256)
	openssl req -x509 "${o[@]}" -subj /CN=ipcbox-bench-ca -keyout "$W/ca.key" -out "$W/ca.pem" &&
		openssl req "${o[@]}" -subj /CN=localhost -keyout "$W/srv.key" -out "$W/srv.csr" &&
		printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$W/ext" &&
		openssl x509 -req -in "$W/srv.csr" -CA "$W/ca.pem" -CAkey "$W/ca.key" -CAcreateserial \
			-days 2 -extfile "$W/ext" -out "$W/srv.pem"
}
make_certs >/dev/null 2>"$W/certs.err" || bench_fail "openssl could not make the certificates: $(tail -n 1 "$W/certs.err")"

# port_of CMDLINE: the loopback port that the process of this command
# line (ours: it names our own files) listens on; ncat -l 0 reports ":0".
port_of() {
	local pid p
	for _ in $(seq 1 2000); do
		pid=$(pgrep -n -x -f "$1")
		p=
		[ -z "$pid" ] || p=$(ss -Hltnp 2>/dev/null | grep "pid=$pid," | grep -o '127\.0\.0\.1:[0-9]*' | head -n 1)
		[ -z "$p" ] || { echo "${p#*:}"; return 0; }
		sleep 0.01
	done
	echo "bench: no port for $1" >&2
	return 1
}

head -c "$SIZE" /dev/urandom >"$W/file" || exit 1
BYTES=$(stat -c %s "$W/file")

# The ends of a transfer, as in bench/10-tcp.sh: the sender's stdin is the
# file (read through descriptor IN_FD, whose offset must reach the size) or
# `cat file |`; the receiver's stdout is /dev/null or `| dd bs=128K` (which
# counts the bytes).  Each end runs under /usr/bin/time for its CPU time
# (user + system seconds) in CPUFILE: on a loaded machine the wall time
# swings with the other load, the work each contender does does not.
as_sender() { # CPUFILE CMD...
	local cpu=$1
	shift
	if [ "$IN_KIND" = file ]; then
		/usr/bin/time -f '%U %S' -o "$cpu" "$@" <&"$IN_FD" >/dev/null
	else
		# shellcheck disable=SC2002 # cat's pipe is the cell
		cat "$W/file" | /usr/bin/time -f '%U %S' -o "$cpu" "$@" >/dev/null
	fi
}

as_receiver() { # CPUFILE CMD...
	local cpu=$1
	shift
	case $OUT_KIND in
	null) /usr/bin/time -f '%U %S' -o "$cpu" "$@" <"$L_STDIN" >/dev/null ;;
	pipe) /usr/bin/time -f '%U %S' -o "$cpu" "$@" <"$L_STDIN" | dd bs=128K of=/dev/null 2>"$W/count" ;;
	esac
}

# listener WHO -> L, its stdin L_STDIN, and how it tells its port:
# PORT_FILE (a port file), PORT_PAT (a pattern in its log), or neither (ss,
# by its command line).  ncat's listener ends the connection when its stdin
# ends, before the data has come, so its stdin is a FIFO that this shell
# holds open; ncat's connector runs without --send-only, which closes over
# the server's unread TLS 1.3 session tickets: the reset that answers cut
# the last 2.6 MB off 256 MiB in every trial.
# shellcheck disable=SC2034 # HOLD: held, never used
mkfifo "$W/hold" && exec {HOLD}<>"$W/hold" || exit 1
listener() {
	PORT_FILE='' PORT_PAT='' L_STDIN=/dev/null
	case $1 in
	ipcbox) L=("$IPCBOX" tcp-listen --tls --cert "$W/srv.pem" --key "$W/srv.key" --port-file "$W/port" 0)
		PORT_FILE=$W/port ;;
	socat) L=(socat -d -d -b1048576 -u "OPENSSL-LISTEN:0,bind=127.0.0.1,reuseaddr,cert=$W/srv.pem,key=$W/srv.key,verify=0" STDOUT)
		PORT_FILE=$W/l.err PORT_PAT='127.0.0.1:' ;;
	ncat) L=(ncat --ssl --ssl-cert "$W/srv.pem" --ssl-key "$W/srv.key" -l 127.0.0.1 0) L_STDIN=$W/hold ;;
	floor) L=("$W/tlsconn" listen "$W/port" "$W/srv.pem" "$W/srv.key") PORT_FILE=$W/port ;;
	esac
}

connector() { # WHO PORT -> C
	case $1 in
	ipcbox) C=("$IPCBOX" tcp-connect --tls --cacert "$W/ca.pem" 127.0.0.1 "$2") ;;
	socat) C=(socat -b1048576 -u STDIN "OPENSSL:127.0.0.1:$2,cafile=$W/ca.pem") ;;
	ncat) C=(ncat -4 --ssl --ssl-verify --ssl-trustfile "$W/ca.pem" localhost "$2") ;;
	floor) C=("$W/tlsconn" send "$2" "$W/ca.pem") ;;
	esac
}

# tls_once WHO: one transfer of the file, connector to listener; prints
# "SECONDS CPU_SECONDS" (wall; user + system of both ends).  A failed check
# ends the bench.
tls_once() {
	local who=$1 lpid p t0 t1 st=0 lst=0 got
	local -a L C
	rm -f "$W/port" "$W/l.err" "$W/count" "$W/l.cpu" "$W/c.cpu"
	[ "$IN_KIND" = file ] && exec {IN_FD}<"$W/file"
	listener "$who"
	as_receiver "$W/l.cpu" "${L[@]}" 2>"$W/l.err" &
	lpid=$!
	if [ -n "$PORT_FILE" ]; then
		p=$(wait_port "$PORT_FILE" "$PORT_PAT") || bench_fail "$who: no port"
	else
		p=$(port_of "${L[*]}") || bench_fail "$who: no port"
	fi
	connector "$who" "$p"
	t0=$(now)
	as_sender "$W/c.cpu" "${C[@]}" 2>>"$W/c.err" || st=$?
	wait "$lpid" || lst=$?
	t1=$(now)
	local cell="$who stdin=$IN_KIND stdout=$OUT_KIND"
	[ "$st" -eq 0 ] || bench_fail "$cell: connector exit $st ($(tail -n 1 "$W/c.err"))"
	[ "$lst" -eq 0 ] || bench_fail "$cell: listener exit $lst ($(tail -n 1 "$W/l.err"))"
	if [ "$IN_KIND" = file ]; then
		got=$(awk '/^pos:/ {print $2}' "/proc/$BASHPID/fdinfo/$IN_FD")
		exec {IN_FD}<&-
		[ "$got" = "$BYTES" ] || bench_fail "$cell: the sender took $got of $BYTES bytes"
	fi
	case $OUT_KIND in
	pipe) got=$(awk '/bytes/ {print $1}' "$W/count") ;;
	null) got=$BYTES ;; # nothing to count: the receiver read to close_notify
	esac
	[ "$got" = "$BYTES" ] || bench_fail "$cell: $got of $BYTES bytes arrived"
	awk -v a="$t0" -v b="$t1" '{c += $1 + $2} END {printf "%.6f %.2f\n", b - a, c}' "$W/l.cpu" "$W/c.cpu"
}

WHO=()
[ -n "$IPCBOX_TLS" ] && WHO+=(ipcbox)
have socat && WHO+=(socat)
have ncat && WHO+=(ncat)
WHO+=(floor)
[ -z "${PEERS:-}" ] || read -r -a WHO <<<"$PEERS" # a subset, to look into one
CELLS=()
for in in ${INS:-file pipe}; do
	for out in ${OUTS:-null pipe}; do CELLS+=("$in $out"); done
done
declare -A T CPU
: >"$W/c.err"
for ((r = 0; r < ROUNDS; r++)); do
	for cell in "${CELLS[@]}"; do
		read -r IN_KIND OUT_KIND <<<"$cell"
		for who in $(bench_order "${WHO[@]}"); do
			read -r t c < <(tls_once "$who") || exit 1
			[ -n "$t" ] || exit 1
			T[$who $cell]+=" $t"
			CPU[$who $cell]+=" $c"
		done
	done
done
read -r GCM_SEAL GCM_OPEN < <("$W/tlsconn" gcm "$BYTES") || bench_fail "tlsconn gcm"

printf '\ntcp --tls bulk %s, connect -> listen, median of %d rounds; x = contender time / ipcbox time (goal: socat -b1M >= 1.0, ncat >= 1.8)\n' "$SIZE" "$ROUNDS"
printf '  %-5s %-6s %15s %16s %16s %16s  %s\n' stdin stdout "ipcbox s (GB/s)" "socat -b1M" "ncat --ssl" "tlsconn floor" verdict
lost=0 lost_floor=0
for cell in "${CELLS[@]}"; do
	read -r in out <<<"$cell"
	mi=
	# shellcheck disable=SC2086
	[ -n "$IPCBOX_TLS" ] && mi=$(median ${T[ipcbox $cell]})
	verdict=ok
	cols=()
	need=
	for who in socat ncat floor; do
		if [ -z "${T[$who $cell]:-}" ]; then
			cols+=("-")
			continue
		fi
		# shellcheck disable=SC2086
		m=$(median ${T[$who $cell]})
		if [ -z "$mi" ]; then
			cols+=("$(printf '%.3f %8s' "$m" -)")
			continue
		fi
		x=$(ratio "$m" "$mi")
		case $who in socat) goal=1.0 ;; ncat) goal=1.8 ;; *) goal=0 ;; esac
		if awk -v x="$x" -v g="$goal" 'BEGIN {exit !(x < g)}'; then
			verdict=LOSES
			x="$x"x!
			need=$(awk -v m="$m" -v g="$goal" -v n="$need" 'BEGIN {t = m / g; if (n != "" && n < t) t = n; printf "%.3f", t}')
		fi
		if [ "$who" = floor ] && [ -n "$need" ] && awk -v f="$m" -v n="$need" 'BEGIN {exit !(f > n)}'; then
			verdict="LOSES(floor)"
			lost_floor=$((lost_floor + 1))
		fi
		[[ $x == *! ]] || x="$x"x
		cols+=("$(printf '%.3f %8s' "$m" "$x")")
	done
	[ -n "$mi" ] || verdict="-"
	[ "$verdict" = ok ] || [ "$verdict" = - ] || lost=$((lost + 1))
	printf '  %-5s %-6s %8s (%4s) %16s %16s %16s  %s\n' "$in" "$out" \
		"$([ -n "$mi" ] && printf %.3f "$mi" || echo -)" "$([ -n "$mi" ] && gbps "$BYTES" "$mi" | cut -d' ' -f1)" "${cols[0]}" "${cols[1]}" "${cols[2]}" "$verdict"
done
printf '  CPU seconds of both ends (user + system), median; x = contender / ipcbox (the same goals)\n'
printf '  %-5s %-6s %15s %16s %16s %16s\n' stdin stdout ipcbox "socat -b1M" "ncat --ssl" "tlsconn floor"
for cell in "${CELLS[@]}"; do
	read -r in out <<<"$cell"
	row=()
	# shellcheck disable=SC2086
	[ -n "$IPCBOX_TLS" ] && ci=$(median ${CPU[ipcbox $cell]}) || ci=
	for who in socat ncat floor; do
		if [ -z "${CPU[$who $cell]:-}" ]; then
			row+=("-")
			continue
		fi
		# shellcheck disable=SC2086
		m=$(median ${CPU[$who $cell]})
		x=-
		if [ -n "$ci" ]; then
			x=$(ratio "$m" "$ci")
			case $who in socat) goal=1.0 ;; ncat) goal=1.8 ;; *) goal=0 ;; esac
			awk -v x="$x" -v g="$goal" 'BEGIN {exit !(x < g)}' && x="$x"x! || x="$x"x
		fi
		row+=("$(printf '%.2f %8s' "$m" "$x")")
	done
	printf '  %-5s %-6s %15s %16s %16s %16s\n' "$in" "$out" "${ci:--}" "${row[@]}"
done
echo "  raw seconds (wall/CPU) per contender and cell:"
for cell in "${CELLS[@]}"; do
	for who in "${WHO[@]}"; do
		printf '    %-8s %-10s %s /%s\n' "$who" "$cell" "${T[$who $cell]}" "${CPU[$who $cell]}"
	done
done
echo "  $lost of ${#CELLS[@]} cells lose ('!' marks a ratio under its goal); LOSES(floor): the goal asks for"
echo "  less time than bench/tlsconn.c's plain blocking transfer took, in $lost_floor of them.  Every cell"
echo "  checked: exit statuses, the sender took its whole input (file offset), dd's byte count."
echo "  ncat runs without --send-only and its listener's stdin is held open: ncat --send-only closes"
echo "  over the server's unread TLS 1.3 session tickets, the reset cut 2.6 MB off 256 MiB every time"
echo "  in a trial, and a listener whose stdin ends ends the connection."
printf '  AES-256-GCM on one core (tlsconn gcm, %s in 16 KiB records): seal %.3f s (%s), open %.3f s (%s);\n' \
	"$SIZE" "$GCM_SEAL" "$(gbps "$BYTES" "$GCM_SEAL")" "$GCM_OPEN" "$(gbps "$BYTES" "$GCM_OPEN")"
echo "  the sender seals while the receiver opens, on two cores: no transfer takes less than the larger."

# Handshakes per second: each server serves CONNS connections of the same
# client driver per round, sequentially and PAR at a time.
cpu_ticks() { # PID: utime + stime + its reaped children's, in clock ticks
	awk '{print $14 + $15 + $16 + $17}' "/proc/$1/stat"
}
declare -A SRV_PID SRV_PORT
rm -f "$W/port"
if [ -n "$IPCBOX_TLS" ]; then
	"$IPCBOX" tcp-listen -k --tls --cert "$W/srv.pem" --key "$W/srv.key" -e cat --port-file "$W/port" 0 \
		</dev/null >/dev/null 2>"$W/hs-ipcbox.err" &
	SRV_PID[ipcbox]=$!
	SRV_PORT[ipcbox]=$(wait_port "$W/port") || exit 1
fi
if have socat; then
	socat -d -d "OPENSSL-LISTEN:0,bind=127.0.0.1,fork,reuseaddr,cert=$W/srv.pem,key=$W/srv.key,verify=0" EXEC:cat \
		</dev/null 2>"$W/hs-socat.err" &
	SRV_PID[socat]=$!
	SRV_PORT[socat]=$(wait_port "$W/hs-socat.err" '127.0.0.1:') || exit 1
fi
PIDS+=("${SRV_PID[@]}")
HZ=$(getconf CLK_TCK)
declare -A H HCPU
for ((r = 0; r < ROUNDS; r++)); do
	for who in $(bench_order "${!SRV_PID[@]}"); do
		for par in 1 "$PAR"; do
			c0=$(cpu_ticks "${SRV_PID[$who]}")
			h=$("$W/tlsconn" rate "${SRV_PORT[$who]}" "$W/ca.pem" "$CONNS" "$par") ||
				bench_fail "$who: handshakes (PAR $par)"
			c1=$(cpu_ticks "${SRV_PID[$who]}")
			H[$who $par]+=" $h"
			HCPU[$who $par]+=" $(awk -v a="$c0" -v b="$c1" -v hz="$HZ" -v n="$CONNS" 'BEGIN {printf "%.3f", (b - a) * 1000 / hz / n}')"
		done
	done
done
for par in 1 "$PAR"; do
	bench_header "TLS handshakes/s, $CONNS a round, $par at a time, echo via a command (x = ipcbox's rate / this one's)" "median/s"
	base=
	# shellcheck disable=SC2086
	[ -n "$IPCBOX_TLS" ] && base=$(median ${H[ipcbox $par]})
	for who in ipcbox socat; do
		[ -n "${H[$who $par]:-}" ] || continue
		# shellcheck disable=SC2086
		m=$(median ${H[$who $par]})
		# shellcheck disable=SC2086
		cpu=$(median ${HCPU[$who $par]})
		case $who in
		ipcbox) name="ipcbox tcp-listen -k --tls -e cat" ;;
		socat) name="socat OPENSSL-LISTEN,fork EXEC:cat" ;;
		esac
		if [ -z "$base" ] || [ "$who" = ipcbox ]; then
			printf '  %-44s %12.1f  %9s  %s\n' "$name" "$m" "" "server CPU $cpu ms/conn"
			continue
		fi
		x=$(ratio "$base" "$m")
		goal="goal >= 1.5"
		awk -v x="$x" 'BEGIN {exit !(x < 1.5)}' && { x="$x"x!; goal="$goal LOSES"; }
		[[ $x == *! ]] || x="$x"x
		printf '  %-44s %12.1f  %9s  %s\n' "$name" "$m" "$x" "server CPU $cpu ms/conn $goal"
	done
done
echo "  x = ipcbox's rate / this server's rate (goal: >= 1.5 x socat); the client is one driver,"
echo "  bench/tlsconn.c, whose cost is the same for every server: a full handshake each time (no"
echo "  session resumption), the server verified against the CA; server CPU: its user + system time"
echo "  and its reaped children's (the -e commands) per connection, from /proc/PID/stat."
