"""Thumbnails for the HTML report: small JPEGs made by ffmpeg, as data: URIs (bounded in count, size and time).

ffmpeg's start-up costs more than decoding a small image (~0.08 s of 0.1 s), so one ffmpeg process makes the
thumbnails of several images, and as many such processes run at once as there are cores. Identical files (same
SHA-256) share one thumbnail. HEIC, HEIF and AVIF, which this ffmpeg does not read as images, are decoded first by
libheif's heif-convert (Debian libheif-examples) when it is installed.

Hostile or merely huge pictures: a picture's size is read from its header before anything decodes it. A JPEG is
decoded at 1/2, 1/4 or 1/8 of its size (-lowres) when that is enough for a thumbnail; a picture that would still
decode to more than MAX_PIXELS (PNG, GIF, WebP, TIFF, BMP and HEIF have no reduced decoding; a progressive JPEG holds
its coefficients at full size) gets a note instead of a thumbnail. ffmpeg processes are filled up to MAX_PIXELS, not
only to GROUP images, and refuse larger frames themselves (-max_pixels, -max_alloc); every decoder runs with at most
FFMPEG_MEMORY / HEIF_MEMORY bytes of address space, set by the shell that starts it (in force before its first
allocation, and no preexec_fn in the pool's threads), and within TIMEOUT seconds per image.
"""

from __future__ import annotations

import base64
import itertools
import os
import re
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..inputs.targets import is_remote
from ..model import Evidence, Result

MAX_ITEMS = 500  # thumbnails per report: the first images
MAX_SOURCE_BYTES = 64 << 20
TIMEOUT = 10.0  # seconds per image
GROUP = 8  # images per ffmpeg process
MAX_ALLOC = 256 << 20  # ffmpeg refuses any larger single allocation (a decompression bomb's frame)
MAX_PIXELS = 40_000_000  # decoded per picture, and per ffmpeg process (8K UHD is 33 MP; ~4.5 bytes a pixel in ffmpeg)
FFMPEG_MEMORY = 1 << 30  # bytes of address space for one ffmpeg (it maps ~250 MB of libraries before decoding)
THUMB_WIDTH = 96
INT_MAX = (1 << 31) - 1  # ffmpeg's option values
SCALE = f"scale='min({THUMB_WIDTH},iw)':-2"
# Demuxers named by media type: ffmpeg then neither probes nor reads a file name as a sequence pattern (a name with
# "%d" in it would otherwise be looked for as img1, img2, ...); other types are probed.
DEMUXERS = {
    "image/jpeg": "jpeg_pipe",
    "image/png": "png_pipe",
    "image/webp": "webp_pipe",
    "image/gif": "gif",
    "image/tiff": "tiff_pipe",
    "image/bmp": "bmp_pipe",
}
HEIF_TYPES = frozenset({"image/heic", "image/heif", "image/avif"})
HEIF_CONVERT = "heif-convert"
HEIF_MEMORY = 1 << 30  # bytes of address space for heif-convert
OUT_OF_MEMORY = "Cannot allocate memory"  # ffmpeg's words for ENOMEM (its memory cap, or -max_alloc)
_STREAM = re.compile(r"(?:decoding stream #|input stream )(\d+):\d+")  # ffmpeg naming the input it failed on


def _wanted(ev: Evidence) -> bool:
    readable = not (ev.errors and ev.errors[0].source == "input")
    local = not is_remote(ev.target)  # a remote item's file went with its batch
    return ev.kind == "image" and 0 < ev.size <= MAX_SOURCE_BYTES and readable and local


# ---------------------------------------------------------------- sizes from headers (nothing decoded)


@dataclass(frozen=True)
class Header:
    width: int
    height: int
    depth: int = 8  # bits a sample (a 16-bit PNG decodes to twice the bytes)
    scalable: bool = False  # a sequential JPEG: ffmpeg can decode it at 1/2, 1/4 or 1/8 size (-lowres)


def _png(f: BinaryIO, head: bytes) -> Header | None:
    if head[12:16] != b"IHDR" or len(head) < 25:
        return None
    w, h = struct.unpack(">II", head[16:24])
    return Header(w, h, head[24])


