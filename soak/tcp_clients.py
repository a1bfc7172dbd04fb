#!/usr/bin/python3
# tcp_clients.py PORT SECONDS CONC: CONC threads connect to 127.0.0.1:PORT
# for SECONDS, one connection after another, against a listener whose
# command prints the SHA-256 of what it read (sha256sum).  Of each ten
# connections, seven send 1 byte to 64 KiB, half-close, and check the
# reply; two send part of their data and reset the connection (SO_LINGER 0:
# a client killed mid-transfer); one connects, sends nothing, and closes
# after 0.1-0.3 s.  Prints "DONE OK BAD ABORTED IDLE"; every bad reply on
# stderr.  A refused or reset connection of a client that completes is bad.
import hashlib, os, random, socket, struct, sys, threading, time

port, secs, conc = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
end = time.monotonic() + secs
lock = threading.Lock()
counts = {"ok": 0, "bad": 0, "aborted": 0, "idle": 0}


def bump(key, why=None):
    with lock:
        counts[key] += 1
    if why:
        print("tcp_clients: " + why, file=sys.stderr)


def one(rng):
    kind = rng.randrange(10)
    s = socket.create_connection(("127.0.0.1", port), timeout=120)
    try:
        if kind == 9:
            time.sleep(rng.uniform(0.1, 0.3))
            bump("idle")
            return
        data = os.urandom(rng.randint(1, 65536))
        if kind >= 7:
            s.sendall(data[: len(data) // 2])
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            bump("aborted")
            return
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        reply = b""
        while True:
            b = s.recv(4096)
            if not b:
                break
            reply += b
        want = hashlib.sha256(data).hexdigest().encode()
        if reply.split(b" ")[0] == want:
            bump("ok")
        else:
            bump("bad", "%d bytes: reply %r" % (len(data), reply[:80]))
    finally:
        s.close()


def worker(n):
    rng = random.Random(n)
    while time.monotonic() < end:
        try:
            one(rng)
        except OSError as e:
            bump("bad", "connection: %s" % e)


threads = [threading.Thread(target=worker, args=(i,)) for i in range(conc)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("DONE", counts["ok"], counts["bad"], counts["aborted"], counts["idle"])
