#!/usr/bin/python3
"""A fake message bus that misbehaves during authentication, for
tests/bus-errors.bats.

usage: fake-bus.py MODE SOCKET READY_FILE

Listens on the unix socket SOCKET, writes READY_FILE, accepts one client,
records the bytes the client sent first in SOCKET.log, and answers per MODE:
  rejected   REJECTED EXTERNAL ANONYMOUS
  error      ERROR "go away"
  garbage    a line with control bytes
  close      closes the connection without a word
  longline   20000 bytes without a line end
  silent     never answers
  badok      OK with a short guid
  badmsg     a good OK, then a message whose endianness byte is 'x'
  hugemsg    a good OK, then a header claiming a 2 GiB body
"""
import socket
import struct
import sys
import time

GUID = b'0123456789abcdef0123456789abcdef'


def main():
    mode, path, ready = sys.argv[1:4]
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    open(ready, 'w').write('ready\n')
    conn, _ = srv.accept()
    got = b''
    while b'\r\n' not in got:
        chunk = conn.recv(4096)
        if not chunk:
            break
        got += chunk
    open(path + '.log', 'wb').write(got)
    replies = {
        'rejected': b'REJECTED EXTERNAL ANONYMOUS\r\n',
        'error': b'ERROR "go away"\r\n',
        'garbage': b'\x01\x02\xffOK\r\n',
        'longline': b'A' * 20000,
        'badok': b'OK 1234\r\n',
        'badmsg': b'OK ' + GUID + b'\r\n' + b'x\x02\x00\x01' + b'\x00' * 12,
        'hugemsg': b'OK ' + GUID + b'\r\n' + b'l\x02\x00\x01' + struct.pack('<III', 0x7fffffff, 1, 8),
    }
    if mode == 'close':
        conn.close()
        return
    if mode in replies:
        conn.sendall(replies[mode])
    # Keep the connection open until the client hangs up (or the test ends).
    try:
        while conn.recv(4096):
            pass
    except OSError:
        pass
    time.sleep(0)


main()
