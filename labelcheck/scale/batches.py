"""Batches and limits: how a run's items are grouped for its workers, how long each may take, and what becomes of
an item whose batch overran or lost its worker (shared by the local pool and the Dask engine)."""

from __future__ import annotations

import itertools
import os
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ..extract.gather import exiftool_version, failed_evidence
from ..inputs.targets import Remote, Target
from ..model import Result, ToolError
from ..policy.judge import Judge

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
