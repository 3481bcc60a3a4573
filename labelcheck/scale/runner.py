"""Batch execution: targets streamed to worker processes (each with its own exiftool), a time limit on every item.

Three engines run the same pipeline (`Scanner`): in-process (`workers=0`), a local pool of worker processes
(forked from a fork server, `workers.py`) supervised here, and a Dask distributed cluster (`scheduler="tcp://..."`).
Results stream back as (input index, Result) pairs in order of completion; memory holds a bounded window of batches.
"""

from __future__ import annotations

import gc
import itertools
import os
import resource
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection, wait
from typing import Any

from ..extract.gather import Scanner, ScanOptions, ToolMissing, exiftool_version, failed_evidence
from ..inputs.targets import Remote, Target
from ..model import Result, ToolError
from ..policy.judge import Judge
from . import workers
from .workers import remove_fetched

MAX_STARTUP_DEATHS = 3  # workers that die before finishing any batch, in a row: the engine is broken, stop
SECONDS_PER_GB = 10.0  # extra time an item may take per GB (c2pa-rs hashes the whole file)
STARTUP_GRACE = 20.0  # a fresh worker imports the SDKs and starts exiftool before its first batch
TAIL_WINDOW = 256  # items read ahead of the workers: when the input ends within it, the tail is balanced


@dataclass(frozen=True)
class RunOptions:
    workers: int = os.cpu_count() or 1  # 0: in this process, no time limit
    item_timeout: float = 60.0  # seconds one item may take (plus SECONDS_PER_GB) before its worker is stopped
    batch_size: int = 8
    scheduler: str | None = None  # tcp://host:port of a Dask scheduler
    startup_grace: float = STARTUP_GRACE
    memory_limit: int = 8 << 30  # bytes of address space per worker process (0: none)
    read_ahead: int = TAIL_WINDOW  # items read ahead to balance the tail; 0 for an input that arrives slowly


Indexed = tuple[int, Result]


@dataclass
class RunInfo:
    """What an engine learns while it runs, for the report (workers report it with their results)."""

    exiftool_version: str | None = None

    def exiftool(self, executable: str) -> str | None:
        """The version the engine's exiftool reported; asked of `executable` only when none ran (Dask, no items),
        and then once (the watcher asks for every report)."""
        if self.exiftool_version is None:
            self.exiftool_version = exiftool_version(executable)
        return self.exiftool_version


@dataclass(frozen=True)
class Batch:
    """Items given to one worker together, with their positions in the input."""

    indices: tuple[int, ...]
    paths: tuple[Target, ...]

    def indexed(self, results: list[Result]) -> Iterator[Indexed]:
        return zip(self.indices, results, strict=True)

    def singles(self) -> Iterator[Batch]:
        """One batch per item (the retry of a batch whose worker was lost)."""
        for index, path in zip(self.indices, self.paths, strict=True):
            yield Batch((index,), (path,))


