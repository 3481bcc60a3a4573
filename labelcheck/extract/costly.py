"""Structures exiftool or c2pa-rs is known to spend seconds on, recognised cheaply from a file's bytes (never a
verdict).

Such files are not given to exiftool at all: their XMP packets are read by packet scanning instead, and the report
says what was not read. Anything not recognised here still has exiftool's per-call deadline as the safety net.

- PDF with the AES-256 standard security handler (V 5, R 5/6): exiftool derives the key and decrypts in pure Perl
  (its own warning: "Decryption is very slow for encryption V5.6 or higher"), seconds per file. The XMP metadata of
  such files is normally left unencrypted (EncryptMetadata false) and packet scanning finds it; the encrypted Info
  dictionary is not read.
- TIFF whose directory chain or SubIFD arrays run to thousands of directories (a denial-of-service shape):
  exiftool visits every one. The label fields (XMP in IFD0) are found by packet scanning; EXIF/IPTC-IIM text in
  the directories is not read.
- ISO-BMFF (MP4, MOV, M4A, HEIF, AVIF) with tens of thousands of top-level boxes: c2pa-rs 0.38 takes time
  quadratic in their number (measured: 20,000 boxes 2.4 s, 50,000 23 s, 100,000 88 s; an 800 KB file), inside the
  worker where no deadline but the item's can stop it. Real files have a handful; a fragmented MP4 has two per
  fragment (10,000 fragments is hours of video). Such a file's C2PA store is not read, and the item says so.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

PDF_TAIL = 64 << 10  # the trailer and, in practice, the encryption dictionary sit in the last few KB
_ENCRYPT_REF = re.compile(rb"/Encrypt\s*(?:(\d+)\s+(\d+)\s+R|<<)")
ENCRYPT_DICT_BYTES = 4096  # enough for the encryption dictionary (keys, hashes, crypt filters)
_STANDARD = re.compile(rb"/Filter\s*/Standard\b")
_AES256 = re.compile(rb"/V\s+5\b|/R\s+[56]\b")

MAX_TOP_LEVEL_BOXES = 20_000  # c2pa-rs: ~2.4 s at this count, quadratic beyond
MAX_DIRECTORIES = 256  # IFDs in the chain, or SubIFDs in one array, beyond any real image's
MAX_WALK = 4096  # IFD headers read at most while counting


def _pdf_aes256(path: Path) -> bool:
    with open(path, "rb") as fh:
        fh.seek(0, 2)
        size = fh.tell()
        fh.seek(max(0, size - PDF_TAIL))
        tail = fh.read(PDF_TAIL)
    ref = _ENCRYPT_REF.search(tail)
    if ref is None:
        return False
    if ref.group(1) is None:  # a direct dictionary in the trailer
        span = tail[ref.start() : ref.start() + ENCRYPT_DICT_BYTES]
    else:  # an indirect object: its body, wherever it sits in the tail window
        obj = re.search(rb"(?<!\d)" + ref.group(1) + rb"\s+" + ref.group(2) + rb"\s+obj\b", tail)
        if obj is None:
            return False
        span = tail[obj.end() : obj.end() + ENCRYPT_DICT_BYTES].split(b"endobj", 1)[0]
    return bool(_STANDARD.search(span) and _AES256.search(span))


def _tiff_directories(path: Path) -> int:
    """The largest of: IFDs in the main chain, and SubIFD entries in one of them (loops end the walk)."""
    with open(path, "rb") as fh:
        head = fh.read(8)
        if len(head) < 8 or head[:2] not in (b"II", b"MM"):
            return 0
        bo = "<" if head[:2] == b"II" else ">"
        if struct.unpack(bo + "H", head[2:4])[0] != 42:  # BigTIFF and others: not walked
            return 0
        offset, most = struct.unpack(bo + "I", head[4:8])[0], 0
        seen: set[int] = set()
        while offset and offset not in seen and len(seen) < MAX_WALK:
            seen.add(offset)
            fh.seek(offset)
            raw = fh.read(2)
            if len(raw) < 2:
                break
            count = struct.unpack(bo + "H", raw)[0]
            entries = fh.read(12 * count + 4)
            if len(entries) < 12 * count + 4:
                break
            for n in range(count):
                tag, _, values, _ = struct.unpack(bo + "HHII", entries[12 * n : 12 * n + 12])
                if tag == 330:  # SubIFDs
                    most = max(most, values)
            offset = struct.unpack(bo + "I", entries[-4:])[0]
        return max(most, len(seen))


def costly_structure(path: Path, mime: str) -> str | None:
    """Why exiftool would spend seconds on this file, or None. Read errors are left to the extractors."""
    try:
        if mime == "application/pdf" and _pdf_aes256(path):
            return (
                "PDF encrypted with AES-256: exiftool's decryption takes seconds, so its XMP was read by packet "
                "scanning and its encrypted Info dictionary was not read"
            )
        if mime == "image/tiff" and (n := _tiff_directories(path)) > MAX_DIRECTORIES:
            return (
                f"TIFF with {n} chained or sub-directories: not given to exiftool (seconds); its XMP was read by "
                "packet scanning and its EXIF/IPTC directories were not read"
            )
    except OSError:
        return None
    return None


def _bmff_boxes(path: Path, most: int) -> int:
    """Top-level boxes of an ISO-BMFF file (one whose first box is ftyp), counted up to `most` + 1; 0 otherwise.
    Only box headers are read."""
    count = 0
    with open(path, "rb") as fh:
        head = fh.read(8)
        if len(head) < 8 or head[4:8] != b"ftyp":
            return 0
        fh.seek(0, 2)
        end = fh.tell()
        offset = 0
        while offset + 8 <= end and count <= most:
            fh.seek(offset)
            (size,) = struct.unpack(">I", fh.read(4))
            if size == 1:  # a 64-bit size follows the type
                fh.seek(offset + 8)
                (size,) = struct.unpack(">Q", fh.read(8))
            elif size == 0:  # the box runs to the end of the file
                size = end - offset
            if size < 8:
                break  # malformed: c2pa-rs reports it
            offset += size
            count += 1
    return count


def c2pa_costly(path: Path) -> str | None:
    """Why c2pa-rs would spend seconds (to minutes) on this file, or None. Read errors are left to the reader."""
    try:
        n = _bmff_boxes(path, MAX_TOP_LEVEL_BOXES)
    except (OSError, struct.error):
        return None
    if n > MAX_TOP_LEVEL_BOXES:
        return (
            f"more than {MAX_TOP_LEVEL_BOXES:,} top-level boxes: c2pa-rs takes time quadratic in their number "
            "(minutes), so its C2PA store was not read"
        )
    return None
