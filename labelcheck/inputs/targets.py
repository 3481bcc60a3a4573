"""Expand the user's targets into files lazily: files as given, globs, lists, directories walked in sorted order."""

from __future__ import annotations

import fnmatch
import glob
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from . import media

SKIP_SUFFIXES = (".c2pa", ".xmp")  # sidecars (any case) are read with their asset, not as items


GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True)
class Remote:
    """A media item behind an http(s) URL: the worker that checks it fetches it (streams.fetch.download)."""

    url: str

    def __fspath__(self) -> str:  # reports and messages name it by its URL
        return self.url


Target = Path | Remote


def is_remote(name: str) -> bool:
    """An http(s) URL (the scheme in any case, as URLs allow), not a path. A malformed one (an unclosed IPv6
    bracket) is still a URL: its fetch refuses it as the item's error."""
    try:
        parts = urlsplit(name)
    except ValueError:
        return name[:8].lower().startswith(("http://", "https://"))
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def target(name: str) -> Target:
    """A target sent by name (to a Dask worker) as it was: a URL or a path."""
    return Remote(name) if is_remote(name) else Path(name)


def expand(
    paths: Iterable[str | os.PathLike[str]], include: tuple[str, ...] = (), exclude: tuple[str, ...] = ()
) -> Iterator[Target]:
    """Absolute paths of the files to check, and the URLs of remote items; a missing path, or a glob that matches
    nothing, is yielded too, so that it is reported, not dropped.

    A target that does not exist but holds glob characters is a glob (`**` recurses). `include`/`exclude`
    are fnmatch patterns on the file name or the whole path, applied to files found by walking or globbing.
    """
    for raw in paths:
        name = os.fsdecode(raw)
        if is_remote(name):
            yield Remote(name)
            continue
        p = Path(os.path.abspath(name))
        if p.is_dir():
            yield from (f for f in _walk(p) if _selected(f, include, exclude))
        elif _globbed(name, p):
            matched = False
            for hit in sorted(glob.iglob(name, recursive=True)):
                matched = True
                hp = Path(os.path.abspath(hit))
                found = _walk(hp) if hp.is_dir() else iter([hp])
                yield from (f for f in found if _selected(f, include, exclude))
            if not matched:
                yield p  # reported ("no file matches"): a CI gate pointed at the wrong place must not pass
        else:
            yield p


def _globbed(name: str, p: Path) -> bool:
    """A target that does not exist but holds glob characters is a glob."""
    return not p.exists() and bool(GLOB_CHARS & set(name))


def count_items(targets: Iterable[str | os.PathLike[str]]) -> int | None:
    """How many items `expand` makes of `targets` when each makes exactly one (a URL, a file, a missing path); None
    as soon as one is a directory or a glob, whose items are known only by walking it."""
    n = 0
    for raw in targets:
        name = os.fsdecode(raw)
        if not is_remote(name):
            p = Path(os.path.abspath(name))
            if p.is_dir() or _globbed(name, p):
                return None
        n += 1
    return n


def as_typed(typed: Iterable[str | os.PathLike[str]]) -> Callable[[str], str]:
    """A function naming each target `expand` makes of `typed` as the user typed it, for a person to read.

    Targets stay absolute (workers elsewhere open them, --resume matches them, JSON reports name them so); a table
    names `a.jpg` as `a.jpg`, a file found in `media/` as `media/x.jpg`, and keeps an absolute argument absolute.
    A file a relative glob found is named relative to the working directory; a URL, or anything else, as it is."""
    roots: dict[str, str] = {}  # absolute path -> as typed
    relative_glob = False
    for raw in typed:
        name = os.fsdecode(raw)
        if is_remote(name):
            continue
        p = os.path.abspath(name)
        if _globbed(name, Path(p)):
            relative_glob |= not os.path.isabs(name)
        else:
            roots.setdefault(p, name)

    def shown(target: str) -> str:
        probe = target
        while True:  # the deepest typed directory (or the file itself) that holds the target
            if probe in roots:
                rest = target[len(probe) :].lstrip(os.sep)
                return os.path.join(roots[probe], rest) if rest else roots[probe]
            parent = os.path.dirname(probe)
            if parent == probe:
                break
            probe = parent
        return os.path.relpath(target) if relative_glob and os.path.isabs(target) else target

    return shown


def from_list(stream: Iterable[str]) -> Iterator[str]:
    """Targets from a list, one per line (blank lines and # comments skipped), read lazily."""
    for line in stream:
        target = line.rstrip("\r\n")
        if target.strip() and not target.lstrip().startswith("#"):
            yield target


def _selected(path: Path, include: tuple[str, ...], exclude: tuple[str, ...]) -> bool:
    def hit(patterns: tuple[str, ...]) -> bool:
        return any(fnmatch.fnmatch(path.name, pat) or fnmatch.fnmatch(str(path), pat) for pat in patterns)

    return (not include or hit(include)) and not hit(exclude)


def _looks_like_media(path: str) -> bool:
    """In a directory walk only media are items (by content, or by name when the content cannot be read)."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return True  # a FIFO, socket or device is never opened: it is reported as not a regular file
        with open(path, "rb") as fh:
            head = fh.read(media.HEAD_BYTES)
    except OSError:
        return True  # unreadable or a broken link: report it rather than drop it
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
            elif not e.name.lower().endswith(SKIP_SUFFIXES) and _looks_like_media(e.path):
                yield Path(e.path)
        stack.extend(reversed(subdirs))
