"""The local engine: worker processes (each with its own exiftool) supervised here, a time limit on every batch."""

from __future__ import annotations

import gc
import itertools
import resource
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection, wait
from typing import Any

from ..classify import labels
from ..extract import prestart
from ..extract.gather import EvidenceOptions, Scanner, ToolMissing
from ..inputs.scratch import remove_fetched
from ..inputs.targets import Target
from ..policy.judge import Judge
from . import workers
from .batches import Batch, Indexed, RunInfo, RunOptions, batch_limit, batches, split_or_report

MAX_STARTUP_DEATHS = 3  # workers that die before finishing any batch, in a row: the engine is broken, stop



def _worker(conn: Connection, options: EvidenceOptions, judge: Judge, memory_limit: int) -> None:
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
        threading.Thread(target=labels.prepare, name="labelcheck-validators", daemon=True).start()
        conn.send(("ready", None))
        while True:
            try:
                msg = conn.recv()
            except EOFError:
                return
            if msg is None:
                return
            try:
                results = [judge(ev) for ev in scanner.each(msg)]
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

    def __init__(
        self, options: EvidenceOptions, judge: Judge, run_options: RunOptions, info: RunInfo | None = None
    ) -> None:
        self.options = replace(options, overlap_tools=False)  # a worker is one core's worth of work
        self.run_options = run_options
        self.started = 0  # worker processes started, replacements included
        self.restarts = 0  # worker processes replaced (hang or crash)
        self.tool_restarts = 0  # exiftool processes restarted inside workers (deadline passed)
        self.startup_deaths = 0
        self.judge = judge
        self.info = info or RunInfo()

    def _start(self) -> _Slot:
        ctx = workers.context()  # asked each time: a fork from this process only while it has one thread
        parent, child = ctx.Pipe()
        args = (child, self.options, self.judge, self.run_options.memory_limit)
        proc = ctx.Process(target=_worker, args=args, daemon=True)
        proc.start()
        prestart.handed_over(forked=ctx.get_start_method() == "fork")  # the first worker adopts an early exiftool
        child.close()
        self.started += 1
        return _Slot(proc, parent)

    def _give(self, slot: _Slot, batch: Batch) -> None:
        grace = self.run_options.startup_grace if slot.fresh else 0.0
        slot.batch = batch
        slot.deadline = time.monotonic() + batch_limit(batch, self.run_options) + grace
        slot.fresh = False
        try:
            slot.conn.send(batch.paths)
        except OSError:  # the worker died since its last batch (e.g. SIGTERM to the group): run() sees its EOF
            pass

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