def _jpeg(f: BinaryIO, head: bytes) -> Header | None:
    """The first frame header (SOFn) after the segments before it (APPn: Exif, ICC, XMP; tables), by their lengths."""
    f.seek(2)
    for _ in range(1000):
        marker = f.read(2)
        while marker[1:] == b"\xff":  # fill bytes
            marker = marker[1:] + f.read(1)
        if len(marker) < 2 or marker[0] != 0xFF or marker[1] in (0xD9, 0xDA):  # not a marker, EOI, scan before SOF
            return None
        if marker[1] == 0x01 or 0xD0 <= marker[1] <= 0xD8:  # no length
            continue
        seg = f.read(7)
        if len(seg) < 2:
            return None
        length = int.from_bytes(seg[:2], "big")
        if 0xC0 <= marker[1] <= 0xCF and marker[1] not in (0xC4, 0xC8, 0xCC):  # SOF0-15 (not DHT, JPG, DAC)
            if len(seg) < 7:
                return None
            h, w = struct.unpack(">HH", seg[3:7])
            return Header(w, h, seg[2], scalable=marker[1] in (0xC0, 0xC1)) if h else None  # 0: height set later
        if length < 2:
            return None
        f.seek(length - len(seg), os.SEEK_CUR)  # to the segment's end
    return None


