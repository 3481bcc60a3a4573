"""Thumbnails for the HTML report: small JPEGs made by ffmpeg, as data: URIs (bounded in count, size and time)."""

from __future__ import annotations

import base64
import subprocess
from collections.abc import Iterable

from .model import Result

MAX_ITEMS = 500
MAX_SOURCE_BYTES = 64 << 20
TIMEOUT = 10.0


def make(results: Iterable[Result], ffmpeg: str = "ffmpeg", limit: int = MAX_ITEMS) -> dict[str, str]:
    """target -> data URI for the first `limit` readable images; an image ffmpeg cannot decode gets none."""
    out: dict[str, str] = {}
    for r in results:
        ev = r.evidence
        if len(out) >= limit:
            break
        if ev.kind != "image" or not 0 < ev.size <= MAX_SOURCE_BYTES or ev.errors and ev.errors[0].source == "input":
            continue
        args = [
            ffmpeg,
            "-v",
            "error",
            "-nostdin",
            "-i",
            ev.target,
            "-frames:v",
            "1",
            "-vf",
            "scale='min(96,iw)':-2",
            "-f",
            "image2pipe",
            "-c:v",
            "mjpeg",
            "-q:v",
            "6",
            "-",
        ]
        try:
            proc = subprocess.run(args, capture_output=True, timeout=TIMEOUT, check=False)
        except (OSError, subprocess.SubprocessError):
            continue
        if proc.returncode == 0 and proc.stdout:
            out[ev.target] = "data:image/jpeg;base64," + base64.b64encode(proc.stdout).decode("ascii")
    return out
