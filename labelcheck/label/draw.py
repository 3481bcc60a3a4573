"""Visible labels drawn into pixels: the policy's wording as bold white letters on a translucent dark plate at a
corner or an edge (the style labelcheck's own reader, extract/pixels.py, reads best), in a still by Pillow and in a
video by ffmpeg overlaying the plate, rendered by Pillow (CJK shaping and the letters' measure stay Pillow's).

The letters' height is measured as the reader measures it (frames.ink_height: for lower-case Latin text about the
x-height; CJK characters whole) and never exceeds the font's ink box: the font is sized so that this height is at
least MARGIN x `min_share` of the shortest side. A label that would be wider than MAX_WIDTH of the picture is set
in the narrowest installed face, narrowed down to MIN_SQUEEZE; beyond that DrawError says so (never drawn smaller).

Outputs are written under a temporary name beside `dst` and moved in place with os.replace; `src` is only read."""

from __future__ import annotations

import math
import os
import subprocess
import tempfile
import time as clock
import unicodedata
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont, JpegImagePlugin, PngImagePlugin, UnidentifiedImageError

from ..classify import visible
from ..extract import ffprobe, frames

MARGIN = 1.15  # the letters are drawn this much taller than asked
MAX_WIDTH = 0.9  # the plate is at most this share of the picture's width
MIN_SQUEEZE = 0.7  # how far the narrowest face's letters may be squeezed horizontally before DrawError
PAD = 0.3  # the plate's padding around the letters, as a share of the font size
EDGE = 0.025  # the gap between the plate and the picture's edges, as a share of the shortest side
PLATE = (0, 0, 0, 160)  # translucent dark plate
INK = (255, 255, 255, 255)
MIN_SIDE = 16  # a smaller picture carries no readable label
CJK_INDEX = 2  # Noto Sans CJK's Simplified Chinese face in the .ttc collection
CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc")  # fonts-noto-cjk
LATIN_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")  # fonts-dejavu-core
CONDENSED_FONT = LATIN_FONT.with_name("DejaVuSansCondensed-Bold.ttf")
CORNERS = {
    "top-left": ("l", "t"), "top": ("c", "t"), "top-right": ("r", "t"),
    "bottom-left": ("l", "b"), "bottom": ("c", "b"), "bottom-right": ("r", "b"),
}  # fmt: skip
STILL_FORMATS = ("JPEG", "PNG", "WEBP", "TIFF", "GIF", "BMP")
PREFERRED = {("en", "made_with_ai"): "Made with AI-generated work"}  # the creators' wording, not the vocabulary's first
VIDEO_CODECS = {  # the source's codec -> its encoder at high quality
    "h264": "libx264 -crf 18 -preset medium", "hevc": "libx265 -crf 20 -preset medium -x265-params log-level=error",
    "vp9": "libvpx-vp9 -crf 20 -b:v 0 -row-mt 1", "vp8": "libvpx -crf 6 -b:v 50M", "av1": "libsvtav1 -crf 24",
    "mpeg4": "mpeg4 -q:v 2", "prores": "prores_ks -profile:v 3",
}  # fmt: skip
MP4_LIKE = (".mp4", ".m4v", ".mov")


@dataclass(frozen=True)
class Drawn:
    """A label as drawn: its text, the letters' height as a share of the shortest side, the plate's box (x0, y0, x1,
    y1 in the displayed picture's pixels), its place, and for a video how long it is shown (None: throughout)."""

    text: str
    height_share: float
    box: tuple[int, int, int, int]
    corner: str
    seconds: float | None


class DrawError(Exception):
    """The label could not be drawn: the message says why (nothing was written)."""


def wording(status: str, language: str) -> str:
    """The visible wording of a claim ("fully_ai" | "made_with_ai") in a language ("zh", "nl", "en-GB", …), taken
    from the visible-label vocabulary, so that what is drawn is what the reader accepts."""
    if status not in ("fully_ai", "made_with_ai"):
        raise DrawError(f"no visible wording for status {status!r}: fully_ai or made_with_ai")
    lang = language.replace("_", "-").split("-")[0].lower()
    found = [w.raw for w in visible.vocabulary().wordings if w.lang == lang and w.status == status]
    if not found:
        langs = sorted({w.lang for w in visible.vocabulary().wordings})
        raise DrawError(f"the vocabulary has no {status} wording in {language!r} (it has: {', '.join(langs)})")
    preferred = PREFERRED.get((lang, status))
    return preferred if preferred in found else found[0]


