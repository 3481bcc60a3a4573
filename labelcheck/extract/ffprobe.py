"""ffprobe extractor (ffmpeg-python's argument style): container and stream tags of audio/video, time- and memory-bounded."""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
from pathlib import Path
from typing import Any

import ffmpeg
from ffmpeg._utils import convert_kwargs_to_cmd_line_args

from ..model import ToolError

MEMORY_LIMIT = 2 << 30
MAX_OUTPUT = 16 << 20


def _limit_memory() -> None:  # runs in the child before exec
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def available(cmd: str = "ffprobe") -> bool:
    return shutil.which(cmd) is not None


def probe(path: Path, timeout: float = 10.0, cmd: str = "ffprobe") -> dict[str, Any] | ToolError:
    """`ffprobe -show_format -show_streams` as JSON, or a ToolError; never hangs past `timeout`."""
    args = [cmd, "-hide_banner", "-show_format", "-show_streams", "-of", "json"]
    args += convert_kwargs_to_cmd_line_args({"v": "error", "probesize": "20M", "analyzeduration": "10M"})
    args.append(f"file:{path}" if str(path).startswith("-") else str(path))
    try:
        proc = subprocess.run(args, capture_output=True, timeout=timeout, preexec_fn=_limit_memory, check=False)
    except subprocess.TimeoutExpired:
        return ToolError("ffprobe", f"ffprobe gave no answer within {timeout:g}s")
    except OSError as exc:
        return ToolError("ffprobe", f"ffprobe could not run: {exc}")
    if proc.returncode != 0:
        err = ffmpeg.Error("ffprobe", proc.stdout, proc.stderr)
        detail = err.stderr.decode("utf-8", "replace").strip().splitlines()
        return ToolError("ffprobe", f"ffprobe failed: {detail[-1] if detail else 'exit ' + str(proc.returncode)}")
    if len(proc.stdout) > MAX_OUTPUT:
        return ToolError("ffprobe", "ffprobe output too large")
    try:
        data = json.loads(proc.stdout.decode("utf-8", "replace"))
    except json.JSONDecodeError as exc:
        return ToolError("ffprobe", f"unreadable ffprobe output: {exc}")
    return data if isinstance(data, dict) else ToolError("ffprobe", "unexpected ffprobe output")
