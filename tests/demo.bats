#!/usr/bin/env bats
# make demo: the README's first command.  The tour runs every family for
# real (demo/NN-*.sh, through the repo's own ./ipcbox, as make demo does),
# and what it writes for a browser is a document a browser takes.

bats_require_minimum_version 1.5.0
load helpers

REPO=$BATS_TEST_DIRNAME/..

setup() {
	common_setup
}

teardown() {
	common_teardown
}

@test "make demo: every step of the tour runs (exit 0), and bus-diagram's SVG is one well-formed document" {
	# make demo builds ./ipcbox first; it is up to date when the suite runs
	# after a build, and is the binary the tour shows whatever $IPCBOX is.
	run timeout -k 5 $((TMO * 15)) env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u IPCBOX \
		TMPDIR="$T" DEMO_OUT="$T/out" make -s --no-print-directory -C "$REPO" demo
	assert_status 0
	[[ $output == *"Tour finished: every step above ran for real."* ]]
	[[ $output != *"demo: "*" failed"* ]]
	# The SVG the demo tells you to open: XML from its first byte.
	[ "$(head -c 5 "$T/out/bus-diagram.svg")" = "<?xml" ]
	run xmllint --noout "$T/out/bus-diagram.svg"
	assert_status 0
	run xmllint --noout --html "$T/out/bus-diagram.html"
	assert_status 0
	# Nothing of the tour is left in the test's directory but its outputs.
	[ -z "$(find "$T" -maxdepth 1 -name 'ipcbox-demo.*')" ]
}
