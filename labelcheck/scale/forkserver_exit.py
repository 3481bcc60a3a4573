"""Imported by the worker fork server alone, last of its preloads (workers.PRELOAD): once the command line has gone,
the server ends at once instead of tearing down the checker it imported. It holds the command line's standard output
and error, so whoever reads them (a pipeline, `| tee`, a CI step) waited ~30 ms more for that teardown."""

from __future__ import annotations

import atexit
import os

_SERVER = os.getpid()


def _end_now() -> None:
    if os.getpid() == _SERVER:  # the server itself: its workers leave through os._exit and never come here
        os._exit(0)


atexit.register(_end_now)
