"""The visible-label reader: text in a picture's or a video's pixels, read by OCR (RapidOCR's PP-OCRv6 ONNX models
from its wheel, onnxruntime on the CPU, no network). What the text means is decided in classify/visible.py.

Where it looks. Labels sit at a picture's edges and corners (GB 45438-2025 asks for a corner or an edge; platforms
stamp a corner), so each picture is read in two passes, one engine call each:
  * `edges`: the top and bottom bands (EDGE_BAND of the shortest side each), stacked into one canvas and scaled so
    that the shortest side would be EDGE_SHORT pixels: a 24-px label on a 1080-line picture stays ~20 px high;
  * `whole`: the whole picture at WHOLE_LONG pixels on its long side, for labels elsewhere; GB 45438's minimum size
    (5 % of the shortest side: 54 px at 1080 lines) is still ~18 px there.
Measured on 1080p stills (bench/pixels_eval.py) against reading the whole picture at 1600 px: 98 % of labels found
against 81 %, at 0.67 s of one core against 1.43 s. Two lines side by side are also given joined. Huge pictures
are reduced first, small ones enlarged in the edges pass (up to 2x): every picture costs about what a 1080p one does.

A video is read at HEAD_FPS frames a second over its first `head_seconds` (GB 45438 puts a video's label at its
start for at least 2 s) plus `sparse` frames spread over the rest, decoded by ffmpeg (frames.py). The first frame is
read in full (both passes), the frame at DETECT_AGAIN s by the edges pass (a label that came in late), and the lines
these found are re-read where they were in the other head frames by the recogniser alone (`track`): a label's
presence over the first seconds for about a tenth of the cost of full reads. Sparse frames are read in full."""

from __future__ import annotations

import itertools
import threading
import time as clock
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..model import ToolError
from . import frames as framing

EDGE_BAND = 0.14  # height of the top and bottom bands, as a share of the shortest side
EDGE_SHORT = 900  # the edges pass reads the bands at the scale that makes the shortest side this long ...
EDGE_MAX_UPSCALE = 2.0  # ... but enlarges small pictures at most this much
EDGE_MAX_AREA = 1_000_000  # and keeps the bands' canvas below this many pixels (panoramas)
WHOLE_LONG = 640  # the whole pass reads the picture at this long side
CANVAS_ROW = 2048  # a band wider than this is cut into overlapping rows of the canvas
GAP = 24  # grey rows between the canvas's parts, so no text line joins two of them
MIN_SIDE = 16  # a smaller picture has no readable text
TEXT_SCORE = 0.5  # the recogniser's confidence below which a line is dropped (the engine's default)
OCR_THREADS = 1  # onnxruntime threads: a worker process is one core's worth of work (interface.py)
HEAD_FPS = framing.HEAD_FPS
DETECT_AGAIN = 2.0  # video: the head frame read in full besides the first (GB 45438: the label lasts >= 2 s)
MAX_TRACKED = 16  # video: lines re-read in the other head frames


@dataclass(frozen=True)
class TextHit:
    """One line of text as read: where it is in the picture's own pixels, and how tall its letters are."""

    text: str
    confidence: float  # the recogniser's, 0..1
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in the picture's pixels (displayed orientation)
    text_height: float  # height of the letters in the picture's pixels (measured on the ink, not the box)
    height_share: float  # text_height / the picture's shortest side (GB 45438-2025 asks >= 0.05 for images)
    time: float | None = None  # seconds into a video; None for a still
    found_by: str = "edges"  # edges | whole | track (re-read where another frame had it) | joined (two side by side)


@dataclass(frozen=True)
class PixelReading:
    """What the reader found in one item's pixels. `error` says why nothing (or only part) could be read."""

    width: int = 0  # the picture's size (video: the displayed frame size); boxes are in these pixels
    height: int = 0
    hits: tuple[TextHit, ...] = ()
    times: tuple[float, ...] = ()  # the frame times read (video); () for a still
    duration: float | None = None  # video
    notes: tuple[str, ...] = ()  # a partial read: first frame of an animation, picture reduced, …
    error: ToolError | None = None
    cpu_seconds: float = 0.0  # OCR (and decoding in-process) on this thread
    engine: str = ""


class OcrUnavailable(RuntimeError):
    """The OCR engine or its models are not installed."""


# ------------------------------------------------------------------------------------------------------------ engine

_ENGINE: Any = None
_ENGINE_NAME = ""
_ENGINE_LOCK = threading.Lock()  # one engine per process, made once; calls are serialised through it


