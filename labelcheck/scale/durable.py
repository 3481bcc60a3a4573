"""Durable file writes: a file written or moved here is there whole, or not at all, even across a crash."""

from __future__ import annotations

import os
import shutil
import tempfile
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
    """Move a file into dest_dir without ever losing it: rename when possible, else copy + fsync + unlink. A name
    taken there gets a number (its stem shortened so that the name stays within the file system's limit)."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / src.name
    n = 1
    while dest.exists():
        dest = dest_dir / f"{src.stem[:200]}-{n}{src.suffix[:32]}"
        n += 1
    try:
        os.rename(src, dest)
    except OSError:  # another file system
        fd, name = tempfile.mkstemp(prefix=".labelcheck-", suffix=".tmp", dir=dest_dir)  # short whatever src's name
        tmp = Path(name)
        try:
            with open(src, "rb") as fi, os.fdopen(fd, "wb") as fo:
                shutil.copyfileobj(fi, fo, 1 << 20)
                fo.flush()
                os.fsync(fo.fileno())
            os.replace(tmp, dest)
        except BaseException:
            tmp.unlink(missing_ok=True)  # the original is still where it was
            raise
        _fsync_dir(dest_dir)  # the copy is durable before the original goes
        src.unlink()
    else:
        _fsync_dir(dest_dir)
    _fsync_dir(src.parent)
    return dest
