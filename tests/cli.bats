#!/usr/bin/env bats
# The multicall frame: dispatch forms, --list, --install, --help, --version,
# and the agreement of --help, the man pages and the completions.

bats_require_minimum_version 1.5.0
load helpers

# The man page that documents an applet's family.
# all_applets: the applet list, failing if it is empty (a loop over no
# applets must not pass).
all_applets() {
	local list
	list=$("$IPCBOX" --list) && [ -n "$list" ] || { echo "no applets listed" >&2; return 1; }
	echo "$list"
}

man_page_of() {
	case $1 in
	tcp-* | unix-*) echo man/ipcbox-tcp.1 ;;
	*) echo "man/ipcbox-${1%%-*}.1" ;;
	esac
}

@test "--version prints the version on stdout" {
	run --separate-stderr ipc --version
	assert_status 0
	assert_match '^ipcbox [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "--help lists the families and exits 0" {
	run ipc --help
	assert_status 0
	assert_match 'Usage: ipcbox APPLET'
}

@test "no arguments: usage on stdout, exit 2" {
	run ipc
	assert_status 2
	assert_match 'Usage: ipcbox APPLET'
}

@test "--list prints every applet of every family, one a line" {
	run ipc --list
	assert_status 0
	for a in tcp-listen tcp-connect unix-listen unix-connect shm-create shm-write shm-read \
		shm-info shm-list shm-rm sem-create sem-post sem-wait sem-value sem-run sem-list \
		sem-rm bus-call bus-emit bus-get bus-set bus-list bus-introspect bus-tree bus-wait bus-monitor bus-serve bus-bridge \
		channel-send channel-listen channel-wait channel-list channel-registered channel-bridge \
		mq-create mq-send mq-recv mq-peek mq-info mq-list mq-rm; do
		grep -qx "$a" <<<"$output" || { echo "missing applet $a" >&2; return 1; }
	done
}

@test "unknown applet: one line on stderr, exit 2" {
	run --separate-stderr ipc no-such-applet
	assert_status 2
	[ "$stderr" = "ipcbox: unknown applet 'no-such-applet'; try 'ipcbox --list'" ]
	[ -z "$output" ]
}

@test "unknown verb of a known family: exit 2" {
	run --separate-stderr ipc tcp frobnicate
	assert_status 2
	[[ $stderr == *"unknown tcp verb 'frobnicate'"* ]]
}

@test "a family alone lists its verbs" {
	run ipc shm
	assert_status 0
	assert_match 'create'
	assert_match 'rm'
}

@test "dispatch: APPLET, FAMILY VERB and a link named after the applet agree" {
	run ipc sem-create --help
	assert_status 0
	local want=$output
	run ipc sem create --help
	assert_status 0
	assert_output "$want"
	ln -s "$IPCBOX" "$T/sem-create"
	run timeout -k 5 "$TMO" "$T/sem-create" --help
	assert_status 0
	assert_output "$want"
}

@test "--install makes hard links, -s symbolic links, for every applet" {
	mkdir "$T/hard" "$T/soft"
	cp "$IPCBOX" "$T/ipcbox"
	run timeout -k 5 "$TMO" "$T/ipcbox" --install "$T/hard"
	assert_status 0
	run timeout -k 5 "$TMO" "$T/ipcbox" --install -s "$T/soft"
	assert_status 0
	local n
	n=$("$IPCBOX" --list | wc -l)
	[ "$(find "$T/hard" -type f | wc -l)" -eq "$n" ]
	[ "$(find "$T/soft" -type l | wc -l)" -eq "$n" ]
	[ "$(stat -c %h "$T/ipcbox")" -eq $((n + 1)) ]
	run timeout -k 5 "$TMO" "$T/soft/shm-list" --help
	assert_status 0
	assert_match 'Usage: ipcbox shm-list'
}

