"""The evidence step: a batch of targets -> one Evidence each, the extractors run by a Scanner (never judging)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .. import __version__
from ..inputs.fetch import FetchOptions
from ..inputs.items import Item, hash_or_error, open_item
from ..inputs.scratch import fetch_prefix
from ..inputs.targets import Remote, Target
from ..model import C2paStore, Evidence, Signal, ToolError
from . import c2pa as c2pa_x
from . import evidence_files
from . import ffprobe as ffprobe_x
from . import sidecar as sidecar_x
from .costly import costly_structure
from .exiftool import ExifToolMissing, ExifToolSession
from .http import fetch_item
from .tags import signals_from_exiftool, signals_from_ffprobe
from .xmppacket import find_packets

EXIFTOOL_UNKNOWN_FORMAT = "exiftool does not know this format: its container's tags were read by ffprobe"
NOT_DECODABLE = "ffprobe found no audio or video stream it could decode"
ITEM_MAX_BYTES = 8 << 30  # a remote item larger than this is not fetched (its worker's disk, not memory, holds it)
LARGE_ITEM = 256 << 20  # a file whose C2PA read (reading and hashing it) dwarfs its exiftool and ffprobe work
MAX_PROBES = 2  # ffprobe processes started ahead when the tools overlap (otherwise one at a time, when collected)


class ToolMissing(Exception):
    """A required external tool (exiftool, ffprobe) is not installed."""


@dataclass(frozen=True)
class EvidenceOptions:
    """How evidence is gathered: the tools, their limits, and where raw answers are kept."""

    c2pa: c2pa_x.C2paSettings = field(default_factory=c2pa_x.C2paSettings)
    evidence_dir: Path | None = None  # keep each item's raw tool answers here (evidence_files.py)
    fetch: FetchOptions = FetchOptions(max_bytes=ITEM_MAX_BYTES)  # remote items: limits, private hosts
    exiftool: str = "exiftool"
    ffprobe: str = "ffprobe"
    ffprobe_mode: str = "auto"  # auto: containers exiftool does not cover fully; always: every audio/video; never
    exiftool_timeout: float = 1.0
    exiftool_short_timeout: float = 0.5  # TIFF/PDF: their XMP is also found by packet scanning
    read_costly: bool = False  # give exiftool even structures it spends seconds on (extract/costly.py)
    ffprobe_timeout: float = 20.0
    batch_size: int = 16
    # Run C2PA while exiftool parses the same batch (two cores for one item stream). Worker processes turn it off:
    # there a worker is one core's worth of work, and overlapping only makes N workers contend for N cores.
    overlap_tools: bool = True


def _unknown_format(answer: ToolError) -> bool:
    """exiftool's answer for a file whose format it does not know (its metadata was not read, nothing is wrong)."""
    return answer.message.startswith("Unknown file type")


