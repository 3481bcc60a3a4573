"""Scale-out on Dask distributed: batches of paths go to the cluster's workers, results stream back as they finish.

Start a cluster (the paths must be readable on the workers, e.g. a shared mount):

    dask scheduler --host 0.0.0.0 --port 8786                   # on one machine
    dask worker tcp://SCHEDULER:8786 --nworkers 4 --nthreads 1  # on each worker machine (labelcheck installed)
    labelcheck check --scheduler tcp://SCHEDULER:8786 /mnt/media/...

Each Dask worker process keeps one Scanner (one exiftool) for the options it was sent, reused across batches.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from .model import Result
from .scan import Scanner, ScanOptions

if TYPE_CHECKING:
    from .runner import Indexed, RunOptions

_SCANNERS: dict[ScanOptions, Scanner] = {}  # per worker process: options -> its Scanner


def check_batch(paths: list[str], options: ScanOptions) -> list[Result]:
    """Runs on a Dask worker: the same pipeline as a local worker process."""
    scanner = _SCANNERS.get(options)
    if scanner is None:
        scanner = _SCANNERS[options] = Scanner(options)
    return list(scanner.results([Path(p) for p in paths]))


def run_dask(paths: Iterable[Path], options: ScanOptions, run_options: RunOptions) -> Iterator[Indexed]:
    """Submit batches with a bounded window in flight (memory does not grow with the input); yield as completed."""
    from distributed import Client, as_completed

    from .runner import batches

    options = replace(options, overlap_tools=False)  # each Dask worker thread is one core's worth of work
    with Client(run_options.scheduler) as client:
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        source = batches(paths, run_options.batch_size, workers, run_options.read_ahead)
        futures = as_completed()
        in_flight = {}

        def submit(n: int) -> None:
            for batch in itertools.islice(source, n):
                future = client.submit(check_batch, [str(p) for p in batch.paths], options, pure=False)
                in_flight[future.key] = batch
                futures.add(future)

        submit(max(2, 4 * workers))
        for future in futures:
            results = future.result()
            future.release()
            yield from in_flight.pop(future.key).indexed(results)
            submit(1)
