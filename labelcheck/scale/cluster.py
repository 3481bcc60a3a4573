"""Scale-out on Dask distributed: batches of paths go to the cluster's workers, results stream back as they finish.

Start a cluster (the paths must be readable on the workers, e.g. a shared mount):

    dask scheduler --host 0.0.0.0 --port 8786                   # on one machine
    dask worker tcp://SCHEDULER:8786 --nworkers 4 --nthreads 1  # on each worker machine (labelcheck installed)
    labelcheck check --scheduler tcp://SCHEDULER:8786 /mnt/media/...

Each Dask worker process keeps one Scanner (one exiftool) for the options it was sent, reused across batches. The
time limit holds here too: a batch that overruns has its worker process restarted by the worker's nanny (the
default; a worker started with --no-nanny cannot be restarted, and its stuck thread stays busy).
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any

from ..extract.gather import EvidenceOptions, Scanner, ToolMissing
from ..inputs.targets import Target, target
from ..model import Result
from ..policy.judge import Judge
from .batches import Batch, Indexed, RunOptions, batch_limit, batches, split_or_report

_SCANNERS: dict[EvidenceOptions, Scanner] = {}  # per worker process: options -> its Scanner


def check_batch(paths: list[str], options: EvidenceOptions, judge: Judge) -> tuple[str, list[Result]]:
    """Runs on a Dask worker: the same pipeline as a local worker process. Returns the worker's address too (a
    worker that has finished a batch is past its start-up)."""
    from distributed import get_worker

    worker = get_worker()
    scanner = _SCANNERS.get(options)
    if scanner is None:
        # Remote items are fetched into the worker's own directory: Dask removes it when the worker ends, and, when
        # the worker was killed (an overrun, the OOM killer), as soon as its nanny has started the next one.
        scanner = _SCANNERS[options] = Scanner(options, scratch=worker.local_directory)
    return worker.address, [judge(ev) for ev in scanner.each([target(p) for p in paths])]


def run_dask(
    paths: Iterable[Target], options: EvidenceOptions, judge: Judge, run_options: RunOptions
) -> Iterator[Indexed]:
    """At most one batch per worker thread in flight (so a batch's time limit runs from about when it starts; memory
    does not grow with the input); results are yielded as they complete. As with local workers, a batch over its
    time limit (its worker is restarted) or whose worker died is retried item by item, and the item that still
    overruns or kills its worker is reported."""
    from distributed import Client, TimeoutError, wait

    options = replace(options, overlap_tools=False)  # each Dask worker thread is one core's worth of work
    with Client(run_options.scheduler) as client:
        workers = client.scheduler_info().get("workers", {}).values()
        threads = max(1, sum(w.get("nthreads", 1) for w in workers))
        source = batches(paths, run_options.batch_size, threads, run_options.read_ahead)
        retry: deque[Batch] = deque()
        # future -> its batch, its deadline, whether it had the start-up grace (once, on a worker not yet warm)
        flight: dict[Any, tuple[Batch, float, bool]] = {}
        warm: set[str] = set()  # workers that have finished a batch (past importing and starting exiftool)
        present = set(client.scheduler_info().get("workers", {}))

        def deadline(batch: Batch) -> float:
            return time.monotonic() + batch_limit(batch, run_options)

        while True:
            while len(flight) < threads and (batch := retry.popleft() if retry else next(source, None)):
                future = client.submit(check_batch, [os.fspath(p) for p in batch.paths], options, judge, pure=False)
                flight[future] = (batch, deadline(batch), False)
            if not flight:
                return
            try:
                timeout = max(0.01, min(d for _, d, _ in flight.values()) - time.monotonic())
                done = wait(list(flight), timeout=timeout, return_when="FIRST_COMPLETED").done
            except TimeoutError:
                done = set()
            for future in done:
                batch, _, _ = flight.pop(future)
                try:
                    where, results = future.result()
                except ToolMissing:  # the installation, not an item: every worker would say so
                    raise
                except Exception as exc:  # noqa: BLE001 - its worker died on it (KilledWorker) or the task failed
                    then = f"Dask reported {type(exc).__name__}: {exc}"
                    yield from split_or_report(batch, retry, judge, run_options, "the checker failed on", then)
                    continue
                finally:
                    future.release()
                warm.add(where)
                yield from batch.indexed(results)
            now_present = set(client.scheduler_info().get("workers", {}))
            if present - now_present:  # a worker left (died, or was restarted): Dask runs its batches again elsewhere
                flight.update({f: (b, max(due, deadline(b)), g) for f, (b, due, g) in flight.items()})
            present = now_present
            for future, (batch, due, graced) in list(flight.items()):
                if future.done() or time.monotonic() < due:
                    continue
                where = next((w for w, keys in client.processing().items() if future.key in keys), None)
                if where is None:  # still waiting for a worker (none has joined, or all are busy): not its fault
                    flight[future] = (batch, deadline(batch), graced)
                    continue
                if where not in warm and not graced:  # its worker is still starting up
                    flight[future] = (batch, due + run_options.startup_grace, True)
                    continue
                del flight[future]
                client.cancel([future], force=True)
                client.restart_workers([where], raise_for_error=False)  # its nanny starts a fresh process
                warm.discard(where)
                then = "its Dask worker was restarted"
                yield from split_or_report(batch, retry, judge, run_options, "the time limit was exceeded on", then)
