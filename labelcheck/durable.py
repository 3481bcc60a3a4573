"""Durable file writes: a file written or moved here is there whole, or not at all, even across a crash."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def _fsync_dir(d: Path) -> None:
    fd = os.open(d, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, text: str) -> None:
    """Write, fsync, rename, fsync the directory: the file is there whole or not at all."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def move_durably(src: Path, dest_dir: Path) -> Path:
    """Move a file into dest_dir without ever losing it: rename when possible, else copy + fsync + unlink."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / src.name
    n = 1
    while dest.exists():
        dest = dest_dir / f"{src.stem}-{n}{src.suffix}"
        n += 1
    try:
        os.rename(src, dest)
    except OSError:  # another file system
        tmp = dest.with_name(f".{dest.name}.tmp{os.getpid()}")
        with open(src, "rb") as fi, open(tmp, "wb") as fo:
            shutil.copyfileobj(fi, fo, 1 << 20)
            fo.flush()
            os.fsync(fo.fileno())
        os.replace(tmp, dest)
        _fsync_dir(dest_dir)  # the copy is durable before the original goes
        src.unlink()
    else:
        _fsync_dir(dest_dir)
    _fsync_dir(src.parent)
    return dest
