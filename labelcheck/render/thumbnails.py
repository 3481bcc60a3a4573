"""Thumbnails for the HTML report: small JPEGs made by ffmpeg, as data: URIs (bounded in count, size and time).

ffmpeg's start-up costs more than decoding a small image (~0.08 s of 0.1 s), so one ffmpeg process makes the
thumbnails of several images, and as many such processes run at once as there are cores. Identical files (same
SHA-256) share one thumbnail. HEIC, HEIF and AVIF, which this ffmpeg does not read as images, are decoded first by
libheif's heif-convert (Debian libheif-examples) when it is installed.
"""

from __future__ import annotations

import base64
import itertools
import os
import re
import resource
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..inputs.targets import is_remote
from ..model import Evidence, Result

MAX_ITEMS = 500  # thumbnails per report: the first images
MAX_SOURCE_BYTES = 64 << 20
TIMEOUT = 10.0  # seconds per image
GROUP = 8  # images per ffmpeg process
MAX_ALLOC = 256 << 20  # ffmpeg refuses any larger single allocation (a decompression bomb's frame)
SCALE = "scale='min(96,iw)':-2"
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
HEIF_MEMORY = 2 << 30  # bytes of address space for heif-convert
_STREAM = re.compile(r"(?:decoding stream #|input stream )(\d+):\d+")  # ffmpeg naming the input it failed on


def _wanted(ev: Evidence) -> bool:
    readable = not (ev.errors and ev.errors[0].source == "input")
    local = not is_remote(ev.target)  # a remote item's file went with its batch
    return ev.kind == "image" and 0 < ev.size <= MAX_SOURCE_BYTES and readable and local


def _decoded(target: str, tmp: Path, n: int) -> str | None:
    """A HEIF-family image as a JPEG that ffmpeg reads (its path), by heif-convert within time and memory bounds."""
    out = tmp / f"heif-{n}.jpg"
    try:
        proc = subprocess.Popen(
            [HEIF_CONVERT, "-q", "85", target, str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
    except OSError:
        return None
    try:
        resource.prlimit(proc.pid, resource.RLIMIT_AS, (HEIF_MEMORY, HEIF_MEMORY))
    except (OSError, ValueError):  # pragma: no cover - gone already, or no prlimit
        pass
    try:
        ok = proc.wait(TIMEOUT) == 0
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None
    return str(out) if ok and out.is_file() and out.stat().st_size > 0 else None


def _run(targets: list[str], types: dict[str, str], ffmpeg: str) -> tuple[dict[str, str], str | None]:
    """One ffmpeg process for `targets`: target -> data URI for each image it made, and its error output (None when
    it ran out of time: then nothing it wrote is trusted)."""
    with tempfile.TemporaryDirectory(prefix="labelcheck-thumbs-") as tmp:
        args = [ffmpeg, "-v", "error", "-nostdin", "-max_alloc", str(MAX_ALLOC), "-filter_threads", "1"]
        for target in targets:
            demuxer = DEMUXERS.get(types[target])
            args += [*(("-f", demuxer) if demuxer else ()), "-threads", "1", "-i", f"file:{target}"]
        for n in range(len(targets)):
            args += ["-map", f"{n}:v:0", "-frames:v", "1", "-vf", SCALE, "-threads", "1"]
            args += ["-c:v", "mjpeg", "-q:v", "6", "-f", "image2pipe", os.path.join(tmp, f"{n}.jpg")]
        try:
            proc = subprocess.run(args, capture_output=True, timeout=TIMEOUT * len(targets), check=False)
        except subprocess.TimeoutExpired:
            return {}, None
        except OSError:
            return {}, ""
        out = {}
        for n, target in enumerate(targets):  # an output is written whole once its frame is encoded
            jpeg = Path(tmp, f"{n}.jpg")
            if jpeg.is_file() and jpeg.stat().st_size > 0:
                out[target] = "data:image/jpeg;base64," + base64.b64encode(jpeg.read_bytes()).decode("ascii")
        return out, f"exit {proc.returncode}: {proc.stderr.decode('utf-8', 'replace')}" if proc.returncode else ""


def _named(targets: list[str], errors: str) -> set[str]:
    """The inputs ffmpeg's error output blames: by name (cannot open) or by input index (cannot decode)."""
    indices = {int(n) for n in _STREAM.findall(errors)}
    return {t for n, t in enumerate(targets) if f"file:{t}: " in errors or n in indices}


def _made(targets: list[str], types: dict[str, str], ffmpeg: str) -> dict[str, str]:
    """target -> data URI for the images of `targets` ffmpeg can decode. When one image fails the process, the
    images it did not make are tried again: without the inputs ffmpeg named as unreadable, or one at a time."""
    out, errors = _run(targets, types, ffmpeg)
    if errors == "" or len(targets) == 1:
        return out
    named = set() if errors is None else _named(targets, errors)
    left = [t for t in targets if t not in out and t not in named]
    retries = [left] if left and (out or named) and errors is not None else [[t] for t in left]
    for group in retries:
        out.update(_made(group, types, ffmpeg))
    return out


def make(results: Iterable[Result], ffmpeg: str = "ffmpeg", limit: int = MAX_ITEMS) -> dict[str, str]:
    """target -> data URI for the first `limit` images; an image ffmpeg cannot decode gets none."""
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
        heif = [t for t in sources if types[t] in HEIF_TYPES] if shutil.which(HEIF_CONVERT) else []
        jpegs = dict(zip(heif, pool.map(lambda nt: _decoded(nt[1], Path(tmp), nt[0]), enumerate(heif)), strict=True))
        # what ffmpeg reads -> the source it stands for: a decoded HEIF's JPEG, or the source itself
        source_of = {t: s for s in sources if (t := jpegs.get(s, s))}  # an undecodable HEIF: no thumbnail
        types.update({t: "image/jpeg" for t, s in source_of.items() if t != s})
        inputs = list(source_of)
        groups = [inputs[i : i + GROUP] for i in range(0, len(inputs), GROUP)]
        for part in pool.map(lambda group: _made(group, types, ffmpeg), groups):
            made.update({source_of[k]: v for k, v in part.items()})
    return {t: made[targets[0]] for targets in same.values() if targets[0] in made for t in targets}
