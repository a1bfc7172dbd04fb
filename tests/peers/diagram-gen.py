#!/usr/bin/python3
"""Write a synthetic D-Bus capture for bus-diagram's size and time checks.

usage: diagram-gen.py N FILE [pcap|pcap-ns|pcap-be|pcapng|pcapng-ns]

N messages, 1 ms apart, between a client :1.1 and a service :1.2 owning
org.ipcbox.Gen (announced by NameOwnerChanged first): a cycle of a call
Get(i) answered by a return, a call Bad() answered by an error, and a
broadcast signal Tick(u).  So of N messages, N/5 are Get calls, N/5 Get
returns, N/5 Bad calls, N/5 errors and N/5 signals (N a multiple of 5; the
NameOwnerChanged signal is one more message).  Each message is built by
hand in little-endian D-Bus wire format; the file format is the third
argument (pcap: microseconds, host order; pcap-ns: nanoseconds; pcap-be:
big-endian microseconds; pcapng: if_tsresol absent (microseconds);
pcapng-ns: if_tsresol 9).
"""
import struct
import sys


def pad(b, n):
    return b + b'\0' * (-len(b) % n)


def field(code, sig, val):
    b = bytes([code, 1, ord(sig), 0])
    if sig in 'os':
        return b + struct.pack('<I', len(val)) + val + b'\0'
    if sig == 'g':
        return b + bytes([len(val)]) + val + b'\0'
    return b + struct.pack('<I', val)


def message(mtype, serial, path=None, iface=None, member=None, dest=None, sender=None,
            reply=None, error=None, sig=b'', body=b''):
    fields = []
    if path:
        fields.append(field(1, 'o', path))
    if iface:
        fields.append(field(2, 's', iface))
    if member:
        fields.append(field(3, 's', member))
    if error:
        fields.append(field(4, 's', error))
    if reply is not None:
        fields.append(field(5, 'u', reply))
    if dest:
        fields.append(field(6, 's', dest))
    if sender:
        fields.append(field(7, 's', sender))
    if sig:
        fields.append(field(8, 'g', sig))
    arr = b''
    for f in fields:
        arr = pad(arr, 8) + f
    head = struct.pack('<cBBBIII', b'l', mtype, 0, 1, len(body), serial, len(arr)) + arr
    return pad(head, 8) + body


def string_body(*strs):
    b = b''
    for s in strs:
        b = pad(b, 4) + struct.pack('<I', len(s)) + s + b'\0'
    return b


def messages(n):
    drv = b'org.freedesktop.DBus'
    yield message(4, 1, b'/org/freedesktop/DBus', drv, b'NameOwnerChanged', sender=drv, sig=b'sss',
                  body=string_body(b'org.ipcbox.Gen', b'', b':1.2'))
    path, iface = b'/org/ipcbox/Gen', b'org.ipcbox.Gen'
    for i in range(n // 5):
        s = 2 * i + 1
        yield message(1, s, path, iface, b'Get', b'org.ipcbox.Gen', b':1.1', sig=b'u',
                      body=struct.pack('<I', i))
        yield message(2, 3 * i + 1, dest=b':1.1', sender=b':1.2', reply=s, sig=b's',
                      body=string_body(b'value'))
        yield message(1, s + 1, path, iface, b'Bad', b'org.ipcbox.Gen', b':1.1')
        yield message(3, 3 * i + 2, dest=b':1.1', sender=b':1.2', reply=s + 1,
                      error=b'org.ipcbox.Gen.Error.Nope', sig=b's', body=string_body(b'no'))
        yield message(4, 3 * i + 3, path, iface, b'Tick', sender=b':1.2', sig=b'u',
                      body=struct.pack('<I', i))


def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    fmt = sys.argv[3] if len(sys.argv) > 3 else 'pcap'
    t0 = 1700000000 * 10**6  # microseconds
    chunks = []
    if fmt.startswith('pcap') and not fmt.startswith('pcapng'):
        e = '>' if fmt == 'pcap-be' else '<'
        ns = fmt == 'pcap-ns'
        magic = 0xa1b23c4d if ns else 0xa1b2c3d4
        chunks.append(struct.pack(e + 'IHHiIII', magic, 2, 4, 0, 0, 1 << 27, 231))
        for k, m in enumerate(messages(n)):
            us = t0 + k * 1000
            frac = (us % 10**6) * (1000 if ns else 1)
            chunks.append(struct.pack(e + 'IIII', us // 10**6, frac, len(m), len(m)) + m)
    else:
        ns = fmt == 'pcapng-ns'
        shb_body = struct.pack('<IHHq', 0x1a2b3c4d, 1, 0, -1)
        chunks.append(struct.pack('<II', 0x0a0d0d0a, 12 + len(shb_body)) + shb_body +
                      struct.pack('<I', 12 + len(shb_body)))
        opts = (struct.pack('<HHB3x', 9, 1, 9) + struct.pack('<HH', 0, 0)) if ns else b''
        idb_body = struct.pack('<HHI', 231, 0, 1 << 27) + opts
        chunks.append(struct.pack('<II', 1, 12 + len(idb_body)) + idb_body +
                      struct.pack('<I', 12 + len(idb_body)))
        for k, m in enumerate(messages(n)):
            ts = (t0 + k * 1000) * (1000 if ns else 1)
            body = struct.pack('<IIIII', 0, ts >> 32, ts & 0xffffffff, len(m), len(m)) + pad(m, 4)
            chunks.append(struct.pack('<II', 6, 12 + len(body)) + body + struct.pack('<I', 12 + len(body)))
    with open(out, 'wb') as f:
        f.write(b''.join(chunks))


main()
