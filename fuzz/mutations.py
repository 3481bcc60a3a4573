"""Seeded mutations of media files: byte flips, truncations, chunk duplication and deletion, splices, zeroed ranges,
and corrupted length fields of the containers the sample media use (PNG chunks, JPEG segments, ISO-BMFF and JUMBF
boxes, RIFF chunks, the ID3v2 tag size).

Everything is a function of a `random.Random`: one mutant is `mutate(data, other, rng)`, and `fuzz.mutate` seeds
one generator per mutant from the run's seed and the mutant's number, so that any mutant can be made again alone.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable
from dataclasses import dataclass

MAX_GROWTH = 1 << 20  # a mutant is at most its source's size plus twice this (duplicated chunks)
HEAD = 4096  # where the parsers look first: half of the byte-level mutations land here


@dataclass(frozen=True)
class Field:
    """A length field in a container: where it is, how it is written, and what it says."""

    offset: int
    width: int  # bytes
    fmt: str  # struct format of the field (">I", "<I", ">H", ">Q"), or "syncsafe" (ID3v2)
    value: int
    what: str  # "png:IHDR", "jpeg:APP1", "bmff:moov", "jumbf:jumd", "riff:LIST", "id3"


# ---------------------------------------------------------------------------------------------------------------------
# length fields of the known containers


def png_fields(data: bytes) -> list[Field]:
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return []
    out: list[Field] = []
    pos = 8
    while pos + 8 <= len(data) and len(out) < 10_000:
        (n,) = struct.unpack_from(">I", data, pos)
        kind = data[pos + 4 : pos + 8].decode("latin-1")
        out.append(Field(pos, 4, ">I", n, f"png:{kind}"))
        pos += 12 + n
    return out


# markers without a length: SOI, EOI, TEM, RSTn
_JPEG_BARE = {0xD8, 0xD9, 0x01, *range(0xD0, 0xD8)}


def jpeg_fields(data: bytes) -> list[Field]:
    if not data.startswith(b"\xff\xd8"):
        return []
    out: list[Field] = []
    pos = 2
    while pos + 4 <= len(data) and len(out) < 10_000:
        if data[pos] != 0xFF:
            break
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _JPEG_BARE:
            pos += 2
            continue
        (n,) = struct.unpack_from(">H", data, pos + 2)
        out.append(Field(pos + 2, 2, ">H", n, f"jpeg:{marker:02X}"))
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            break
        pos += 2 + n
    return out


# ISO-BMFF (and JUMBF) boxes whose payload is boxes; `meta` is a full box (4 bytes of version and flags first)
_CONTAINERS = {
    b"moov",
    b"trak",
    b"mdia",
    b"minf",
    b"stbl",
    b"udta",
    b"edts",
    b"dinf",
    b"moof",
    b"traf",
    b"mvex",
    b"ilst",
    b"iprp",
    b"ipco",
    b"jumb",
    b"meta",
}


def bmff_fields(data: bytes, start: int = 0, end: int | None = None, depth: int = 0, tag: str = "bmff") -> list[Field]:
    end = len(data) if end is None else end
    out: list[Field] = []
    pos = start
    while pos + 8 <= end and len(out) < 10_000 and depth < 8:
        size, kind = struct.unpack_from(">I4s", data, pos)
        name = kind.decode("latin-1")
        header = 8
        if size == 1 and pos + 16 <= end:
            (size,) = struct.unpack_from(">Q", data, pos + 8)
            out.append(Field(pos + 8, 8, ">Q", size, f"{tag}:{name}(64)"))
            header = 16
        else:
            out.append(Field(pos, 4, ">I", size, f"{tag}:{name}"))
        if size == 0:
            size = end - pos
        if size < header or pos + size > end:
            break
        if kind in _CONTAINERS:
            inner = pos + header + (4 if kind == b"meta" else 0)
            out += bmff_fields(data, inner, pos + size, depth + 1, tag)
        pos += size
    return out


def is_bmff(data: bytes) -> bool:
    return len(data) >= 12 and data[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"jumb")


def riff_fields(data: bytes) -> list[Field]:
    if len(data) < 12 or data[:4] not in (b"RIFF", b"RF64"):
        return []
    out = [Field(4, 4, "<I", struct.unpack_from("<I", data, 4)[0], f"riff:{data[8:12].decode('latin-1')}")]

    def walk(pos: int, end: int, depth: int) -> None:
        while pos + 8 <= end and len(out) < 10_000 and depth < 8:
            kind, size = struct.unpack_from("<4sI", data, pos)
            out.append(Field(pos + 4, 4, "<I", size, f"riff:{kind.decode('latin-1')}"))
            if kind == b"LIST" and pos + 12 <= end:
                walk(pos + 12, min(end, pos + 8 + size), depth + 1)
            pos += 8 + size + (size & 1)

    walk(12, len(data), 0)
    return out


def id3_fields(data: bytes) -> list[Field]:
    if len(data) < 10 or not data.startswith(b"ID3"):
        return []
    b = data[6:10]
    return [Field(6, 4, "syncsafe", (b[0] << 21) | (b[1] << 14) | (b[2] << 7) | b[3], "id3")]


_JUMBF = (b"jumb", b"jumd", b"c2pa", b"cbor", b"json", b"bfdb", b"bidb", b"uuid")


def jumbf_fields(data: bytes) -> list[Field]:
    """JUMBF boxes wherever they sit (a C2PA manifest store in a JPEG APP11 segment, a PNG caBX chunk, a uuid box):
    a known box type whose preceding 4 bytes are a plausible size."""
    out: list[Field] = []
    for kind in _JUMBF:
        pos = data.find(kind, 4)
        while pos != -1 and len(out) < 2_000:
            (size,) = struct.unpack_from(">I", data, pos - 4)
            if 8 <= size <= len(data) - pos + 4:
                out.append(Field(pos - 4, 4, ">I", size, f"jumbf:{kind.decode()}"))
            pos = data.find(kind, pos + 4)
    return out


def length_fields(data: bytes) -> list[Field]:
    fields = png_fields(data) + jpeg_fields(data) + riff_fields(data) + id3_fields(data)
    if is_bmff(data):
        fields += bmff_fields(data)
    seen = {f.offset for f in fields}
    return fields + [f for f in jumbf_fields(data) if f.offset not in seen]


def _write_field(data: bytearray, field: Field, value: int) -> None:
    if field.fmt == "syncsafe":
        value &= (1 << 28) - 1
        data[field.offset : field.offset + 4] = bytes((value >> s) & 0x7F for s in (21, 14, 7, 0))
        return
    value &= (1 << (8 * field.width)) - 1
    data[field.offset : field.offset + field.width] = struct.pack(field.fmt, value)


# ---------------------------------------------------------------------------------------------------------------------
# the mutations: each changes `data` in place and says what it did


def _pos(data: bytearray, rng: random.Random) -> int:
    """A position, half the time in the head (where the parsers start), else anywhere."""
    n = len(data)
    if n == 0:
        return 0
    return rng.randrange(min(n, HEAD)) if rng.random() < 0.5 else rng.randrange(n)


def _span(data: bytearray, rng: random.Random, limit: int = 1 << 16) -> tuple[int, int]:
    a = _pos(data, rng)
    size = min(len(data) - a, rng.choice((1, 4, 16, 256, 4096, limit)))
    return a, a + rng.randint(0, max(0, size))


def flip(data: bytearray, rng: random.Random, other: bytes) -> str:
    if not data:
        return "flip(empty)"
    k = rng.choice((1, 2, 4, 8, 32, 128))
    for _ in range(k):
        p = _pos(data, rng)
        data[p] ^= 1 << rng.randrange(8)
    return f"flip({k} bits)"


def interesting(data: bytearray, rng: random.Random, other: bytes) -> str:
    if not data:
        return "interesting(empty)"
    k = rng.choice((1, 4, 16))
    for _ in range(k):
        p = _pos(data, rng)
        data[p] = rng.choice((0x00, 0xFF, 0x7F, 0x80, 0x01, 0xFE))
    return f"interesting({k} bytes)"


def truncate(data: bytearray, rng: random.Random, other: bytes) -> str:
    n = len(data)
    at = rng.choice((rng.randrange(n + 1), rng.randrange(min(n, 1024) + 1), max(0, n - rng.randint(1, 64))))
    del data[at:]
    return f"truncate(at {at} of {n})"


def duplicate(data: bytearray, rng: random.Random, other: bytes, budget: int = MAX_GROWTH) -> str:
    a, b = _span(data, rng)
    chunk = bytes(data[a:b])
    times = rng.choice((1, 1, 2, 8, 64))
    times = max(1, min(times, budget // max(1, len(chunk))))
    at = rng.choice((b, _pos(data, rng)))
    data[at:at] = chunk * times
    return f"duplicate([{a}:{b}] x{times} at {at})"


def delete(data: bytearray, rng: random.Random, other: bytes) -> str:
    a, b = _span(data, rng)
    del data[a:b]
    return f"delete([{a}:{b}])"


def zero(data: bytearray, rng: random.Random, other: bytes) -> str:
    a, b = _span(data, rng)
    data[a:b] = bytes(b - a)
    return f"zero([{a}:{b}])"


def splice(data: bytearray, rng: random.Random, other: bytes) -> str:
    cut = _pos(data, rng)
    at = rng.randrange(len(other) + 1) if other else 0
    tail = other[at : at + len(data) + MAX_GROWTH]
    data[cut:] = tail
    return f"splice(head {cut} + other from {at})"


def corrupt_length(data: bytearray, rng: random.Random, other: bytes) -> str:
    fields = length_fields(bytes(data))
    if not fields:
        return "length(no field)+" + flip(data, rng, other)
    f = rng.choice(fields)
    top = (1 << 28) - 1 if f.fmt == "syncsafe" else (1 << (8 * f.width)) - 1
    rest = len(data) - f.offset
    value = rng.choice(
        (
            0,
            1,
            2,
            7,
            8,
            f.value - 1,
            f.value + 1,
            f.value * 2,
            f.value // 2,
            top,
            top >> 1,
            (top >> 1) + 1,
            rest,
            rest + 1,
            rest + 4096,
            rng.randrange(top + 1),
        )
    )
    _write_field(data, f, value)
    return f"length({f.what}@{f.offset}: {f.value}->{value & top})"


Mutation = Callable[[bytearray, random.Random, bytes], str]
# (mutation, weight): length fields and byte flips most often
MUTATIONS: tuple[tuple[Mutation, int], ...] = (
    (corrupt_length, 6),
    (flip, 4),
    (interesting, 2),
    (truncate, 3),
    (duplicate, 2),
    (delete, 2),
    (zero, 2),
    (splice, 2),
)


def mutate(data: bytes, other: bytes, rng: random.Random) -> tuple[bytes, list[str]]:
    """One mutant of `data` (`other`: a second file, for splices): one to three mutations in a row."""
    out = bytearray(data)
    done = []
    funcs, weights = zip(*MUTATIONS, strict=True)
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        op = rng.choices(funcs, weights)[0]
        done.append(op(out, rng, other))
    if len(out) > len(data) + 2 * MAX_GROWTH:
        del out[len(data) + 2 * MAX_GROWTH :]
        done.append("cap")
    return bytes(out), done
