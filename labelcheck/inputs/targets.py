"""Expand the user's targets into files lazily: files as given, globs, lists, directories walked in sorted order."""

from __future__ import annotations

import fnmatch
import os
import stat
from collections import deque
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

    What one directory or glob finds holds each real file once and enters each directory once, by device and inode,
    so that a symbolic link loop ends (_walk says how links are followed). Targets named one by one are not merged:
    a file named twice is checked twice. A path that cannot be looked at (a folder on the way that may not be
    entered) is yielded as it is, and reported ("Permission denied"), like a missing one.
    """
    for raw in paths:
        name = os.fsdecode(raw)
        if is_remote(name):
            yield Remote(name)
            continue
        p = Path(os.path.abspath(name))
        if os.path.isdir(p):  # os.path, not Path: False (not PermissionError) for a path nobody may look at
            yield from (f for f in _walk(p, _Seen()) if _selected(f, include, exclude))
        elif _globbed(name, p):
            hits = _glob(name)
            yield from (f for f in _globbed_files(hits) if _selected(f, include, exclude))
            if not hits:
                yield p  # reported ("no file matches"): a CI gate pointed at the wrong place must not pass
        else:
            yield p


def _globbed(name: str, p: Path) -> bool:
    """A target that does not exist (or cannot be looked at) but holds glob characters is a glob."""
    return not os.path.exists(p) and bool(GLOB_CHARS & set(name))


def count_items(targets: Iterable[str | os.PathLike[str]]) -> int | None:
    """How many items `expand` makes of `targets` when each makes exactly one (a URL, a file, a missing path); None
    as soon as one is a directory or a glob, whose items are known only by walking it."""
    n = 0
    for raw in targets:
        name = os.fsdecode(raw)
        if not is_remote(name):
            p = Path(os.path.abspath(name))
            if os.path.isdir(p) or _globbed(name, p):
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


Key = tuple[int, int]  # (device, inode): one real file or directory, whatever names lead to it


def _key(path: str | Path) -> Key | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


class _Seen:
    """What one directory or glob target has found so far: the directories walked and the files yielded."""

    def __init__(self) -> None:
        self.dirs: set[Key] = set()
        self.files: set[Key] = set()

    def new_file(self, path: str | Path) -> bool:
        """True the first time a real file is met; a path that cannot be stat'ed is always new (it is reported)."""
        key = _key(path)
        if key is None:
            return True
        if key in self.files:
            return False
        self.files.add(key)
        return True


def _walk(root: Path, seen: _Seen) -> Iterator[Path]:
    """The media files beneath `root`, depth first in name order; hidden names and sidecars are skipped. Each real
    directory is entered once and each real file yielded once (by device and inode), so a link loop ends.

    Symbolic links are followed after the tree's own entries, in the order they were met. A link to a file or a
    directory inside the tree adds nothing: what it points to is checked once, under its own name. A link leaving the
    tree is followed, and what it leads to is named through the link, unless something met before reached the same
    file or directory. A hard link is the same file: the first of its names is checked. A directory that cannot be
    listed, and a broken link, are yielded to be reported."""
    links: deque[Path] = deque([root])
    while links:
        top = links.popleft()
        if not os.path.isdir(top):  # a link to a file, or a broken one
            if _wanted(top.name, str(top), seen):
                yield top
            continue
        stack = [top]
        while stack:
            d = stack.pop()
            key = _key(d)
            if key is None:
                yield d  # gone since it was listed
                continue
            if key in seen.dirs:  # met before: a link loop, or another link to it
                continue
            seen.dirs.add(key)
            try:
                entries = sorted(os.scandir(d), key=lambda e: e.name)
            except OSError:
                yield d  # unreadable directory: reported as an item error
                continue
            subdirs = []
            for e in entries:
                if e.name.startswith("."):
                    continue
                if _is(e.is_symlink):
                    links.append(Path(e.path))
                elif _is(e.is_dir):
                    subdirs.append(Path(e.path))
                elif _wanted(e.name, e.path, seen):
                    yield Path(e.path)
            stack.extend(reversed(subdirs))


def _wanted(name: str, path: str, seen: _Seen) -> bool:
    """A file a walk meets is an item when it is no sidecar, looks like media, and is not a file met before."""
    return not name.lower().endswith(SKIP_SUFFIXES) and _looks_like_media(path) and seen.new_file(path)


