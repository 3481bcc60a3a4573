"""Targets as items to check: a local file stat'ed, sniffed and hashed, or a remote one fetched to a file first,
with what its response headers said. What goes wrong is the item's input error, never raised."""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

from ..extract import http as http_x
from ..extract.sidecar import MANIFEST_MAX_BYTES
from ..model import Signal, ToolError
from ..streams.playlist import is_playlist
from . import media
from .fetch import FetchError, FetchOptions, download
from .targets import GLOB_CHARS, Remote

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


def _head(path: Path) -> bytes:
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
        mt = media.detect(name, _head(path))
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


def fetch_item(remote: Remote, tmp: Path, n: int, fetch: FetchOptions, allow_network: bool) -> Item:
    """A remote item fetched to a file of its own in `tmp` (named with the URL's extension, which exiftool may need);
    with `allow_network`, the manifest its Link header names is fetched beside it, as its sidecar."""
    suffix = PurePosixPath(urlparse(remote.url).path).suffix[:16]
    local = tmp / f"{n}{suffix}"
    try:
        response = download(remote.url, local, fetch)
    except (FetchError, OSError) as exc:
        return replace(unreadable(local, f"not fetched: {exc}"), target=remote.url)
    item = replace(open_item(local, remote.url), target=remote.url, served=tuple(http_x.signals(response)))
    if item.readable and is_playlist("", _head(local)):
        why = f"{remote.url}: serves an HLS or DASH playlist (`check` follows URLs ending .m3u8 or .mpd as streams)"
        return replace(item, errors=[ToolError("input", why)], readable=False)
    links = http_x.manifest_links(response)
    if item.readable and links and allow_network:
        # fetched beside the file as its sidecar: c2pa-rs reads it when the file embeds no manifest
        sidecar = local.with_name(local.name + ".c2pa")
        try:
            download(links[0], sidecar, replace(fetch, max_bytes=MANIFEST_MAX_BYTES))
        except (FetchError, OSError) as exc:
            item.errors.append(ToolError("http", f"the manifest its Link header names was not fetched: {exc}"))
        else:
            item = replace(item, linked_manifest=(sidecar, links[0]))
    return item
