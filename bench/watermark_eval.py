"""Invisible-watermark measurement for labelcheck.extract.watermark: false positives on unmarked pictures, recall
on pictures marked the way Stable Diffusion's pipelines mark them, and the cost of a read.

    .venv/bin/python bench/watermark_eval.py [--quick]

Marking uses the `invisible-watermark` package's encoder when it can be imported (it needs opencv and, for its
package import, torch: `pip install --no-deps invisible-watermark opencv-python-headless` is enough, torch is stubbed
here), and otherwise PortEncoder below, a numpy port of imwatermark/maxDct.py's encode (bit-exact for 8-bit pixels;
tests/test_watermark.py checks it against the package when both are there). The tests import this file's helpers.

Unmarked pictures: the corpus stills (LABELCHECK_CORPUS, default ../shared/corpus; skipped when absent) at native
size, centre crops and resizes, each as PNG and JPEG q50/q75/q95; ffmpeg's lavfi test sources and numpy-made 1/f
noise, gradients and flat pictures in several sizes and JPEG qualities.
"""

from __future__ import annotations

import importlib.util
import io
import math
import os
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from labelcheck.extract import watermark as wm

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("LABELCHECK_CORPUS", ROOT.parent / "shared" / "corpus"))
SD1_MESSAGE = b"StableDiffusionV1"
SDXL_BITS = [int(bit) for bit in bin(wm.SDXL_MESSAGE)[2:]]  # as diffusers builds WATERMARK_BITS


# --- encoders ---------------------------------------------------------------------------------------------------


def real_encoder() -> Any | None:
    """imwatermark.WatermarkEncoder, or None. Its package imports torch only for RivaGAN: a stub stands in for it."""
    if "imwatermark" in sys.modules:
        return getattr(sys.modules["imwatermark"], "WatermarkEncoder", None)
    if importlib.util.find_spec("imwatermark") is None or importlib.util.find_spec("cv2") is None:
        return None
    stub = "torch" not in sys.modules and importlib.util.find_spec("torch") is None
    if stub:
        sys.modules["torch"] = types.ModuleType("torch")
    try:
        from imwatermark import WatermarkEncoder

        return WatermarkEncoder
    except Exception:  # noqa: BLE001
        return None
    finally:
        if stub:
            sys.modules.pop("torch", None)


def _yuv(bgr: np.ndarray) -> np.ndarray:
    """cv2.cvtColor(bgr, COLOR_BGR2YUV): integer maths for uint8 (bit-exact), float formulas for float32."""
    b, g, r = bgr[..., 0], bgr[..., 1], bgr[..., 2]
    if bgr.dtype == np.uint8:
        b, g, r = (c.astype(np.int32) for c in (b, g, r))
        y = (b * 1868 + g * 9617 + r * 4899 + 8192) >> 14
        u = ((b - y) * 8061 + (128 << 14) + 8192) >> 14
        v = ((r - y) * 14369 + (128 << 14) + 8192) >> 14
        return np.clip(np.stack([y, u, v], -1), 0, 255).astype(np.uint8)
    y = b * np.float32(0.114) + g * np.float32(0.587) + r * np.float32(0.299)
    return np.stack([y, (b - y) * np.float32(0.492) + 0.5, (r - y) * np.float32(0.877) + 0.5], -1).astype(np.float32)


def _bgr(yuv: np.ndarray) -> np.ndarray:
    """cv2.cvtColor(yuv, COLOR_YUV2BGR), as _yuv."""
    if yuv.dtype == np.uint8:
        y, u, v = (yuv[..., i].astype(np.int32) for i in range(3))
        u, v = u - 128, v - 128
        b = y + ((u * 33292 + 8192) >> 14)
        g = y + ((u * -6472 + v * -9519 + 8192) >> 14)
        r = y + ((v * 18678 + 8192) >> 14)
        return np.clip(np.stack([b, g, r], -1), 0, 255).astype(np.uint8)
    y, u, v = yuv[..., 0], yuv[..., 1] - np.float32(0.5), yuv[..., 2] - np.float32(0.5)
    b = y + u * np.float32(2.032)
    g = y + u * np.float32(-0.395) + v * np.float32(-0.581)
    r = y + v * np.float32(1.140)
    return np.stack([b, g, r], -1).astype(np.float32)