def _is(test: Callable[[], bool]) -> bool:
    try:
        return test()
    except OSError:
        return False


def _globbed_files(hits: list[tuple[str, bool]]) -> Iterator[Path]:
    """The files of a glob's matches, in order: a matched file, and the media files of a matched directory (walked).
    Each real file once: a match reached through a symbolic link is dropped when a match reached without one is the
    same file, and otherwise the first name wins."""
    real = {_key(h) for h, via_link in hits if not via_link and not os.path.isdir(h)}
    seen = _Seen()
    for hit, via_link in hits:
        if os.path.isdir(hit):
            yield from _walk(Path(hit), seen)
        elif not (via_link and _key(hit) in real) and seen.new_file(hit):
            yield Path(hit)


def _glob(pattern: str) -> list[tuple[str, bool]]:
    """The absolute paths `pattern` matches, sorted, each with whether it was reached through a symbolic link.

    As glob.glob(pattern, recursive=True) matches (`**` stands for any depth of directories, a name starting with
    '.' is matched only by a part that starts with '.'), but each directory is entered once for each place in the
    pattern it is reached at (by device and inode), and links to directories are entered after the real ones (as
    _walk). glob itself follows a link loop under `**` until the path is too long: with one loop it named each file
    41 times, with three it did not end."""
    dir_only = pattern.endswith(os.sep)
    parts = os.path.normpath(pattern).lstrip(os.sep).split(os.sep)  # a relative one from the working directory,
    start = os.sep if os.path.isabs(pattern) else os.getcwd()  # whose name may hold glob characters itself
    while parts[0] == os.pardir and len(parts) > 1:  # normpath leaves '..' only in front
        start, parts = os.path.dirname(start), parts[1:]
    end = len(parts)
    entered: set[tuple[int, int, frozenset[int]]] = set()
    hits: list[tuple[str, bool]] = []
    links: deque[tuple[str, frozenset[int], bool]] = deque([(start, _closure(parts, {0}), False)])
    while links:
        stack = [links.popleft()]
        while stack:
            d, states, via_link = stack.pop()
            key = _key(d)
            if key is None or (*key, states) in entered:
                continue
            entered.add((*key, states))
            for name, path, is_link, is_dir in _candidates(d, {parts[k] for k in states if k < end}):
                after = _advance(parts, states, name)
                if end in after and (is_dir or not dir_only):
                    hits.append((path, via_link or is_link))
                if is_dir and any(k < end for k in after):
                    (links if is_link else stack).append((path, after, via_link or is_link))
    return sorted(hits)


def _candidates(d: str, segments: set[str]) -> Iterator[tuple[str, str, bool, bool]]:
    """The entries of directory `d` that pattern parts `segments` may match: (name, path, is a link, is a
    directory). Literal parts are looked up, not listed (a directory may be entered without being readable)."""
    if any(s == "**" or GLOB_CHARS & set(s) for s in segments):
        try:
            with os.scandir(d) as it:
                found = [(e.name, e.path, _is(e.is_symlink), _is(e.is_dir)) for e in it]
        except OSError:
            return
        yield from found
        return
    for name in sorted(segments):
        path = os.path.join(d, name)
        if os.path.lexists(path):
            yield name, path, os.path.islink(path), os.path.isdir(path)


def _closure(parts: list[str], states: Iterable[int]) -> frozenset[int]:
    """Places in the pattern: a `**` also stands for no directory at all, so the place after it is reached too."""
    out = set(states)
    todo = list(out)
    while todo:
        k = todo.pop()
        if k < len(parts) and parts[k] == "**" and k + 1 not in out:
            out.add(k + 1)
            todo.append(k + 1)
    return frozenset(out)


def _advance(parts: list[str], states: frozenset[int], name: str) -> frozenset[int]:
    """The places in the pattern reached from `states` by an entry called `name`."""
    out = set()
    for k in states:
        if k == len(parts):
            continue
        part = parts[k]
        if part == "**":
            if not name.startswith("."):
                out.add(k)
        elif not GLOB_CHARS & set(part):
            if name == part:
                out.add(k + 1)
        elif (not name.startswith(".") or part.startswith(".")) and fnmatch.fnmatchcase(name, part):
            out.add(k + 1)
    return _closure(parts, out)
