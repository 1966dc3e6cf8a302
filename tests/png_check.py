"""A small PNG reader for tests: checks the signature and chunks and decodes the pixels of an
8-bit, non-interlaced image (what layout engines write), so a test can see something was drawn."""

from __future__ import annotations

import struct
import zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _chunks(data: bytes) -> tuple[tuple[int, ...], bytes]:
    assert data.startswith(SIGNATURE), "not a PNG signature"
    at, idat, header = len(SIGNATURE), b"", None
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", data[at + 8 + length : at + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in {kind!r}"
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
        at += 12 + length
    assert header is not None, "no IHDR chunk"
    return header, idat


def _unfilter(kind: int, line: bytearray, previous: bytearray, bpp: int) -> None:
    for x in range(len(line)):
        left = line[x - bpp] if x >= bpp else 0
        up = previous[x]
        corner = previous[x - bpp] if x >= bpp else 0
        if kind == 1:
            line[x] = (line[x] + left) & 0xFF
        elif kind == 2:
            line[x] = (line[x] + up) & 0xFF
        elif kind == 3:
            line[x] = (line[x] + (left + up) // 2) & 0xFF
        elif kind == 4:
            line[x] = (line[x] + _paeth(left, up, corner)) & 0xFF


def decode_until_drawn(data: bytes) -> tuple[int, int, int | None]:
    """(width, height, first row with a pixel unlike the top-left one, or None if blank).

    The whole pixel stream is decompressed and checked against the header; rows are unfiltered
    only until something drawn is found (decoding every row in Python would be slow)."""
    header, idat = _chunks(data)
    width, height, depth, colour, _, _, interlace = header
    assert (depth, interlace) == (8, 0), f"unsupported PNG {header}"
    assert colour in CHANNELS, f"unsupported PNG {header}"
    assert width > 0, "empty image"
    assert height > 0, "empty image"
    bpp = CHANNELS[colour]
    raw = zlib.decompress(idat)
    stride = width * bpp
    assert len(raw) == height * (stride + 1), "pixel data does not match the header"
    assert all(raw[y * (stride + 1)] <= 4 for y in range(height)), "unknown row filter"
    previous = bytearray(stride)
    background = None
    for y in range(height):
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        _unfilter(raw[y * (stride + 1)], line, previous, bpp)
        if background is None:
            background = bytes(line[:bpp])
        if line != background * width:
            return width, height, y
        previous = line
    return width, height, None
