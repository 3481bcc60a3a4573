"""The library's entry point: `scan()` checks targets and returns the Report (the CLI is a thin layer over it).

    from labelcheck.api import EvidenceOptions, Judge, scan
    report = scan(["media/"], judge=Judge.of((policy.load("eu-ai-act-art50"),)))
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

from .extract.gather import EvidenceOptions, ToolMissing, check_tools
from .inputs.targets import expand
from .model import Report
from .policy.judge import Judge, make_report, now
from .scale.batches import RunInfo, RunOptions
from .scale.runner import run

__all__ = ["EvidenceOptions", "Judge", "RunOptions", "ToolMissing", "scan"]


def scan(
    paths: Iterable[str | os.PathLike[str]],
    options: EvidenceOptions | None = None,
    judge: Judge | None = None,
    clock: Callable[[], str] = now,
    run_options: RunOptions | None = None,
) -> Report:
    """Check every item under `paths` and return the Report, in input order.

    `options`: how evidence is gathered (tools, trust, limits); `judge`: the policies and the day they are read on
    (default: the built-in default policy, today); `run_options`: the engine (default: in this process)."""
    judge = judge or Judge.of()
    options = options or EvidenceOptions(read_pixels=judge.needs_pixels)
    check_tools(options)
    info = RunInfo()
    indexed = sorted(run(expand(paths), options, judge, run_options or RunOptions(workers=0), info), key=lambda p: p[0])
    return make_report(tuple(r for _, r in indexed), judge, info.exiftool(options.exiftool), clock())
