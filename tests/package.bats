#!/usr/bin/env bats
# make deb: the package installs with dpkg, its binary, applets, man pages
# and completions work where Debian puts them, and it removes cleanly.
# Installing a package needs root: the test says so and skips otherwise.

bats_require_minimum_version 1.5.0
load helpers

REPO=$BATS_TEST_DIRNAME/..

setup() {
	common_setup
	INSTALLED_BY_US=
}

teardown() {
	if [ -n "$INSTALLED_BY_US" ] && dpkg -s ipcbox >/dev/null 2>&1; then
		dpkg_run --purge ipcbox
	fi
	[ -z "${BUS_DIR:-}" ] || stop_bus_dir
	common_teardown
}

# dpkg_run ARGS...: dpkg, waiting (against the deadline) while another
# package manager holds the dpkg lock, never longer.  Generous: dpkg runs
# man-db's trigger, which rebuilds the index, slow on a loaded machine.
dpkg_run() {
	local deadline=$((SECONDS + TMO * 15)) out
	while :; do
		if out=$(timeout -k 5 $((TMO * 15)) dpkg "$@" 2>&1); then
			return 0
		fi
		if [[ $out != *lock* ]] || ((SECONDS >= deadline)); then
			echo "dpkg $*: $out" >&2
			return 1
		fi
		sleep 0.2
	done
}

stop_bus_dir() {
	kill "$(cat "$BUS_DIR/pid")" 2>/dev/null
	rm -rf "$BUS_DIR"
}

@test "make deb; dpkg -i; every family runs from /usr/bin; man -w finds the pages; dpkg -r and --purge remove it all (root)" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to install a package"
	if dpkg -s ipcbox >/dev/null 2>&1 || [ -e /usr/bin/ipcbox ]; then
		skip "an ipcbox is installed already; not ours to replace"
	fi
	run timeout -k 5 $((TMO * 30)) env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
		make -s -j"$(nproc)" --no-print-directory -C "$REPO" deb DEB_OUT="$T"
	assert_status 0
	local deb version
	version=$("$IPCBOX" --version)
	version=${version#ipcbox }
	deb=$T/ipcbox_${version}_$(dpkg --print-architecture).deb
	[ -f "$deb" ]
	dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|; s|/$||' >"$T/contents"
	grep -qx /usr/bin/ipcbox "$T/contents"

	INSTALLED_BY_US=1
	dpkg_run -i "$deb"
	run dpkg-query -W -f '${Status} ${Version}' ipcbox
	assert_status 0
	assert_output "install ok installed $version"
	run timeout -k 5 "$TMO" /usr/bin/ipcbox --version
	assert_status 0
	assert_output "ipcbox $version"

	# tcp: one line over loopback
	bg /usr/bin/ipcbox tcp-listen --port-file "$T/port" 0 >"$T/tcp.out"
	local lpid=$BG_PID
	wait_file "$T/port"
	run timeout -k 5 "$TMO" /usr/bin/ipcbox tcp-connect 127.0.0.1 "$(cat "$T/port")" <<<"over tcp"
	assert_status 0
	wait "$lpid"
	[ "$(cat "$T/tcp.out")" = "over tcp" ]
	# unix: an abstract socket
	bg /usr/bin/ipcbox unix-listen "@ipcbox-test-pkg-$$" >"$T/unix.out"
	lpid=$BG_PID
	wait_for grep -q "@ipcbox-test-pkg-$$" /proc/net/unix
	run timeout -k 5 "$TMO" /usr/bin/ipcbox unix-connect "@ipcbox-test-pkg-$$" <<<"over unix"
	assert_status 0
	wait "$lpid"
	[ "$(cat "$T/unix.out")" = "over unix" ]
	# shm and sem: objects of our own name, removed at once
	local name=ipcbox-test-pkg-$$
	run timeout -k 5 "$TMO" /usr/bin/ipcbox shm-create "$name" --size 4K
	assert_status 0
	run timeout -k 5 "$TMO" /usr/bin/ipcbox shm-rm "$name"
	assert_status 0
	run timeout -k 5 "$TMO" /usr/bin/ipcbox sem-create "$name" --value 2
	assert_status 0
	run timeout -k 5 "$TMO" /usr/bin/ipcbox sem-value "$name"
	assert_output 2
	run timeout -k 5 "$TMO" /usr/bin/ipcbox sem-rm "$name"
	assert_status 0
	# bus: a private dbus-daemon of our own
	BUS_DIR=$T/bus
	"$BATS_TEST_DIRNAME/peers/private-bus.sh" "$BUS_DIR"
	run timeout -k 5 "$TMO" /usr/bin/ipcbox bus-call --address "$(head -n 1 "$BUS_DIR/address")" \
		org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus NameHasOwner s org.freedesktop.DBus
	assert_status 0
	assert_output "b true"
	# channel: a private namespace
	mkdir -m 700 "$T/ch"
	run env IPCBOX_CHANNEL_DIR="$T/ch" timeout -k 5 "$TMO" /usr/bin/ipcbox channel-list
	assert_status 0

	run man -w ipcbox-bus
	assert_status 0
	assert_output /usr/share/man/man1/ipcbox-bus.1.gz
	run man -w ipcbox
	assert_status 0
	assert_output /usr/share/man/man1/ipcbox.1.gz
	[ -f /usr/share/bash-completion/completions/ipcbox ]
	[ -f /usr/share/zsh/vendor-completions/_ipcbox ]
	[ -f /usr/share/fish/vendor_completions.d/ipcbox.fish ]

	dpkg_run -r ipcbox
	[ ! -e /usr/bin/ipcbox ]
	dpkg_run --purge ipcbox
	run dpkg-query -W -f '${Status}' ipcbox
	[ "$status" -ne 0 ] || [[ $output == *not-installed* ]] || { echo "still: $output" >&2; return 1; }
	INSTALLED_BY_US=
	# every file and link of the package is gone (directories dpkg keeps
	# only while another package uses them)
	local f
	while read -r f; do
		if [ -d "$f" ]; then continue; fi
		[ ! -e "$f" ] && [ ! -L "$f" ] || { echo "left after purge: $f" >&2; return 1; }
	done <"$T/contents"
	run man -w ipcbox-bus
	assert_status 16
}
