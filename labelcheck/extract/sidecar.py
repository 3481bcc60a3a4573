"""Files kept beside a media file that describe it: a C2PA manifest store (NAME.c2pa) and an XMP sidecar
(NAME.xmp, as Adobe Lightroom, Bridge and Capture One write it, or NAME.EXT.xmp, as darktable and digiKam do)."""

from __future__ import annotations

from pathlib import Path

MANIFEST_MAX_BYTES = 64 << 20  # a manifest store read from beside a file or fetched for one (thumbnails and all)


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
