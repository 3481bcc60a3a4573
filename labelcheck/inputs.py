"""Expand the user's paths into file targets lazily: files as given, directories walked in sorted order."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from . import media

SKIP_SUFFIXES = (".c2pa",)  # sidecar manifests are read with their asset, not as items


def expand(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """Absolute paths of the files to check; a missing path is yielded too, so it is reported, not dropped."""
    for raw in paths:
        p = Path(os.path.abspath(os.fsdecode(raw)))
        if p.is_dir():
            yield from _walk(p)
        else:
            yield p


def _looks_like_media(path: str) -> bool:
    """In a directory walk only media are items (by content, or by name when the content cannot be read)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(media.HEAD_BYTES)
    except OSError:
        return True  # unreadable: report it rather than drop it
    return media.detect(path, head).kind != "other"


def _walk(root: Path) -> Iterator[Path]:
    seen: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        d = stack.pop()
        try:
            st = d.stat()
        except OSError:
            yield d
            continue
        if (st.st_dev, st.st_ino) in seen:  # a symlink loop
            continue
        seen.add((st.st_dev, st.st_ino))
        try:
            entries = sorted(os.scandir(d), key=lambda e: e.name)
        except OSError:
            yield d  # unreadable directory: reported as an item error
            continue
        subdirs = []
        for e in entries:
            if e.name.startswith("."):
                continue
            try:
                is_dir = e.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                subdirs.append(Path(e.path))
            elif not e.name.endswith(SKIP_SUFFIXES) and _looks_like_media(e.path):
                yield Path(e.path)
        stack.extend(reversed(subdirs))
