"""ffprobe extractor (ffmpeg-python argument style): container and stream tags of audio/video, time-bounded."""

from __future__ import annotations

import json
import resource
import subprocess
from pathlib import Path
from typing import Any

import ffmpeg
from ffmpeg._utils import convert_kwargs_to_cmd_line_args

from ..inputs.media import MediaType
from ..model import ToolError

MEMORY_LIMIT = 2 << 30
MAX_OUTPUT = 16 << 20


def _limit_memory() -> None:  # runs in the child before exec
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


# Containers whose tags and tracks exiftool already reads in full (QuickTime keys/item list/user data per track,
# ID3, RIFF INFO, Matroska Tags with -ee): ffprobe adds only codec facts and per-track attribution there, at
# ~0.1 s a spawn, so `auto` leaves them to exiftool.
EXIFTOOL_COVERS = frozenset(
    {
        "video/mp4",
        "video/quicktime",
        "audio/mp4",
        "audio/mpeg",
        "audio/wav",
        "video/x-matroska",
        "video/webm",
        "application/mxf",  # exiftool reads the header metadata (Identification, descriptive sets) in full
        "audio/x-aiff",  # its text chunks and ID3 chunk
    }
)
MODES = ("auto", "always", "never")


# A lone media segment (styp/moof): no container to read without its init segment (checked as a stream instead).
UNREADABLE_ALONE = frozenset({"video/iso.segment"})


def wanted(media: MediaType, mode: str) -> bool:
    """Whether to spawn ffprobe for this item: never for stills or lone segments; in `auto`, only where it adds."""
    if not media.is_av or mode == "never" or media.mime in UNREADABLE_ALONE:
        return False
    return mode == "always" or media.mime not in EXIFTOOL_COVERS


def start(path: Path, cmd: str = "ffprobe") -> subprocess.Popen[bytes] | ToolError:
    """Launch `ffprobe -show_format -show_streams -show_programs` (JSON) on one file; `finish()` collects it."""
    args = [cmd, "-hide_banner", "-show_format", "-show_streams", "-show_programs", "-of", "json"]
    args += convert_kwargs_to_cmd_line_args({"v": "error", "probesize": "20M", "analyzeduration": "10M"})
    args.append(f"file:{path}" if str(path).startswith("-") else str(path))
    try:
        return subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, preexec_fn=_limit_memory
        )
    except OSError as exc:
        return ToolError("ffprobe", f"ffprobe could not run: {exc}")


def finish(proc: subprocess.Popen[bytes] | ToolError, timeout: float = 10.0) -> dict[str, Any] | ToolError:
    """The parsed answer of a started ffprobe, or a ToolError; never waits past `timeout`."""
    if isinstance(proc, ToolError):
        return proc
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return ToolError("ffprobe", f"ffprobe gave no answer within {timeout:g}s")
    if proc.returncode != 0:
        err = ffmpeg.Error("ffprobe", stdout, stderr)
        detail = err.stderr.decode("utf-8", "replace").strip().splitlines()
        return ToolError("ffprobe", f"ffprobe failed: {detail[-1] if detail else 'exit ' + str(proc.returncode)}")
    if len(stdout) > MAX_OUTPUT:
        return ToolError("ffprobe", "ffprobe output too large")
    try:
        data = json.loads(stdout.decode("utf-8", "replace"))
    except json.JSONDecodeError as exc:
        return ToolError("ffprobe", f"unreadable ffprobe output: {exc}")
    return data if isinstance(data, dict) else ToolError("ffprobe", "unexpected ffprobe output")


def decodable(data: dict[str, Any]) -> bool:
    """Whether ffprobe found a stream it could make sense of: audio with a sample rate and channels, or video with a
    frame size. Forced by a file's extension, its demuxers accept any bytes (random data named .aac is 'AAC' with
    no sample rate), so its answer alone does not show that a file is media."""
    for st in data.get("streams") or []:
        kind = st.get("codec_type")
        if kind == "audio" and _positive(st.get("sample_rate")) and _positive(st.get("channels")):
            return True
        if kind == "video" and _positive(st.get("width")) and _positive(st.get("height")):
            return True
    return False


def _positive(value: Any) -> bool:
    try:
        return float(value) > 0
    except (TypeError, ValueError):
        return False


def probe(path: Path, timeout: float = 10.0, cmd: str = "ffprobe") -> dict[str, Any] | ToolError:
    """start() and finish() in one call."""
    return finish(start(path, cmd), timeout)
