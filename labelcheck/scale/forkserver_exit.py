"""Imported by the worker fork server alone, last of its preloads (workers.PRELOAD).

The server adopts what its workers leave: it is their processes' subreaper, so the exiftool or ffprobe of a worker
that was killed (a time limit, the end of a run) becomes the server's child when that worker dies, and the server,
which waits for any child that ends, collects it at once. Before it exits, it ends and waits for whatever it still
has (a killed worker's ffprobe may run on for its time limit): the command line, which waits for the server at its
own exit (workers.stop_servers), leaves nothing behind.

Once the command line has gone, the server ends at once instead of tearing down the checker it imported. It holds
the command line's standard output and error, so whoever reads them (a pipeline, `| tee`, a CI step) waited ~30 ms
more for that teardown."""

from __future__ import annotations

import atexit
import os
import signal
import warnings

_SERVER = os.getpid()
PR_SET_CHILD_SUBREAPER = 36  # prctl(2), Linux


def _outlast_sigterm(signum: int, frame: object) -> None:
    """SIGTERM to the whole process group (systemd's default KillMode, `kill -TERM -PGID`) ends the workers and their
    tools at once; the server stays to collect them, and ends when the command line lets go of it. Its workers die
    of SIGTERM as before (workers.exit_with_parent restores the default); a program it started would too (exec
    resets a handled signal), which an ignored one would not."""


def _adopt_orphans() -> None:
    """Become the subreaper of the workers' processes (no effect where prctl is missing)."""
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass
    # the server's loop collects every child that ends; one it did not fork is an adopted tool, not a surprise
    warnings.filterwarnings("ignore", message="forkserver: waitpid returned unexpected pid", category=UserWarning)


def children() -> list[int]:
    """This process's children (any state)."""
    me = str(os.getpid())
    found = []
    try:
        with open(f"/proc/{me}/task/{me}/children") as fh:  # the server is single-threaded
            return [int(p) for p in fh.read().split()]
    except OSError:  # pragma: no cover - a kernel without CONFIG_PROC_CHILDREN
        pass
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as fh:
                    if fh.read().rsplit(")", 1)[1].split()[1] == me:
                        found.append(int(d))
            except (OSError, IndexError):
                continue
    return found


def reap_all() -> None:
    """End every child left (adopted tools of dead workers; no worker is alive once the command line has let go of
    the server) and wait for each; a tool adopted meanwhile (its worker's own child) is ended in turn."""
    while True:
        for pid in children():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def _end_now() -> None:
    if os.getpid() == _SERVER:  # the server itself: its workers leave through os._exit and never come here
        reap_all()
        os._exit(0)


_adopt_orphans()
signal.signal(signal.SIGTERM, _outlast_sigterm)
atexit.register(_end_now)
