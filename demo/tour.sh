#!/bin/bash
# make demo: a guided tour of every ipcbox family, on loopback and a private
# bus.  Each demo/NN-*.sh shows one family and explains each step.
cd "$(dirname "$0")/.." || exit 1
export PATH="$PWD:$PATH"
export DEMO_DIR
DEMO_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ipcbox-demo.XXXXXX")
trap 'rm -rf "$DEMO_DIR"' EXIT
status=0
for d in demo/[0-9]*.sh; do
	[ -e "$d" ] || continue
	bash "$d" || { echo "demo: $d failed" >&2; status=1; }
done
[ $status -eq 0 ] && echo && echo "Tour finished: every step above ran for real."
exit $status
