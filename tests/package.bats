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

# make_deb: the package built into $T; its path in DEB.
make_deb() {
	run timeout -k 5 $((TMO * 30)) env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
		make -s -j"$(nproc)" --no-print-directory -C "$REPO" deb DEB_OUT="$T"
	assert_status 0
	local version
	version=$("$IPCBOX" --version)
	version=${version#ipcbox }
	DEB=$T/ipcbox_${version}_$(dpkg --print-architecture).deb
	[ -f "$DEB" ]
}

# dlopen_note FILE: the JSON of each .note.dlopen note of owner FDO and
# type 0x407c0c0a in the ELF FILE, one line each (the freedesktop "ELF dlopen
# metadata"), checked as JSON and printed back compact.
dlopen_note() {
	objcopy -O binary --only-section=.note.dlopen "$1" "$T/note" || return 1
	/usr/bin/python3 - "$T/note" <<'PY'
import json, struct, sys
data = open(sys.argv[1], "rb").read()
off = 0
while off + 12 <= len(data):
    namesz, descsz, kind = struct.unpack_from("<III", data, off)
    name_at = off + 12
    desc_at = name_at + (namesz + 3) // 4 * 4
    if data[name_at:name_at + namesz] == b"FDO\0" and kind == 0x407C0C0A:
        note = json.loads(data[desc_at:desc_at + descsz].rstrip(b"\0"))
        print(json.dumps(note, separators=(",", ":"), sort_keys=True))
    off = desc_at + (descsz + 3) // 4 * 4
PY
}

# assert_ssl_note FILE: readelf lists a note of owner FDO, type 0x407c0c0a,
# in .note.dlopen, and its JSON names libssl.so.3 for the feature tls,
# recommended.  readelf's status is not looked at: binutils 2.40 exits 1
# when it lists a note type it cannot name ("Unknown note type"), this one.
assert_ssl_note() {
	run readelf -n --wide "$1"
	[[ $output == *"Displaying notes found in: .note.dlopen"* ]] ||
		{ echo "no .note.dlopen section in $1: $output" >&2; return 1; }
	assert_match $'\n  FDO +0x[0-9a-f]+[ \t]+[^\n]*0x407c0c0a'
	run dlopen_note "$1"
	assert_status 0
	assert_output '[{"description":"TLS for tcp --tls and mqtts:// channels","feature":"tls","priority":"recommended","soname":["libssl.so.3"]}]'
}

stop_bus_dir() {
	kill "$(cat "$BUS_DIR/pid")" 2>/dev/null
	rm -rf "$BUS_DIR"
}

@test "make deb; dpkg -i; every family runs from /usr/bin; man -w finds the pages; dpkg -r and --purge remove it all (root)" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to install a package"
	# A second suite on this machine (another clone under test) installs
	# the same package: wait for it rather than see its install as someone
	# else's.  An advisory flock on dpkg's directory (dpkg locks files in it
	# with fcntl, never the directory) serialises the two and creates nothing.
	local pkglock
	exec {pkglock}</var/lib/dpkg # lint: path-ok (a lock on dpkg's directory, read only)
	flock -w $((TMO * 60)) "$pkglock"
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

	# TLS: the binary names libssl.so.3 in its .note.dlopen; dpkg knows
	# the package recommends libssl3
	assert_ssl_note /usr/bin/ipcbox
	run dpkg-query -W -f '${Recommends}' ipcbox
	assert_output libssl3

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

@test "make deb: the package recommends libssl3 (TLS, opened at run time), depends on no libssl, and lintian finds nothing" {
	make_deb
	run dpkg-deb -f "$DEB" Recommends
	assert_status 0
	assert_output libssl3
	run dpkg-deb -f "$DEB" Depends
	assert_status 0
	[[ $output != *libssl* ]] || { echo "Depends names libssl: $output" >&2; return 1; }
	[[ $output == *libc6* ]] || { echo "Depends without libc6: $output" >&2; return 1; }
	run timeout -k 5 $((TMO * 15)) lintian --fail-on error,warning "$DEB"
	assert_status 0
}

@test "make deb: the packaged binary carries the .note.dlopen for libssl.so.3 (owner FDO, type 0x407c0c0a) and links no libssl" {
	make_deb
	dpkg-deb -x "$DEB" "$T/root"
	assert_ssl_note "$T/root/usr/bin/ipcbox"
	run readelf -d --wide "$T/root/usr/bin/ipcbox"
	assert_status 0
	[[ $output == *"(NEEDED)"*"libc.so.6"* ]] || { echo "no NEEDED libc.so.6: $output" >&2; return 1; }
	[[ $output != *libssl* && $output != *libcrypto* ]] || { echo "links OpenSSL: $output" >&2; return 1; }
}
