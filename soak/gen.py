#!/usr/bin/python3
# gen.py ID SECONDS RATE COUNTFILE: numbered lines "ID SEQ" (SEQ from 1) on
# standard output at about RATE lines a second for SECONDS, in batches
# every 10 ms; the number of lines written whole goes to COUNTFILE at the
# end (also when the reader went away).
import os, sys, time

ident, secs, rate, countfile = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
batch = max(1, rate // 100)
seq = 0
end = time.monotonic() + secs
try:
    while time.monotonic() < end:
        buf = b"".join(b"%s %d\n" % (ident.encode(), seq + i + 1) for i in range(batch))
        while buf:
            buf = buf[os.write(1, buf):]
        seq += batch
        time.sleep(0.01)
except BrokenPipeError:
    pass
finally:
    with open(countfile + ".tmp", "w") as f:
        f.write("%d\n" % seq)
    os.rename(countfile + ".tmp", countfile)
