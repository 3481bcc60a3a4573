"""Where local worker processes come from (standard library only, so the CLI can start it before its own imports).

Workers are forked from a fork server that imports the checker once: no interpreter start-up and no imports per
worker, and the imported pages are shared between workers. The server is a single-threaded process that has
loaded the SDKs but never used them, so forking it is safe where forking the CLI process (threads, SDK state in
use) would not be.
"""

from __future__ import annotations

import multiprocessing as mp
from multiprocessing import forkserver
from typing import Any

PRELOAD = ["labelcheck.runner", "jsonschema"]  # jsonschema: label payloads are validated in the workers


def context() -> Any:
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


def start_early() -> None:
    """Start the fork server now, so that it imports the checker while the CLI process is still importing."""
    context()
    forkserver.ensure_running()
