"""Where local worker processes come from (standard library only, so the CLI can start it before its own imports).

Workers are forked from a fork server that imports the checker once: no interpreter start-up and no imports per
worker, and the imported pages are shared between workers. The server is a single-threaded process that has
loaded the SDKs but never used them, so forking it is safe where forking the CLI process (threads, SDK state in
use) would not be.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from multiprocessing import forkserver
from typing import Any

from ..inputs.scratch import remove_fetched

EXIT_ORPHANED = 3  # a worker whose labelcheck process is gone
# jsonschema: label payloads are validated in the workers; forkserver_exit: last, it is the server's own exit
PRELOAD = ["labelcheck.scale.pool", "jsonschema", "labelcheck.scale.forkserver_exit"]
M_MMAP_THRESHOLD = -3  # glibc's mallopt() parameter number
MMAP_THRESHOLD = 1 << 20


def context() -> Any:
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


def exit_with_parent() -> None:
    """Called first in a worker: a thread waits for the labelcheck process that started it to go (even killed) and
    then ends the worker, rather than leave it running on as an orphan busy with an item or stuck in a tool (its
    loop would only notice at its next batch). The worker's exiftool dies with it (pyexiftool binds it so). The fork
    server cannot be relied on: every worker holds its liveness pipe, so it outlives the command line too."""
    import threading  # here, not at the top: the command line imports this module before anything else
    from multiprocessing.connection import wait

    parent = mp.parent_process()
    if parent is None:  # pragma: no cover - not started by multiprocessing
        return
    sentinel = parent.sentinel  # end of a pipe whose other end only the parent holds: readable (EOF) once it is gone

    def watch() -> None:
        wait([sentinel])
        remove_fetched(os.getpid())  # the remote item in hand: nobody is left to remove it
        os._exit(EXIT_ORPHANED)

    threading.Thread(target=watch, name="labelcheck-parent-watch", daemon=True).start()



def return_large_blocks() -> None:
    """Memory blocks of MMAP_THRESHOLD and more get pages of their own, given back to the system when freed. glibc
    otherwise raises that threshold whenever such a block is freed, after which the heap keeps what the largest
    files needed (~2 MB a worker over 10,000 items). Fixing it costs no measurable time. No effect elsewhere."""
    import ctypes

    try:
        ctypes.CDLL(None).mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        pass


def start_early() -> None:
    """Start the fork server now, so that it imports the checker while the CLI process is still importing."""
    context()
    forkserver.ensure_running()
