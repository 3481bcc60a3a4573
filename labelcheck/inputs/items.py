"""Targets as items to check: a local file stat'ed, sniffed and hashed, or a remote one fetched to a file first,
with what its response headers said. What goes wrong is the item's input error, never raised."""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from ..model import Signal, ToolError
from . import media
from .targets import GLOB_CHARS

HASH_CHUNK = 1 << 18  # one buffer per item, below the workers' mmap threshold (workers.MMAP_THRESHOLD)


@dataclass
class Item:
    path: Path
    media: media.MediaType
    size: int
    sha256: str | None
    errors: list[ToolError]
    readable: bool
    notes: tuple[str, ...] = ()
    target: str = ""  # how the report names it, when not by its path (a remote item: its URL)
    served: tuple[Signal, ...] = ()  # a remote item: what its response headers said (extract/http.py)
    linked_manifest: tuple[Path, str] | None = None  # a remote item: the manifest its Link header named, fetched


def _sha256(path: Path) -> str:
    """The file's SHA-256, read into one reused buffer (no allocation per chunk)."""
    h, buf = hashlib.sha256(), bytearray(HASH_CHUNK)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as fh:
        while n := fh.readinto(buf):
            h.update(view[:n])
    return h.hexdigest()


def head(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(media.HEAD_BYTES)


def unreadable(path: Path, message: str, mime: str = "application/octet-stream") -> Item:
    return Item(path, media.MediaType(mime, "other"), 0, None, [ToolError("input", message)], False)


def open_item(path: Path, shown: str | None = None) -> Item:
    """Stat and sniff one target (hash_or_error hashes it later, beside its C2PA read); any failure is recorded as
    an input error, never raised. `shown`: the name messages give it (a remote item's URL, not its temporary file)."""
    name = shown or os.fsdecode(path)
    try:
        st = path.stat()
        if stat.S_ISDIR(st.st_mode):  # the walk yields a directory only when it could not list it
            try:
                os.scandir(path).close()
                why = ""
            except OSError as exc:
                why = f" ({exc.strerror or exc})"
            return unreadable(path, f"{name}: directory could not be read{why}", "inode/directory")
        if not stat.S_ISREG(st.st_mode):
            return unreadable(path, f"{name}: not a regular file")
        mt = media.detect(name, head(path))
        if st.st_size == 0:
            return Item(
                path, mt, 0, hashlib.sha256().hexdigest(), [ToolError("input", f"{name}: file is empty")], False
            )
        note = media.name_mismatch(name, mt)
        return Item(path, mt, st.st_size, None, [], True, (note,) if note else ())
    except FileNotFoundError:
        if GLOB_CHARS & set(name):
            return unreadable(path, f"{name}: no file matches this pattern")
        return unreadable(path, f"{name}: no such file (deleted or a broken link?)")
    except OSError as exc:
        return unreadable(path, f"{name}: {exc.strerror or exc}")


def hash_or_error(item: Item) -> str | ToolError:
    try:
        return _sha256(item.path)
    except OSError as exc:  # deleted or made unreadable after it was opened
        return ToolError("input", f"{os.fsdecode(item.path)}: {exc.strerror or exc}")
