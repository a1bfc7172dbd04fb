#!/usr/bin/python3
"""A fake message bus that misbehaves during authentication, for
tests/bus-errors.bats.

usage: fake-bus.py MODE SOCKET READY_FILE

Listens on the unix socket SOCKET, writes READY_FILE, accepts one client
(two for rejected, error and close: the client's second, step-by-step try),
records the bytes the client sent first in SOCKET.log, one line a
connection in SOCKET.conns (pipelined: BEGIN came with the first bytes;
stepwise: it did not), and answers per MODE (rejected and error: every line
of the client's):
  rejected   REJECTED EXTERNAL ANONYMOUS
  error      ERROR "go away"
  garbage    a line with control bytes
  close      closes the connection without a word
  longline   20000 bytes without a line end
  silent     never answers
  badok      OK with a short guid
  badmsg     a good OK, then a message whose endianness byte is 'x'
  hugemsg    a good OK, then a header claiming a 2 GiB body
  bigendian  a tiny bus that answers in big-endian byte order: Hello gets the
             unique name ":1.1", any other call the reply (s "héllo", ai [1, -2])
"""
import socket
import struct
import sys
import time

GUID = b'0123456789abcdef0123456789abcdef'


def pad8(n):
    return (8 - n % 8) % 8


def be_return(reply_serial, serial, sig, body):
    """A big-endian METHOD_RETURN with REPLY_SERIAL and SIGNATURE fields."""
    fields = b'\x05\x01u\x00' + struct.pack('>I', reply_serial)
    fields += b'\x08\x01g\x00' + bytes([len(sig)]) + sig.encode() + b'\x00'
    head = b'B\x02\x00\x01' + struct.pack('>III', len(body), serial, len(fields)) + fields
    return head + b'\x00' * pad8(len(head)) + body


def be_string(text):
    data = text.encode()
    return struct.pack('>I', len(data)) + data + b'\x00'


def read_messages(conn, buf, count):
    """Read count little-endian messages (after BEGIN); return their serials."""
    serials = []
    while len(serials) < count:
        while len(buf) < 16:
            buf += conn.recv(65536)
        body_len, serial, fields_len = struct.unpack('<III', buf[4:16])
        total = 16 + fields_len + pad8(16 + fields_len) + body_len
        while len(buf) < total:
            buf += conn.recv(65536)
        serials.append(serial)
        buf = buf[total:]
    return serials


def tiny_bus(conn, got):
    buf = got[got.index(b'BEGIN\r\n') + 7:]
    conn.sendall(b'OK ' + GUID + b'\r\n')
    hello, call = read_messages(conn, buf, 2)
    conn.sendall(be_return(hello, 1, 's', be_string(':1.1')))
    s = be_string('h\u00e9llo')
    s += b'\x00' * ((4 - len(s) % 4) % 4)
    conn.sendall(be_return(call, 2, 'sai', s + struct.pack('>Iii', 8, 1, -2)))


def first_bytes(conn):
    """What the client sent up to its first line end."""
    got = b''
    while b'\r\n' not in got:
        chunk = conn.recv(4096)
        if not chunk:
            break
        got += chunk
    return got


def main():
    mode, path, ready = sys.argv[1:4]
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(2)
    open(ready, 'w').write('ready\n')
    replies = {
        'rejected': b'REJECTED EXTERNAL ANONYMOUS\r\n',
        'error': b'ERROR "go away"\r\n',
        'garbage': b'\x01\x02\xffOK\r\n',
        'longline': b'A' * 20000,
        'badok': b'OK 1234\r\n',
        'badmsg': b'OK ' + GUID + b'\r\n' + b'x\x02\x00\x01' + b'\x00' * 12,
        'hugemsg': b'OK ' + GUID + b'\r\n' + b'l\x02\x00\x01' + struct.pack('<III', 0x7fffffff, 1, 8),
    }
    # A refusal voids the client's pipelined bytes: it connects once more
    # and goes one step at a time, and is refused again.
    conns = 2 if mode in ('rejected', 'error', 'close') else 1
    for n in range(conns):
        conn, _ = srv.accept()
        got = first_bytes(conn)
        if n == 0:
            open(path + '.log', 'wb').write(got)
        # One line a connection: how its first bytes came.
        with open(path + '.conns', 'a') as f:
            f.write('pipelined\n' if b'BEGIN\r\n' in got else 'stepwise\n')
        if mode == 'bigendian':
            while b'BEGIN\r\n' not in got:
                got += conn.recv(4096)
            tiny_bus(conn, got)
        if mode == 'close':
            conn.close()
            continue
        if mode in replies:
            conn.sendall(replies[mode])
        # The same answer to every further line (rejected, error), until
        # the client hangs up (or the test ends).
        try:
            while True:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                if mode in ('rejected', 'error'):
                    conn.sendall(replies[mode] * chunk.count(b'\r\n'))
        except OSError:
            pass
        conn.close()
    time.sleep(0)


main()
