"""Pixels for the visible-label reader (pixels.py). Stills are decoded by Pillow, their size and frame count
checked before any pixel is: any mode comes out as 8-bit RGB, huge pictures reduced (JPEG by draft decoding). And
ink_height(): how tall the letters of a text line are, measured on its pixels.
Videos: ffprobe gives the picture's size, duration and rotation; ffmpeg decodes chosen frames to raw RGB through a
pipe, never to disk, each run bounded in time, memory and output.

The first seconds are read as one run at `HEAD_FPS` frames a second (GB 45438-2025 puts a video's label at its start
for at least 2 s); the rest as single-frame runs that seek (`-ss` before `-i`: to the key frame before, then decoding
on to the time), so a long video costs a few seeks, not a full decode. Frames come out scaled to fit `max_side`, in
the displayed orientation (ffmpeg applies the stream's rotation)."""

from __future__ import annotations

import math
import re
import resource
import subprocess
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..model import ToolError
from . import ffprobe

MAX_PIXELS = 120_000_000  # a larger still is not decoded (decoding bomb)
LOAD_SHORT = 1080  # a larger still is reduced to this shortest side before reading
MIN_SIDE = 16  # a smaller picture carries no readable label
MEMORY_LIMIT = 2 << 30  # RLIMIT_AS of each ffmpeg run
MAX_VIDEO_PIXELS = 8192 * 8192  # a larger coded picture is not decoded (a decoding bomb, or not a video we read)
HEAD_FPS = 2.0
MAX_SIDE = 1920  # frames are decoded at most this large (the reader works at a 1080-line scale)
DECODE_THREADS = "2"


# Pillow's own decoding-bomb check (a warning above, an error above twice this) agrees with ours.
try:
    from PIL import Image as _PILImage

    _PILImage.MAX_IMAGE_PIXELS = MAX_PIXELS
except ImportError:  # pragma: no cover - Pillow comes with the OCR engine
    pass


@dataclass(frozen=True)
class VideoInfo:
    width: int  # displayed size: after the stream's rotation
    height: int
    duration: float | None
    rotation: int  # degrees, as the stream's display matrix says (0, 90, 180, 270)
    codec: str


@dataclass(frozen=True, eq=False)
class Frame:
    time: float  # seconds from the start
    rgb: np.ndarray = field(repr=False)  # (height, width, 3) uint8, at the decoded (possibly scaled) size


def _limit_memory() -> None:  # runs in the child before exec
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _number(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) and out >= 0 else None


def _rotation(stream: dict[str, Any]) -> int:
    values = [s.get("rotation") for s in stream.get("side_data_list") or [] if isinstance(s, dict)]
    values.append((stream.get("tags") or {}).get("rotate"))
    for value in values:
        try:
            turn = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
        if math.isfinite(turn):
            return int(round(turn / 90)) * 90 % 360
    return 0


def probe_video(path: Path, timeout: float = 10.0, cmd: str = "ffprobe") -> VideoInfo | ToolError:
    """The first real video stream's displayed size, duration and rotation (cover art is not video)."""
    data = ffprobe.probe(path, timeout, cmd)
    if isinstance(data, ToolError):
        return data
    for st in data.get("streams") or []:
        if not isinstance(st, dict) or st.get("codec_type") != "video":
            continue
        if (st.get("disposition") or {}).get("attached_pic"):
            continue
        w, h = _number(st.get("width")), _number(st.get("height"))
        if not w or not h:
            continue
        if w * h > MAX_VIDEO_PIXELS:
            return ToolError(
                "ocr", f"video picture {int(w)}x{int(h)} is larger than {MAX_VIDEO_PIXELS} pixels: not decoded"
            )
        rot = _rotation(st)
        if rot in (90, 270):
            w, h = h, w
        duration = _number(st.get("duration")) or _number((data.get("format") or {}).get("duration"))
        return VideoInfo(int(w), int(h), duration, rot, str(st.get("codec_name") or ""))
    return ToolError("ocr", "no video stream to read")


