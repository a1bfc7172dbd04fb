#!/usr/bin/python3
"""A small D-Bus server with the SASL server state machine of the D-Bus
specification ("Authentication state diagrams"), for tests/bus-auth.bats:
how bus-call authenticates, pipelined or one step at a time.

usage: sasl-server.py MODE SOCKET READY_FILE LOG

Listens on the unix socket SOCKET, writes READY_FILE, and serves clients
one after the other until one has had a method call answered; then exits 0.
Per connection it appends one line to LOG:
    pipelined|stepwise: LINE | LINE ...
pipelined if BEGIN came in the client's first read (the client did not wait
for an answer), stepwise if not; then the SASL lines the server read, in
order (BEGIN last if it came).  After BEGIN it is a tiny bus: Hello (serial
1) gets the unique name ":1.1", any other method call the reply (s "pong").

MODE:
  plain            EXTERNAL accepted (with or without an identity)
  slow             as plain, but every byte the server writes goes alone,
                   2 ms apart, and each line 50 ms after the last
  reject-external  offers ANONYMOUS only: AUTH EXTERNAL gets
                   "REJECTED ANONYMOUS", AUTH ANONYMOUS is accepted
  challenge        EXTERNAL wants its response in DATA: AUTH EXTERNAL, with
                   or without a response, gets a DATA challenge; DATA gets OK
  ok-at-once       an AUTH EXTERNAL without a response gets OK at once, no
                   DATA challenge (the server takes the uid it sees); a DATA
                   line then gets ERROR, as in any state after OK
  hangup           a client that sends anything after its AUTH line before
                   the answer (pipelining) is hung up on without a word;
                   one step at a time is served as plain

As the specification's server does, BEGIN while waiting for AUTH or DATA
ends the connection, and the messages behind it are never read as messages.
"""
import socket
import struct
import sys
import time

GUID = b'0123456789abcdef0123456789abcdef'


def pad8(n):
    return (8 - n % 8) % 8


def le_string(text):
    data = text.encode()
    return struct.pack('<I', len(data)) + data + b'\x00'


def le_return(reply_serial, serial, text):
    """A little-endian METHOD_RETURN carrying one string."""
    sig = b's'
    fields = b'\x05\x01u\x00' + struct.pack('<I', reply_serial)
    fields += b'\x08\x01g\x00' + bytes([len(sig)]) + sig + b'\x00'
    body = le_string(text)
    head = b'l\x02\x00\x01' + struct.pack('<III', len(body), serial, len(fields)) + fields
    return head + b'\x00' * pad8(len(head)) + body


class Conn:
    def __init__(self, sock, mode):
        self.sock = sock
        self.mode = mode
        self.buf = b''

    def send(self, data):
        if self.mode != 'slow':
            self.sock.sendall(data)
            return
        time.sleep(0.05)
        for i in range(len(data)):
            self.sock.sendall(data[i:i + 1])
            time.sleep(0.002)

    def fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError
        self.buf += chunk

    def line(self):
        while b'\r\n' not in self.buf:
            self.fill()
        line, self.buf = self.buf.split(b'\r\n', 1)
        return line.decode('ascii', 'replace')

    def message(self):
        """One little-endian message: (type, serial)."""
        while len(self.buf) < 16:
            self.fill()
        if self.buf[0:1] != b'l':
            raise EOFError
        body_len, serial, fields_len = struct.unpack('<III', self.buf[4:16])
        total = 16 + fields_len + pad8(16 + fields_len) + body_len
        while len(self.buf) < total:
            self.fill()
        kind = self.buf[1]
        self.buf = self.buf[total:]
        return kind, serial


def sasl(conn, mode, seen):
    """The server's state machine; True once BEGIN authenticated the client."""
    offered = 'ANONYMOUS' if mode == 'reject-external' else 'EXTERNAL'
    state = 'auth'
    while True:
        line = conn.line()
        seen.append(line)
        word = line.split(' ')
        cmd = word[0]
        reply = None
        if cmd == 'BEGIN':
            return state == 'begin'
        if cmd in ('CANCEL', 'ERROR'):
            reply, state = 'REJECTED ' + offered, 'auth'
        elif state == 'auth' and cmd == 'AUTH':
            if len(word) < 2 or word[1] != offered:
                reply = 'REJECTED ' + offered
            elif mode == 'ok-at-once' and len(word) < 3:
                reply, state = 'OK ' + GUID.decode(), 'begin'
            elif mode == 'challenge' or len(word) < 3:
                reply, state = 'DATA', 'data'
            else:
                reply, state = 'OK ' + GUID.decode(), 'begin'
        elif state == 'data' and cmd == 'DATA':
            reply, state = 'OK ' + GUID.decode(), 'begin'
        else:
            reply = 'ERROR unexpected'
        conn.send(reply.encode() + b'\r\n')


def tiny_bus(conn):
    """Answer method calls until one other than Hello was answered."""
    serial = 1
    while True:
        kind, their = conn.message()
        if kind != 1:
            continue
        serial += 1
        if their == 1:
            conn.send(le_return(their, serial, ':1.1'))
            continue
        conn.send(le_return(their, serial, 'pong'))
        return


def serve(sock, mode, log):
    """One client; True if its call was answered."""
    conn = Conn(sock, mode)
    seen = []
    kind = 'stepwise'
    answered = False
    try:
        conn.fill()
        if conn.buf[0:1] != b'\x00':
            return False
        conn.buf = conn.buf[1:]
        while b'\r\n' not in conn.buf:
            conn.fill()
        first, rest = conn.buf.split(b'\r\n', 1)
        if b'BEGIN\r\n' in conn.buf:
            kind = 'pipelined'
        if mode == 'hangup' and rest:
            seen.append(first.decode('ascii', 'replace'))
            return False
        if not sasl(conn, mode, seen):
            return False
        tiny_bus(conn)
        answered = True
        # until the client hangs up
        while True:
            conn.fill()
    except (EOFError, OSError):
        return answered
    finally:
        with open(log, 'a') as f:
            f.write(kind + ': ' + ' | '.join(seen) + '\n')
        sock.close()


def main():
    mode, path, ready, log = sys.argv[1:5]
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(2)
    open(ready, 'w').write('ready\n')
    while True:
        sock, _ = srv.accept()
        if serve(sock, mode, log):
            return


main()
