"""Nothing is left behind: when `check`, `watch` or `serve` exits, at the end of its work or on SIGTERM in the middle
of it, every process it started (the worker fork server, multiprocessing's resource tracker, the workers, their
exiftool and ffprobe) has ended and been waited for. Whoever waits for the command (a shell, CI, systemd, a
container runtime) then finds nothing of it still running, not even for a moment: the processes are looked for
at the instant the command's own exit has been collected, not after a pause.

Each command runs in a session of its own; every process of that session, and every process seen below the command
while it ran, must be gone (no zombie either) once the command has exited.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import MEDIA, TEST_CA, descendants

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/stat").exists() or not hasattr(os, "pidfd_open"), reason="Linux: reads /proc, waits on a pidfd"
)


def _stat(pid: int) -> tuple[str, list[str]] | None:
    """(command name, the fields after it) of a process, None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            text = fh.read()
    except OSError:
        return None
    return text[text.index("(") + 1 : text.rindex(")")], text.rsplit(")", 1)[1].split()


def _describe(pid: int) -> str:
    st = _stat(pid)
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            cmd = fh.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        cmd = ""
    if st is None:
        return f"{pid} (gone)"
    return f"{pid} {st[0]} state {st[1][0]} ppid {st[1][1]}: {cmd[:160]}"


def session(sid: int) -> list[int]:
    """Every process of session `sid`, zombies included."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit() and (st := _stat(int(d))) is not None and int(st[1][3]) == sid:
            out.append(int(d))
    return out


def identity(pid: int) -> tuple[int, str] | None:
    """(pid, start time): a process, not a pid that may be reused."""
    st = _stat(pid)
    return None if st is None else (pid, st[1][19])


class Command:
    """A labelcheck command as a real process in a session of its own; standard output and error go to files (a
    pipe would be held open by whatever outlives the command, and reading it to its end would wait for that)."""

    def __init__(self, tmp_path: Path, *args: object, env: dict[str, str] | None = None) -> None:
        self.out = tmp_path / "stdout"
        self.err = tmp_path / "stderr"
        with open(self.out, "wb") as out, open(self.err, "wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "labelcheck", *map(str, args)],
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env=env,
            )
        self.seen: set[tuple[int, str]] = set()  # every process seen below the command while it ran

    def look(self) -> list[str]:
        """The command lines of the processes below the command now (remembered for the end)."""
        found = []
        for pid in set(descendants(self.proc.pid)) | (set(session(self.proc.pid)) - {self.proc.pid}):
            if (ident := identity(pid)) is not None:
                self.seen.add(ident)
                found.append(_describe(pid))
        return found

    def kill_all(self) -> None:
        alive = {p for p, start in self.seen if identity(p) == (p, start)}
        for pid in {self.proc.pid, *session(self.proc.pid), *alive}:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        self.proc.wait()

    def until(self, condition, seconds: float, what: str) -> None:
        deadline = time.monotonic() + seconds
        while not condition():
            self.look()
            if self.proc.poll() is not None:
                self.kill_all()
                pytest.fail(f"exited {self.proc.returncode} before {what}:\n{self.err.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                self.kill_all()
                pytest.fail(f"not {what} within {seconds} s:\n{self.err.read_text()[-3000:]}")
            time.sleep(0.05)

    def stderr(self) -> str:
        return self.err.read_text(errors="replace")

    def finish(self, timeout: float = 120) -> int:
        """Wait for the command's exit; then, at once, assert that nothing it started is left."""
        deadline = time.monotonic() + timeout
        exit_fd = os.pidfd_open(self.proc.pid)  # readable the moment the command exits
        try:
            while not select.select([exit_fd], [], [], 0.02)[0]:  # looking below it meanwhile
                self.look()
                if time.monotonic() > deadline:
                    self.kill_all()
                    pytest.fail(f"still running after {timeout} s:\n{self.stderr()[-3000:]}")
        finally:
            os.close(exit_fd)
        code = self.proc.wait()
        exited = time.monotonic()
        left = set(session(self.proc.pid)) | {p for p, start in self.seen if identity(p) == (p, start)}
        if left:
            report = self.outlived(left, exited)
            self.kill_all()  # a failed run leaves nothing behind either
            pytest.fail(f"processes outlived the command (exit {code}):\n{report}")
        return code

    def outlived(self, left: set[int], exited: float) -> str:
        """Each process left, and how long it outlived the command: until it ended, and until it was collected."""
        described = {p: _describe(p) for p in left}
        ended: dict[int, float] = {}
        gone: dict[int, float] = {}
        while time.monotonic() - exited < 5 and len(gone) < len(left):
            for p in left - set(gone):
                st = _stat(p)
                if st is None or st[1][0] in "ZX":
                    ended.setdefault(p, time.monotonic() - exited)
                if st is None:
                    gone[p] = time.monotonic() - exited
            time.sleep(0.001)
        lines = []
        for p in sorted(left):
            end = f"ended after {ended[p] * 1000:.0f} ms" if p in ended else "still running after 5 s"
            reaped = f", collected after {gone[p] * 1000:.0f} ms" if p in gone else ""
            lines.append(f"  {described[p]}  ({end}{reaped})")
        return "\n".join(lines) + "\n" + self.stderr()[-2000:]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hot_folder(tmp_path: Path, copies: int) -> Path:
    """A folder of `copies` copies of every fixture (distinct names)."""
    d = tmp_path / "in"
    d.mkdir()
    for n in range(copies):
        for f in MEDIA.iterdir():
            if f.is_file():
                shutil.copyfile(f, d / f"{n:03d}-{f.name}")
    return d