def batches(paths: Iterable[Target], size: int, workers: int = 1, window: int = TAIL_WINDOW) -> Iterator[Batch]:
    """Batches of `size` items in input order while more than `window` items are ahead. Once the rest of the input
    is known and several workers share it, the largest files go first and the batches shrink, so that the workers
    finish together instead of one of them ending the run on a large file or a full batch. `window` 0: no
    read-ahead, for inputs that arrive slowly (a batch goes out as soon as its items have arrived)."""
    it = iter(paths)
    if window <= 0:  # no read-ahead (a slow producer, e.g. a pipe): batches in input order as items arrive
        index = 0
        while chunk := tuple(itertools.islice(it, size)):
            yield Batch(tuple(range(index, index + len(chunk))), chunk)
            index += len(chunk)
        return
    ahead: deque[tuple[int, Target]] = deque(enumerate(itertools.islice(it, window)))
    following = len(ahead)  # input position of the next item not yet read
    tail = len(ahead) < window  # the input has ended: every item left is in `ahead`
    balanced = False
    while ahead:
        n = size
        if tail and workers > 1:
            if not balanced:
                ahead = deque(sorted(ahead, key=lambda item: _size(item[1]), reverse=True))
                balanced = True
            n = max(1, min(size, -(-len(ahead) // (2 * workers))))
        chosen = [ahead.popleft() for _ in range(min(n, len(ahead)))]
        if not tail:
            more = list(itertools.islice(it, len(chosen)))
            ahead.extend(enumerate(more, start=following))
            following += len(more)
            tail = len(more) < len(chosen)
        yield Batch(tuple(i for i, _ in chosen), tuple(p for _, p in chosen))


def _size(path: Target) -> int:
    if isinstance(path, Remote):
        return 0  # not known before it is fetched
    try:
        return path.stat().st_size
    except OSError:
        return 0


def item_limit(path: Target, run_options: RunOptions) -> float:
    """Seconds one item may take: the time limit, plus SECONDS_PER_GB of its size."""
    return run_options.item_timeout + SECONDS_PER_GB * _size(path) / 1e9


def batch_limit(batch: Batch, run_options: RunOptions) -> float:
    """Seconds a batch may take: the sum of its items' limits."""
    return sum(item_limit(p, run_options) for p in batch.paths)


def split_or_report(
    batch: Batch, retry: deque[Batch], judge: Judge, run_options: RunOptions, what: str, then: str
) -> Iterator[Indexed]:
    """A batch whose checker overran its time limit or died: retried item by item; a single item is reported as
    an error ("<what> this item (limit N s); <then>"), never retried forever."""
    if len(batch.paths) > 1:
        retry.extend(batch.singles())
        return
    (index,), (path,) = batch.indices, batch.paths
    why = f"{what} this item (limit {item_limit(path, run_options):.0f}s); {then}"
    yield index, judge(failed_evidence(path, ToolError("runner", why)))


def run(
    paths: Iterable[Target], options: ScanOptions, run_options: RunOptions, info: RunInfo | None = None
) -> Iterator[Indexed]:
    """Every item's Result with its position in the input, as soon as it is known. `info` learns the version of
    the exiftool the workers run (so that no extra process is started to ask it)."""
    if run_options.scheduler:
        from .cluster import run_dask

        yield from run_dask(paths, options, run_options)
    elif run_options.workers <= 0:
        with Scanner(options) as scanner:
            if info is not None:
                scanner.start_tools()
                info.exiftool_version = scanner.exiftool_version
            for batch in batches(paths, run_options.batch_size):
                yield from batch.indexed(list(scanner.results(list(batch.paths))))
    else:
        yield from Pool(options, run_options, info).run(paths)


# ---------------------------------------------------------------- local worker processes


def _worker(conn: Connection, options: ScanOptions, memory_limit: int) -> None:
    """A worker process: one Scanner (one exiftool), batches in, results out, until told to stop.

    Its address space is limited: a file that makes the in-process C2PA reader allocate without bound kills
    this worker (the supervisor reports the item), not the machine. The objects inherited from the fork server
    are frozen: a collection that walked them would write their pages and copy them into every worker (the
    workers' memory grew by ~4 MB each over 10,000 items without this)."""
    workers.exit_with_parent()
    workers.return_large_blocks()
    gc.freeze()  # what the fork server imported stays shared: the collector never walks (so never writes) it
    if memory_limit:
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    with Scanner(options) as scanner:
        scanner.start_tools(background=True)  # Perl starts while the first batch's C2PA is read
        conn.send(("ready", None))
        while True:
            try:
                msg = conn.recv()
            except EOFError:
                return
            if msg is None:
                return
            try:
                results = list(scanner.results(list(msg)))
            except ToolMissing as exc:  # the installation, not an item: the supervisor stops the run
                conn.send(("missing", str(exc)))
                return
            conn.send((results, scanner.exiftool_restarts, scanner.exiftool_version))


class WorkersFailed(RuntimeError):
    """Worker processes die before finishing any work: the installation, not an item, is at fault."""


@dataclass
class _Slot:
    process: Any
    conn: Connection
    batch: Batch | None = None
    deadline: float = 0.0
    fresh: bool = True
    ready: bool = False  # the worker has built its Scanner
    tool_restarts: int = 0  # the worker's exiftool restarts so far


class Pool:
    """Supervises worker processes: a worker that overruns its batch's deadline or dies is replaced; the batch is
    retried item by item, and the item that still overruns is reported as an error, never retried forever."""

    def __init__(self, options: ScanOptions, run_options: RunOptions, info: RunInfo | None = None) -> None:
        self.options = replace(options, overlap_tools=False)  # a worker is one core's worth of work
        self.run_options = run_options
        self.ctx = workers.context()
        self.started = 0  # worker processes started, replacements included
        self.restarts = 0  # worker processes replaced (hang or crash)
        self.tool_restarts = 0  # exiftool processes restarted inside workers (deadline passed)
        self.startup_deaths = 0
        self.judge = Judge.from_options(options)
        self.info = info or RunInfo()

    def _start(self) -> _Slot:
        parent, child = self.ctx.Pipe()
        proc = self.ctx.Process(target=_worker, args=(child, self.options, self.run_options.memory_limit), daemon=True)
        proc.start()
        child.close()
        self.started += 1
        return _Slot(proc, parent)

    def _give(self, slot: _Slot, batch: Batch) -> None:
        grace = self.run_options.startup_grace if slot.fresh else 0.0
        slot.batch = batch
        slot.deadline = time.monotonic() + batch_limit(batch, self.run_options) + grace
        slot.fresh = False
        slot.conn.send(batch.paths)

    def _stop(self, slot: _Slot) -> None:
        if slot.process.is_alive():
            slot.process.kill()
        slot.process.join(5)
        slot.conn.close()
        if slot.process.pid is not None:
            remove_fetched(slot.process.pid)  # a worker killed mid-fetch leaves its remote items behind

    def __enter__(self) -> Pool:
        """Keep the worker processes across several run() calls (a long-lived service)."""
        self.slots = [self._start() for _ in range(max(1, self.run_options.workers))]
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for slot in getattr(self, "slots", []):
            try:
                slot.conn.send(None)
            except (OSError, ValueError):
                pass
        for slot in getattr(self, "slots", []):
            slot.process.join(2)
            self._stop(slot)
        self.slots = []

    def run(self, paths: Iterable[Target]) -> Iterator[Indexed]:
        retry: deque[Batch] = deque()
        owned = not getattr(self, "slots", None)
        workers = max(1, self.run_options.workers) if owned else len(self.slots)
        source: Iterator[Batch] = batches(paths, self.run_options.batch_size, workers, self.run_options.read_ahead)
        if owned:  # no more workers than the input has batches for (one file: one worker, one exiftool)
            first = list(itertools.islice(source, workers))
            source = itertools.chain(first, source)
            self.slots = [self._start() for _ in range(len(first))]
        slots = self.slots
        exhausted = False
        try:
            while True:
                for slot in slots:
                    if slot.batch is None:
                        nxt = retry.popleft() if retry else (None if exhausted else next(source, None))
                        if nxt is None:
                            exhausted = exhausted or not retry
                            continue
                        self._give(slot, nxt)
                busy = [s for s in slots if s.batch is not None]
                if not busy:
                    return
                timeout = max(0.0, min(s.deadline for s in busy) - time.monotonic())
                ready = wait([s.conn for s in busy], timeout)
                for slot in list(busy):
                    if slot.conn in ready:
                        try:
                            msg = slot.conn.recv()
                        except (EOFError, OSError):
                            yield from self._lost(slot, slots, retry, "the checker process died on")
                            continue
                        if msg[0] == "ready":
                            slot.ready = True
                            continue
                        if msg[0] == "missing":  # the installation, not an item: every worker would say so
                            raise ToolMissing(msg[1])
                        results, tool_restarts, version = msg
                        self.info.exiftool_version = self.info.exiftool_version or version
                        self.tool_restarts += tool_restarts - slot.tool_restarts
                        slot.tool_restarts = tool_restarts
                        done, slot.batch = slot.batch, None
                        assert done is not None  # only busy slots are read
                        self.startup_deaths = 0
                        yield from done.indexed(results)
                    elif time.monotonic() >= slot.deadline:
                        yield from self._lost(slot, slots, retry, "the time limit was exceeded on")
        finally:
            if owned:
                self.close()
            else:  # a run cut short (signal, error) leaves no batch in flight on a kept worker
                for n, slot in enumerate(slots):
                    if slot.batch is not None:
                        self._stop(slot)
                        slots[n] = self._start()

    def _lost(self, slot: _Slot, slots: list[_Slot], retry: deque[Batch], what: str) -> Iterator[Indexed]:
        """Replace a stalled or dead worker; split its batch, or report its single item."""
        assert slot.batch is not None
        batch = slot.batch
        died_young = not slot.ready
        self._stop(slot)
        if died_young:
            self.startup_deaths += 1
            if self.startup_deaths >= MAX_STARTUP_DEATHS:
                raise WorkersFailed(
                    f"{self.startup_deaths} worker processes died before finishing any batch "
                    f"(exit code {slot.process.exitcode})"
                )
        self.restarts += 1
        slots[slots.index(slot)] = self._start()
        yield from split_or_report(batch, retry, self.judge, self.run_options, what, "its worker was replaced")
