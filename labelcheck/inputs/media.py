"""Media type of a file from its first bytes (extension only as a fallback): what it is, not what it is called."""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass

HEAD_BYTES = 4096

# SMPTE ST 377-1: an MXF file opens with the key of its header partition pack (the two bytes after it vary).
MXF_PARTITION_KEY = bytes.fromhex("060e2b34020501010d0102010102")

# ISO BMFF major/compatible brands -> mime.
_BMFF_BRANDS = {
    b"heic": "image/heic",
    b"heix": "image/heic",
    b"mif1": "image/heif",
    b"msf1": "image/heif",
    b"avif": "image/avif",
    b"avis": "image/avif",
    b"M4A ": "audio/mp4",
    b"M4B ": "audio/mp4",
    b"qt  ": "video/quicktime",
    b"crx ": "image/x-canon-cr3",
}


@dataclass(frozen=True)
class MediaType:
    mime: str
    kind: str  # image | audio | video | document | font | other

    @property
    def is_av(self) -> bool:
        return self.kind in ("audio", "video")


def _kind(mime: str) -> str:
    top = mime.split("/")[0]
    if top in ("image", "audio", "video", "font"):
        return top
    if mime in ("application/pdf", "image/svg+xml"):
        return "document"
    if mime in ("application/mp4", "video/mp2t", "application/x-mpegurl", "application/mxf"):
        return "video"
    return "other"


def _sniff(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and len(head) >= 12:
        return {b"WEBP": "image/webp", b"WAVE": "audio/wav", b"AVI ": "video/x-msvideo"}.get(head[8:12])
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "image/tiff"
    if head.startswith(b"\xff\x0a") or head.startswith(b"\x00\x00\x00\x0cJXL \r\n\x87\n"):
        return "image/jxl"
    if head.startswith(b"\x00\x00\x00\x0cjP  \r\n\x87\n"):
        return "image/jpx" if head[20:24] == b"jpx " else "image/jp2"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06):
        return "audio/mpeg"
    if head.startswith(b"fLaC"):
        return "audio/flac"
    if head.startswith(b"OggS"):  # video when a stream opens with a video codec's header (the streams open the file)
        return "video/ogg" if b"\x80theora" in head or b"OVP80" in head else "audio/ogg"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm" if b"webm" in head[:64] else "video/x-matroska"
    if head[:4] in (b"\x00\x01\x00\x00", b"OTTO", b"true", b"wOFF", b"wOF2"):
        return "font/ttf" if head[:4] != b"OTTO" else "font/otf"
    if len(head) >= 12 and head[4:8] == b"ftyp":
        major = head[8:12]
        if major in _BMFF_BRANDS:
            return _BMFF_BRANDS[major]
        return "video/mp4"
    if len(head) >= 8 and head[4:8] in (b"styp", b"moof", b"sidx"):
        return "video/iso.segment"
    if len(head) >= 8 and head[4:8] in (b"moov", b"mdat", b"wide", b"free"):
        return "video/quicktime"
    if head.startswith(MXF_PARTITION_KEY):  # a broadcast master (a run-in before it: the extension decides)
        return "application/mxf"
    if len(head) > 376 and head[0] == 0x47 and head[188] == 0x47 and head[376] == 0x47:
        return "video/mp2t"
    if len(head) > 388 and head[4] == 0x47 and head[196] == 0x47 and head[388] == 0x47:
        return "video/mp2t"  # M2TS (Blu-ray, AVCHD): 188-byte packets behind a 4-byte timestamp
    if head.startswith(b"\x00\x00\x01\xba"):
        return "video/mpeg"  # an MPEG program stream (.mpg, .vob)
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "audio/x-aiff"
    if head.startswith(b"caff\x00\x01"):
        return "audio/x-caf"  # Apple Core Audio Format
    if head.startswith(b"riff\x2e\x91\xcf\x11"):
        return "audio/x-w64"  # Sony Wave64: RIFF with GUIDs, for audio past 4 GB
    text = head.lstrip()[:512].lower()
    if text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in head.lower()):
        return "image/svg+xml"
    if text.startswith(b"#extm3u"):
        return "application/x-mpegurl"
    return None


# Types whose name and content are compared to flag mislabelled files.
_NAMED = {
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "image/tiff",
    "video/mp4",
    "audio/wav",
    "audio/mpeg",
    "application/pdf",
    "video/quicktime",
    "audio/flac",
    "application/mxf",
}
_ALIASES = {"audio/x-wav": "audio/wav", "audio/mp3": "audio/mpeg"}


def name_mismatch(path: str, mt: MediaType) -> str | None:
    """A note when the file name promises another type than the content is (the content wins)."""
    guessed, _ = mimetypes.guess_type(path)
    guessed = _ALIASES.get(guessed or "", guessed)
    if guessed in _NAMED and mt.mime in _NAMED and guessed != mt.mime:
        return f"the name suggests {guessed} but the content is {mt.mime}; checked as {mt.mime}"
    return None


def detect(path: str, head: bytes) -> MediaType:
    """Media type from the magic bytes; the extension is used only when the bytes say nothing."""
    mime = _sniff(head)
    if mime is None:
        guessed, _ = mimetypes.guess_type(path)
        mime = guessed or "application/octet-stream"
        if not head:
            mime = guessed or "application/octet-stream"
    return MediaType(mime, _kind(mime))

def is_playlist(ref: str, head: bytes = b"") -> bool:
    """A playlist by its name or, given its first bytes, by its content: HLS starts with #EXTM3U, and DASH is XML
    whose root is an MPD element (other XML, an SVG image for one, is not a playlist)."""
    low = ref.lower().split("?")[0]
    start = head.lstrip()
    return (
        low.endswith((".m3u8", ".m3u", ".mpd"))
        or start.startswith(b"#EXTM3U")
        or (start.startswith((b"<?xml", b"<MPD")) and b"<MPD" in head)
    )