def _webp(f: BinaryIO, head: bytes) -> Header | None:
    chunk = head[12:16]
    if chunk == b"VP8 " and head[23:26] == b"\x9d\x01\x2a":
        w, h = struct.unpack("<HH", head[26:30])
        return Header(w & 0x3FFF, h & 0x3FFF)
    if chunk == b"VP8L" and head[20:21] == b"\x2f":
        bits = int.from_bytes(head[21:25], "little")
        return Header((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if chunk == b"VP8X" and len(head) >= 30:
        return Header(int.from_bytes(head[24:27], "little") + 1, int.from_bytes(head[27:30], "little") + 1)
    return None


def _tiff(f: BinaryIO, head: bytes) -> Header | None:
    """ImageWidth (256) and ImageLength (257) of the first directory: the picture ffmpeg decodes."""
    order = "<" if head[:2] == b"II" else ">"
    f.seek(struct.unpack(order + "I", head[4:8])[0])
    count = f.read(2)
    if len(count) < 2:
        return None
    n = min(struct.unpack(order + "H", count)[0], 4096)
    entries = f.read(12 * n)
    size: dict[int, int] = {}
    for i in range(0, len(entries) - 11, 12):
        tag, kind = struct.unpack(order + "HH", entries[i : i + 4])
        if tag in (256, 257) and kind in (3, 4):  # SHORT or LONG
            value = entries[i + 8 : i + (10 if kind == 3 else 12)]
            size[tag] = struct.unpack(order + ("H" if kind == 3 else "I"), value)[0]
    return Header(size[256], size[257]) if len(size) == 2 else None


def _heif(f: BinaryIO, head: bytes) -> Header | None:
    """The largest image spatial extent (ispe) in the top-level meta box: the primary image's (a grid's whole, not a
    tile's), or a larger one, never a smaller."""
    f.seek(0)
    for _ in range(64):
        box = f.read(16)
        if len(box) < 8:
            return None
        size, kind = struct.unpack(">I4s", box[:8])
        start = f.tell() - len(box)
        if size == 1 and len(box) == 16:
            size = struct.unpack(">Q", box[8:16])[0]
        if kind == b"meta":
            f.seek(start)
            meta = f.read(min(size or (1 << 20), 1 << 20))
            found = [struct.unpack(">II", meta[i + 8 : i + 16]) for i in _all(meta, b"ispe") if i + 16 <= len(meta)]
            return Header(*max(found, key=lambda wh: wh[0] * wh[1])) if found else None
        if size < 8:
            return None
        f.seek(start + size)
    return None


def _all(data: bytes, word: bytes) -> list[int]:
    out, at = [], data.find(word)
    while at >= 0:
        out.append(at)
        at = data.find(word, at + 1)
    return out


def header(path: str) -> Header | None:
    """A picture's size as its header gives it (by its magic bytes); None when this cannot tell."""
    try:
        with open(path, "rb") as f:
            head = f.read(32)
            if head.startswith(b"\x89PNG\r\n\x1a\n"):
                return _png(f, head)
            if head.startswith(b"\xff\xd8"):
                return _jpeg(f, head)
            if head[:6] in (b"GIF87a", b"GIF89a") and len(head) >= 10:
                return Header(*struct.unpack("<HH", head[6:10]))
            if head[:2] == b"BM" and len(head) >= 26:
                if int.from_bytes(head[14:18], "little") == 12:  # OS/2 BITMAPCOREHEADER
                    return Header(*struct.unpack("<HH", head[18:22]))
                w, h = struct.unpack("<ii", head[18:26])
                return Header(abs(w), abs(h))
            if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
                return _webp(f, head)
            if head[:4] in (b"II*\x00", b"MM\x00*"):
                return _tiff(f, head)
            if head[4:8] == b"ftyp":
                return _heif(f, head)
    except (OSError, struct.error, ValueError):
        pass
    return None


def dimensions(path: str) -> tuple[int, int] | None:
    h = header(path)
    return (h.width, h.height) if h else None


@dataclass(frozen=True)
class Plan:
    """How one picture is decoded: the pixels it decodes to (None: size unknown), at which -lowres, or why not."""

    pixels: int | None
    lowres: int = 0
    note: str | None = None


def plan(path: str, media_type: str) -> Plan:
    h = header(path)
    if h is None or h.width <= 0 or h.height <= 0:
        return Plan(None)
    full = h.width * h.height * (2 if h.depth > 8 and media_type == "image/png" else 1)
    lowres = 0
    if h.scalable and media_type == "image/jpeg":  # as small as still gives twice the thumbnail's width
        while lowres < 3 and h.width >> (lowres + 1) >= 2 * THUMB_WIDTH:
            lowres += 1
    pixels = -(-h.width >> lowres) * -(-h.height >> lowres) if lowres else full
    if pixels > MAX_PIXELS:
        why = "a progressive JPEG: no reduced decoding" if media_type == "image/jpeg" and not h.scalable else ""
        note = (
            f"no thumbnail: {h.width}×{h.height} ({h.width * h.height / 1e6:.0f} MP) is more than the "
            f"{MAX_PIXELS / 1e6:.0f} MP decoded for one{' (' + why + ')' if why else ''}"
        )
        return Plan(pixels, lowres, note)
    return Plan(pixels, lowres)


def groups(targets: list[str], pixels: dict[str, int | None]) -> list[list[str]]:
    """`targets` in runs of at most GROUP pictures and MAX_PIXELS decoded pixels. A picture of unknown size (a
    format whose header is not read here, or a broken file) counts as a GROUP-th of the budget: a group of them that
    is in fact larger fails against the process's memory cap, and the retries decode the others."""
    out: list[list[str]] = []
    total = MAX_PIXELS + 1
    for t in targets:
        cost = pixels.get(t)
        cost = MAX_PIXELS // GROUP if cost is None else cost
        if not out or len(out[-1]) >= GROUP or total + cost > MAX_PIXELS:
            out.append([])
            total = 0
        out[-1].append(t)
        total += cost
    return out


def _bounded(args: list[str], memory: int) -> list[str]:
    """`args` run by a shell that first caps the address space (RLIMIT_AS) at `memory` bytes, then execs them: the
    cap holds from the program's first instruction, and nothing runs in the forked child of a threaded Python.
    Where the cap cannot be set, the program does not run."""
    return ["/bin/sh", "-c", f'ulimit -v {memory >> 10} && exec "$0" "$@"', *args]


# ---------------------------------------------------------------- decoding


def _decoded(target: str, tmp: Path, n: int) -> str | None:
    """A HEIF-family image as a JPEG that ffmpeg reads (its path), by heif-convert within time and memory bounds."""
    out = tmp / f"heif-{n}.jpg"
    args = _bounded([HEIF_CONVERT, "-q", "85", target, str(out)], HEIF_MEMORY)
    try:
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    except OSError:
        return None
    try:
        ok = proc.wait(TIMEOUT) == 0
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None
    return str(out) if ok and out.is_file() and out.stat().st_size > 0 else None


def _run(
    targets: list[str], types: dict[str, str], ffmpeg: str, lowres: dict[str, int]
) -> tuple[dict[str, str], str | None]:
    """One ffmpeg process for `targets`: target -> data URI for each image it made, and its error output (None when
    it ran out of time: then nothing it wrote is trusted)."""
    with tempfile.TemporaryDirectory(prefix="labelcheck-thumbs-") as tmp:
        args = [ffmpeg, "-v", "error", "-nostdin", "-max_alloc", str(MAX_ALLOC), "-filter_threads", "1"]
        for target in targets:
            demuxer = DEMUXERS.get(types[target])
            k = lowres.get(target, 0)  # the decoder checks the full size against max_pixels, before reducing it
            limit = min(MAX_PIXELS << (2 * k), INT_MAX)
            args += [*(("-lowres", str(k)) if k else ()), "-max_pixels", str(limit)]
            args += [*(("-f", demuxer) if demuxer else ()), "-threads", "1", "-i", f"file:{target}"]
        for n in range(len(targets)):
            args += ["-map", f"{n}:v:0", "-frames:v", "1", "-vf", SCALE, "-threads", "1"]
            args += ["-c:v", "mjpeg", "-q:v", "6", "-f", "image2pipe", os.path.join(tmp, f"{n}.jpg")]
        try:
            proc = subprocess.run(
                _bounded(args, FFMPEG_MEMORY), capture_output=True, timeout=TIMEOUT * len(targets), check=False
            )
        except subprocess.TimeoutExpired:
            return {}, None
        except OSError:
            return {}, ""
        out = {}
        for n, target in enumerate(targets):  # an output is written whole once its frame is encoded
            jpeg = Path(tmp, f"{n}.jpg")
            if jpeg.is_file() and jpeg.stat().st_size > 0:
                out[target] = "data:image/jpeg;base64," + base64.b64encode(jpeg.read_bytes()).decode("ascii")
        failed = proc.returncode or len(out) < len(targets)  # ffmpeg exits 0 when a decoder failed (e.g. ENOMEM)
        return out, f"exit {proc.returncode}: {proc.stderr.decode('utf-8', 'replace')}" if failed else ""


def _named(targets: list[str], errors: str) -> set[str]:
    """The inputs ffmpeg's error output blames: by name (cannot open) or by input index (cannot decode)."""
    indices = {int(n) for n in _STREAM.findall(errors)}
    return {t for n, t in enumerate(targets) if f"file:{t}: " in errors or n in indices}


def _made(targets: list[str], types: dict[str, str], ffmpeg: str, lowres: dict[str, int]) -> dict[str, str]:
    """target -> data URI for the images of `targets` ffmpeg can decode. When one image fails the process, the
    images it did not make are tried again: without the inputs ffmpeg named as unreadable, or one at a time (after
    a timeout, or when the group outgrew the memory cap: pictures of unknown size)."""
    out, errors = _run(targets, types, ffmpeg, lowres)
    if errors == "" or len(targets) == 1:
        return out
    left = [t for t in targets if t not in out]
    if errors is None or OUT_OF_MEMORY in errors:
        retries = [[t] for t in left]
    else:
        named = _named(targets, errors)
        left = [t for t in left if t not in named]
        retries = [left] if left and (out or named) else [[t] for t in left]
    for group in retries:
        out.update(_made(group, types, ffmpeg, lowres))
    return out


def make(results: Iterable[Result], ffmpeg: str = "ffmpeg", limit: int = MAX_ITEMS) -> dict[str, str]:
    """target -> a data URI for the first `limit` images, or a note (text, not a URI) saying why a picture has none
    when it is too large to decode for one; an image ffmpeg cannot decode gets neither."""
    exe = shutil.which(ffmpeg)
    if exe is None:  # the shell that caps its memory would report a missing ffmpeg only as an exit status
        return {}
    same: dict[str, list[str]] = {}  # one source per content: its targets
    types: dict[str, str] = {}
    images = (r.evidence for r in results if _wanted(r.evidence))
    for ev in itertools.islice(images, limit):
        same.setdefault(ev.sha256 or ev.target, []).append(ev.target)
        types[ev.target] = ev.media_type
    sources = [targets[0] for targets in same.values()]
    made: dict[str, str] = {}
    with (
        ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool,
        tempfile.TemporaryDirectory(prefix="labelcheck-heif-") as tmp,
    ):
        plans = dict(zip(sources, pool.map(lambda t: plan(t, types[t]), sources), strict=True))
        made.update({t: p.note for t, p in plans.items() if p.note})
        sources = [t for t in sources if not plans[t].note]
        heif = [t for t in sources if types[t] in HEIF_TYPES] if shutil.which(HEIF_CONVERT) else []
        jpegs = dict(zip(heif, pool.map(lambda nt: _decoded(nt[1], Path(tmp), nt[0]), enumerate(heif)), strict=True))
        # what ffmpeg reads -> the source it stands for: a decoded HEIF's JPEG, or the source itself
        source_of = {t: s for s in sources if (t := jpegs.get(s, s))}  # an undecodable HEIF: no thumbnail
        types.update({t: "image/jpeg" for t, s in source_of.items() if t != s})
        decoded = [t for t in jpegs.values() if t]
        plans.update(zip(decoded, pool.map(lambda t: plan(t, "image/jpeg"), decoded), strict=True))
        inputs = [t for t in source_of if not plans[t].note]  # a HEIF's JPEG is decoded at reduced size (or not)
        made.update({source_of[t]: note for t in source_of if (note := plans[t].note)})
        lowres = {t: plans[t].lowres for t in inputs}
        batches = groups(inputs, {t: plans[t].pixels for t in inputs})
        for part in pool.map(lambda group: _made(group, types, exe, lowres), batches):
            made.update({source_of[k]: v for k, v in part.items()})
    return {t: made[targets[0]] for targets in same.values() if targets[0] in made for t in targets}
