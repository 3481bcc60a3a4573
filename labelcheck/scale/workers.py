"""Where local worker processes come from (standard library only, so the CLI can start it before its own imports).

Workers are forked from a fork server that imports the checker once: no interpreter start-up and no imports per
worker, and the imported pages are shared between workers. The server is a single-threaded process that has
loaded the SDKs but never used them, so forking it is safe where forking the CLI process (threads, SDK state in
use) would not be.

A run of a few local files (`fork_here`) forks its workers from the command's own process instead, while that
process has one thread: the server's second interpreter start and imports would compete with exiftool's start for
the machine's cores and lengthen a one-file run by more than they save (measured: docs/performance.md).
"""

from __future__ import annotations

import atexit
import multiprocessing as mp
import os
import signal
import time
from multiprocessing import forkserver, resource_tracker, util
from typing import Any

from ..inputs.scratch import remove_fetched

EXIT_ORPHANED = 3  # a worker whose labelcheck process is gone
# warm: the data tables and validators every worker uses, read once (a one-file run, which they delayed by ~0.08 s,
# has no fork server); forkserver_exit: last, it is the server's own exit.
PRELOAD = ["labelcheck.scale.pool", "labelcheck.scale.warm", "labelcheck.scale.forkserver_exit"]
M_MMAP_THRESHOLD = -3  # glibc's mallopt() parameter number
MMAP_THRESHOLD = 1 << 20
STOP_TIMEOUT = 10.0  # seconds the servers are given at exit before they are killed (they take milliseconds)
SMALL_RUN = 4  # local files at most for a run whose workers are forked from the command's own process
_stopping_at_exit = False
_fork_here = False


def fork_here() -> None:
    """Workers of this run are forked from this process (while it has a single thread), with no fork server."""
    global _fork_here
    _fork_here = True


def _single_threaded() -> bool:
    """One thread in this process, Python's or not (an SDK's own threads count): forking it is then safe."""
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:  # pragma: no cover - no /proc
        return False


def context() -> Any:
    """The multiprocessing context a worker is started from now; the servers it starts are stopped at exit."""
    global _stopping_at_exit
    if _fork_here and _single_threaded():
        return mp.get_context("fork")
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    if not _stopping_at_exit:
        atexit.register(stop_at_exit)  # runs before multiprocessing's own exit function (registered earlier)
        _stopping_at_exit = True
    return ctx


def stop_at_exit() -> None:
    """At exit, nothing this process started outlives it, even for a moment: the workers a run left (none, unless
    it was cut short), then the fork server and multiprocessing's resource tracker, both children of this process,
    are ended and waited for. The fork server first collects the tools its killed workers left (forkserver_exit).
    Another SIGTERM or Ctrl-C does not cut this short (it takes milliseconds; a stuck server is killed)."""
    import threading

    main = threading.current_thread() is threading.main_thread()
    if main:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_IGN)
    stop_servers(STOP_TIMEOUT)


def stop_servers(timeout: float = STOP_TIMEOUT) -> None:
    """End the live worker processes, then the fork server and the resource tracker, and wait for each."""
    deadline = time.monotonic() + timeout
    live = mp.active_children()
    for proc in live:  # killed: their tools are collected by the fork server, which adopts them
        proc.kill()
    for proc in live:
        proc.join(max(0.0, deadline - time.monotonic()))
    server = forkserver._forkserver
    pid = _stop_child(server, "_forkserver_pid", "_forkserver_alive_fd", deadline)
    address = getattr(server, "_forkserver_address", None)
    if pid is not None and address is not None:
        if not util.is_abstract_socket_namespace(address):
            try:
                os.unlink(address)  # the server's socket, as its private _stop() removes it
            except OSError:
                pass
        setattr(server, "_forkserver_address", None)  # noqa: B010 - private to multiprocessing, not in its stubs
    _stop_child(resource_tracker._resource_tracker, "_pid", "_fd", deadline)


def _stop_child(owner: Any, pid_attr: str, fd_attr: str, deadline: float) -> int | None:
    """A multiprocessing server started by this process: closing the pipe it watches tells it to end (once every
    other holder, i.e. every worker, has gone too); it is waited for until `deadline`, then killed. Its pid, if any.
    The attributes are multiprocessing's own (the same as its private `_stop()`, which would wait for ever)."""
    pid, fd = getattr(owner, pid_attr, None), getattr(owner, fd_attr, None)
    if pid is None:
        return None
    if fd is not None:
        try:
            os.close(fd)
        except OSError:
            pass
        setattr(owner, fd_attr, None)
    _wait(pid, deadline)
    setattr(owner, pid_attr, None)
    return pid


def _wait(pid: int, deadline: float) -> None:
    """Wait for the child `pid` until `deadline`, then kill it and wait for it."""
    pause = 0.001
    try:
        while os.waitpid(pid, os.WNOHANG)[0] == 0:
            if time.monotonic() >= deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return
            time.sleep(pause)
            pause = min(pause * 2, 0.02)
    except ChildProcessError:  # already collected
        pass


def exit_with_parent() -> None:
    """Called first in a worker: a thread waits for the labelcheck process that started it to go (even killed) and
    then ends the worker, rather than leave it running on as an orphan busy with an item or stuck in a tool (its
    loop would only notice at its next batch). The worker's exiftool dies with it (pyexiftool binds it so). The fork
    server cannot be relied on: every worker holds its liveness pipe, so it outlives the command line too.

    SIGTERM ends a worker, as it ends any process: the fork server it was forked from outlasts SIGTERM to collect
    its workers (forkserver_exit), and a forked process inherits that handler."""
    import threading  # here, not at the top: the command line imports this module before anything else
    from multiprocessing.connection import wait

    signal.signal(signal.SIGTERM, signal.SIG_DFL)

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
