"""One exiftool started first thing in a run over a few files, for the first worker to adopt (standard library only:
the command line starts it before its own imports).

Perl's start (~0.07 s of CPU) then overlaps the command's imports on the other core instead of following them; a
one-file check is that much shorter. The process is this command's child; a worker forked from this process
(workers.fork_here) inherits its pipes and adopts it, and this process closes its own ends and reaps it at exit.
A process nobody adopts (the workers came from the fork server, or the run ended first) is stopped.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

CONFIG = str(Path(__file__).with_name("exiftool.config"))  # no JUMBF decoding (c2pa-rs reads the manifests)
PR_SET_PDEATHSIG = 1
REAP_TIMEOUT = 2.0  # seconds a handed-over exiftool is given at exit to end as its worker told it, before a kill

_waiting: tuple[str, subprocess.Popen[bytes], int] | None = None  # (executable as named, process, starter's pid)
_handed: list[subprocess.Popen[bytes]] = []  # adopted by a worker: reaped (or stopped) at exit


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    import ctypes

    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def start(executable: str = "exiftool") -> None:
    """Start exiftool in stay-open mode with labelcheck's configuration, as pyexiftool would, if it is on PATH."""
    global _waiting
    path = shutil.which(executable)
    if path is None or _waiting is not None:
        return  # the worker starts (and reports) it as without this
    args = [path, "-config", CONFIG, "-stay_open", "True", "-@", "-"]
    pipe = subprocess.PIPE
    proc = subprocess.Popen(args, stdin=pipe, stdout=pipe, stderr=pipe, preexec_fn=_die_with_parent)  # noqa: PLW1509
    _waiting = (executable, proc, os.getpid())
    atexit.register(_stop_all)


def take(executable: str) -> subprocess.Popen[bytes] | None:
    """The waiting exiftool for a session that runs `executable`, at most once. In a worker forked from the process
    that started it, as an Adopted process (its parent is that process, not the worker)."""
    global _waiting
    if _waiting is None or _waiting[0] != executable:
        return None
    (_, proc, starter), _waiting = _waiting, None
    return proc if starter == os.getpid() else Adopted.of(proc)


def handed_over(forked: bool) -> None:
    """A worker has just been started. Forked from this process, it adopts the waiting exiftool: this process
    closes its own ends of the pipes and keeps the process to reap. Started otherwise, it cannot: stop it."""
    global _waiting
    if _waiting is None:
        return
    proc, _waiting = _waiting[1], None
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()
    if not forked:
        proc.kill()
    _handed.append(proc)


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting for its parent to collect it."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


def _stop_all() -> None:
    """At exit: every exiftool started here ends (told so by its worker, or killed after REAP_TIMEOUT) and is
    collected, so that nothing the command started outlives it."""
    global _waiting
    if _waiting is not None:
        handed_over(forked=False)
    deadline = time.monotonic() + REAP_TIMEOUT
    for proc in _handed:
        try:
            proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    _handed.clear()


class Adopted(subprocess.Popen[bytes]):
    """A process another process started, used through the pipes this one inherited: its state is read from /proc
    (waitpid answers only its parent, and Popen would take "not my child" for "has exited") and signals are sent
    while it runs. Its exit status is not known here: an ended process reads -1."""

    @classmethod
    def of(cls, proc: subprocess.Popen[bytes]) -> Adopted:
        adopted = cls.__new__(cls)
        adopted.__dict__.update(proc.__dict__)
        return adopted

    def poll(self) -> int | None:
        if self.returncode is None and not _alive(self.pid):
            self.returncode = -1
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = 0.001
        while self.poll() is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(self.args, timeout or 0.0)
            time.sleep(pause)
            pause = min(2 * pause, 0.02)
        return -1

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def __del__(self) -> None:  # Popen's would warn that a process it never waited for is "still running"
        pass