def output_size(info: VideoInfo, max_side: int = MAX_SIDE) -> tuple[int, int]:
    """The decoded frame size: the displayed size scaled to fit `max_side`, even numbers (for every pixel format)."""
    scale = min(1.0, max_side / max(info.width, info.height))
    return max(2, int(info.width * scale) // 2 * 2), max(2, int(info.height * scale) // 2 * 2)


def _run(
    args: list[str], size: tuple[int, int], count: int, timeout: float
) -> tuple[list[np.ndarray], bytes, ToolError | None]:
    """Run ffmpeg; the frames it wrote (at most `count`), its stderr, and an error when it wrote none."""
    w, h = size
    frame_bytes = w * h * 3
    try:
        proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, preexec_fn=_limit_memory
        )
    except OSError as exc:
        return [], b"", ToolError("ocr", f"ffmpeg could not run: {exc}")
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return [], b"", ToolError("ocr", f"ffmpeg decoded no frames within {timeout:g}s", timed_out=True)
    frames = [
        np.frombuffer(out, np.uint8, frame_bytes, i * frame_bytes).reshape(h, w, 3)
        for i in range(min(count, len(out) // frame_bytes))
    ]
    if not frames:
        lines = [ln for ln in err.decode("utf-8", "replace").strip().splitlines() if "pts_time:" not in ln]
        why = lines[-1] if proc.returncode != 0 and lines else f"exit {proc.returncode}, no frame"
        return [], err, ToolError("ocr", f"ffmpeg decoded no frames: {why}")
    return frames, err, None


def _args(path: Path, cmd: str, size: tuple[int, int], vf: str, count: int, start: float, span: float) -> list[str]:
    # -v info only for showinfo's frame times (a few lines a frame); -nostats keeps the progress line out
    args = [cmd, "-hide_banner", "-nostdin", "-nostats", "-v", "info" if vf else "error", "-threads", DECODE_THREADS]
    if start:
        args += ["-ss", f"{start:.3f}"]
    if span:
        args += ["-t", f"{span:.3f}"]
    src = f"file:{path}" if str(path).startswith("-") else str(path)
    args += ["-i", src, "-map", "0:V:0", "-an", "-sn", "-dn", "-fps_mode", "passthrough"]
    args += ["-vf", f"{vf}scale={size[0]}:{size[1]}:flags=area,format=rgb24", "-frames:v", str(count)]
    return args + ["-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]


def head_frames(
    path: Path, info: VideoInfo, seconds: float, timeout: float = 20.0, cmd: str = "ffmpeg", max_side: int = MAX_SIDE
) -> tuple[list[Frame], ToolError | None]:
    """The first frame, then the first frame of each following 1/HEAD_FPS slot, within the first `seconds`, in one
    ffmpeg run; each with its time from the first (as ffmpeg's showinfo reports it)."""
    count = max(1, math.ceil(seconds * HEAD_FPS - 1e-9))
    size = output_size(info, max_side)
    rate = f"{HEAD_FPS:g}"  # the first frame of each 1/HEAD_FPS slot: 0, 0.5, 1.0, … or the frame just after
    pick = f"select='isnan(prev_selected_t)+gt(floor(t*{rate})\\,floor(prev_selected_t*{rate}))',showinfo,"
    arrays, err, error = _run(_args(path, cmd, size, pick, count, 0.0, seconds), size, count, timeout)
    stamps = [float(m) for m in re.findall(rb"pts_time:\s*(-?[0-9.]+)", err)]
    if len(stamps) < len(arrays):  # no showinfo lines: the nominal times
        stamps = [i / HEAD_FPS for i in range(len(arrays))]
    first = stamps[0] if stamps else 0.0
    return [Frame(round(stamps[i] - first, 3), a) for i, a in enumerate(arrays)], error


def sparse_times(info: VideoInfo, after: float, count: int) -> list[float]:
    """`count` times spread evenly over what follows the first `after` seconds (none when the video is no longer)."""
    if count <= 0 or info.duration is None or info.duration <= after + 0.5:
        return []
    span = info.duration - after
    return [round(after + span * (i + 0.5) / count, 3) for i in range(count)]


def frame_at(
    path: Path, info: VideoInfo, time: float, timeout: float = 10.0, cmd: str = "ffmpeg", max_side: int = MAX_SIDE
) -> tuple[Frame | None, ToolError | None]:
    """One frame at `time` seconds (seeking first)."""
    size = output_size(info, max_side)
    arrays, _, err = _run(_args(path, cmd, size, "", 1, time, 0.0), size, 1, timeout)
    return (Frame(time, arrays[0]) if arrays else None), err


# ------------------------------------------------------------------------------------------------------------ stills


def _to_rgb(im: Any) -> np.ndarray:
    """Any Pillow mode as 8-bit RGB: 16/32-bit and float scaled down, transparency over mid grey (a white or a black
    label on a transparent picture stays legible), CMYK/palette/YCbCr/LAB converted."""
    from PIL import Image

    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        arr = np.asarray(im, dtype=np.float64)
        top = 65535.0 if mode.startswith("I;16") or arr.max(initial=0) > 255 else 255.0
        if mode == "F":
            lo, hi = float(arr.min(initial=0)), float(arr.max(initial=1))
            arr, top = arr - lo, max(hi - lo, 1e-9)
        gray = np.clip(arr / top * 255.0, 0, 255).astype(np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2)
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        grey = Image.new("RGBA", rgba.size, (128, 128, 128, 255))
        return np.asarray(Image.alpha_composite(grey, rgba).convert("RGB"))
    return np.asarray(im if mode == "RGB" else im.convert("RGB"))


def load_still(path: Path) -> tuple[np.ndarray, tuple[int, int], tuple[str, ...]] | ToolError:
    """A still picture decoded for reading: RGB (reduced to LOAD_SHORT when larger), its displayed size, notes.
    Size and frame count are checked before any pixel is decoded."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    notes: list[str] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                w, h = im.size
                if w * h > MAX_PIXELS:
                    return ToolError("ocr", f"picture {w}x{h} is larger than {MAX_PIXELS} pixels: not decoded")
                if min(w, h) < MIN_SIDE:
                    return ToolError("ocr", f"picture {w}x{h} is too small to carry a readable label")
                frames = getattr(im, "n_frames", 1)
                if frames > 1:
                    notes.append(f"{frames} frames ({im.format}): the first read")
                orientation = im.getexif().get(0x0112, 1) if hasattr(im, "getexif") else 1
                if im.format == "JPEG" and min(w, h) >= 2 * LOAD_SHORT:
                    k = min(w, h) / LOAD_SHORT
                    im.draft("RGB", (int(w / k), int(h / k)))  # decode at 1/2, 1/4 or 1/8 scale
                im.load()
                pic = ImageOps.exif_transpose(im) if orientation not in (None, 1) else im
                rgb = _to_rgb(pic)
    except Image.DecompressionBombError as exc:
        return ToolError("ocr", f"picture not decoded (decoding bomb): {exc}")
    except UnidentifiedImageError as exc:
        return ToolError("ocr", f"not a picture the reader can decode: {exc}")
    except (OSError, ValueError, SyntaxError, EOFError, MemoryError) as exc:  # corrupt, truncated, odd
        return ToolError("ocr", f"the picture could not be decoded: {exc}")
    if orientation in (5, 6, 7, 8):
        w, h = h, w
    if rgb.shape[0] != h or rgb.shape[1] != w:
        notes.append(f"decoded at {rgb.shape[1]}x{rgb.shape[0]} (draft)")
    short = min(rgb.shape[:2])
    if short > LOAD_SHORT:
        k = LOAD_SHORT / short
        import cv2

        size = (max(1, round(rgb.shape[1] * k)), max(1, round(rgb.shape[0] * k)))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(rgb), (w, h), tuple(notes)


def ink_height(gray: np.ndarray) -> float:
    """The height of the letters in a text line's crop: the rows where horizontal contrast is strong (letters have
    vertical strokes, plain backgrounds do not), joined across small gaps, around the strongest row."""
    if gray.shape[0] < 3 or gray.shape[1] < 3:
        return float(gray.shape[0])
    energy = np.abs(np.diff(gray.astype(np.float32), axis=1)).sum(axis=1)
    peak = int(np.argmax(energy))
    if energy[peak] <= 0:
        return float(gray.shape[0])
    rows = np.flatnonzero(energy >= 0.25 * energy[peak])
    gap = max(2, gray.shape[0] // 6)
    lo = hi = peak
    for r in rows[rows < peak][::-1]:
        if lo - r > gap:
            break
        lo = int(r)
    for r in rows[rows > peak]:
        if r - hi > gap:
            break
        hi = int(r)
    return float(hi - lo + 1)
