#!/usr/bin/env bats
# make install / make uninstall: PREFIX and DESTDIR honoured, the same files
# as the Debian package (packaging/mkdeb.sh packs what install puts in a
# DESTDIR), nothing left after uninstall.

bats_require_minimum_version 1.5.0
load helpers

REPO=$BATS_TEST_DIRNAME/..

# repo_make ARGS...: make in the source tree, not influenced by a calling
# make (make test passes its command-line variables in MAKEFLAGS).
repo_make() {
	timeout -k 5 $((TMO * 15)) env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
		make -s --no-print-directory -C "$REPO" "$@"
}

# expected_files PREFIX: every path install makes under PREFIX (type, mode,
# path, link target), sorted, built from the tree and the binary's applets.
expected_files() {
	local p=$1 a m
	{
		echo "f 755 $p/bin/ipcbox"
		for m in "$REPO"/man/*.1; do
			echo "f 644 $p/share/man/man1/${m##*/}.gz"
		done
		echo "f 644 $p/share/bash-completion/completions/ipcbox"
		for a in $("$IPCBOX" --list); do
			echo "l 777 $p/share/bash-completion/completions/$a -> ipcbox"
		done
		echo "f 644 $p/share/zsh/vendor-completions/_ipcbox"
		echo "f 644 $p/share/fish/vendor_completions.d/ipcbox.fish"
		echo "f 644 $p/share/doc/ipcbox/copyright"
		echo "f 644 $p/share/doc/ipcbox/changelog.gz"
	} | LC_ALL=C sort
}

@test "make install DESTDIR PREFIX=/usr: exactly the package's files; uninstall leaves none" {
	local want got
	run repo_make install DESTDIR="$T/root" PREFIX=/usr INSTALL_BIN="$IPCBOX"
	assert_status 0
	want=$(expected_files /usr)
	got=$(cd "$T/root" && find . \( -type f -o -type l \) -printf '%y %m /%P\n' | LC_ALL=C sort)
	# the links' targets, checked apart from the listing
	[ "$got" = "$(sed 's/ -> ipcbox$//' <<<"$want")" ] ||
		{ diff <(echo "$want") <(echo "$got") >&2; return 1; }
	for l in "$T"/root/usr/share/bash-completion/completions/*-*; do
		[ "$(readlink "$l")" = ipcbox ] || { echo "$l -> $(readlink "$l")" >&2; return 1; }
	done
	# what is installed works: the binary, gzipped man pages mandoc reads
	run timeout -k 5 "$TMO" "$T/root/usr/bin/ipcbox" --version
	assert_status 0
	assert_match '^ipcbox [0-9]'
	run mandoc -T lint -W error "$T/root/usr/share/man/man1/ipcbox-bus.1.gz"
	assert_status 0
	run repo_make uninstall DESTDIR="$T/root" PREFIX=/usr
	assert_status 0
	run find "$T/root" \( -type f -o -type l \) -print
	assert_status 0
	assert_output ""
}

@test "make install honours PREFIX; uninstall also removes links 'ipcbox --install' made" {
	run repo_make install DESTDIR="$T/root" PREFIX=/opt/ipcbox INSTALL_BIN="$IPCBOX"
	assert_status 0
	[ -x "$T/root/opt/ipcbox/bin/ipcbox" ]
	[ -f "$T/root/opt/ipcbox/share/man/man1/ipcbox.1.gz" ]
	[ -f "$T/root/opt/ipcbox/share/zsh/vendor-completions/_ipcbox" ]
	run find "$T/root" -path "$T/root/opt" -prune -o -print
	assert_status 0
	assert_output "$T/root"
	# no applet links from install itself: --install makes them
	run find "$T/root/opt/ipcbox/bin" -mindepth 1 ! -name ipcbox
	assert_status 0
	assert_output ""
	run timeout -k 5 "$TMO" "$T/root/opt/ipcbox/bin/ipcbox" --install "$T/root/opt/ipcbox/bin"
	assert_status 0
	[ -f "$T/root/opt/ipcbox/bin/shm-list" ]
	echo keep >"$T/root/opt/ipcbox/bin/not-ours"
	run repo_make uninstall DESTDIR="$T/root" PREFIX=/opt/ipcbox
	assert_status 0
	run find "$T/root" \( -type f -o -type l \) -print
	assert_status 0
	assert_output "$T/root/opt/ipcbox/bin/not-ours"
}
