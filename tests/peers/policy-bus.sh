#!/bin/sh
# policy-bus.sh DIR ABSTRACT [EXTRA_POLICY]: start a dbus-daemon with the
# distribution's own system policy, as a system bus on a machine we did not
# set up would have it (reference/field.md 1.5).  DIR/system.conf is a copy
# of /usr/share/dbus-1/system.conf with only two things changed: <listen>
# becomes unix:abstract=ABSTRACT (no socket file, any uid may connect), and
# <user> becomes messagebus when we are root (as on a real system) or our
# own user otherwise (a daemon that cannot switch users would exit).  The
# fork, pid file and syslog of the original are overridden on the command
# line (--nopidfile --nosyslog).  EXTRA_POLICY, if given, is a file of
# <policy> elements inserted at the end, for tests that need a hole in the
# policy (documented where they use it).
#
# It forks; its address is written to DIR/address and its pid to DIR/pid.
set -u
dir=$1
abstract=$2
extra=${3:-}
orig=/usr/share/dbus-1/system.conf
[ -r "$orig" ] || { echo "policy-bus.sh: $orig missing" >&2; exit 1; }
mkdir -p "$dir"
if [ -n "${POLICY_BUS_USER:-}" ]; then
	user=$POLICY_BUS_USER
elif [ "$(id -u)" -eq 0 ] && id messagebus >/dev/null 2>&1; then
	user=messagebus
else
	user=$(id -un)
fi
# Replace the <user> and <listen> elements (and nothing else); append the
# extra policy just before the closing tag.
awk -v user="$user" -v listen="unix:abstract=$abstract" -v extra="$extra" '
	/<user>[^<]*<\/user>/ { sub(/<user>[^<]*<\/user>/, "<user>" user "</user>") }
	/<listen>[^<]*<\/listen>/ { sub(/<listen>[^<]*<\/listen>/, "<listen>" listen "</listen>") }
	/<\/busconfig>/ && extra != "" { while ((getline line < extra) > 0) print line }
	{ print }
' "$orig" >"$dir/system.conf"
grep -q "<user>$user</user>" "$dir/system.conf" &&
	grep -q "<listen>unix:abstract=$abstract</listen>" "$dir/system.conf" ||
	{ echo "policy-bus.sh: could not edit a copy of $orig" >&2; exit 1; }
exec timeout 10 dbus-daemon --config-file="$dir/system.conf" --fork --nopidfile --nosyslog \
	--print-address=3 --print-pid=4 3>"$dir/address" 4>"$dir/pid"