def dwt2(u: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """pywt.dwt2(u, "haar") of an even-sized plane, bit for bit: (cA, (cH, cV, cD))."""
    x = u if u.dtype == np.float32 else u.astype(np.float64)
    c = x.dtype.type(wm.HAAR)
    low, high = x[0::2] * c + x[1::2] * c, x[0::2] * c - x[1::2] * c
    return low[:, 0::2] * c + low[:, 1::2] * c, (
        high[:, 0::2] * c + high[:, 1::2] * c,
        low[:, 0::2] * c - low[:, 1::2] * c,
        high[:, 0::2] * c - high[:, 1::2] * c,
    )


def _merge(low: np.ndarray, high: np.ndarray, axis: int) -> np.ndarray:
    c = low.dtype.type(wm.HAAR)
    shape = list(low.shape)
    shape[axis] *= 2
    out = np.empty(shape, dtype=low.dtype)
    even, odd = [slice(None)] * 2, [slice(None)] * 2
    even[axis], odd[axis] = slice(0, None, 2), slice(1, None, 2)
    out[tuple(even)] = low * c + high * c
    out[tuple(odd)] = low * c - high * c
    return out


def idwt2(ca: np.ndarray, details: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
    """pywt.idwt2((cA, (cH, cV, cD)), "haar"), bit for bit: columns first, then rows."""
    ch, cv, cd = details
    return _merge(_merge(ca, cv, 1), _merge(ch, cd, 1), 0)


class PortEncoder:
    """WatermarkEncoder's 'bytes'/'bits' messages and its 'dwtDct' encode (EmbedMaxDct, scales [0, 36, 36],
    block 4), with numpy in place of cv2."""

    def __init__(self) -> None:
        self.bits: list[int] = []

    def set_watermark(self, kind: str, content: Any) -> None:
        if kind == "bytes":
            self.bits = [int(b) for b in np.unpackbits(np.frombuffer(bytes(content), dtype=np.uint8))]
        elif kind == "bits":
            self.bits = [int(b) % 2 for b in content]
        else:
            raise NameError(kind)

    def encode(self, bgr: np.ndarray, method: str = "dwtDct") -> np.ndarray:
        assert method == "dwtDct"
        rows, cols = bgr.shape[:2]
        if rows * cols < 256 * 256:
            raise RuntimeError("image too small, should be larger than 256x256")
        yuv = _yuv(bgr)
        r4, c4 = rows // 4 * 4, cols // 4 * 4
        ca1, (h1, v1, d1) = dwt2(yuv[:r4, :c4, 1])
        br, bc = ca1.shape[0] // 4, ca1.shape[1] // 4
        blocks = ca1[: br * 4, : bc * 4].reshape(br, 4, bc, 4).swapaxes(1, 2).reshape(br * bc, 16).copy()
        pos = np.abs(blocks[:, 1:]).argmax(axis=1) + 1
        rows_index = np.arange(len(blocks))
        val = blocks[rows_index, pos]
        bit = np.array(self.bits, dtype=np.float64)[rows_index % len(self.bits)]
        magnitude = (np.floor_divide(np.abs(val), 36) + 0.25 + 0.5 * bit) * 36
        blocks[rows_index, pos] = np.where(val >= 0, magnitude, -magnitude)
        ca1[: br * 4, : bc * 4] = blocks.reshape(br, bc, 4, 4).swapaxes(1, 2).reshape(br * 4, bc * 4)
        yuv[:r4, :c4, 1] = idwt2(ca1, (v1, h1, d1))  # the package's own (v1, h1) order
        return _bgr(yuv)


def encoder(real: bool) -> Any:
    cls = real_encoder() if real else None
    return cls() if cls is not None else PortEncoder()


def mark_sd1(rgb: np.ndarray, real: bool = True) -> np.ndarray:
    """CompVis scripts/txt2img.py put_watermark: RGB->BGR uint8, encode, back to RGB."""
    enc = encoder(real)
    enc.set_watermark("bytes", SD1_MESSAGE)
    return np.ascontiguousarray(enc.encode(np.ascontiguousarray(rgb[..., ::-1]), "dwtDct")[..., ::-1])


def mark_sdxl_diffusers(rgb: np.ndarray, real: bool = True) -> np.ndarray:
    """diffusers StableDiffusionXLWatermarker.apply_watermark: float RGB [0, 255] handed to the encoder as is,
    then clamp(2 * (x / 255 - 0.5), -1, 1) and the pipeline's postprocess (x / 2 + 0.5, * 255, round)."""
    enc = encoder(real)
    enc.set_watermark("bits", SDXL_BITS)
    out = enc.encode(np.ascontiguousarray(rgb, dtype=np.float32), "dwtDct")
    scaled = np.clip(2 * (out / 255 - 0.5), -1.0, 1.0)
    return np.round(np.clip(scaled / 2 + 0.5, 0, 1) * 255).astype(np.uint8)


def mark_sdxl_sgm(rgb: np.ndarray, real: bool = True) -> np.ndarray:
    """generative-models WatermarkEmbedder: float BGR, clamp(x / 255, 0, 1), then (255 * x).astype(uint8)."""
    enc = encoder(real)
    enc.set_watermark("bits", SDXL_BITS)
    out = enc.encode(np.ascontiguousarray(rgb[..., ::-1], dtype=np.float32), "dwtDct")[..., ::-1]
    return (255 * np.clip(out / 255, 0, 1)).astype(np.uint8)


PIPELINES: dict[str, tuple[str, Callable[..., np.ndarray]]] = {
    "sd1 (CompVis)": ("sd1", mark_sd1),
    "sdxl (diffusers)": ("sdxl", mark_sdxl_diffusers),
    "sdxl (sgm)": ("sdxl", mark_sdxl_sgm),
}


# --- pictures ---------------------------------------------------------------------------------------------------


def texture(height: int, width: int, seed: int, beta: float = 2.0) -> np.ndarray:
    """A photo-like picture: 1/f^beta noise per channel (natural images' spectrum), partly shared between channels."""
    rng = np.random.default_rng(seed)
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.rfftfreq(width)[None, :]
    amplitude = 1.0 / np.maximum(np.hypot(fy, fx), 1.0 / max(height, width)) ** (beta / 2)
    shared = rng.standard_normal((height, width))
    channels = []
    for _ in range(3):
        noise = 0.6 * shared + 0.4 * rng.standard_normal((height, width))
        field = np.fft.irfft2(np.fft.rfft2(noise) * amplitude, s=(height, width))
        field = (field - field.mean()) / (field.std() + 1e-9)
        channels.append(np.clip(128 + 45 * field + rng.normal(0, 2, (height, width)), 0, 255))
    return np.stack(channels, -1).astype(np.uint8)


def scene(height: int, width: int, seed: int) -> np.ndarray:
    """A picture with large flat areas (sky gradient, flat shapes, faint noise): the hard case for the mark."""
    from PIL import ImageDraw, ImageFilter

    rng = np.random.default_rng(seed)
    image = Image.fromarray(gradient(height, width, seed))
    draw = ImageDraw.Draw(image)
    for _ in range(8):
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        box = (x0, y0, x0 + int(rng.integers(40, width // 2)), y0 + int(rng.integers(40, height // 2)))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=colour)
    pixels = 20 + 0.84 * np.asarray(image.filter(ImageFilter.GaussianBlur(1.5)), dtype=np.float64)  # unclipped
    return np.clip(pixels + rng.normal(0, 1.0, pixels.shape), 0, 255).astype(np.uint8)


def gradient(height: int, width: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width] / max(height, width)
    a, b, c = rng.uniform(-255, 255, (3, 3))
    base = rng.uniform(0, 255, 3)
    out = base + a * xx[..., None] + b * yy[..., None] + c * (xx * yy)[..., None]
    return np.clip(out + rng.normal(0, rng.uniform(0, 3), out.shape), 0, 255).astype(np.uint8)


def reencode(rgb: np.ndarray, fmt: str, **options: Any) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, fmt, **options)
    buffer.seek(0)
    with Image.open(buffer) as image:
        return np.asarray(image.convert("RGB"))


def _fit(rgb: np.ndarray, height: int, width: int) -> np.ndarray | None:
    if rgb.shape[0] < height or rgb.shape[1] < width:
        return None
    top, left = (rgb.shape[0] - height) // 2, (rgb.shape[1] - width) // 2
    return rgb[top : top + height, left : left + width]


def corpus_stills(limit: int | None = None) -> list[tuple[str, np.ndarray]]:
    """The corpus's colour stills of at least 256x256 pixels (none when the corpus is absent)."""
    out: list[tuple[str, np.ndarray]] = []
    if not CORPUS.is_dir():
        return out
    for path in sorted(CORPUS.rglob("*")):
        if path.suffix.lower() not in {".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".avif", ".gif"}:
            continue
        rgb, _, _, _ = wm.load_rgb(path)
        if rgb is not None:
            out.append((str(path.relative_to(CORPUS)), rgb))
        if limit is not None and len(out) >= limit:
            break
    return out


def _lavfi(source: str, width: int, height: int) -> np.ndarray:
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "frame.png"
        subprocess.run(
            [
                "ffmpeg",
                "-v",
                "error",
                "-f",
                "lavfi",
                "-i",
                f"{source}=size={width}x{height}",
                "-frames:v",
                "1",
                "-pix_fmt",
                "rgb24",
                str(target),
            ],
            check=True,
            timeout=60,
        )
        with Image.open(target) as image:
            return np.asarray(image.convert("RGB"))


LAVFI = [
    "testsrc",
    "testsrc2",
    "smptebars",
    "smptehdbars",
    "rgbtestsrc",
    "yuvtestsrc",
    "mandelbrot",
    "cellauto",
    "life",
    "gradients",
    "colorspectrum",
    "pal75bars",
    "sierpinski",
]
SIZES = [(512, 512), (1024, 1024), (720, 1280), (1344, 768), (600, 800)]


def unmarked(quick: bool = False) -> Iterator[tuple[str, np.ndarray]]:
    """(name, RGB) pictures that carry no SD mark."""
    qualities = [75] if quick else [50, 75, 95]
    for name, rgb in corpus_stills(6 if quick else None):
        views = {"native": rgb, "crop512": _fit(rgb, 512, 512), "crop1024": _fit(rgb, 1024, 1024)}
        if rgb.shape[0] >= 512 and rgb.shape[1] >= 512:
            views["resize512"] = np.asarray(Image.fromarray(rgb).resize((512, 512), Image.Resampling.LANCZOS))
        for view, pixels in views.items():
            if pixels is None or pixels.shape[0] * pixels.shape[1] < wm.MIN_PIXELS:
                continue
            yield f"corpus {name} {view}", pixels
            for q in qualities:
                yield f"corpus {name} {view} q{q}", reencode(pixels, "JPEG", quality=q)
    for source in LAVFI[: 4 if quick else None]:
        for height, width in SIZES[: 2 if quick else None]:
            try:
                rgb = _lavfi(source, width, height)
            except (subprocess.SubprocessError, OSError):
                continue
            yield f"lavfi {source} {width}x{height}", rgb
            yield f"lavfi {source} {width}x{height} q{qualities[-1]}", reencode(rgb, "JPEG", quality=qualities[-1])
    for seed in range(4 if quick else 16):
        height, width = SIZES[seed % len(SIZES)]
        for kind, rgb in (
            ("texture", texture(height, width, seed, beta=1.5 + (seed % 4) * 0.4)),
            ("gradient", gradient(height, width, seed)),
            ("noise", np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)),
            ("scene", scene(height, width, seed)),
        ):
            yield f"{kind} {seed} {width}x{height}", rgb
            yield (
                f"{kind} {seed} {width}x{height} q{qualities[seed % len(qualities)]}",
                reencode(rgb, "JPEG", quality=qualities[seed % len(qualities)]),
            )
    for value in (0, 255, 128):
        yield f"flat {value}", np.full((512, 512, 3), value, dtype=np.uint8)


def marked_bases(quick: bool = False) -> Iterator[tuple[str, np.ndarray]]:
    """Pictures at generation sizes to mark: corpus photos cropped to 512 and 1024 squares, and textures."""
    count = 0
    for name, rgb in corpus_stills():
        for size in (512, 1024):
            crop = _fit(rgb, size, size)
            if crop is not None and count < (4 if quick else 40):
                count += 1
                yield f"{name} {size}", crop
    for seed in range(2 if quick else 12):
        size = (512, 1024, 768)[seed % 3]
        yield f"texture {seed} {size}", texture(size, size, 100 + seed, beta=1.6 + (seed % 3) * 0.4)
        yield f"scene {seed} {size}", scene(size, size, 100 + seed)


# --- measurement ------------------------------------------------------------------------------------------------

COPIES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "PNG": lambda rgb: reencode(rgb, "PNG"),
    "WebP lossless": lambda rgb: reencode(rgb, "WEBP", lossless=True),
    "JPEG q95": lambda rgb: reencode(rgb, "JPEG", quality=95),
    "JPEG q90": lambda rgb: reencode(rgb, "JPEG", quality=90),
    "JPEG q75": lambda rgb: reencode(rgb, "JPEG", quality=75),
    "WebP q80": lambda rgb: reencode(rgb, "WEBP", quality=80),
}


def binomial_tail(n: int, k: int, reads: int = 1) -> float:
    """Chance that one of `reads` random reads of n bits has at most k wrong."""
    return min(1.0, reads * sum(math.comb(n, i) for i in range(k + 1)) / 2**n)


def fixed_rule_wrong(rgb: np.ndarray, mark: wm.Mark) -> int:
    """Fewest wrong bits with the package's own fixed threshold only (no mean-vote rule)."""
    expected = np.array(mark.bits, dtype=bool)
    shares = (wm.votes(wm.block_bits(rgb, e.model), len(expected)) for e in mark.embedders)
    return min(int(((share * 255 > 127) != expected).sum()) for share in shares)


def false_positives(quick: bool) -> None:
    wrong: dict[str, list[int]] = {m.name: [] for m in wm.MARKS}
    closest: dict[str, tuple[int, str]] = {}
    found: list[str] = []
    constant = total = 0
    for name, rgb in unmarked(quick):
        total += 1
        for reading in wm.decode_rgb(rgb):
            if reading.constant:
                constant += reading.mark == "sd1"
                continue
            wrong[reading.mark].append(reading.wrong_bits)
            if reading.wrong_bits < closest.get(reading.mark, (999, ""))[0]:
                closest[reading.mark] = (reading.wrong_bits, name)
            if reading.found:
                found.append(f"{reading.mark}: {name} ({reading.wrong_bits} wrong)")
    print(f"unmarked pictures: {total} (of which every read constant, rejected: {constant})")
    for mark in wm.MARKS:
        values = np.array(wrong[mark.name])
        reads = 2 * len(mark.embedders)
        print(
            f"  {mark.name}: {len(values)} reads, wrong bits min {values.min()} / p1 {np.percentile(values, 1):.0f} /"
            f" p5 {np.percentile(values, 5):.0f} / median {np.median(values):.0f} of {len(mark.bits)};"
            f" closest: {closest[mark.name][1]}\n"
            f"    threshold <= {mark.max_wrong}: a random picture's {reads} reads come that close with p <"
            f" {binomial_tail(len(mark.bits), mark.max_wrong, reads):.1e}; lowest 10: {sorted(values.tolist())[:10]}"
        )
    print(f"  found on unmarked (false positives): {len(found)}", *found, sep="\n    ")


def recall(quick: bool) -> None:
    real = real_encoder() is not None
    print(f"\nmarked pictures (encoder: {'invisible-watermark package' if real else 'numpy port'})")
    bases = list(marked_bases(quick))
    marks = {m.name: m for m in wm.MARKS}
    for label, (mark, embed) in PIPELINES.items():
        hits = {copy: 0 for copy in COPIES}
        worst = {copy: 0 for copy in COPIES}
        fixed = cross = 0
        for _, rgb in bases:
            marked = embed(rgb, real)
            for copy, make in COPIES.items():
                pixels = make(marked)
                readings = {r.mark: r for r in wm.decode_rgb(pixels)}
                hits[copy] += readings[mark].found
                worst[copy] = max(worst[copy], readings[mark].wrong_bits)
                cross += any(r.found for name, r in readings.items() if name != mark)
                if copy == "PNG":
                    fixed += fixed_rule_wrong(pixels, marks[mark]) <= marks[mark].max_wrong
        row = ", ".join(f"{c} {100 * hits[c] / len(bases):.0f}% (worst {worst[c]})" for c in COPIES)
        print(f"  {label} on {len(bases)} pictures: {row}")
        print(
            f"    PNG with the package's fixed threshold only: {100 * fixed / len(bases):.0f}%;"
            f" the other mark found: {cross} times"
        )


def cost() -> None:
    print("\ncost of read_watermarks (file read + decode, best of 3)")
    with tempfile.TemporaryDirectory() as tmp:
        for height, width, fmt in (
            (512, 512, "PNG"),
            (1024, 1024, "PNG"),
            (1024, 1024, "JPEG"),
            (2048, 2048, "PNG"),
            (6000, 6000, "JPEG"),
        ):
            path = Path(tmp) / f"p.{fmt.lower()}"
            Image.fromarray(texture(height, width, 7)).save(path, fmt)
            times = []
            for _ in range(3):
                start = time.perf_counter()
                wm.read_watermarks(path)
                times.append(time.perf_counter() - start)
            print(f"  {width}x{height} {fmt}: {1000 * min(times):.0f} ms, peak RSS {_peak_rss(path)} MB")


def _peak_rss(path: Path) -> int:
    """Peak resident memory of a fresh process that reads `path`, less that of one that only imports."""
    code = (
        "import sys; from labelcheck.extract import watermark as wm\n"
        "sys.argv[1] != '-' and wm.read_watermarks(sys.argv[1])\n"
        "print(next(line.split()[1] for line in open('/proc/self/status') if line.startswith('VmHWM')))"
    )  # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking parent
    kib = [
        int(subprocess.run([sys.executable, "-c", code, arg], capture_output=True, text=True, check=True).stdout)
        for arg in (str(path), "-")
    ]
    return (kib[0] - kib[1]) // 1024


def main() -> None:
    quick = "--quick" in sys.argv
    false_positives(quick)
    recall(quick)
    cost()


if __name__ == "__main__":
    main()
