"""Labels carried inside segments: ID3 timed metadata in CMAF `emsg` boxes (pure parsing, bounded)."""

from __future__ import annotations

import struct
from collections.abc import Iterator

from .. import vocab
from ..classify import parse_aigc

ID3_SCHEMES = ("https://aomedia.org/emsg/ID3", "https://developer.apple.com/streaming/emsg-id3")
MAX_BOXES = 10_000


def _boxes(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """Top-level ISO BMFF boxes (type, payload), bounded and tolerant of a truncated tail."""
    pos = 0
    for _ in range(MAX_BOXES):
        if pos + 8 > len(data):
            return
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        header = 8
        if size == 1 and pos + 16 <= len(data):
            size, header = struct.unpack(">Q", data[pos + 8 : pos + 16])[0], 16
        elif size == 0:
            size = len(data) - pos
        if size < header or pos + size > len(data):
            return
        yield kind, data[pos + header : pos + size]
        pos += size


def _cstr(buf: bytes, pos: int) -> tuple[str, int]:
    end = buf.find(b"\0", pos)
    end = len(buf) if end < 0 else end
    return buf[pos:end].decode("utf-8", "replace"), end + 1


def emsg_messages(data: bytes) -> list[tuple[str, bytes]]:
    """(scheme_id_uri, message_data) of every `emsg` box (versions 0 and 1) at the top of a segment."""
    out = []
    for kind, body in _boxes(data):
        if kind != b"emsg" or len(body) < 4:
            continue
        version, pos = body[0], 4
        try:
            if version == 0:
                scheme, pos = _cstr(body, pos)
                _value, pos = _cstr(body, pos)
                pos += 16  # timescale, presentation_time_delta, event_duration, id
            else:
                pos += 20  # timescale, presentation_time (64), event_duration, id
                scheme, pos = _cstr(body, pos)
                _value, pos = _cstr(body, pos)
        except (IndexError, struct.error):
            continue
        out.append((scheme, body[pos:]))
    return out


def _syncsafe(b: bytes) -> int:
    return (b[0] << 21) | (b[1] << 14) | (b[2] << 7) | b[3]


def id3_text_frames(tag: bytes) -> list[tuple[str, str]]:
    """(description, value) of the TXXX frames of ID3v2.3/2.4 tags (possibly several, back to back)."""
    out: list[tuple[str, str]] = []
    pos = 0
    while pos + 10 <= len(tag) and tag[pos : pos + 3] == b"ID3":
        major = tag[pos + 3]
        end = pos + 10 + _syncsafe(tag[pos + 6 : pos + 10])
        fpos = pos + 10
        while fpos + 10 <= min(end, len(tag)):
            fid = tag[fpos : fpos + 4]
            raw = tag[fpos + 4 : fpos + 8]
            size = _syncsafe(raw) if major == 4 else struct.unpack(">I", raw)[0]
            if not fid.strip(b"\0") or size <= 0:
                break
            body = tag[fpos + 10 : fpos + 10 + size]
            if fid == b"TXXX" and body:
                codec = {0: "latin-1", 1: "utf-16", 2: "utf-16-be", 3: "utf-8"}.get(body[0], "latin-1")
                sep = b"\0\0" if body[0] in (1, 2) else b"\0"
                desc, _, value = body[1:].partition(sep)
                out.append((desc.decode(codec, "replace"), value.decode(codec, "replace").rstrip("\0")))
            fpos += 10 + size
        pos = max(end, pos + 10)
    return out


def label_of(frames: list[tuple[str, str]]) -> str | None:
    """The AI label ID3 frames carry: a TC260 AIGC JSON, or an X-AI-style description with a known value."""
    for desc, value in frames:
        if desc.strip().upper() == "AIGC":
            data = parse_aigc(value)
            code = data.get("Label") if data else None
            return (
                {"1": "ai", "2": "possibly_ai", "3": "possibly_ai"}.get(code, "ai") if isinstance(code, str) else "ai"
            )
        if "AI" in desc.upper() and (label := vocab.stream_label(value)) is not None:
            return label
    return None


def segment_label(data: bytes) -> str | None:
    """The label in a fragment's `emsg` ID3 timed metadata, if any."""
    frames = [f for scheme, msg in emsg_messages(data) if scheme in ID3_SCHEMES for f in id3_text_frames(msg)]
    return label_of(frames)
