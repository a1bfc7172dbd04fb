# For bats files that need an MQTT broker: load mqtt_helpers (after helpers).
#
# start_broker [CONFIG_LINE]...: a private mosquitto on 127.0.0.1, on a port
# found free by binding port 0 and releasing it (mosquitto cannot write a
# port file); if mosquitto cannot bind it after all (another process took it
# in between), another port is tried.  The config file is written here:
# loopback listener, anonymous access unless a CONFIG_LINE says otherwise,
# no persistence, log in $T.  Sets BROKER_PORT, BROKER_PID (mosquitto's own
# pid, for kill), BROKER_BG (its timeout wrapper, stopped in teardown) and
# BROKER (mqtt://127.0.0.1:PORT).  Never the system's broker or port 1883.

# Debian installs the broker in /usr/sbin, which an ordinary user's PATH
# often lacks.
MOSQUITTO=$(command -v mosquitto 2>/dev/null || echo /usr/sbin/mosquitto)

free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# broker_up PORT: does something accept connections there?
broker_up() {
	"$IPCBOX" tcp-connect -z -w 1s 127.0.0.1 "$1" 2>/dev/null
}

start_broker() {
	local try conf=$T/mosquitto.conf line deadline
	for try in 1 2 3 4 5; do
		BROKER_PORT=$(free_port)
		{
			echo "listener $BROKER_PORT 127.0.0.1"
			echo "persistence false"
			echo "log_dest file $T/mosquitto.log"
			# As root mosquitto would switch to its own user, which cannot
			# read this test's 0700 directory.
			[ "$(id -u)" != 0 ] || echo "user root"
			for line in "$@"; do echo "$line"; done
			case " $* " in *password_file*) ;; *) echo "allow_anonymous true" ;; esac
		} >"$conf"
		# The broker outlives the commands of its test: a longer bound.
		TMO=$((TMO * 6)) bg "$MOSQUITTO" -c "$conf" 2>>"$T/mosquitto.err"
		BROKER_BG=$BG_PID
		deadline=$((SECONDS + TMO))
		while kill -0 "$BROKER_BG" 2>/dev/null && ! broker_up "$BROKER_PORT" && ((SECONDS < deadline)); do
			sleep 0.05
		done
		if broker_up "$BROKER_PORT"; then
			BROKER_PID=$(cat "/proc/$BROKER_BG/task/$BROKER_BG/children")
			BROKER=mqtt://127.0.0.1:$BROKER_PORT
			return 0
		fi
		wait "$BROKER_BG" 2>/dev/null
	done
	echo "start_broker: mosquitto did not start; log:" >&2
	cat "$T/mosquitto.log" >&2
	return 1
}