@test "--install into a directory with existing files: reported, exit 1, files kept" {
	mkdir "$T/d"
	echo keep >"$T/d/tcp-listen"
	run --separate-stderr ipc --install "$T/d"
	assert_status 1
	[[ $stderr == *"tcp-listen: File exists"* ]]
	[ "$(cat "$T/d/tcp-listen")" = keep ]
}

@test "every applet: --help on stdout with exit 0, an unknown option exit 2 in one line" {
	local list
	list=$(all_applets) || return 1
	for a in $list; do
		run --separate-stderr ipc "$a" --help
		[ "$status" -eq 0 ] && [[ $output == "Usage: ipcbox $a "* ]] ||
			{ echo "$a --help: $status $output" >&2; return 1; }
		run --separate-stderr ipc "$a" --no-such-option
		[ "$status" -eq 2 ] && [ -z "$output" ] && [ "${#stderr_lines[@]}" -eq 1 ] &&
			[[ $stderr == "ipcbox $a: unknown option '--no-such-option'"* ]] ||
			{ echo "$a --no-such-option: $status [$output] [$stderr]" >&2; return 1; }
	done
}

@test "every applet: each option of its table appears in --help and its man page" {
	local a short long arg kind page help
	local list
	list=$(all_applets) || return 1
	for a in $list; do
		help=$("$IPCBOX" "$a" --help)
		page=$(man_page_of "$a")
		[ -f "$page" ] || { echo "no man page $page for $a" >&2; return 1; }
		while read -r short long arg kind; do
			[ "$long" = --help ] && continue
			if [ "$short" != - ]; then
				[[ $help == *"$short"* ]] || { echo "$a: $short not in --help" >&2; return 1; }
				grep -q "Fl ${short#-}\b" "$page" || { echo "$a: $short not in $page" >&2; return 1; }
			fi
			if [ "$long" != - ]; then
				[[ $help == *"$long"* ]] || { echo "$a: $long not in --help" >&2; return 1; }
				grep -q "Fl \\\\-${long#--}\b" "$page" || { echo "$a: $long not in $page" >&2; return 1; }
			fi
		done < <("$IPCBOX" --options "$a")
		grep -q "^\.It Nm $a\b\|^\.Nm $a\b\|Cm $a\b" "$page" || { echo "$a not described in $page" >&2; return 1; }
	done
}

# section FILE HEADER: the lines after "== HEADER" in FILE, up to the next
# "== " line.
section() {
	awk -v h="== $2" '$0 == h { on = 1; next } /^== / { on = 0 } on' "$1"
}

@test "bash completion offers exactly the options of each applet's table" {
	mkdir "$T/bin"
	ln -s "$IPCBOX" "$T/bin/ipcbox"
	local a want got
	local list
	list=$(all_applets) || return 1
	# One bash for every applet, both forms ("== APPLET" and "== APPLET
	# (family verb)" before each reply): _ipcbox keeps nothing from one call
	# to the next, and a bash a completion was twice the time of this test.
	# (the bound: $TMO a completion, as when each had a bash of its own)
	# shellcheck disable=SC2086
	PATH="$T/bin:$PATH" timeout -k 5 $((TMO * 2 * $(wc -w <<<"$list"))) bash -c '
		source completions/ipcbox.bash
		for a; do
			COMPREPLY=(); COMP_WORDS=(ipcbox "$a" -); COMP_CWORD=2
			_ipcbox; echo "== $a"; printf "%s\n" "${COMPREPLY[@]}"
			COMPREPLY=(); COMP_WORDS=(ipcbox "${a%%-*}" "${a#*-}" -); COMP_CWORD=3
			_ipcbox; echo "== $a (family verb)"; printf "%s\n" "${COMPREPLY[@]}"
		done' _ $list >"$T/bash.all"
	for a in $list; do
		want=$("$IPCBOX" --options "$a" | awk '{ if ($1 != "-") print $1; if ($2 != "-") print ($3 != "-" ? $2 "=" : $2) }' | sort)
		got=$(section "$T/bash.all" "$a" | sort)
		[ "$want" = "$got" ] || { printf '%s: want\n%s\ngot\n%s\n' "$a" "$want" "$got" >&2; return 1; }
		got=$(section "$T/bash.all" "$a (family verb)" | sort)
		[ "$want" = "$got" ] || { printf '%s (family verb): want\n%s\ngot\n%s\n' "$a" "$want" "$got" >&2; return 1; }
	done
}

