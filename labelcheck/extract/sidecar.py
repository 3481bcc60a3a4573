"""Files kept beside a media file that describe it: a C2PA manifest store (NAME.c2pa) and an XMP sidecar
(NAME.xmp, as Adobe Lightroom, Bridge, Premiere and Capture One write it, or NAME.EXT.xmp, as darktable and digiKam
do; XMP Specification Part 3). An XMP sidecar's labels describe the file but do not travel with it: its signals are
marked as the sidecar's (vocab.SIDECAR_SOURCE), and what they weigh is decided in classify/classification.py."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from ..classify.vocab import SIDECAR_SOURCE
from ..model import Signal, ToolError
from .tags import signals_from_exiftool

MANIFEST_MAX_BYTES = 64 << 20  # a manifest store read from beside a file or fetched for one (thumbnails and all)
XMP_MAX_BYTES = 16 << 20  # an XMP sidecar (a few KB in practice; exiftool reads it whole)
XMP_MIME = "application/rdf+xml"


def beside(path: Path, suffix: str) -> Path | None:
    """The file NAME`suffix` or NAME.EXT`suffix` next to `path` (the suffix in lower or upper case), if one is
    there. A name the file system cannot hold (the media file's own name is near its length limit) is none."""
    for ending in (suffix, suffix.upper()):
        for candidate in (path.with_suffix(ending), path.with_name(path.name + ending)):
            try:
                if candidate != path and candidate.is_file():
                    return candidate
            except (OSError, ValueError):  # ENAMETOOLONG; a name with a NUL byte
                continue
    return None


def xmp_sidecar(path: Path) -> tuple[Path | None, str | None]:
    """The XMP sidecar to read for `path` (None: there is none, or it is too large), and the note to give when
    one is there but not read."""
    found = beside(path, ".xmp")
    if found is None:
        return None, None
    try:
        size = found.stat().st_size
    except OSError as exc:
        return None, f"XMP sidecar {found.name} could not be read: {exc.strerror or exc}"
    if size > XMP_MAX_BYTES:
        return None, f"XMP sidecar {found.name} is larger than {XMP_MAX_BYTES >> 20} MB: not read"
    return found, None


def xmp_signals(sidecar: Path, answer: dict[str, Any] | ToolError) -> tuple[list[Signal], str | None]:
    """The labelling signals in an XMP sidecar's tags, each marked as the sidecar's, and the item's note on it."""
    if isinstance(answer, ToolError):
        return [], f"XMP sidecar {sidecar.name} could not be read: {answer.message}"
    if answer.get("File:FileType") != "XMP":
        return [], f"XMP sidecar {sidecar.name} is not XMP (exiftool reads it as {answer.get('File:FileType', '?')})"
    signals = [replace(s, source=SIDECAR_SOURCE, key=f"{sidecar.name}:{s.key}") for s in signals_from_exiftool(answer)]
    if not signals:
        warning = answer.get("ExifTool:Warning")
        return [], f"XMP sidecar {sidecar.name} could not be read: {warning}" if warning else None
    return signals, f"XMP sidecar {sidecar.name} read: its labels describe this file but do not travel with it"
