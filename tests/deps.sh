#!/bin/sh
# The test peers: real programs the suite talks to.  As root on Debian this
# installs what is missing; elsewhere it stops with the exact install command.
# Used by 'make test' (through tests/run) and by .ci/run.
#
# Each line: a command (or a python module check) and the Debian package.
set -u
needs='
bats bats
socat socat
nc.openbsd netcat-openbsd
mandoc mandoc
dbus-daemon dbus-daemon
dbus-send dbus-bin
dbus-monitor dbus-bin
busctl systemd
systemd-stdio-bridge systemd
gdbus libglib2.0-bin
qmake qtbase5-dev
qtpaths qtbase5-dev-tools
g++ g++
pkg-config pkgconf
xxd xxd
openssl openssl
mosquitto mosquitto
mosquitto_pub mosquitto-clients
mosquitto_sub mosquitto-clients
mosquitto_passwd mosquitto
python3-dbus python3-dbus
python3-gi python3-gi
python3-sysv-ipc python3-sysv-ipc
cc gcc
musl-gcc musl-tools
dpkg-deb dpkg
dpkg-shlibdeps dpkg-dev
lintian lintian
man man-db
file file
strace strace
zsh zsh
fish fish
qt6 qt6-base-dev
xmllint libxml2-utils
chromium chromium
'
missing=
for_each() {
	echo "$needs" | while read -r cmd pkg; do
		[ -n "$cmd" ] || continue
		case $cmd in
		python3-dbus) /usr/bin/python3 -c 'import dbus' 2>/dev/null && continue ;;
		python3-gi) /usr/bin/python3 -c 'from gi.repository import Gio' 2>/dev/null && continue ;;
		python3-sysv-ipc) /usr/bin/python3 -c 'import sysv_ipc' 2>/dev/null && continue ;;
		qmake) [ -x /usr/lib/qt5/bin/qmake ] && continue ;;
		systemd-stdio-bridge)
			for p in /usr/bin /usr/lib/systemd /lib/systemd; do
				[ -x "$p/systemd-stdio-bridge" ] && continue 2
			done ;;
		qtpaths) [ -x /usr/lib/qt5/bin/moc ] && continue ;;
		qt6) pkg-config --exists Qt6Core Qt6Network 2>/dev/null && continue ;;
		mosquitto) { command -v mosquitto || [ -x /usr/sbin/mosquitto ]; } >/dev/null 2>&1 && continue ;;
		*) command -v "$cmd" >/dev/null 2>&1 && continue ;;
		esac
		echo "$pkg"
	done | sort -u | tr '\n' ' '
}
missing=$(for_each)
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "tests/deps.sh: installing $missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	# shellcheck disable=SC2086
	apt-get update -q >&2 && apt-get install -y -q --no-install-recommends $missing >&2 && exit 0
	echo "tests/deps.sh: apt-get failed" >&2
	exit 1
fi
echo "tests/deps.sh: test peers missing; install them with:" >&2
echo "  sudo apt-get install -y $missing" >&2
exit 1