@test "zsh and fish completions are syntactically valid and ask the binary" {
	grep -q 'ipcbox --options' completions/_ipcbox
	grep -q 'ipcbox --options' completions/ipcbox.fish
	zsh -n completions/_ipcbox
	fish -n completions/ipcbox.fish
}

# options_of APPLET: the option words of its table, long ones without '='.
options_of() {
	"$IPCBOX" --options "$1" | awk '{ if ($1 != "-") print $1; if ($2 != "-") print $2 }' | sort
}

# zsh_complete LINE...: what a real interactive zsh offers for each LINE
# (tests/peers/zsh-complete.zsh), "== LINE" before each.
zsh_complete() {
	PATH="$T/bin:$PATH" timeout -k 5 $((TMO * 10)) zsh -f "$BATS_TEST_DIRNAME/peers/zsh-complete.zsh" \
		"$PWD/completions" "$T/zsh.out" "$@"
}

# fish_complete LINE...: what fish offers for each LINE (complete -C), words
# only, "== LINE" before each when there is more than one LINE.  One fish
# for all of them: starting fish is most of the time a completion takes.
# The bound: $TMO a LINE (under ASan on a loaded machine, 68 lines took more
# than 200 s).
fish_complete() {
	PATH="$T/bin:$PATH" timeout -k 5 $((TMO * $#)) fish --no-config -c '
		source completions/ipcbox.fish
		for l in $argv
			test (count $argv) -eq 1; or echo "== $l"
			complete -C"$l"
		end' "$@" | cut -f1
}

# bash_complete WORD...: COMPREPLY of _ipcbox for the words, the last one
# being completed.
bash_complete() {
	PATH="$T/bin:$PATH" timeout -k 5 "$TMO" bash -c '
		source completions/ipcbox.bash
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_ipcbox; printf "%s\n" "${COMPREPLY[@]}"' _ "$@"
}

@test "zsh completion offers exactly the options of each applet's table" {
	mkdir "$T/bin"
	ln -s "$IPCBOX" "$T/bin/ipcbox"
	local a list lines=() want got
	list=$(all_applets) || return 1
	for a in $list; do lines+=("ipcbox $a -"); done
	zsh_complete "${lines[@]}" >"$T/zsh.all"
	for a in $list; do
		want=$(options_of "$a")
		got=$(section "$T/zsh.all" "ipcbox $a -" | sort -u)
		[ "$want" = "$got" ] || { printf '%s: want\n%s\ngot\n%s\n' "$a" "$want" "$got" >&2; return 1; }
	done
}

@test "fish completion offers exactly the options of each applet's table" {
	mkdir "$T/bin"
	ln -s "$IPCBOX" "$T/bin/ipcbox"
	local a list want got
	list=$(all_applets) || return 1
	local lines=()
	for a in $list; do lines+=("ipcbox $a -" "ipcbox ${a%%-*} ${a#*-} -"); done
	fish_complete "${lines[@]}" >"$T/fish.all"
	for a in $list; do
		want=$(options_of "$a")
		got=$(section "$T/fish.all" "ipcbox $a -" | sort -u)
		[ "$want" = "$got" ] || { printf '%s: want\n%s\ngot\n%s\n' "$a" "$want" "$got" >&2; return 1; }
		got=$(section "$T/fish.all" "ipcbox ${a%%-*} ${a#*-} -" | sort -u)
		[ "$want" = "$got" ] || { printf '%s (family verb): want\n%s\ngot\n%s\n' "$a" "$want" "$got" >&2; return 1; }
	done
}

@test "zsh: #compdef binds every applet name, and an applet's link completes its options" {
	local want got
	want=$(printf '%s\n' ipcbox $("$IPCBOX" --list) | sort)
	got=$(head -n 1 completions/_ipcbox | tr ' ' '\n' | sed 1d | sort)
	[ "$want" = "$got" ] || { printf 'want\n%s\ngot\n%s\n' "$want" "$got" >&2; return 1; }
	mkdir "$T/bin"
	ln -s "$IPCBOX" "$T/bin/ipcbox"
	ln -s "$IPCBOX" "$T/bin/shm-create"
	ln -s "$IPCBOX" "$T/bin/sem-wait"
	run zsh_complete "shm-create --si" "sem-wait --ti"
	assert_status 0
	assert_output "$(printf '== shm-create --si\n--size\n== sem-wait --ti\n--timeout')"
}

@test "fish: an applet's link completes its options once ipcbox.fish is loaded" {
	mkdir "$T/bin"
	ln -s "$IPCBOX" "$T/bin/ipcbox"
	ln -s "$IPCBOX" "$T/bin/shm-create"
	ln -s "$IPCBOX" "$T/bin/sem-wait"
	run fish_complete "shm-create --si"
	assert_status 0
	assert_output --size
	run fish_complete "sem-wait --ti"
	assert_status 0
	assert_output --timeout
}

@test "bash, zsh and fish each complete an applet name and a long option" {
	mkdir "$T/bin"
	ln -s "$IPCBOX" "$T/bin/ipcbox"
	run bash_complete ipcbox shm-cr
	assert_status 0
	assert_output shm-create
	run bash_complete ipcbox shm-create --si
	assert_status 0
	assert_output --size=
	run bash_complete ipcbox sem wa
	assert_status 0
	assert_output wait
	run zsh_complete "ipcbox shm-cr" "ipcbox shm-create --si" "ipcbox sem wa"
	assert_status 0
	assert_output "$(printf '== ipcbox shm-cr\nshm-create\n== ipcbox shm-create --si\n--size\n== ipcbox sem wa\nwait')"
	run fish_complete "ipcbox shm-cr"
	assert_status 0
	assert_output shm-create
	run fish_complete "ipcbox shm-create --si"
	assert_status 0
	assert_output --size
	run fish_complete "ipcbox sem wa"
	assert_status 0
	assert_output wait
}

@test "man pages are clean under mandoc -T lint" {
	for page in man/*.1; do
		run mandoc -T lint -W warning "$page"
		[ "$status" -eq 0 ] || { echo "$page: $output" >&2; return 1; }
	done
}

@test "unit: strict parsing of durations, sizes, integers, modes, /proc line fields; JSON strings; the wall clock's time stamps" {
	run "$IPCBOX_UNIT/parse"
	assert_status 0
}

@test "lib/ includes and calls only lib/, every call declared, and its modules have no cycle of includes or calls (tests/check-lib-deps.sh)" {
	# it compiles every source once (-O0, 5 s here when idle): a loaded runner needs longer
	run timeout -k 5 $((TMO * 6)) "$BATS_TEST_DIRNAME/check-lib-deps.sh" "$BATS_TEST_DIRNAME/.."
	assert_status 0
	assert_match 'no cycle$'
}

@test "applets include lib/dbus's public headers only, never its internals (client.h, wire.h)" {
	run grep -l -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[./]*lib/dbus/(client|wire)\.h"' \
		"$BATS_TEST_DIRNAME"/../applets/*.c "$BATS_TEST_DIRNAME"/../applets/*.h "$BATS_TEST_DIRNAME"/../main.c
	assert_status 1
	assert_output ''
}
