"""The evidence step: a batch of targets -> one Evidence each, the extractors run by a Scanner (never judging)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..inputs.items import Item, open_item
from ..inputs.scratch import fetch_prefix
from ..inputs.targets import Remote, Target
from ..model import C2paStore, Evidence, ToolError
from . import c2pa as c2pa_x
from .exiftool import ExifToolMissing, ExifToolSession
from .http import fetch_item
from .interface import Batch, EvidenceOptions, Extractor, Reading, ToolMissing, Tools
from .steps import EXTRACTORS

LARGE_ITEM = 256 << 20  # a file whose C2PA read (reading and hashing it) dwarfs its exiftool and ffprobe work

__all__ = ["EvidenceOptions", "Scanner", "ToolMissing", "check_tools", "exiftool_version", "failed_evidence"]


class Scanner:
    """Per-worker resources: one C2PA reader context and one persistent exiftool process."""

    def __init__(self, options: EvidenceOptions | None = None, scratch: str | None = None) -> None:
        """`scratch`: where remote items are fetched to (default: the system's temporary directory)."""
        self.options = options or EvidenceOptions()
        self._scratch = scratch
        self._exiftool = ExifToolSession(
            self.options.exiftool, self.options.exiftool_timeout, self.options.exiftool_short_timeout
        )
        self.tools = Tools(
            self.options,
            c2pa_x.make_context(self.options.c2pa),
            c2pa_x.supported_mime_types(),
            self._exiftool,
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="labelcheck-sha256"),
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="labelcheck-c2pa"),
        )
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
        self.tools.hasher.shutdown()
        self.tools.reader.shutdown()

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
        """Evidence for a batch of files: the extractors (steps.EXTRACTORS) collect over the batch, overlapping
        their tools, then each adds what it found of each item, in order."""
        readings = {id(it): Reading(it, errors=list(it.errors)) for it in items if it.readable}
        overlap = self.options.overlap_tools or any(r.item.size >= LARGE_ITEM for r in readings.values())
        batch = Batch(list(readings.values()), overlap)
        extractors = [make(self.tools) for make in EXTRACTORS]
        try:
            _collect(extractors, batch)
        except BaseException:
            for ex in extractors:  # no orphaned tool process when the batch fails
                ex.discard()
            raise
        for reading in batch.readings:
            for ex in extractors:
                ex.add(reading)
        return [_evidence_of(it, readings.get(id(it))) for it in items]

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


def _collect(extractors: list[Extractor], batch: Batch) -> None:
    """Each extractor collects, calling `meanwhile` once to let the ones after it collect beside its own tool."""

    def after(n: int) -> Callable[[], None]:
        done = False

        def meanwhile() -> None:
            nonlocal done
            if not done and n < len(extractors):
                done = True
                extractors[n].collect(batch, after(n + 1))

        return meanwhile

    after(0)()


def _evidence_of(it: Item, reading: Reading | None) -> Evidence:
    """An item's Evidence: what the extractors found of it, or only why it could not be read."""
    found = reading or Reading(it, errors=list(it.errors))
    return Evidence(
        target=it.target or os.fsdecode(it.path),
        media_type=it.media.mime,
        kind=it.media.kind,
        size=it.size,
        sha256=it.sha256,
        c2pa=found.store,
        signals=tuple(found.signals),
        errors=tuple(found.errors),
        notes=it.notes,
        pixels=found.pixels,
    )


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