def exiftools(cmd: Command) -> int:
    """The exiftool processes below the command now."""
    return sum(1 for line in cmd.look() if "exiftool" in line.split(":", 1)[1])


def test_a_check_that_runs_to_its_end_leaves_nothing(tmp_path):
    cmd = Command(
        tmp_path, "check", MEDIA, "--workers", "2", "--format", "json", "-o", tmp_path / "r.json",
        "--no-progress", "--trust-anchors", TEST_CA,
    )  # fmt: skip
    assert cmd.finish() == 1, cmd.stderr()  # some fixtures fail their policy
    assert len(cmd.seen) >= 4  # the fork server, the resource tracker, workers, exiftool
    assert (tmp_path / "r.json").stat().st_size > 0


def stop(cmd: Command, to: str, sig: signal.Signals) -> None:
    """`sig` to the command alone (a CI runner, `kill PID`, docker stop) or to its whole process group (Ctrl-C at a
    terminal, systemd's default KillMode, `kill -TERM -PGID`): its workers and tools get it too."""
    if to == "group":
        os.killpg(cmd.proc.pid, sig)
    else:
        os.kill(cmd.proc.pid, sig)


STOPS = [("command", signal.SIGTERM), ("command", signal.SIGINT), ("group", signal.SIGTERM), ("group", signal.SIGINT)]


@pytest.mark.parametrize(("to", "sig"), STOPS)
def test_a_check_stopped_mid_run_leaves_nothing(tmp_path, to, sig):
    """SIGTERM (a cancelled CI job) or Ctrl-C's SIGINT, to the command or to its group; workers busy with a batch,
    each with its exiftool, when it comes."""
    out = tmp_path / "r.jsonl"
    cmd = Command(
        tmp_path, "check", *[MEDIA] * 200, "--workers", "2", "--format", "jsonl", "-o", out, "--no-progress",
        "--trust-anchors", TEST_CA,
    )  # fmt: skip
    cmd.until(lambda: out.exists() and out.read_bytes().count(b"\n") > 60, 60, "checking items")
    cmd.until(lambda: exiftools(cmd) >= 2, 30, "running two exiftools")
    stop(cmd, to, sig)
    code = cmd.finish()
    assert code == (143 if sig == signal.SIGTERM else 130), cmd.stderr()
    assert out.read_bytes().count(b"\n") < 200 * 51, "the run ended before the signal"


def test_a_check_stopped_while_its_workers_wait_on_tools_leaves_nothing(tmp_path):
    """Workers stuck in a tool when SIGTERM comes (here an ffprobe that never answers) are killed once their grace
    has passed: the tools they leave (that ffprobe, their exiftool) are collected as well, not left to run on."""
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "ffprobe").write_text("#!/bin/sh\nexec sleep 300\n")
    (tools / "ffprobe").chmod(0o755)
    videos = tmp_path / "videos"
    videos.mkdir()
    for n in range(20):
        for f in MEDIA.glob("*.mp4"):
            shutil.copyfile(f, videos / f"{n:02d}-{f.name}")
    env = dict(os.environ, PATH=f"{tools}:{os.environ['PATH']}")
    cmd = Command(
        tmp_path, "check", videos, "--workers", "2", "--ffprobe", "always", "--format", "json", "-o",
        tmp_path / "r.json", "--no-progress", env=env,
    )  # fmt: skip
    cmd.until(lambda: sum(" sleep 300" in line for line in cmd.look()) >= 2 and exiftools(cmd) >= 2, 60, "stuck")
    os.kill(cmd.proc.pid, signal.SIGTERM)
    assert cmd.finish() == 143, cmd.stderr()


@pytest.mark.parametrize("to", ["command", "group"])
def test_a_watch_stopped_mid_run_leaves_nothing(tmp_path, to):
    folder = hot_folder(tmp_path, 10)
    cmd = Command(
        tmp_path, "watch", folder, "--reports", tmp_path / "reports", "--workers", "2", "--settle", "0",
        "--trust-anchors", TEST_CA,
    )  # fmt: skip
    cmd.until(lambda: cmd.stderr().count('"event": "checked"') >= 20, 60, "checking items")
    cmd.until(lambda: exiftools(cmd) >= 2, 30, "running two exiftools")
    stop(cmd, to, signal.SIGTERM)
    assert cmd.finish() == 0, cmd.stderr()
    assert cmd.stderr().count('"event": "checked"') < 10 * 51, "the run ended before the signal"


@pytest.mark.parametrize("to", ["command", "group"])
def test_a_server_stopped_mid_run_leaves_nothing(tmp_path, to):
    folder = hot_folder(tmp_path, 10)
    cmd = Command(
        tmp_path, "serve", "--reports", tmp_path / "reports", "--port", free_port(), "--workers", "2",
        "--watch", folder, "--settle", "0", "--trust-anchors", TEST_CA,
    )  # fmt: skip
    cmd.until(lambda: cmd.stderr().count('"event": "checked"') >= 20, 60, "checking items")
    cmd.until(lambda: exiftools(cmd) >= 2, 30, "running two exiftools")
    stop(cmd, to, signal.SIGTERM)
    assert cmd.finish() == 0, cmd.stderr()
    assert cmd.stderr().count('"event": "checked"') < 10 * 51, "the run ended before the signal"