def _font(path: Path, size: int) -> Any:
    return ImageFont.truetype(str(path), size, index=CJK_INDEX if path.suffix == ".ttc" else 0)


def _covers(path: Path, text: str) -> bool:
    """Whether the font draws every character of the text (not its missing-glyph box)."""
    font = _font(path, 32)
    missing = font.getmask("\ue000")  # a private-use character: the missing glyph
    blank = (missing.size, bytes(missing))
    return all((m.size, bytes(m)) != blank for m in (font.getmask(ch) for ch in set(text) - {" "}))


def _fonts(text: str) -> list[Path]:
    """The installed fonts that draw the text, the preferred first (a condensed face last, for long wordings)."""
    cjk = any(unicodedata.east_asian_width(c) in ("W", "F") for c in text)
    order = (CJK_FONT, LATIN_FONT, CONDENSED_FONT) if cjk else (LATIN_FONT, CONDENSED_FONT, CJK_FONT)
    return [p for p in order if p.is_file() and _covers(p, text)]


def font_for(text: str) -> Path:
    """A bold font that has the text's glyphs: Noto Sans CJK for CJK text, DejaVu Sans Bold otherwise."""
    found = _fonts(text)
    if not found:
        raise DrawError(f"no installed font draws {text!r}: install fonts-noto-cjk and fonts-dejavu-core")
    return found[0]


@dataclass(frozen=True, eq=False)
class _Label:
    plate: Any  # RGBA picture of the plate and its letters
    ink: float  # the letters' height in pixels


