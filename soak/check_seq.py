#!/usr/bin/python3
# check_seq.py COUNTS -- FILE:KIND ...: check the "ID SEQ" lines each
# listener printed.  COUNTS is "ID=N,ID=N,..." for the senders that ended on
# their own (every line sent), "ID=killed" for those killed.  KIND: "full"
# (registered before every sender started, alive to the end: each surviving
# sender's 1..N exactly once in order), "late" (registered mid-stream,
# alive to the end: a contiguous run ending at N), "killed" (what it printed
# up to its last whole line is contiguous and in order).  Prints
# "DELIVERED LOST DUP DISORDER" and one line per problem on stderr.
import sys

counts = {}
args = sys.argv[1:]
sep = args.index("--")
for item in args[0].split(","):
    if item:
        k, v = item.split("=")
        counts[k] = None if v == "killed" else int(v)
delivered = lost = dup = disorder = 0
for spec in args[sep + 1:]:
    path, kind = spec.rsplit(":", 1)
    data = open(path, "rb").read()
    if kind == "killed" and not data.endswith(b"\n"):
        data = data[: data.rfind(b"\n") + 1]
    last = {}
    first = {}
    for line in data.splitlines():
        delivered += 1
        try:
            ident, seq = line.decode().split(" ")
            seq = int(seq)
        except ValueError:
            print("%s: a line that is no message: %r" % (path, line), file=sys.stderr)
            disorder += 1
            continue
        prev = last.get(ident)
        if prev is None:
            first[ident] = seq
            if kind == "full" and seq != 1:
                print("%s: %s starts at %d" % (path, ident, seq), file=sys.stderr)
                lost += seq - 1
        elif seq <= prev:
            print("%s: %s %d after %d" % (path, ident, seq, prev), file=sys.stderr)
            if seq == prev or seq < prev:
                dup += 1
            continue
        elif seq != prev + 1:
            print("%s: %s jumps from %d to %d" % (path, ident, prev, seq), file=sys.stderr)
            lost += seq - prev - 1
        last[ident] = seq
    if kind in ("full", "late"):
        for ident, n in counts.items():
            if n is None:
                continue
            got = last.get(ident, 0)
            if kind == "late" and ident not in last:
                # registered after this sender had sent everything: nothing due
                continue
            if got != n:
                print("%s: %s ends at %d of %d" % (path, ident, got, n), file=sys.stderr)
                lost += n - got
print(delivered, lost, dup, disorder)
