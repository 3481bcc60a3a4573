"""Running a pipeline over many targets: the engine is chosen here.

Three engines run the same pipeline (the evidence step's `Scanner`, then the `Judge`): in-process (`workers=0`), a
local pool of worker processes (pool.py, forked from a fork server, workers.py), and a Dask distributed cluster
(cluster.py, `scheduler="tcp://..."`). Results stream back as (input index, Result) pairs in order of completion;
memory holds a bounded window of batches.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ..extract.gather import EvidenceOptions, Scanner
from ..inputs.targets import Target
from ..policy.judge import Judge
from .batches import Indexed, RunInfo, RunOptions, batches
from .pool import Pool


def run(
    paths: Iterable[Target],
    options: EvidenceOptions,
    judge: Judge,
    run_options: RunOptions,
    info: RunInfo | None = None,
) -> Iterator[Indexed]:
    """Every item's Result with its position in the input, as soon as it is known. `info` learns the version of
    the exiftool the workers run (so that no extra process is started to ask it)."""
    if run_options.scheduler:
        from .cluster import run_dask

        yield from run_dask(paths, options, judge, run_options)
    elif run_options.workers <= 0:
        with Scanner(options) as scanner:
            if info is not None:
                scanner.start_tools()
                info.exiftool_version = scanner.exiftool_version
            for batch in batches(paths, run_options.batch_size):
                yield from batch.indexed([judge(ev) for ev in scanner.each(batch.paths)])
    else:
        yield from Pool(options, judge, run_options, info).run(paths)
