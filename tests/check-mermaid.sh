#!/bin/bash
# make check-mermaid: render bus-diagram --mermaid with Mermaid itself.
#
# Debian packages no Mermaid and CI has no network but the package mirror, so
# this is not part of make test (where Mermaid's text is checked for its
# structure instead).  Here: `npm pack mermaid` fetches the package (its dist
# bundle needs nothing else) into build/mermaid (ignored by git), a local page
# loads dist/mermaid.min.js, and headless Chromium (Debian's chromium) runs
# mermaid.parse and mermaid.render on each diagram: no error, one SVG out, one
# message text in it per arrow of the source.  The diagrams: a capture of
# the scenario of tests/bus-diagram.bats on a private bus (with a signal whose
# argument is hostile text and a member named End), and 200 synthetic
# messages.  Prints "N passed, N failed"; without npm or the registry it
# says so and exits 1, it never skips quietly.
set -u
cd "$(dirname "$0")/.." || exit 1
IPCBOX=${IPCBOX:-$PWD/ipcbox}
MERMAID_VERSION=${MERMAID_VERSION:-12}
out=build/mermaid
mkdir -p "$out"
for c in npm chromium dbus-daemon; do
	command -v "$c" >/dev/null || { echo "check-mermaid: $c is missing (npm: apt-get install npm; chromium, dbus-daemon: tests/deps.sh)"; exit 1; }
done
if [ ! -s "$out/package/dist/mermaid.min.js" ]; then
	(cd "$out" && rm -f mermaid-*.tgz && timeout 300 npm pack --silent "mermaid@$MERMAID_VERSION" >/dev/null &&
		tar xzf mermaid-*.tgz package/dist/mermaid.min.js package/package.json) ||
		{ echo "check-mermaid: npm pack mermaid@$MERMAID_VERSION failed (no registry?)"; exit 1; }
fi
version=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$out/package/package.json")
dir=$(mktemp -d "${TMPDIR:-/tmp}/ipcbox-mermaid.XXXXXX")
cleanup() {
	[ -n "${mon:-}" ] && kill "$mon" 2>/dev/null
	[ -n "${bus:-}" ] && kill "$bus" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

# The scenario, captured by bus-monitor on a private bus.
tests/peers/private-bus.sh "$dir/bus" || exit 1
bus=$(cat "$dir/bus/pid")
DBUS_SESSION_BUS_ADDRESS=$(head -n 1 "$dir/bus/address")
export DBUS_SESSION_BUS_ADDRESS
timeout 120 "$IPCBOX" bus-monitor --pcap "$dir/scenario.pcap" --ready-file "$dir/ready" &
mon=$!
for _ in $(seq 1000); do [ -s "$dir/ready" ] && break; sleep 0.01; done
timeout 60 /usr/bin/python3 tests/peers/diagram-scenario.py service "$dir/svc-ready" &
svc=$!
for _ in $(seq 1000); do [ -s "$dir/svc-ready" ] && break; sleep 0.01; done
timeout 60 /usr/bin/python3 tests/peers/diagram-scenario.py client || { echo "check-mermaid: scenario failed"; exit 1; }
wait "$svc"
timeout 10 "$IPCBOX" bus-emit -- /nasty org.ipcbox.Nasty End s $'--> end; %% # "x" <b>' || exit 1
for _ in $(seq 1000); do grep -q org.ipcbox.Nasty "$dir/scenario.pcap" && break; sleep 0.01; done
kill -TERM "$mon"
wait "$mon"
mon=
"$IPCBOX" bus-diagram --mermaid "$dir/scenario.pcap" >"$out/scenario.mmd" || exit 1
"$IPCBOX" bus-diagram --mermaid --hide-driver --only org.ipcbox.Diagram "$dir/scenario.pcap" >"$out/scenario-only.mmd" || exit 1
/usr/bin/python3 tests/peers/diagram-gen.py 200 "$dir/gen.pcap" || exit 1
"$IPCBOX" bus-diagram --mermaid "$dir/gen.pcap" >"$out/synthetic.mmd" || exit 1

# page NAME: build/mermaid/NAME.html renders NAME.mmd; its title tells.
page() {
	/usr/bin/python3 - "$out/$1.mmd" "$out/$1.html" <<'PY'
import json, sys
src = open(sys.argv[1]).read()
js = json.dumps(src).replace("</", "<\\/")
open(sys.argv[2], "w").write("""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>pending</title>
<script src="package/dist/mermaid.min.js"></script></head><body><div id="out"></div>
<script>
const src = %s;
mermaid.initialize({startOnLoad: false, securityLevel: "strict", maxTextSize: 1000000});
mermaid.parse(src)
  .then(() => mermaid.render("diagram", src))
  .then(r => {
    document.getElementById("out").innerHTML = r.svg;
    const svgs = document.querySelectorAll("#out svg").length;
    const texts = document.querySelectorAll("#out .messageText").length;
    const notes = document.querySelectorAll("#out .noteText").length;
    const err = document.querySelectorAll("#out .error-text").length;
    document.title = "OK svgs=" + svgs + " messages=" + texts + " notes=" + notes + " errors=" + err;
  })
  .catch(e => { document.title = "ERROR " + (e && e.message ? e.message : e); });
</script></body></html>
""" % js)
PY
}

passed=0
failed=0
for name in scenario scenario-only synthetic; do
	page "$name"
	arrows=$(grep -Ec '^    P[0-9]+(->>|-->>|--x|-\))P[0-9]+: ' "$out/$name.mmd")
	notes=$(grep -c '^    Note over ' "$out/$name.mmd")
	env -u DBUS_SESSION_BUS_ADDRESS HOME="$dir" timeout 120 chromium --headless --no-sandbox --disable-gpu \
		--disable-quic --no-first-run --disable-background-networking --disable-component-update \
		--disable-sync --user-data-dir="$dir/profile" --virtual-time-budget=20000 \
		--dump-dom "file://$PWD/$out/$name.html" >"$dir/$name.dom" 2>"$dir/$name.log"
	title=$(sed -n 's:.*<title>\(.*\)</title>.*:\1:p' "$dir/$name.dom" | head -n 1)
	want="OK svgs=1 messages=$arrows notes=$notes errors=0"
	if [ "$title" = "$want" ]; then
		echo "check-mermaid: $name: Mermaid $version rendered it: $title"
		passed=$((passed + 1))
	else
		echo "check-mermaid: $name FAILED: got '$title', want '$want' (page $out/$name.html)"
		failed=$((failed + 1))
	fi
done
# a screenshot of one, for a person to look at
env -u DBUS_SESSION_BUS_ADDRESS HOME="$dir" timeout 120 chromium --headless --no-sandbox --disable-gpu \
	--disable-quic --no-first-run --disable-background-networking --disable-component-update \
	--disable-sync --user-data-dir="$dir/profile" --virtual-time-budget=20000 --window-size=900,1000 \
	--screenshot="$out/scenario-only.png" "file://$PWD/$out/scenario-only.html" >/dev/null 2>&1 &&
	echo "check-mermaid: screenshot in $out/scenario-only.png"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