def engine() -> Any:
    """The process's OCR engine, made on first use (about 1 s: loading the two ONNX models) and kept."""
    global _ENGINE, _ENGINE_NAME
    if _ENGINE is not None:
        return _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None:
            try:
                from importlib.metadata import version

                import rapidocr
                from rapidocr import RapidOCR
            except ImportError as exc:
                raise OcrUnavailable(f"the OCR engine (rapidocr, onnxruntime) is not installed: {exc}") from exc
            models = Path(rapidocr.__file__).resolve().parent / "models"
            det, rec = models / "PP-OCRv6_det_small.onnx", models / "PP-OCRv6_rec_small.onnx"
            if not det.is_file() or not rec.is_file():  # never let the engine fetch them: no network here
                raise OcrUnavailable(f"the OCR models are missing from {models}")
            params = {
                "Global.log_level": "error",
                "Global.use_cls": False,  # labels are upright
                "Global.text_score": TEXT_SCORE,
                "Global.max_side_len": 100_000,  # the reader scales; the engine must not
                "Global.min_side_len": MIN_SIDE,
                "Global.width_height_ratio": -1,
                "Det.model_path": str(det),
                "Det.limit_type": "max",
                "Det.limit_side_len": 100_000,
                "Rec.model_path": str(rec),
                "EngineConfig.onnxruntime.intra_op_num_threads": OCR_THREADS,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            }
            eng = RapidOCR(params=params)
            blank = np.full((48, 192, 3), 255, np.uint8)
            eng(blank, use_det=True, use_cls=False, use_rec=False)  # load both models now, not at the first read
            eng(blank, use_det=False, use_cls=False, use_rec=True)
            _ENGINE = eng
            _ENGINE_NAME = f"rapidocr {version('rapidocr')} PP-OCRv6 small, onnxruntime {version('onnxruntime')}"
    return _ENGINE


def _call(image: np.ndarray, detect: bool) -> Any:
    """The engine on one picture; None when it cannot take it (RapidOCR raises on a crop it cannot resize)."""
    eng = engine()
    with _ENGINE_LOCK:  # the engine keeps use_* from call to call: always say them
        try:
            return eng(np.ascontiguousarray(image[:, :, ::-1]), use_det=detect, use_cls=False, use_rec=True)  # BGR
        except Exception:  # noqa: BLE001 - its own errors (ResizeImgError, onnxruntime's): no line read there
            return None


def _ocr(canvas: np.ndarray) -> list[tuple[np.ndarray, str, float]]:
    out = _call(canvas, True)
    if getattr(out, "txts", None) is None or getattr(out, "boxes", None) is None:
        return []
    return [
        (np.asarray(b, np.float32), str(t), float(s)) for b, t, s in zip(out.boxes, out.txts, out.scores, strict=False)
    ]


def _recognise(crop: np.ndarray) -> tuple[str, float]:
    """The recogniser alone on one line's crop (no detection): its text and confidence."""
    out = _call(crop, False)
    txts, scores = getattr(out, "txts", None), getattr(out, "scores", None)
    return (str(txts[0]).strip(), float(scores[0])) if txts and scores else ("", 0.0)


# ----------------------------------------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class _Part:
    """A piece of the picture placed in a canvas: picture rectangle x0,y0,x1,y1, scale, and canvas row y."""

    x0: int
    y0: int
    x1: int
    y1: int
    scale: float
    top: int = 0


def _resize(rgb: np.ndarray, w: int, h: int) -> np.ndarray:
    import cv2

    if (w, h) == (rgb.shape[1], rgb.shape[0]):
        return rgb
    return cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA if w < rgb.shape[1] else cv2.INTER_CUBIC)


def _canvas(rgb: np.ndarray, parts: list[_Part]) -> tuple[np.ndarray, list[_Part]]:
    """Scale each part and stack them, GAP grey rows apart."""
    pieces, placed, top = [], [], 0
    for p in parts:
        w = max(1, round((p.x1 - p.x0) * p.scale))
        h = max(1, round((p.y1 - p.y0) * p.scale))
        pieces.append(_resize(rgb[p.y0 : p.y1, p.x0 : p.x1], w, h))
        placed.append(_Part(p.x0, p.y0, p.x1, p.y1, p.scale, top))
        top += h + GAP
    canvas = np.full((top - GAP, max(a.shape[1] for a in pieces), 3), 128, np.uint8)
    for a, p in zip(pieces, placed, strict=True):
        canvas[p.top : p.top + a.shape[0], : a.shape[1]] = a
    return canvas, placed


