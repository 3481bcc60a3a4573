"""Where a C2PA manifest can be embedded, and whether a file's structure leaves room for one, for the formats
c2pa-rs does not read (or fails on): what is settled before the C2PA reader is asked, or instead of asking it.

An Ogg file whose streams are all codecs', a bare JPEG XL codestream, a JPEG 2000 file without a JUMBF box, a
CR3 without C2PA's uuid box, or a format C2PA defines no embedding for holds no manifest: a note. A format that may
hold one c2pa-rs cannot read is an error (a manifest may be there, unverified)."""

from __future__ import annotations

import os
from pathlib import Path

from ..inputs.media import MediaType
from ..model import C2paStore, ToolError

# Formats for which C2PA defines an embedded manifest (C2PA 2.x, Appendix A, and 2.3 for Ogg). c2pa-rs reads most of
# them; one it cannot read may hold a manifest it cannot verify, which is an item error. Any other image, audio or
# video format holds none: nothing to verify, which is a note.
EMBEDDING_DEFINED = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "image/tiff",
        "image/x-adobe-dng",
        "image/jxl",
        "image/heic",
        "image/heif",
        "image/avif",
        "image/svg+xml",
        "audio/wav",
        "audio/mpeg",
        "audio/flac",
        "audio/mp4",
        "video/mp4",
        "video/quicktime",
        "video/x-msvideo",
        "application/mp4",
        "application/pdf",
        "audio/ogg",
        "video/ogg",
    }
)
FORMAT_NAMES = {
    "video/x-matroska": "Matroska",
    "video/webm": "WebM",
    "video/mp2t": "MPEG-TS",
    "application/mxf": "MXF",
    "video/mpeg": "MPEG program streams",
    "audio/x-aiff": "AIFF",
    "image/bmp": "BMP",
    "image/dpx": "DPX",
    "image/aces": "OpenEXR",
    "video/x-flv": "FLV",
    "video/x-ms-wmv": "ASF (WMV)",
    "audio/x-ms-wma": "ASF (WMA)",
    "video/x-ms-asf": "ASF",
    "video/dv": "DV",
    "audio/aac": "AAC (ADTS)",
    "audio/ac3": "AC-3",
    "audio/vnd.dts": "DTS",
    "audio/basic": "Sun AU",
    "audio/x-caf": "CAF",
    "audio/x-w64": "Wave64",
}
SEGMENT = "video/iso.segment"  # a fragment of a stream: verified with its init segment (check the stream)
OGG = ("audio/ogg", "video/ogg")  # c2pa-rs reads no Ogg: the structure says whether a manifest may be there
JPEG2000 = ("image/jp2", "image/jpx", "image/jpm")  # JUMBF's own family; c2pa-rs reads none of them
OTHER_BMFF = ("image/x-canon-cr3",)  # ISO BMFF, where C2PA's uuid box may sit, in a brand c2pa-rs does not read
C2PA_UUID_BOX = b"uuid" + bytes.fromhex("D8FEC3D61B0E483C92975828877EC481")
MAY_EMBED = EMBEDDING_DEFINED.union(JPEG2000, OTHER_BMFF)  # formats whose structure may hold a manifest


# The first packet of each codec's logical bitstream in an Ogg file (RFC 3533 and the codecs' mappings): a stream
# that opens with none of these may be a C2PA manifest (C2PA 2.3 gives it a logical bitstream of its own).
OGG_CODEC_HEADERS = {
    b"\x01vorbis": "Vorbis",
    b"OpusHead": "Opus",
    b"\x7fFLAC": "FLAC",
    b"\x80theora": "Theora",
    b"Speex   ": "Speex",
    b"fishead\x00": "Skeleton",
    b"\x80kate": "Kate",
    b"OVP80": "VP8",
    b"PCM     ": "PCM",
    b"CELT    ": "CELT",
}
OGG_HEAD_BYTES = 1 << 16  # every stream's first page comes before any other page (RFC 3533 §4)


