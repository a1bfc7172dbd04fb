#!/bin/sh
# private-bus.sh DIR [ABSTRACT]: start a private dbus-daemon (session type,
# EXTERNAL auth, everything allowed) listening on a unix:dir socket in DIR
# (and on unix:abstract=ABSTRACT if given), with DIR/services as its service
# directory.  It forks; its address is written to DIR/address and its pid to
# DIR/pid.  Used by the bus tests, bench/30-bus.sh and demo/30-bus.sh.
set -u
dir=$1
abstract=${2:-}
mkdir -p "$dir/services"
{
	echo '<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"'
	echo ' "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">'
	echo '<busconfig>'
	echo '  <type>session</type>'
	echo "  <listen>unix:dir=$dir</listen>"
	[ -z "$abstract" ] || echo "  <listen>unix:abstract=$abstract</listen>"
	echo "  <servicedir>$dir/services</servicedir>"
	echo '  <auth>EXTERNAL</auth>'
	echo '  <policy context="default">'
	echo '    <allow send_destination="*" eavesdrop="true"/>'
	echo '    <allow eavesdrop="true"/>'
	echo '    <allow own="*"/>'
	echo '  </policy>'
	echo '</busconfig>'
} >"$dir/bus.conf"
exec timeout 10 dbus-daemon --config-file="$dir/bus.conf" --fork --nopidfile \
	--print-address=3 --print-pid=4 3>"$dir/address" 4>"$dir/pid"