def _ink(font: Any, text: str) -> float:
    """The letters' height: as the reader measures it, and never more than the font's ink box."""
    left, top, right, bottom = font.getbbox(text)
    pad = max(4, (bottom - top) // 4)
    img = Image.new("L", (right - left + 2 * pad, bottom - top + 2 * pad), 0)
    ImageDraw.Draw(img).text((pad - left, pad - top), text, font=font, fill=255)
    return min(float(bottom - top), frames.ink_height(np.asarray(img)))


def _size_for(path: Path, text: str, target: float) -> int:
    """The smallest font size whose letters are at least `target` pixels high."""
    size = max(4, math.ceil(target / (_ink(_font(path, 100), text) / 100)))
    while _ink(_font(path, size), text) < target:
        size += 1
    return size


def _render(path: Path, size: int, text: str, squeeze: float) -> Any:
    font = _font(path, size)
    left, top, right, bottom = font.getbbox(text)
    pad = max(2, round(PAD * size))
    plate = Image.new("RGBA", (right - left + 2 * pad, bottom - top + 2 * pad), PLATE)
    ImageDraw.Draw(plate).text((pad - left, pad - top), text, font=font, fill=INK)
    if squeeze < 1.0:
        plate = plate.resize((max(1, round(plate.width * squeeze)), plate.height), Image.Resampling.LANCZOS)
    return plate


def _fit(text: str, size: tuple[int, int], min_share: float) -> _Label:
    """The plate for a picture of `size` (displayed): letters at least MARGIN x min_share of the shortest side."""
    if not text.strip():
        raise DrawError("no text to draw")
    if not 0 < min_share < 1:
        raise DrawError(f"min_share must be between 0 and 1, not {min_share!r}")
    width, short = size[0], min(size)
    if short < MIN_SIDE:
        raise DrawError(f"the picture ({size[0]}x{size[1]}) is too small to carry a readable label")
    target, room = MARGIN * min_share * short, MAX_WIDTH * width
    fonts = _fonts(text)
    if not fonts:
        font_for(text)  # raises, saying what to install
    sized = [(path, _size_for(path, text, target)) for path in fonts]
    plates = [(path, points, _render(path, points, text, 1.0)) for path, points in sized]
    path, font_size, plate = next((p for p in plates if p[2].width <= room), min(plates, key=lambda p: p[2].width))
    squeeze = min(1.0, room / plate.width)
    if squeeze >= MIN_SQUEEZE:
        ink = _ink(_font(path, font_size), text)
        return _Label(plate if squeeze == 1.0 else _render(path, font_size, text, squeeze), ink)
    raise DrawError(
        f"{text!r} does not fit: letters {min_share:.1%} of the shortest side ({short} px) need a label "
        f"{plate.width} px wide, the picture is {width} px wide (at most {MAX_WIDTH:.0%} of it is used, letters "
        f"narrowed to {MIN_SQUEEZE:.0%}); use a shorter wording or a smaller share"
    )


def _place(corner: str, plate: tuple[int, int], size: tuple[int, int]) -> tuple[int, int, int, int]:
    if corner not in CORNERS:
        raise DrawError(f"unknown corner {corner!r}: one of {', '.join(CORNERS)}")
    col, row = CORNERS[corner]
    gap = max(2, round(EDGE * min(size)))
    x = {"l": gap, "r": size[0] - gap - plate[0], "c": (size[0] - plate[0]) // 2}[col]
    y = {"t": gap, "b": size[1] - gap - plate[1]}[row]
    return max(0, x), max(0, y), max(0, x) + plate[0], max(0, y) + plate[1]


def _check_paths(src: Path, dst: Path) -> None:
    if not src.is_file():
        raise DrawError(f"{src}: no such file")
    if not dst.parent.is_dir():
        raise DrawError(f"{dst.parent}: no such directory")
    if dst.exists() and os.path.samefile(src, dst):
        raise DrawError(f"{dst} is the source: the source is never written over")


def _write_atomic(src: Path, dst: Path, write: Callable[[Path], None]) -> None:
    """`write` to a temporary name beside dst (same suffix), then moved in place; removed on any failure."""
    fd, name = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=dst.suffix or src.suffix, dir=dst.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.chmod(tmp, src.stat().st_mode & 0o777)
        os.replace(tmp, dst)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


_BOMBS = (Image.DecompressionBombError, Image.DecompressionBombWarning)  # too many pixels to decode
# EXIF orientation -> the transpose from the displayed picture back to the stored one
_TO_STORED = {2: "FLIP_LEFT_RIGHT", 3: "ROTATE_180", 4: "FLIP_TOP_BOTTOM", 5: "TRANSPOSE", 6: "ROTATE_90",
              7: "TRANSVERSE", 8: "ROTATE_270"}  # fmt: skip


def _stored_box(box: tuple[int, int, int, int], size: tuple[int, int], method: str) -> tuple[int, int, int, int]:
    """A box in the displayed picture (of `size`) in the stored picture's pixels, `method` taking one to the other."""
    x0, y0, x1, y1 = box
    w, h = size
    return {
        "FLIP_LEFT_RIGHT": (w - x1, y0, w - x0, y1), "FLIP_TOP_BOTTOM": (x0, h - y1, x1, h - y0),
        "ROTATE_180": (w - x1, h - y1, w - x0, h - y0), "ROTATE_90": (y0, w - x1, y1, w - x0),
        "ROTATE_270": (h - y1, x0, h - y0, x1), "TRANSPOSE": (y0, x0, y1, x1),
        "TRANSVERSE": (h - y1, w - x1, h - y0, w - x0),
    }[method]  # fmt: skip


def _blend(region: Any, plate: Any) -> Any:
    """The plate over a region of the picture, in the picture's own mode."""
    mode = region.mode
    if mode in ("I;16", "I;16B", "I;16L", "I"):  # 16-bit grey: blended in 16 bits
        a = np.asarray(plate.getchannel("A"), np.float64) / 255
        grey = np.asarray(plate.convert("L"), np.float64) * 257
        out = np.asarray(region, np.float64) * (1 - a) + grey * a
        return Image.fromarray(np.rint(out).astype(np.uint16 if mode != "I" else np.int32)).convert(mode)
    if mode not in ("RGB", "RGBA", "L", "LA", "P", "CMYK", "1", "YCbCr"):
        raise DrawError(f"pictures in mode {mode} are not supported")
    work = region.convert("RGBA")
    work.alpha_composite(plate)
    if mode == "P":  # the picture's own palette kept
        return work.convert("RGB").quantize(palette=region, dither=Image.Dither.NONE)
    return work if mode == "RGBA" else work.convert("LA" if mode == "LA" else "RGB").convert(mode)


def _check_still(im: Any, src: Path) -> None:
    if im.format not in STILL_FORMATS:
        raise DrawError(f"{src}: {im.format} pictures are not supported ({', '.join(STILL_FORMATS)} are)")
    n = getattr(im, "n_frames", 1)
    if n > 1:
        raise DrawError(f"{src}: an animated or multi-frame picture ({n} frames, {im.format}): not drawn on")
    args = im.tile[0].args if im.tile else ""  # the raw mode Pillow decodes from: "RGB;16B" for 48-bit colour
    if ";16" in str(args[0] if isinstance(args, tuple) and args else args) and not im.mode.startswith("I"):
        raise DrawError(f"{src}: a 16-bit colour picture: Pillow would reduce it to 8 bits, so it is not drawn on")


def _webp_lossless(src: Path) -> bool:
    """Whether a WebP's picture is VP8L (lossless) rather than VP8: its RIFF chunks walked to the first of them."""
    data, pos = src.read_bytes(), 12
    while pos + 8 <= len(data) and data[pos : pos + 4] not in (b"VP8L", b"VP8 "):
        pos += 8 + (n := int.from_bytes(data[pos + 4 : pos + 8], "little")) + (n & 1)
    return data[pos : pos + 4] == b"VP8L"


def _save_options(im: Any, src: Path) -> dict[str, Any]:
    """Pillow's save options that keep the source's encoding and metadata."""
    info = im.info
    keep = {k: info[k] for k in ("icc_profile", "exif", "dpi") if info.get(k)}
    if im.format == "JPEG":
        sampling = JpegImagePlugin.get_sampling(im)
        opts = {"qtables": getattr(im, "quantization", None) or None, "progressive": bool(info.get("progressive"))}
        opts.update({"subsampling": sampling} if sampling >= 0 else {})
        opts.update({k: info[k] for k in ("xmp", "comment") if info.get(k)})
        return {**keep, **opts} if opts["qtables"] else {**keep, **opts, "quality": 95}
    if im.format == "PNG":
        text = PngImagePlugin.PngInfo()
        for key, value in getattr(im, "text", {}).items():  # tEXt, zTXt and iTXt (XMP) chunks
            if isinstance(value, PngImagePlugin.iTXt):
                text.add_itxt(key, value, value.lang or "", value.tkey or "")
            else:
                text.add_text(key, value)
        extra = {"transparency": info["transparency"]} if "transparency" in info else {}
        return {**keep, **extra, "pnginfo": text}
    if im.format == "WEBP":
        lossless = _webp_lossless(src)
        codec = {"lossless": True, "exact": True} if lossless else {"quality": 90, "method": 6}
        return {**keep, **codec, **({"xmp": info["xmp"]} if info.get("xmp") else {})}
    if im.format == "TIFF":
        tags = {t: im.tag_v2[t] for t in (270, 271, 272, 274, 305, 306, 315, 700, 33432, 33723) if t in im.tag_v2}
        packed = info.get("compression", "raw")
        return {**keep, "compression": packed, "tiffinfo": tags, **({"quality": 90} if packed == "jpeg" else {})}
    if im.format == "GIF" and "transparency" in info:
        return {"transparency": info["transparency"]}
    return {}


def draw_still(src: Path, dst: Path, text: str, min_share: float = 0.05, corner: str = "bottom-right") -> Drawn:
    """Draw `text` into a copy of a still picture (JPEG, PNG, WebP, TIFF, static GIF, BMP): the same format, mode,
    size, encoding (JPEG: the source's quantisation tables and subsampling) and metadata (ICC profile, EXIF, XMP,
    PNG text); placed in the displayed orientation (EXIF's), at `corner`."""
    src, dst = Path(src), Path(dst)
    _check_paths(src, dst)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(src)
        with im:
            _check_still(im, src)
            im.load()
            orientation = im.getexif().get(0x0112, 1)
            method = _TO_STORED.get(orientation)
            shown = (im.height, im.width) if orientation in (5, 6, 7, 8) else im.size
            label = _fit(text, shown, min_share)
            box = _place(corner, label.plate.size, shown)
            plate, at = label.plate, box
            if method:
                plate = plate.transpose(getattr(Image.Transpose, method))
                at = _stored_box(box, shown, method)
            im.paste(_blend(im.crop(at), plate), at[:2])
            options = _save_options(im, src)
            _write_atomic(src, dst, lambda tmp: im.save(tmp, format=im.format, **options))
    except DrawError:
        raise
    except UnidentifiedImageError as exc:
        raise DrawError(f"{src}: not a picture Pillow can decode ({exc})") from exc
    except (OSError, ValueError, SyntaxError, EOFError, MemoryError, *_BOMBS) as exc:
        raise DrawError(f"{src}: the picture could not be decoded or {dst} written: {exc}") from exc
    return Drawn(text, round(label.ink / min(shown), 4), box, corner, None)


# ---------------------------------------------------------------------------------------------------------- video


def _ffmpeg_args(
    src: Path, plate: Path, stream: dict[str, Any], at: tuple[int, int], seconds: float | None
) -> list[str]:
    codec, index = str(stream.get("codec_name") or ""), stream["index"]
    if codec not in VIDEO_CODECS:
        raise DrawError(f"{src}: re-encoding {codec or 'unknown'} video is not supported ({', '.join(VIDEO_CODECS)})")
    enable = f":enable='lt(t,{seconds:g})'" if seconds is not None else ""
    graph = f"[0:{index}][1:v]overlay=x={at[0]}:y={at[1]}{enable}[v]"
    pix = f"-pix_fmt {stream['pix_fmt']}" if stream.get("pix_fmt") else ""
    tag = "-tag:v hvc1" if codec == "hevc" and stream.get("codec_tag_string") == "hvc1" else ""
    out = f"-filter_complex {graph} -map [v] -map 0:a? -map 0:s? -c:v {VIDEO_CODECS[codec]} {pix} {tag} -c:a copy"
    out += f" -c:s copy -map_metadata 0 -map_metadata:s:v:0 0:s:{index} -map_chapters 0 -fps_mode passthrough"
    args = ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y", "-i", str(src), "-i", str(plate)]
    return args + out.split() + ["-max_muxing_queue_size", "4096"]


def draw_video(
    src: Path,
    dst: Path,
    text: str,
    min_share: float = 0.05,
    seconds: float | None = None,
    corner: str = "top-right",
    timeout: float = 600.0,
) -> Drawn:
    """Draw `text` into a copy of a video: from its start for `seconds` (None: throughout), at `corner` of the
    displayed picture. The video is re-encoded in its codec at high quality (H.264: libx264 -crf 18); audio and
    subtitles are copied, metadata and chapters kept. ffprobe and ffmpeg together are bounded by `timeout`."""
    src, dst = Path(src), Path(dst)
    _check_paths(src, dst)
    if seconds is not None and not seconds > 0:
        raise DrawError(f"seconds must be positive, not {seconds!r}")
    deadline = clock.monotonic() + timeout
    data = ffprobe.probe(src, min(timeout, 30.0))
    info = frames.probe_video(src, min(timeout, 30.0)) if isinstance(data, dict) else data
    if not isinstance(data, dict) or not isinstance(info, frames.VideoInfo):
        raise DrawError(f"{src}: not a video ffmpeg can decode ({getattr(info, 'message', info)})")
    streams = [s for s in data.get("streams") or [] if s.get("codec_type") == "video"]
    stream = next((s for s in streams if not (s.get("disposition") or {}).get("attached_pic")), None)
    if stream is None:
        raise DrawError(f"{src}: no video stream")
    if str((data.get("format") or {}).get("format_name", "")).endswith(("_pipe", "image2")):
        raise DrawError(f"{src}: a still picture, not a video (draw_still draws on it)")
    shown = (info.width, info.height)
    label = _fit(text, shown, min_share)
    box = _place(corner, label.plate.size, shown)
    with tempfile.TemporaryDirectory(prefix="labelcheck-draw-") as scratch:
        plate = Path(scratch) / "label.png"
        label.plate.save(plate)
        args = _ffmpeg_args(src, plate, stream, box[:2], seconds)
        if dst.suffix.lower() in MP4_LIKE:
            args += ["-movflags", "+use_metadata_tags"]
        _write_atomic(src, dst, lambda tmp: _run(args + [str(tmp)], deadline - clock.monotonic(), src))
    return Drawn(text, round(label.ink / min(shown), 4), box, corner, seconds)


def _run(args: list[str], timeout: float, src: Path) -> None:
    if timeout <= 0:
        raise DrawError(f"{src}: no time left to re-encode it")
    try:
        p = subprocess.run(args, capture_output=True, timeout=timeout, check=False)
    except FileNotFoundError as exc:
        raise DrawError("ffmpeg is not installed") from exc
    except subprocess.TimeoutExpired as exc:
        raise DrawError(f"{src}: ffmpeg did not finish within {timeout:.0f} s") from exc
    if p.returncode != 0:
        tail = p.stderr.decode("utf-8", "replace").strip()[-600:]
        raise DrawError(f"{src}: ffmpeg could not re-encode it (exit {p.returncode}): {tail}")