def ogg_streams(head: bytes) -> list[str] | None:
    """The codec of each logical bitstream of an Ogg file, from the beginning-of-stream pages that open it
    ("?" for a stream of no known codec); None when `head` is no Ogg file or ends before the first other page."""
    names: list[str] = []
    pos = 0
    while head[pos : pos + 4] == b"OggS" and len(head) >= pos + 27:
        flags, segments = head[pos + 5], head[pos + 26]
        table = head[pos + 27 : pos + 27 + segments]
        if len(table) < segments:
            return None
        if not flags & 0x02:  # the first page that begins no stream: every stream has been named
            return names
        body = pos + 27 + segments
        first = head[body : body + sum(table)]
        names.append(next((n for magic, n in OGG_CODEC_HEADERS.items() if first.startswith(magic)), "?"))
        pos = body + sum(table)
    return None


def top_level_boxes(path: Path, limit: int = 4096) -> set[bytes]:
    """The types of the boxes at the top level of an ISO box-structured file (JPEG 2000, JPEG XL, BMFF), read by
    seeking from header to header (at most `limit` boxes); a `uuid` box also as `uuid` + its 16-byte user type."""
    types: set[bytes] = set()
    with open(path, "rb") as fh:
        end, pos, seen = os.fstat(fh.fileno()).st_size, 0, 0
        while pos + 8 <= end and seen < limit:
            fh.seek(pos)
            header = fh.read(32)
            size, kind, body = int.from_bytes(header[:4], "big"), header[4:8], 8
            if size == 1 and len(header) >= 16:
                size, body = int.from_bytes(header[8:16], "big"), 16
            elif size == 0:
                size = end - pos
            if size < body:
                break
            types.add(kind)
            if kind == b"uuid":
                types.add(kind + header[body : body + 16])
            pos, seen = pos + size, seen + 1
    return types


def no_carrier(path: Path, media: MediaType) -> str | None:
    """Why this file, by its structure, cannot hold an embedded manifest; None when it may. (c2pa-rs fails to parse
    a bare JPEG XL codestream, and reads no Ogg: both would otherwise be reported as items it could not check.)"""
    if media.mime == "image/jxl":
        with open(path, "rb") as fh:
            if fh.read(2) == b"\xff\x0a":
                return "a bare JPEG XL codestream has no boxes to carry a C2PA manifest"
    elif media.mime in JPEG2000:
        if b"jumb" not in top_level_boxes(path):
            return "no C2PA manifest: this JPEG 2000 file has no JUMBF box"
    elif media.mime in OTHER_BMFF:
        if C2PA_UUID_BOX not in top_level_boxes(path):
            return "no C2PA manifest: this ISO BMFF file has no C2PA uuid box"
    elif media.mime in OGG:
        with open(path, "rb") as fh:
            streams = ogg_streams(fh.read(OGG_HEAD_BYTES))
        if streams and "?" not in streams:
            return f"no C2PA manifest: every logical bitstream of this Ogg file is a codec's ({', '.join(streams)})"
    return None


def without_reader(media: MediaType) -> tuple[C2paStore, list[ToolError]]:
    """The store of a file c2pa-rs does not read: nothing to verify (a note), or a manifest that may be there
    unverified (an error)."""
    if media.mime == SEGMENT:
        note = "a media segment is verified with its init segment (check the stream), not alone"
        return C2paStore(present=False, note=note), []
    if media.kind in ("image", "audio", "video") and media.mime not in MAY_EMBED:
        name = FORMAT_NAMES.get(media.mime, media.mime)
        return C2paStore(present=False, note=f"C2PA defines no embedding for {name}: no manifest to verify"), []
    if media.mime in OGG:
        why = (
            "an Ogg logical bitstream of no known codec (a C2PA 2.3 manifest?) cannot be verified: c2pa-rs reads no Ogg"  # noqa: E501
        )
        return C2paStore(present=False), [ToolError("c2pa", why)]
    return C2paStore(present=False), [ToolError("c2pa", f"C2PA cannot be verified in this format ({media.mime})")]