class Scanner:
    """Per-worker resources: one C2PA reader context and one persistent exiftool process."""

    def __init__(self, options: EvidenceOptions | None = None, scratch: str | None = None) -> None:
        """`scratch`: where remote items are fetched to (default: the system's temporary directory)."""
        self.options = options or EvidenceOptions()
        self._scratch = scratch
        self._ctx = c2pa_x.make_context(self.options.c2pa)
        self._supported = c2pa_x.supported_mime_types()
        self._exiftool = ExifToolSession(
            self.options.exiftool, self.options.exiftool_timeout, self.options.exiftool_short_timeout
        )
        self._hasher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="labelcheck-sha256")
        self._closed = threading.Event()

    def start_tools(self, background: bool = False) -> None:
        """Start exiftool before the first batch arrives (otherwise it starts with the first batch).

        `background`: start it from a thread while the caller goes on (a worker then reads its first batch's
        C2PA while Perl starts). The thread lives until close(): exiftool is bound to the thread that started
        it (pyexiftool has it killed when that thread ends). A failure surfaces at the first read instead."""
        if background:
            threading.Thread(target=self._start_and_keep, name="labelcheck-exiftool", daemon=True).start()
            return
        try:
            self._exiftool.start()
        except ExifToolMissing as exc:
            raise ToolMissing(str(exc)) from exc

    def _start_and_keep(self) -> None:
        try:
            self._exiftool.start()
        except Exception:  # noqa: BLE001 - the first read starts it again and reports the failure
            return
        self._closed.wait()

    @property
    def exiftool_version(self) -> str | None:
        return self._exiftool.version

    @property
    def exiftool_restarts(self) -> int:
        return self._exiftool.restarts

    def close(self) -> None:
        self._exiftool.close()
        self._closed.set()
        self._hasher.shutdown()

    def __enter__(self) -> Scanner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def evidence(self, paths: list[Target]) -> list[Evidence]:
        """Evidence for a batch of targets; remote items are fetched into a temporary directory first, which goes
        with the batch."""
        with contextlib.ExitStack() as stack:
            tmp: Path | None = None
            items = []
            for n, p in enumerate(paths):
                if isinstance(p, Remote):
                    tmp = tmp or Path(
                        stack.enter_context(tempfile.TemporaryDirectory(prefix=fetch_prefix(), dir=self._scratch))
                    )
                    items.append(fetch_item(p, tmp, n, self.options.fetch, self.options.c2pa.allow_network))
                else:
                    items.append(open_item(p))
            return self._evidence(items)

    def _evidence(self, items: list[Item]) -> list[Evidence]:
        """Evidence for a batch of files. The tools overlap: ffprobe processes are started first, C2PA is read
        while the one exiftool process works through the batch, then their answers are collected."""
        readable = [it for it in items if it.readable]
        hashes = self._hasher.submit(lambda: [hash_or_error(it) for it in readable])  # hashlib releases the GIL
        wanted = [it for it in readable if ffprobe_x.wanted(it.media, self.options.ffprobe_mode)]
        # Overlapping: a few ffprobe processes run alongside exiftool and C2PA, the rest start when collected
        # (memory bound). In a worker: each starts when collected, one at a time.
        # A large file's C2PA read is mostly reading and hashing: its exiftool and ffprobe work is small beside it and
        # overlaps with it even in a worker, where the tools otherwise take turns.
        overlap = self.options.overlap_tools or any(it.size >= LARGE_ITEM for it in readable)
        ahead = MAX_PROBES if overlap else 0
        probes: dict[int, Any] = {id(it): ffprobe_x.start(it.path, self.options.ffprobe) for it in wanted[:ahead]}
        probes.update({id(it): None for it in wanted[ahead:]})
        stores: dict[int, tuple[C2paStore, list[ToolError], str | None]] = {}

        def read_c2pa() -> None:
            for it in readable:
                stores[id(it)] = c2pa_x.read(it.path, it.media, self._ctx, self._supported)

        costly = {
            id(it): why
            for it in readable
            if not self.options.read_costly and (why := costly_structure(it.path, it.media.mime))
        }
        for_exiftool = [it for it in readable if id(it) not in costly]
        sidecars = self._xmp_sidecars(readable)  # read by exiftool after the items
        try:
            if not overlap:
                read_c2pa()
            tag_answers = self._exiftool.read(
                [it.path for it in for_exiftool] + list(sidecars.values()),
                during=read_c2pa if overlap else None,
                mimes=[it.media.mime for it in for_exiftool] + [sidecar_x.XMP_MIME] * len(sidecars),
            )
        except ExifToolMissing as exc:
            raise ToolMissing(str(exc)) from exc
        except BaseException:
            for proc in probes.values():  # no orphaned ffprobe when the batch fails
                if proc is not None and not isinstance(proc, ToolError):
                    proc.kill()
                    proc.wait()
            raise
        sidecar_answers = dict(zip(sidecars, tag_answers[len(for_exiftool) :], strict=True))
        tags_by_item: dict[int, dict[str, Any] | ToolError | None] = dict.fromkeys(costly)
        tags_by_item.update(
            {id(it): ans for it, ans in zip(for_exiftool, tag_answers[: len(for_exiftool)], strict=True)}
        )
        packet_signals = {
            id(it): self._packet_signals(it.path)
            for it in readable
            if id(it) in costly or (isinstance(ans := tags_by_item[id(it)], ToolError) and ans.timed_out)
        }
        for it in readable:
            if id(it) in costly:
                it.notes += (costly[id(it)],)
        for it, digest in zip(readable, hashes.result(), strict=True):
            if isinstance(digest, ToolError):
                it.errors.append(digest)
            else:
                it.sha256 = digest
        unknown: dict[int, ToolError] = {}  # audio/video exiftool does not know: ffprobe reads its container instead
        for it in readable:
            answer = tags_by_item[id(it)]
            if isinstance(answer, ToolError) and _unknown_format(answer) and self._probes_fallback(it, probes):
                probes.setdefault(id(it), None)
                unknown[id(it)], tags_by_item[id(it)] = answer, None
        tools = {"labelcheck": __version__, "c2pa_sdk": c2pa_x.sdk_version(), "exiftool": self.exiftool_version}
        out = []
        for it in items:
            store, errors, signals = C2paStore(present=False), list(it.errors), []
            if it.readable:
                store, c2pa_errors, manifest_json = stores[id(it)]
                errors += c2pa_errors
                if it.linked_manifest and store.sidecar == str(it.linked_manifest[0]):
                    store = replace(store, sidecar=it.linked_manifest[1])  # named by its URL, not the temporary file
                if store.note:
                    it.notes += (store.note,)
                tags = tags_by_item[id(it)]
                probed = (
                    ffprobe_x.finish(
                        probes[id(it)] or ffprobe_x.start(it.path, self.options.ffprobe), self.options.ffprobe_timeout
                    )
                    if id(it) in probes
                    else None
                )
                if id(it) in unknown:  # exiftool's "unknown file type" stands unless ffprobe could read it instead
                    if isinstance(probed, dict) and ffprobe_x.decodable(probed):
                        it.notes += (EXIFTOOL_UNKNOWN_FORMAT,)
                    else:
                        errors.append(unknown[id(it)])
                        probed = probed if isinstance(probed, ToolError) else ToolError("ffprobe", NOT_DECODABLE)
                for answer, to_signals in ((tags, signals_from_exiftool), (probed, signals_from_ffprobe)):
                    if isinstance(answer, ToolError):
                        errors.append(answer)
                    elif answer is not None:
                        signals += to_signals(answer)
                signals += packet_signals.get(id(it), [])
                if id(it) in sidecars:
                    beside, note = sidecar_x.xmp_signals(sidecars[id(it)], sidecar_answers[id(it)])
                    signals += beside
                    it.notes += (note,) if note else ()
                signals += it.served
                if self.options.evidence_dir and it.sha256:
                    kept = evidence_files.keep(
                        self.options.evidence_dir, it.sha256, it.media.mime, tools, manifest_json, tags, probed
                    )
                    errors += [kept] if kept else []
            out.append(
                Evidence(
                    target=it.target or os.fsdecode(it.path),
                    media_type=it.media.mime,
                    kind=it.media.kind,
                    size=it.size,
                    sha256=it.sha256,
                    c2pa=store,
                    signals=tuple(signals),
                    errors=tuple(errors),
                    notes=it.notes,
                )
            )
        return out

    @staticmethod
    def _xmp_sidecars(readable: list[Item]) -> dict[int, Path]:
        """The XMP sidecar beside each local item that has one; one there but not to be read is a note."""
        sidecars = {}
        for it in readable:
            found, note = sidecar_x.xmp_sidecar(it.path) if not it.target else (None, None)
            if found is not None:
                sidecars[id(it)] = found
            it.notes += (note,) if note else ()
        return sidecars

    def _probes_fallback(self, it: Item, probes: dict[int, Any]) -> bool:
        """Whether ffprobe reads this item (or can, when exiftool does not know its format)."""
        return id(it) in probes or (it.media.is_av and self.options.ffprobe_mode != "never")

    def _packet_signals(self, path: Path) -> list[Signal]:
        """When exiftool cannot parse a container in time, the XMP packets in its bytes are still read."""
        try:
            packets = find_packets(path)
        except OSError:
            return []
        signals = []
        for tags in self._exiftool.read_packets(packets) if packets else []:
            if isinstance(tags, dict):
                signals += [replace(s, location=f"xmp packet scan: {s.location}") for s in signals_from_exiftool(tags)]
        return signals

    def each(self, paths: Iterable[Target]) -> Iterator[Evidence]:
        """Evidence in input order, a batch at a time (memory does not grow with the number of paths)."""
        batch: list[Target] = []
        for p in paths:
            batch.append(p)
            if len(batch) >= self.options.batch_size:
                yield from self._contained(batch)
                batch = []
        if batch:
            yield from self._contained(batch)

    def _contained(self, batch: list[Target]) -> list[Evidence]:
        """A fault in one item never takes its batch down: retry one by one, then report the item itself."""
        try:
            return self.evidence(batch)
        except ToolMissing:
            raise
        except Exception:  # noqa: BLE001 - an unforeseen fault; isolated below
            if len(batch) > 1:
                return [ev for p in batch for ev in self._contained([p])]
            exc = sys.exc_info()[1]
            why = f"labelcheck could not extract evidence: {type(exc).__name__}: {exc}"
            return [failed_evidence(batch[0], ToolError("internal", why))]


def failed_evidence(path: Target, error: ToolError) -> Evidence:
    """Evidence of an item nothing could be learnt about, carrying the reason."""
    return Evidence(
        os.fsdecode(path), "application/octet-stream", "other", 0, None, C2paStore(present=False), (), (error,)
    )


def check_tools(options: EvidenceOptions) -> None:
    """Raise ToolMissing before any work when exiftool or ffprobe cannot be found."""
    missing = [t for t in (options.exiftool, options.ffprobe) if shutil.which(t) is None]
    if missing:
        raise ToolMissing(", ".join(missing) + " not found on PATH (run `make run` or install them)")


def exiftool_version(executable: str = "exiftool") -> str | None:
    try:
        out = subprocess.run([executable, "-ver"], capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None

