"""Capture a source that is not a playlist (RTMP, SRT, UDP, a plain video file) into fMP4 HLS with ffmpeg
(ffmpeg-python), so its fragments are checked like any stream's."""

from __future__ import annotations

import subprocess
from pathlib import Path

import ffmpeg

CAPTURE_SCHEMES = ("rtmp://", "rtmps://", "srt://", "udp://", "rtp://", "rtsp://")


def needs_capture(ref: str) -> bool:
    """A live protocol URL, or a local media file that is not a playlist."""
    if ref.startswith(CAPTURE_SCHEMES):
        return True
    p = Path(ref)
    return p.is_file() and p.suffix.lower() not in (".m3u8", ".m3u", ".mpd")


def start(ref: str, out_dir: Path, seconds: float) -> tuple[subprocess.Popen[bytes], Path]:
    """Start ffmpeg remuxing `ref` (no re-encoding) into `out_dir/capture.m3u8` fragments of about `seconds`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    playlist = out_dir / "capture.m3u8"
    stream = ffmpeg.input(ref).output(
        str(playlist),
        format="hls",
        c="copy",
        hls_time=seconds,
        hls_segment_type="fmp4",
        hls_list_size=0,
        hls_playlist_type="event",
        hls_fmp4_init_filename="init.mp4",
        hls_segment_filename=str(out_dir / "seg%06d.m4s"),
    )
    args = ffmpeg.compile(stream.global_args("-nostdin", "-v", "error", "-y"))
    return subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE), playlist
