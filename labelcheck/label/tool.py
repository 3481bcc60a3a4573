"""One stay-open exiftool per thread for `label`'s writes and read-backs (extract/exiftool.py's bounded process, with
label's own config): a command costs a few milliseconds instead of a new Perl process's ~100 ms. Each command has a
deadline; a stalled exiftool is killed and the next command starts a new one."""

from __future__ import annotations

import atexit
import re
import threading
import time

from ..extract.exiftool import BoundedExifTool, ExifToolMissing, ExifToolTimeout

_LOCAL = threading.local()
_ALL: list[BoundedExifTool] = []  # every thread's, so that none outlives the run (close())
_ALL_LOCK = threading.Lock()
_STATUS = re.compile(rb"=(-?\d+)=\s*$")  # -echo4 =${status}=post<tag>, the tag cut off by the reader


class ToolFailed(Exception):
    """exiftool said no (a non-zero status), or did not answer in time: the message says which."""


def _tool(config: str) -> BoundedExifTool:
    tool: BoundedExifTool | None = getattr(_LOCAL, "tool", None)
    if tool is None or not tool.running:
        tool = BoundedExifTool(executable="exiftool", common_args=[], config_file=config)
        tool.run()
        _LOCAL.tool = tool
        with _ALL_LOCK:
            _ALL.append(tool)
    return tool


@atexit.register
def close() -> None:
    """Stop every thread's exiftool (at the end of a label run, and at exit: a process that waits for its children,
    as `make bench` does, must not wait for a stay-open exiftool)."""
    with _ALL_LOCK:
        tools, _ALL[:] = list(_ALL), []
    for tool in tools:
        if tool.running:
            try:
                tool.terminate(timeout=5)
            except Exception:  # noqa: BLE001 - it is being stopped: kill it
                tool.kill()
    _LOCAL.__dict__.clear()


def exiftool(args: list[str], config: str, deadline: float) -> bytes:
    """exiftool's standard output for one command (arguments as on its command line, without the program and its
    -config), within `deadline` (a time.monotonic() value)."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise ToolFailed("the time allowed ran out before it started")
    try:
        (answer,) = _tool(config).pipeline([[a.encode() for a in args]], [left])
    except ExifToolMissing as exc:
        raise ToolFailed(str(exc)) from exc
    if isinstance(answer, ExifToolTimeout):
        raise ToolFailed(f"no answer within the time allowed: stopped ({answer})")
    if isinstance(answer, Exception):
        raise ToolFailed(str(answer))
    out, err = answer
    m = _STATUS.search(err)
    status = int(m.group(1)) if m else 0
    if status != 0:
        said = " ".join(_STATUS.sub(b"", err).decode("utf-8", "replace").split())[:300]
        raise ToolFailed(said or f"exit status {status}")
    return out
