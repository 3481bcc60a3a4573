"""Labels carried inside segments: ID3 timed metadata in CMAF `emsg` boxes and in MPEG-TS metadata PES streams
(pure parsing, bounded)."""

from __future__ import annotations

import struct
from collections.abc import Iterator

from ..classify import vocab
from ..classify.classification import parse_aigc

ID3_SCHEMES = ("https://aomedia.org/emsg/ID3", "https://developer.apple.com/streaming/emsg-id3")
MAX_BOXES = 10_000
TS_PACKET = 188
MAX_TS_PACKETS = 1_000_000  # ~188 MB of segment
MAX_PES = 1 << 20  # bytes of one metadata PES kept


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


def _section(payload: bytes, pusi: bool) -> bytes:
    """A PSI section (PAT, PMT) starting in this packet's payload, after its pointer field."""
    if not pusi or not payload:
        return b""
    start = 1 + payload[0]
    if start + 3 > len(payload):
        return b""
    length = ((payload[start + 1] & 0x0F) << 8) | payload[start + 2]
    return payload[start : start + 3 + length]


def _pat_pmt_pids(sec: bytes) -> set[int]:
    if len(sec) < 12 or sec[0] != 0x00:
        return set()
    body = sec[8:-4]  # after the fixed header, before the CRC
    return {
        ((body[i + 2] & 0x1F) << 8) | body[i + 3]
        for i in range(0, len(body) - 3, 4)
        if (body[i] << 8 | body[i + 1]) != 0  # program 0 is the network PID
    }


def _pmt_id3_pids(sec: bytes) -> set[int]:
    """Elementary streams declared as ID3 timed metadata: stream_type 0x15 (metadata in PES) or 0x06 (private),
    with an `ID3 ` format identifier in their descriptors (metadata or registration descriptor)."""
    if len(sec) < 16 or sec[0] != 0x02:
        return set()
    end = len(sec) - 4
    pos = 12 + (((sec[10] & 0x0F) << 8) | sec[11])
    pids = set()
    while pos + 5 <= end:
        stream_type, pid = sec[pos], ((sec[pos + 1] & 0x1F) << 8) | sec[pos + 2]
        info_len = ((sec[pos + 3] & 0x0F) << 8) | sec[pos + 4]
        if stream_type in (0x15, 0x06) and b"ID3 " in sec[pos + 5 : pos + 5 + info_len]:
            pids.add(pid)
        pos += 5 + info_len
    return pids


def _pes_payload(pes: bytes) -> bytes:
    if len(pes) < 9 or pes[:3] != b"\x00\x00\x01":
        return b""
    length = (pes[4] << 8) | pes[5]
    body = pes[: 6 + length] if length else pes
    return body[9 + pes[8] :]


def ts_id3_tags(data: bytes) -> list[bytes]:
    """The ID3 tags of an MPEG-TS segment's timed-metadata streams (found through its PAT and PMT)."""
    pmt_pids: set[int] = set()
    id3_pids: set[int] = set()
    open_pes: dict[int, bytearray] = {}
    tags: list[bytes] = []
    for n in range(min(len(data) // TS_PACKET, MAX_TS_PACKETS)):
        pkt = data[n * TS_PACKET : (n + 1) * TS_PACKET]
        if pkt[0] != 0x47:
            break  # lost sync: a truncated or garbage segment ends here
        pusi = bool(pkt[1] & 0x40)
        pid = ((pkt[1] & 0x1F) << 8) | pkt[2]
        control = (pkt[3] >> 4) & 0x3
        start = 4 + (1 + pkt[4] if control & 0x2 else 0)
        if not control & 0x1 or start >= TS_PACKET:
            continue
        payload = pkt[start:]
        if pid == 0:
            pmt_pids |= _pat_pmt_pids(_section(payload, pusi))
        elif pid in pmt_pids:
            id3_pids |= _pmt_id3_pids(_section(payload, pusi))
        elif pid in id3_pids:
            if pusi:
                if pid in open_pes:
                    tags.append(_pes_payload(bytes(open_pes[pid])))
                open_pes[pid] = bytearray(payload)
            elif pid in open_pes and len(open_pes[pid]) < MAX_PES:
                open_pes[pid] += payload
    tags += [_pes_payload(bytes(p)) for p in open_pes.values()]
    # The ID3 tag sits right in the PES (HLS), or after a 5-byte metadata access-unit cell header (13818-1).
    return [t if t.startswith(b"ID3") else t[5:] for t in tags if b"ID3" in (t[:3], t[5:8])]


def is_transport_stream(data: bytes) -> bool:
    return len(data) >= TS_PACKET and data[0] == 0x47 and (len(data) < 2 * TS_PACKET or data[TS_PACKET] == 0x47)


def segment_frames(data: bytes) -> list[tuple[str, str]]:
    """The ID3 text frames of a segment's timed metadata (MPEG-TS metadata stream, or CMAF `emsg`)."""
    if is_transport_stream(data):
        return [f for tag in ts_id3_tags(data) for f in id3_text_frames(tag)]
    return [f for scheme, msg in emsg_messages(data) if scheme in ID3_SCHEMES for f in id3_text_frames(msg)]


def aigc_payload(frames: list[tuple[str, str]]) -> str | None:
    """The TC260 AIGC JSON an `AIGC` frame carries, as written (validated later like any AIGC label)."""
    return next((value for desc, value in frames if desc.strip().upper() == "AIGC"), None)


def segment_label(data: bytes) -> str | None:
    """The label in a segment's ID3 timed metadata, if any."""
    return label_of(segment_frames(data))