def _edge_parts(w: int, h: int) -> list[_Part]:
    short = min(w, h)
    band = max(1, min(h // 2, round(EDGE_BAND * short)))
    scale = min(EDGE_MAX_UPSCALE, EDGE_SHORT / short)
    scale = min(scale, (EDGE_MAX_AREA / (2 * band * w)) ** 0.5)
    parts = []
    for y0, y1 in ((0, band), (h - band, h)):
        step = max(1, int(CANVAS_ROW / scale))
        overlap = min(step // 4, int(4 * band))
        x = 0
        while True:  # long bands are cut into rows that overlap, so a label on a cut is whole in one of them
            x1 = min(w, x + step)
            parts.append(_Part(x, y0, x1, y1, scale))
            if x1 >= w:
                break
            x = x1 - overlap
    return parts


def _read_pass(
    rgb: np.ndarray, parts: list[_Part], found_by: str
) -> list[tuple[tuple[float, float, float, float], str, float, float, str]]:
    """One engine call over the parts' canvas: each line as (box in loaded-picture pixels, text, score, letter
    height in loaded-picture pixels, pass)."""
    canvas, placed = _canvas(rgb, parts)
    gray = canvas.mean(axis=2)
    out = []
    for quad, text, score in _ocr(canvas):
        cy = float(quad[:, 1].mean())
        part = next((p for p in placed if p.top <= cy < p.top + (p.y1 - p.y0) * p.scale), None)
        if part is None or not text.strip():
            continue
        xs = quad[:, 0] / part.scale + part.x0
        ys = (quad[:, 1] - part.top) / part.scale + part.y0
        cx0, cy0 = np.floor(quad.min(axis=0)).astype(int)
        cx1, cy1 = np.ceil(quad.max(axis=0)).astype(int)
        crop = gray[max(0, cy0) : max(0, cy1), max(0, cx0) : max(0, cx1)]
        ink = min(framing.ink_height(crop), float(cy1 - cy0)) / part.scale if crop.size else 0.0
        box = (float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max()))
        out.append((box, text.strip(), score, ink, found_by))
    return out


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    small = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return inter / small if small > 0 else 0.0


def read_picture(
    rgb: np.ndarray,
    size: tuple[int, int] | None = None,
    time: float | None = None,
    whole: bool = True,
) -> tuple[TextHit, ...]:
    """Read one decoded picture (H, W, 3 uint8 RGB). `size` is the original picture's (width, height) when `rgb` is
    a reduced copy: boxes and heights are given in the original's pixels."""
    h, w = rgb.shape[:2]
    if min(w, h) < MIN_SIDE:
        return ()
    ow, oh = size or (w, h)
    factor = ow / w
    lines = _read_pass(rgb, _edge_parts(w, h), "edges")
    if whole:
        scale = min(1.0, WHOLE_LONG / max(w, h))
        found = [(box, text) for box, text, *_ in lines]
        for line in _read_pass(rgb, [_Part(0, 0, w, h, scale)], "whole"):
            if not any(_overlap(line[0], b) > 0.5 and _same(line[1], t) for b, t in found):
                lines.append(line)
    short = min(ow, oh)
    hits = []
    for at, text, score, ink, found_by in lines + _joined(lines):
        x0, y0, x1, y1 = (v * factor for v in at)
        box = (max(0, int(x0)), max(0, int(y0)), min(ow, int(np.ceil(x1))), min(oh, int(np.ceil(y1))))
        height = round(ink * factor, 1)
        hits.append(TextHit(text, round(score, 4), box, height, round(height / short, 4), time, found_by))
    return tuple(sorted(hits, key=lambda t: (t.box[1], t.box[0])))


def _joined(lines: list[Any]) -> list[Any]:
    """Words the detector split at a wide space ("AI" | "info"): each pair side by side on one line, as one more
    line (the parts stay: a label next to other text is still whole in one of them)."""
    out = []
    for (a, ta, sa, ia, pa), (b, tb, sb, ib, pb) in itertools.permutations(lines, 2):
        ha, hb = a[3] - a[1], b[3] - b[1]
        gap, low = b[0] - a[2], min(ha, hb)
        if (
            pa == pb
            and max(ha, hb) < 1.6 * low
            and abs(a[1] + a[3] - b[1] - b[3]) < 0.7 * low
            and -low < gap < 1.2 * low  # apart by less than a letter, or overlapping by up to one
            and b[0] > a[0]
            and b[2] > a[2]
        ):
            box = (a[0], min(a[1], b[1]), b[2], max(a[3], b[3]))
            out.append((box, f"{ta} {tb}", min(sa, sb), max(ia, ib), "joined"))
    return out


def _same(a: str, b: str) -> bool:
    a, b = "".join(a.split()).casefold(), "".join(b.split()).casefold()
    return a == b or (len(a) >= 3 and (a in b or b in a))


# ------------------------------------------------------------------------------------------------------------ stills


def read_still(path: str | Path) -> PixelReading:
    """Read a still picture's text. Never raises for what the file holds: a picture that cannot be read gives a
    PixelReading with `error` set."""
    t0 = clock.process_time()
    loaded = framing.load_still(Path(path))
    if isinstance(loaded, ToolError):
        return PixelReading(error=loaded)
    rgb, (w, h), notes = loaded
    try:
        hits = read_picture(rgb, (w, h))
    except OcrUnavailable as exc:
        return PixelReading(w, h, notes=notes, error=ToolError("ocr", str(exc)))
    return PixelReading(w, h, hits, notes=notes, cpu_seconds=round(clock.process_time() - t0, 3), engine=_ENGINE_NAME)


# ------------------------------------------------------------------------------------------------------------- video


def track(
    rgb: np.ndarray, boxes: list[tuple[int, int, int, int]], size: tuple[int, int], time: float | None
) -> tuple[TextHit, ...]:
    """Re-read lines where they were found in another frame, with the recogniser alone (a tenth of a full read):
    whether a label is still there, and what it says. `boxes` are in the original's pixels."""
    h, w = rgb.shape[:2]
    factor = size[0] / w
    short = min(size)
    hits = []
    for box in boxes:
        x0, y0, x1, y1 = (v / factor for v in box)
        pad = 0.15 * (y1 - y0)
        cx0, cy0 = max(0, int(x0 - pad)), max(0, int(y0 - pad))
        cx1, cy1 = min(w, int(np.ceil(x1 + pad))), min(h, int(np.ceil(y1 + pad)))
        if cx1 - cx0 < 4 or cy1 - cy0 < 4:
            continue
        crop = rgb[cy0:cy1, cx0:cx1]
        text, score = _recognise(crop)
        if not text or score < TEXT_SCORE:
            continue
        height = round(framing.ink_height(crop.mean(axis=2)) * factor, 1)
        hits.append(TextHit(text, round(score, 4), box, height, round(height / short, 4), time, "track"))
    return tuple(hits)


def _read_head(head: list[framing.Frame], size: tuple[int, int]) -> list[TextHit]:
    """Full reads of the first frame (both passes) and of the frame at DETECT_AGAIN s (edges), then the lines they
    found re-read in the other head frames."""
    again = next((i for i, f in enumerate(head) if f.time >= DETECT_AGAIN), len(head) - 1)
    hits: list[TextHit] = []
    boxes: list[tuple[int, int, int, int]] = []
    for i in sorted({0, again}):
        found = read_picture(head[i].rgb, size, head[i].time, whole=i == 0)
        hits += found
        for hit in found:
            if len(boxes) < MAX_TRACKED and not any(_overlap(hit.box, b) > 0.5 for b in boxes):
                boxes.append(hit.box)
    for i, frame in enumerate(head):
        if i not in (0, again):
            hits += track(frame.rgb, boxes, size, frame.time)
    return sorted(hits, key=lambda t: (t.time or 0.0, t.box[1], t.box[0]))


def read_video(
    path: str | Path,
    head_seconds: float = 3.0,
    sparse: int = 3,
    timeout: float = 30.0,
    ffmpeg: str = "ffmpeg",
    ffprobe: str = "ffprobe",
) -> PixelReading:
    """Read a video's text: frames at 0, 0.5, … up to `head_seconds`, then `sparse` frames spread over the rest.
    `timeout` bounds the decoding (ffprobe, then every ffmpeg run together)."""
    t0, deadline = clock.process_time(), clock.monotonic() + timeout
    p = Path(path)
    info = framing.probe_video(p, min(timeout, 10.0), ffprobe)
    if isinstance(info, ToolError):
        return PixelReading(error=info)
    w, h = info.width, info.height
    head, err = framing.head_frames(p, info, head_seconds, max(1.0, deadline - clock.monotonic()), ffmpeg)
    if not head:
        return PixelReading(w, h, duration=info.duration, error=err or ToolError("ocr", "ffmpeg decoded no frames"))
    notes = [] if err is None else [f"head: {err.message}"]
    times = [f.time for f in head]
    try:
        hits = _read_head(head, (w, h))
        for t in framing.sparse_times(info, head[-1].time + 1.0 / HEAD_FPS, sparse):
            left = deadline - clock.monotonic()
            if left <= 0:
                notes.append(f"sparse frames from {t:g}s not read: time bound ({timeout:g}s) reached")
                break
            one, ferr = framing.frame_at(p, info, t, min(left, 10.0), ffmpeg)
            if one is None:
                notes.append(f"frame at {t:g}s: {ferr.message if ferr else 'not decoded'}")
                continue
            hits += read_picture(one.rgb, (w, h), one.time)
            times.append(one.time)
    except OcrUnavailable as exc:
        return PixelReading(w, h, duration=info.duration, error=ToolError("ocr", str(exc)))
    cpu = round(clock.process_time() - t0, 3)
    return PixelReading(w, h, tuple(hits), tuple(times), info.duration, tuple(notes), None, cpu, _ENGINE_NAME)
