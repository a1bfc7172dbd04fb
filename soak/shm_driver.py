#!/usr/bin/python3
# shm_driver.py ROLE ID NAME SIZE SECONDS DIR: one worker of the shm + sem
# scenario, for SECONDS, against the System V segment and semaphore NAME.
#   writer-lock    ipcbox shm-write --lock NAME RECORD
#   writer-semrun  ipcbox sem-run NAME -- ipcbox shm-write --no-lock NAME RECORD
#   reader         ipcbox shm-read --lock NAME, each snapshot checked
# A record is SIZE bytes: a tag "WWWW:SSSSSSSSSSSS;" (writer, sequence)
# repeated, then the SHA-256 of all that.  A writer SIGKILLs one write in
# four after 0-5 ms, a reader one read in ten; a write counts as killed
# only if the kill ended it (status -9).  Output, DIR/ROLE.ID:
# "ops N killed N", then "killed W S" for each killed write
# (writers), "incomplete W S" for each snapshot whose checksum fails, with
# the tag it starts with (readers), "error ..." for any other failure.
import hashlib, os, random, signal, subprocess, sys, time

role, ident, name, size, secs, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
ipcbox = os.environ["IPCBOX"]
rng = random.Random(ident * 7919 + os.getpid())
end = time.monotonic() + secs
lines = []
ops = killed = 0


def record(seq):
    tag = b"%04d:%012d;" % (ident, seq)
    body = (tag * (size // len(tag) + 1))[: size - 32]
    return body + hashlib.sha256(body).digest()


def run(argv, kill_after, **kw):
    """Run argv; SIGKILL it after kill_after s unless None.  Its status and output."""
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
    if kill_after is not None:
        time.sleep(kill_after)
        p.send_signal(signal.SIGKILL)
    try:
        o, e = p.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        p.kill()
        o, e = p.communicate()
        return None, o, b"no end within 120 s"
    return p.returncode, o, e


def runs(o):
    """The record's tags as "TAG@OFFSET+LENGTH,..." runs (a torn record's story)."""
    out, i, cur, start = [], 0, None, 0
    while i + 18 <= len(o) - 32:
        tag = o[i : i + 17]
        if tag != cur:
            if cur is not None:
                out.append("%s@%d+%d" % (cur.decode(errors="replace"), start, i - start))
            cur, start = tag, i
        i += 18
    out.append("%s@%d+%d" % (cur.decode(errors="replace") if cur else "-", start, i - start))
    return ",".join(out)


seq = 0
path = "%s/rec.%s.%d" % (os.path.dirname(out), role, ident)
while time.monotonic() < end:
    ops += 1
    if role.startswith("writer"):
        seq += 1
        with open(path, "wb") as f:
            f.write(record(seq))
        kill = rng.uniform(0, 0.005) if rng.randrange(4) == 0 else None
        if role == "writer-lock":
            argv = [ipcbox, "shm-write", "--lock", "-t", "60s", name, path]
        else:
            argv = [ipcbox, "sem-run", "-t", "60s", name, "--", ipcbox, "shm-write", "--no-lock", name, path]
        st, o, e = run(argv, kill)
        if st == -9:
            killed += 1
            lines.append("killed %d %d" % (ident, seq))
        elif st != 0:
            lines.append("error write %d: status %s: %s" % (seq, st, e.decode(errors="replace").strip()))
    else:
        kill = rng.uniform(0, 0.005) if rng.randrange(10) == 0 else None
        st, o, e = run([ipcbox, "shm-read", "--lock", "-t", "60s", name], kill)
        if st == -9:
            killed += 1
            continue
        if st != 0:
            lines.append("error read: status %s: %s" % (st, e.decode(errors="replace").strip()))
            continue
        if len(o) != size:
            lines.append("error read: %d bytes" % len(o))
        elif o.count(0) == size:
            pass  # before the first write
        elif hashlib.sha256(o[:-32]).digest() != o[-32:]:
            w, s = o[:17].decode(errors="replace").split(":")
            lines.append("incomplete %d %d %s" % (int(w), int(s), runs(o)))
with open(out, "w") as f:
    f.write("ops %d killed %d\n" % (ops, killed))
    for l in lines:
        f.write(l + "\n")
