"""Exiftool extractor: one persistent pyexiftool process per worker, pipelined batches, a deadline on every file."""

from __future__ import annotations

import json
import os
import random
import re
import resource
import select
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import exiftool

from ..model import ToolError
from . import prestart
from .prestart import CONFIG

# -n: raw values (DigitalSourceType and DataMining stay URIs); -G1: family-1 groups (XMP-iptcExt, PNG, ID3v2_3, ...).
# -e: no composite tags (derived values, none a label; computing them costs exiftool ~20 % of its time, and
# excluding them from the output with -x instead costs more than printing them).
READ_ARGS = (
    "-j",
    "-n",
    "-G1",
    "-a",
    "-struct",
    "-e",
    "-api",
    "LargeFileSupport=1",
    "-charset",
    "filename=utf8",
)
# Per format: skipping work a format cannot carry labels in (-fast2 skips maker notes and JPEG trailers; -fast alone
# keeps PNG chunks after IDAT, where generator text can sit, and RIFF chunks after the image data, WebP XMP), and
# reading what exiftool skips by default (-ee: Matroska Tags after the first Cluster, skipping over the Clusters).
FORMAT_ARGS: dict[str, tuple[str, ...]] = {
    "image/jpeg": ("-fast2",),
    "image/tiff": ("-fast2",),
    "image/png": ("-fast",),
    "image/webp": ("-fast",),
    "video/x-matroska": ("-ee",),
    "video/webm": ("-ee",),
}
# Formats whose labels live in an XMP packet that packet scanning also finds, and where exiftool has known
# pathologies (thousands of sub-IFDs, AES-256 PDF key derivation in Perl): a shorter first deadline.
PACKET_SCAN_FORMATS = frozenset({"image/tiff", "application/pdf"})
SECONDS_PER_GB = 2.0  # the deadline grows with the file: exiftool seeks, but large containers have more boxes
MEMORY_LIMIT = 2 << 30  # bytes of address space for the exiftool process
MAX_OUTPUT = 32 << 20  # bytes of output accepted for one file
EXIT_GRACE = 0.5  # seconds to collect what a process that exited wrote last
START_TIMEOUT = 30.0  # seconds for a new process to answer -ver (Perl starts in ~0.1 s)
MAX_PIPELINE_BYTES = 32 << 10  # stay below the pipe buffer when writing a batch of commands


class ExifToolTimeout(Exception):
    pass


class ExifToolExited(ExifToolTimeout):
    """The process ended while reading a file (Perl died on it, e.g. "Out of memory!" on a corrupt segment)."""


class ExifToolMissing(Exception):
    pass


