#!/usr/bin/python3
"""A TLS peer on Python's ssl module, for tests/tls.bats.

    tls_peer.py server PORTFILE CERT KEY [OPTION]...
    tls_peer.py client HOST PORT [OPTION]...

The server listens on 127.0.0.1 port 0, writes the port into PORTFILE and
serves one connection; the client connects to HOST PORT.  Then either side:
sends the --send file while it reads, writes what it receives to --out
(default stdout), sends close_notify once --send is sent (a half-close: it
goes on reading) and ends at the peer's close_notify.

    --cafile FILE     client: verify the server with these CAs (else none);
                      server: require a client certificate signed by them
    --servername NAME client: the name sent (SNI) and checked (default HOST)
    --cert FILE, --key FILE   client: a client certificate
    --send FILE       what to send (default nothing)
    --answer          wait for the peer's close_notify, then send
                      "got N bytes SHA256" and only then close_notify
    --cut             once --send is sent, end TCP (a FIN) without close_notify

Exit 0 when the peer ended with close_notify, 3 when it closed TCP without
one (said on stderr), 1 on a TLS error (said on stderr).  Memory BIOs over a
non-blocking socket: reads and writes go on at once, and our close_notify
can go out while the peer's data still comes in (TLS 1.3 half-close).
"""
import argparse
import hashlib
import os
import selectors
import socket
import ssl
import sys


def parse():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["server", "client"])
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("c", nargs="?")
    for o in ("--cafile", "--servername", "--cert", "--key", "--send", "--out"):
        p.add_argument(o)
    for o in ("--answer", "--cut"):
        p.add_argument(o, action="store_true")
    return p.parse_args()


def setup(a):
    """The socket and the SSLObject for the mode."""
    if a.mode == "server":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.b, a.c)
        if a.cafile:
            ctx.load_verify_locations(a.cafile)
            ctx.verify_mode = ssl.CERT_REQUIRED
        ls = socket.socket()
        ls.bind(("127.0.0.1", 0))
        ls.listen(1)
        with open(a.a + ".tmp", "w") as f:
            f.write("%d\n" % ls.getsockname()[1])
        os.rename(a.a + ".tmp", a.a)
        sock, _ = ls.accept()
        ls.close()
        name = None
    else:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        if a.cafile:
            ctx.load_verify_locations(a.cafile)
        else:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        if a.cert:
            ctx.load_cert_chain(a.cert, a.key)
        sock = socket.create_connection((a.a, int(a.b)))
        name = a.servername or a.a
    # Python sets OP_IGNORE_UNEXPECTED_EOF, which would take a TCP close
    # without close_notify for a clean end: this peer tells them apart.
    ctx.options &= ~getattr(ssl, "OP_IGNORE_UNEXPECTED_EOF", 0)
    sock.setblocking(False)
    inb, outb = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inb, outb, server_side=(a.mode == "server"), server_hostname=name)
    return sock, inb, outb, obj


class Peer:
    def __init__(self, a):
        self.a = a
        self.sock, self.inb, self.outb, self.obj = setup(a)
        self.data = open(a.send, "rb").read() if a.send else b""
        self.sent = 0
        self.out = open(a.out, "wb") if a.out else sys.stdout.buffer
        self.got = 0
        self.sha = hashlib.sha256()
        self.pending = bytearray()
        self.shaken = self.tcp_eof = self.peer_eof = self.closed = False
        self.answered = not a.answer

    def flush(self):
        """Move the outgoing BIO to the socket as far as it takes it."""
        self.pending += self.outb.read()
        while self.pending:
            try:
                n = self.sock.send(self.pending)
            except BlockingIOError:
                return
            except (BrokenPipeError, ConnectionResetError):
                self.pending.clear()
                return
            del self.pending[:n]

    def fill(self):
        """Move what the socket has to the incoming BIO."""
        while not self.tcp_eof:
            try:
                b = self.sock.recv(1 << 16)
            except BlockingIOError:
                return
            except ConnectionResetError:
                b = b""
            if not b:
                self.tcp_eof = True
                self.inb.write_eof()
            else:
                self.inb.write(b)

    def read(self):
        try:
            while True:
                b = self.obj.read(1 << 16)
                if not b:
                    self.peer_eof = True
                    return
                self.out.write(b)
                self.got += len(b)
                self.sha.update(b)
        except ssl.SSLWantReadError:
            pass
        except ssl.SSLZeroReturnError:
            self.peer_eof = True
        self.out.flush()

    def close_notify(self):
        try:
            self.obj.unwrap()
        except ssl.SSLWantReadError:
            pass  # sent; the peer's comes with the reads
        self.closed = True

    def write(self):
        while self.sent < len(self.data) and len(self.pending) < (1 << 20):
            self.sent += self.obj.write(self.data[self.sent:self.sent + (1 << 16)])
            self.pending += self.outb.read()
        if self.sent < len(self.data) or self.closed:
            return
        if self.a.cut:
            # a FIN, and no close before the peer's own end: closing with
            # its data unread would send a reset instead
            self.flush_all()
            self.sock.shutdown(socket.SHUT_WR)
            while self.sock.recv(1 << 16):
                pass
            sys.exit(0)
        if self.peer_eof and not self.answered:
            self.obj.write(b"got %d bytes %s\n" % (self.got, self.sha.hexdigest().encode()))
            self.answered = True
        if self.answered:
            self.close_notify()

    def flush_all(self):
        self.sock.setblocking(True)
        self.flush()

    def step(self):
        """One round: handshake or data; False when done."""
        self.fill()
        try:
            if not self.shaken:
                self.obj.do_handshake()
                self.shaken = True
            if not self.peer_eof:
                self.read()
            self.write()
        except ssl.SSLWantReadError:
            pass
        except ssl.SSLError as e:
            self.flush_all()
            if isinstance(e, ssl.SSLEOFError) or e.reason == "UNEXPECTED_EOF_WHILE_READING":
                print("tls_peer: the peer closed TCP without close_notify", file=sys.stderr)
                sys.exit(3)
            print("tls_peer: %s" % e, file=sys.stderr)
            sys.exit(1)
        self.flush()
        return not (self.closed and self.peer_eof and not self.pending)

    def run(self):
        sel = selectors.DefaultSelector()
        sel.register(self.sock, selectors.EVENT_READ)
        while self.step():
            ev = selectors.EVENT_READ if not self.tcp_eof else 0
            if self.pending or (self.shaken and self.sent < len(self.data)):
                ev |= selectors.EVENT_WRITE
            if ev == 0:
                print("tls_peer: TCP closed before the TLS end", file=sys.stderr)
                sys.exit(3)
            sel.modify(self.sock, ev)
            sel.select()
        self.sock.close()


if __name__ == "__main__":
    Peer(parse()).run()
