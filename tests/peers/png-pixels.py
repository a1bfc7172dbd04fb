#!/usr/bin/python3
"""Count the pixels of a PNG screenshot, with zlib alone (no imaging library).

usage: png-pixels.py FILE
prints "WIDTH HEIGHT NONWHITE BLUE RED GREEN": all pixels that are not
white, and those near the diagram's call blue (#1f3c88), error red
(#c0161b) and signal green (#1b7f2a).  8-bit RGB or RGBA, non-interlaced,
as Chromium writes its screenshots.
"""
import struct
import sys
import zlib


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def main():
    data = open(sys.argv[1], 'rb').read()
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        sys.exit('not a PNG')
    pos, idat = 8, b''
    while pos < len(data):
        n, kind = struct.unpack('>I4s', data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + n]
        if kind == b'IHDR':
            w, h, depth, ctype, _, _, interlace = struct.unpack('>IIBBBBB', chunk)
        elif kind == b'IDAT':
            idat += chunk
        pos += 12 + n
    if depth != 8 or ctype not in (2, 6) or interlace:
        sys.exit('unsupported PNG: depth %d colour type %d interlace %d' % (depth, ctype, interlace))
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    counts = [0, 0, 0, 0]
    targets = [(0x1f, 0x3c, 0x88), (0xc0, 0x16, 0x1b), (0x1b, 0x7f, 0x2a)]
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                line[x] = (line[x] + paeth(a, b, c)) & 255
        for x in range(0, stride, bpp):
            px = line[x:x + 3]
            if px[0] < 245 or px[1] < 245 or px[2] < 245:
                counts[0] += 1
                for i, t in enumerate(targets):
                    if all(abs(px[k] - t[k]) < 40 for k in range(3)):
                        counts[i + 1] += 1
        prev = line
    print(w, h, *counts)


main()