class _Channel:
    """Reads one of the process's pipes up to a sentinel, within a deadline, never blocking past it."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buf = bytearray()

    def read_until(self, token: bytes, deadline: float) -> bytes:
        while True:
            idx = self.buf.find(token)
            if idx >= 0:
                out = bytes(self.buf[:idx])
                del self.buf[: idx + len(token)]
                return out
            if len(self.buf) > MAX_OUTPUT:
                raise ExifToolTimeout(f"output larger than {MAX_OUTPUT >> 20} MiB")
            left = deadline - time.monotonic()
            if left <= 0:
                raise ExifToolTimeout("deadline passed")
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                chunk = os.read(self.fd, 1 << 16)
                if not chunk:
                    raise ExifToolExited("exiftool exited")
                self.buf.extend(chunk)

    def rest(self, deadline: float) -> bytes:
        """Whatever is left once the process has exited: up to end of file, the deadline or MAX_OUTPUT."""
        while len(self.buf) <= MAX_OUTPUT and (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([self.fd], [], [], left)
            chunk = os.read(self.fd, 1 << 16) if ready else b""
            if not chunk:
                break
            self.buf.extend(chunk)
        return bytes(self.buf)


class BoundedExifTool(exiftool.ExifTool):
    """pyexiftool's process, with a bounded reader: a stalled or dead exiftool raises instead of hanging."""

    def run(self) -> None:
        super().run()
        self._limit()

    def adopt(self, process: Any) -> None:
        """Use an exiftool started before this object (prestart.take) as run() would have started it."""
        self._process = process
        self._running = True
        self._ver = self._parse_ver()
        self._limit()

    def _limit(self) -> None:
        try:
            resource.prlimit(self._process.pid, resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
        except (OSError, ValueError):  # pragma: no cover - platform without prlimit
            pass

    def _parse_ver(self) -> str:
        """`-ver` as run() asks it, read within a deadline: pyexiftool's own read loops forever on a process that
        exits or never answers (a broken installation, a program that is not exiftool)."""
        self._out = _Channel(self._process.stdout.fileno())
        self._err = _Channel(self._process.stderr.fileno())
        try:
            self._process.stdin.write(b"-ver\n-execute\n")
            self._process.stdin.flush()
            out = self._out.read_until(b"{ready}", time.monotonic() + START_TIMEOUT)
        except (OSError, ExifToolTimeout) as exc:
            why = "exited" if self._process.poll() is not None else f"gave no answer within {START_TIMEOUT:g} s"
            self.kill()
            raise ExifToolMissing(f"{self.executable} did not start as exiftool ({why}: {exc})") from exc
        return out.decode("utf-8", "replace").strip()

    def kill(self) -> None:
        proc = self._process
        if proc is not None:
            proc.kill()
            proc.communicate()
        self._flag_running_false()

    def pipeline(
        self, commands: list[list[bytes]], timeouts: list[float], during: Callable[[], None] | None = None
    ) -> list[tuple[bytes, bytes] | Exception]:
        """Send several commands at once, run `during()` while exiftool works, then read each answer with its own
        deadline. After a timeout the process is killed and the answers stop there: the stalled command ends the
        list as an ExifToolTimeout, and the caller resends the commands after it.
        """
        tags = [random.randint(100000, 999999) for _ in commands]
        payload = bytearray()
        for cmd, tag in zip(commands, tags, strict=True):
            for p in cmd:
                payload += p + b"\n"
            payload += b"-echo4\n=${status}=post%d\n-execute%d\n" % (tag, tag)
        self._process.stdin.write(bytes(payload))
        self._process.stdin.flush()
        if during is not None:
            try:
                during()
            except BaseException:
                self.kill()  # its answers would be read by the next caller: start afresh
                raise
        results: list[tuple[bytes, bytes] | Exception] = []
        for tag, timeout in zip(tags, timeouts, strict=True):
            deadline = time.monotonic() + timeout
            try:
                out = self._out.read_until(b"{ready%d}" % tag, deadline)
                err = self._err.read_until(b"post%d" % tag, deadline)
            except ExifToolExited:
                said = self._err.rest(time.monotonic() + EXIT_GRACE)
                self.kill()
                results.append(ExifToolExited(_last_words(said)))
                return results
            except ExifToolTimeout as exc:
                self.kill()
                results.append(exc)
                return results
            results.append((out, err))
        return results


def _last_words(stderr: bytes) -> str:
    """What exiftool wrote to standard error after the last answered command, in one line."""
    text = re.split(rb"=-?\d+=post\d+", stderr)[-1].decode("utf-8", "replace")
    return " ".join(text.split())[:300] or "no message"


def _safe_name(path: Path, tmp: list[str]) -> bytes:
    """exiftool reads one argument per line: a name with a newline is read through a temporary symlink."""
    raw = os.fsencode(path)
    if b"\n" not in raw and b"\r" not in raw:
        return raw
    d = tempfile.mkdtemp(prefix="labelcheck-")
    tmp.append(d)
    link = os.path.join(d, "item" + path.suffix.replace("\n", ""))
    os.symlink(os.path.abspath(path), link)
    return os.fsencode(link)


class ExifToolSession:
    """One stay-open exiftool process, restarted after a timeout; reads files in pipelined batches."""

    def __init__(self, executable: str = "exiftool", timeout: float = 5.0, short_timeout: float = 0.5) -> None:
        self.executable = executable
        self.timeout = timeout
        self.short_timeout = short_timeout
        self.restarts = 0
        self._tool: BoundedExifTool | None = None
        self._lock = threading.Lock()

    def available(self) -> bool:
        return shutil.which(self.executable) is not None

    def _ensure(self) -> BoundedExifTool:
        with self._lock:  # a worker may be starting it from another thread (Scanner.start_tools)
            if self._tool is None or not self._tool.running:
                if not self.available():
                    raise ExifToolMissing(f"{self.executable} not found on PATH")
                tool = BoundedExifTool(executable=self.executable, common_args=[], config_file=CONFIG)
                waiting = prestart.take(self.executable)  # started first thing by a small run's command line
                if waiting is not None:
                    tool.adopt(waiting)
                else:
                    tool.run()
                self._tool = tool
            return self._tool

    @property
    def version(self) -> str | None:
        """The running process's version (pyexiftool asks it with -ver when it starts), else None."""
        tool = self._tool
        return str(tool.version) if tool is not None and tool.running else None

    def start(self) -> None:
        """Start the process now rather than at the first read (a worker calls this from a thread while it reads
        its first batch's C2PA: Perl's start-up is then off the critical path)."""
        self._ensure()

    def close(self) -> None:
        with self._lock:
            if self._tool is not None and self._tool.running:
                self._tool.terminate()
            self._tool = None

    def __enter__(self) -> ExifToolSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def deadline(self, size: int, mime: str = "") -> float:
        """Seconds one file may take: the configured timeout (shorter for formats with a packet-scan fallback),
        plus an allowance for very large files."""
        base = min(self.timeout, self.short_timeout) if mime in PACKET_SCAN_FORMATS else self.timeout
        return base + SECONDS_PER_GB * size / 1e9

    def read(
        self, paths: list[Path], during: Callable[[], None] | None = None, mimes: list[str] | None = None
    ) -> list[dict[str, Any] | ToolError]:
        """Tags of each file, or a ToolError naming what went wrong; one answer per path, in order.

        `during` runs once while exiftool works on the first commands (other extractors overlap with it);
        `mimes`, when given, lets formats that cannot carry labels past a point be read with -fast.
        """
        if during is not None and self._lock.locked():
            # Another thread is starting the process (Scanner.start_tools in the background): the other extractors
            # run now, while Perl starts, not after it (a large file's C2PA read waited ~0.1 s for it)
            during()
            during = None
        answers: list[dict[str, Any] | ToolError] = []
        pending = list(zip(paths, mimes or [""] * len(paths), strict=True))
        while pending:
            batch: list[tuple[Path, str]] = []
            size = 0
            while pending and (not batch or size < MAX_PIPELINE_BYTES):
                batch.append(pending.pop(0))
                size += len(os.fsencode(batch[-1][0])) + 200
            answers.extend(self._read_batch(batch, pending, during))
            during = None
        if during is not None:
            during()
        return answers

    def _read_batch(
        self, batch: list[tuple[Path, str]], pending: list[tuple[Path, str]], during: Callable[[], None] | None
    ) -> list[dict[str, Any] | ToolError]:
        tmp: list[str] = []
        timeouts = []
        for p, mime in batch:
            try:
                timeouts.append(self.deadline(p.stat().st_size, mime))
            except OSError:
                timeouts.append(self.timeout)
        try:
            tool = self._ensure()
            commands = [
                [*(a.encode() for a in READ_ARGS + FORMAT_ARGS.get(m, ())), _safe_name(p, tmp)] for p, m in batch
            ]
            raw = tool.pipeline(commands, timeouts, during)
        finally:
            for d in tmp:
                shutil.rmtree(d, ignore_errors=True)
        out: list[dict[str, Any] | ToolError] = []
        for answer, timeout in zip(raw, timeouts, strict=False):
            if isinstance(answer, Exception):
                self.restarts += 1
                why = (
                    f"exiftool exited while reading this file ({answer})"
                    if isinstance(answer, ExifToolExited)
                    else f"exiftool gave no answer within {timeout:.3g}s ({answer})"
                )
                out.append(ToolError("exiftool", f"{why}; process restarted", timed_out=True))
            else:
                out.append(_parse(answer[0], answer[1]))
        pending[:0] = batch[len(raw) :]  # unanswered after a timeout: read again by a fresh process
        return out

    def read_packets(self, packets: list[bytes]) -> list[dict[str, Any] | ToolError]:
        """Tags of bare XMP packets (found by packet scanning), read by the same exiftool process."""
        with tempfile.TemporaryDirectory(prefix="labelcheck-xmp-") as d:
            paths = []
            for n, packet in enumerate(packets):
                paths.append(Path(d) / f"packet{n}.xmp")
                paths[-1].write_bytes(packet)
            return self.read(paths)


def _parse(stdout: bytes, stderr: bytes) -> dict[str, Any] | ToolError:
    text = stdout.decode("utf-8", "replace").strip()
    err = stderr.decode("utf-8", "replace")
    err = err[: err.rfind("=", 0, err.rfind("="))].strip() if "=" in err else err.strip()
    if not text:
        return ToolError("exiftool", err or "exiftool returned nothing")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return ToolError("exiftool", f"unreadable exiftool output: {exc}")
    tags = data[0] if isinstance(data, list) and data else {}
    if not isinstance(tags, dict):
        return ToolError("exiftool", "unexpected exiftool output")
    if "ExifTool:Error" in tags:
        return ToolError("exiftool", str(tags["ExifTool:Error"]))
    return tags
