"""The little of the Ogg format (RFC 3533) that the archive reads and writes itself.

FFmpeg's Ogg muxer names itself in every Opus file it writes (the vendor string
of the OpusTags header, "ffmpeg" even in bit-exact mode), and its demuxer
quietly drops a last page cut short. So the archive rewrites the tags header of
its renditions with an empty vendor, and checks that an uploaded Ogg file ends
with a whole final page.
"""

import struct

HEADER = struct.Struct(
    "<4sBBqIIIB"
)  # capture, version, type, granule, serial, seq, crc, n
CAPTURE = b"OggS"
END_OF_STREAM = 0x04
LARGEST_PAGE = HEADER.size + 255 + 255 * 255


def _crc_table() -> list[int]:
    table = []
    for byte in range(256):
        value = byte << 24
        for _ in range(8):
            value = ((value << 1) ^ 0x04C11DB7) if value & 0x80000000 else value << 1
        table.append(value & 0xFFFFFFFF)
    return table


_TABLE = _crc_table()


def crc(data: bytes) -> int:
    """The Ogg page checksum (CRC-32, polynomial 0x04C11DB7, unreflected, no xor)."""
    value = 0
    for byte in data:
        value = ((value << 8) & 0xFFFFFFFF) ^ _TABLE[(value >> 24) ^ byte]
    return value


def _page_at(data: bytes, offset: int) -> tuple[tuple, int] | None:
    """The header fields and the length of a whole, valid page at ``offset``."""
    if len(data) - offset < HEADER.size:
        return None
    fields = HEADER.unpack_from(data, offset)
    if fields[0] != CAPTURE or fields[1] != 0:
        return None
    lacing = data[offset + HEADER.size : offset + HEADER.size + fields[7]]
    if len(lacing) < fields[7]:
        return None
    length = HEADER.size + fields[7] + sum(lacing)
    if len(data) - offset < length:
        return None
    page = bytearray(data[offset : offset + length])
    page[22:26] = b"\0\0\0\0"
    if crc(bytes(page)) != fields[6]:
        return None
    return fields, length


def _page(fields: tuple, body: bytes, lacing: bytes) -> bytes:
    capture, version, kind, granule, serial, sequence, _, _ = fields
    header = HEADER.pack(
        capture, version, kind, granule, serial, sequence, 0, len(lacing)
    )
    page = bytearray(header + lacing + body)
    page[22:26] = struct.pack("<I", crc(bytes(page)))
    return bytes(page)


def ends_whole(tail: bytes) -> bool:
    """Whether ``tail`` (the last bytes of an Ogg file) ends with a whole last page."""
    position = len(tail)
    while (position := tail.rfind(CAPTURE, 0, position)) >= 0:
        found = _page_at(tail, position)
        if found is not None:
            fields, length = found
            return position + length == len(tail) and bool(fields[2] & END_OF_STREAM)
    return False


def without_vendor(data: bytes) -> bytes:
    """An Ogg Opus file with its OpusTags header emptied: no vendor, no comments."""
    first = _page_at(data, 0)
    if first is None:
        raise ValueError("not an Ogg file")
    offset = first[1]
    second = _page_at(data, offset)
    if second is None:
        raise ValueError("the Ogg file has no second page")
    fields, length = second
    lacing = data[offset + HEADER.size : offset + HEADER.size + fields[7]]
    body = data[offset + HEADER.size + fields[7] : offset + length]
    # The muxer gives the tags header a page of its own; anything else is not
    # the file this function was written for.
    if not body.startswith(b"OpusTags") or lacing[-1:] == b"\xff":
        raise ValueError("the second page is not a whole OpusTags header")
    tags = b"OpusTags" + struct.pack("<II", 0, 0)
    return (
        data[:offset]
        + _page(fields, tags, bytes([len(tags)]))
        + data[offset + length :]
    )
