"""Scratch space for remote items: each process fetches into temporary directories named after it, so that what a
killed worker left behind can be found and removed (standard library only: the command line imports it early)."""

from __future__ import annotations

import os


def fetch_prefix(pid: int | None = None) -> str:
    """Remote items are fetched into a temporary directory named after the process, so that what a killed worker
    left behind can be found and removed (remove_fetched)."""
    return f"labelcheck-fetch-{pid or os.getpid()}-"


def remove_fetched(pid: int) -> None:
    import glob
    import shutil
    import tempfile

    for leftover in glob.glob(os.path.join(tempfile.gettempdir(), glob.escape(fetch_prefix(pid)) + "*")):
        shutil.rmtree(leftover, ignore_errors=True)
