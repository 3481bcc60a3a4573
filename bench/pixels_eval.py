"""The visible-label reader measured (`python bench/pixels_eval.py`): recall, false labels and cost on pictures made
with real tools, on one core.

Positives: labels drawn by Pillow with Debian's fonts (Noto Sans CJK, DejaVu Sans) onto 1080p backgrounds: the
photographs of Debian's mate-backgrounds (when installed, /usr/share/backgrounds/mate/nature) and ffmpeg's lavfi
sources (testsrc2, mandelbrot, smptehdbars, cellauto, gradients); zh, en, nl, de, fr; 24-54 px; boxed (bold on a
translucent plate), plain (in the colour that contrasts with what is under it) and shadowed; four corners and the
top and bottom edges' middles; saved as JPEG at quality 75. A label counts as found when a line read where it was
drawn is classified (labelcheck.classify.visible) with the claim the label makes. Negatives: the backgrounds alone,
noise, and pictures with other text (signs, credits, subtitles, captions that mention AI, words holding "AI").
Videos: ffmpeg-made clips with a label burnt in for their first 2 s. Prints figures; writes nothing.
"""

from __future__ import annotations

import argparse
import collections
import io
import itertools
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from labelcheck.classify.visible import classify_hit  # noqa: E402
from labelcheck.extract import pixels  # noqa: E402

CJK = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
CJK_BOLD = "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"
LATIN = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
LATIN_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
PHOTOS = Path("/usr/share/backgrounds/mate/nature")
SOURCES = ("testsrc2", "mandelbrot", "smptehdbars", "cellauto", "gradients")
W, H = 1920, 1080

FULL, PART = "fully_ai", "made_with_ai"
LABELS = {
    "zh": [("AI生成", FULL), ("人工智能生成", FULL), ("由AI生成", FULL), ("AI合成", PART), ("人工智能合成", PART)],
    "en": [("AI-generated", FULL), ("Fully AI-generated", FULL), ("Made with AI", PART), ("AI info", PART),
           ("Made with AI-generated work", PART)],
    "nl": [("Volledig gegenereerd door AI", FULL), ("Gegenereerd met AI", FULL),
           ("Gemaakt met door AI gegenereerd werk", PART)],
    "de": [("KI-generiert", FULL), ("KI-generierter Inhalt", FULL), ("Mit KI erstellt", PART)],
    "fr": [("Généré par IA", FULL), ("Contenu généré par IA", FULL), ("Créé avec l'IA", PART)],
}  # fmt: skip
SIZES = (24, 30, 36, 44, 54)
STYLES = ("boxed", "plain", "shadow")
PLACES = ("tl", "tr", "bl", "br", "tc", "bc")
NEGATIVE_TEXTS = [
    ("en", "MAIN STREET"), ("en", "RAID"), ("en", "Thailand"), ("en", "SAID"), ("en", "a talk about AI"),
    ("en", "Photo: Jan de Vries / ANP"), ("en", "© 2026 Reuters"), ("en", "Directed by Ava Chen"),
    ("en", "Music by the AI Orchestra"), ("en", "I said we would meet at the main gate."),
    ("en", "She flew to Thailand in May."), ("en", "The police raid began at dawn."), ("en", "AI Act conference 2026"),
    ("en", "OpenAI DevDay"), ("en", "TRAIN STATION"), ("en", "MAIDEN VOYAGE"), ("en", "Air France"), ("en", "EXIT"),
    ("en", "Made with love"), ("en", "Generated report"), ("de", "Mit Liebe gemacht"), ("nl", "Gemaakt met liefde"),
    ("fr", "Créé avec passion"), ("en", "Al Pacino"), ("en", "AI for good"), ("en", "THE AI ISSUE"),
    ("zh", "人工智能大会"), ("zh", "智能手机专卖"), ("zh", "生成式人工智能服务管理暂行办法"), ("zh", "欢迎光临"),
    ("zh", "AI大模型发布会"), ("zh", "合成树脂"), ("zh", "字幕：我们明天见"),
]  # fmt: skip


def font(lang: str, px: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    if lang == "zh":
        return ImageFont.truetype(CJK_BOLD if bold else CJK, px, index=2)  # index 2: Simplified Chinese
    return ImageFont.truetype(LATIN_BOLD if bold else LATIN, px)


def ffmpeg_frame(source: str, w: int = W, h: int = H) -> Image.Image:
    extra = ":seed=7" if source == "gradients" else ""
    args = ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"{source}=s={w}x{h}{extra}", "-frames:v", "1"]
    raw = subprocess.run(args + ["-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    return Image.frombytes("RGB", (w, h), raw)


def backgrounds(photos: Path) -> list[tuple[str, Image.Image]]:
    out = [(f"photo:{p.stem}", Image.open(p).convert("RGB").resize((W, H))) for p in sorted(photos.glob("*.jpg"))]
    return out + [(f"ffmpeg:{s}", ffmpeg_frame(s)) for s in SOURCES]


def draw(img: Image.Image, text: str, lang: str, px: int, place: str, style: str, margin: int = 27):
    """The picture with the text drawn, and the text's box (x0, y0, x1, y1)."""
    img = img.copy()
    f = font(lang, px, bold=style == "boxed")
    d = ImageDraw.Draw(img, "RGBA")
    left, top, right, bottom = d.textbbox((0, 0), text, font=f)
    tw, th = right - left, bottom - top
    pad = int(px * 0.35) if style == "boxed" else 0
    x = {"l": margin + pad, "r": img.width - margin - pad - tw, "c": (img.width - tw) // 2}[place[1]]
    y = {"t": margin + pad, "b": img.height - margin - pad - th, "m": (img.height - th) // 2}[place[0]]
    ox, oy = x - left, y - top
    if style == "boxed":
        d.rectangle((x - pad, y - pad, x + tw + pad, y + th + pad), fill=(0, 0, 0, 150))
        d.text((ox, oy), text, font=f, fill=(255, 255, 255, 255))
    elif style == "shadow":
        shadow = Image.new("RGBA", img.size, (0, 0, 0, 0))
        ImageDraw.Draw(shadow).text((ox + 2, oy + 2), text, font=f, fill=(0, 0, 0, 200))
        img = Image.alpha_composite(img.convert("RGBA"), shadow.filter(ImageFilter.GaussianBlur(2))).convert("RGB")
        ImageDraw.Draw(img).text((ox, oy), text, font=f, fill=(255, 255, 255))
    else:
        under = float(np.asarray(img.crop((x, y, x + tw, y + th)).convert("L"), dtype=np.float64).mean())
        d.text((ox, oy), text, font=f, fill=(20, 20, 20, 255) if under > 128 else (255, 255, 255, 255))
    return img, (x, y, x + tw, y + th)


def jpeg(img: Image.Image, quality: int = 75) -> np.ndarray:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def read(arr: np.ndarray):
    """The reader as configured, or (--baseline) one engine call on the whole picture at BASELINE_LONG px."""
    if not BASELINE_LONG:
        return pixels.read_picture(arr)
    h, w = arr.shape[:2]
    part = pixels._Part(0, 0, w, h, min(1.0, BASELINE_LONG / max(w, h)))
    lines = pixels._read_pass(arr, [part], "whole")
    short = min(w, h)
    return [pixels.TextHit(t, s, tuple(int(v) for v in b), ink, ink / short) for b, t, s, ink, _ in lines]


BASELINE_LONG = 0


def labels_in(arr: np.ndarray, hits=None):
    """Classified labels of a picture: (label, hit) for every hit the classifier takes as a label."""
    hits = read(arr) if hits is None else hits
    size = (arr.shape[1], arr.shape[0])
    out = [(classify_hit(h.text, h.box, size, h.text_height), h) for h in hits]
    return [(lab, h) for lab, h in out if lab is not None]


def overlaps(a, b) -> bool:
    return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])


def timed(fn, *args):
    c0, w0 = time.process_time(), time.perf_counter()
    out = fn(*args)
    return out, time.process_time() - c0, time.perf_counter() - w0


def positives(bgs, reps: int, rng: random.Random):
    """reps cases for each language x size x style, place, wording and background drawn at random."""
    for lang, px, style in itertools.product(LABELS, SIZES, STYLES):
        for _ in range(reps):
            text, status = rng.choice(LABELS[lang])
            bg_name, bg = rng.choice(bgs)
            yield lang, text, status, px, style, rng.choice(PLACES), bg_name, bg


def run_positives(bgs, reps, rng):
    found, total = collections.Counter(), collections.Counter()
    cpu, wall, misses, height_err = [], [], [], []
    for lang, text, status, px, style, place, bg_name, bg in positives(bgs, reps, rng):
        img, box = draw(bg, text, lang, px, place, style)
        arr = jpeg(img)
        hits, c, w = timed(read, arr)
        cpu.append(c)
        wall.append(w)
        good = [(lab, h) for lab, h in labels_in(arr, hits) if lab.status.value == status and overlaps(h.box, box)]
        for key in (f"lang={lang}", f"size={px}", f"style={style}", f"place={place}", f"bg={bg_name.split(':')[0]}"):
            total[key] += 1
            found[key] += bool(good)
        if good:
            height_err.append(good[0][1].text_height / (box[3] - box[1]))
        else:
            misses.append((lang, text, px, style, place, bg_name, [h.text for h in hits]))
    return found, total, cpu, wall, misses, height_err


def run_badges(bgs, rng, n: int = 12):
    hits = 0
    for i in range(n):
        _, bg = rng.choice(bgs)
        img, box = draw(bg, "AI", "en", rng.choice(SIZES), PLACES[i % 4], "boxed")
        hits += any(lab.badge and overlaps(h.box, box) for lab, h in labels_in(jpeg(img)))
    return hits, n


def negatives(bgs, rng: random.Random):
    """(name, picture) without any label."""
    for name, bg in bgs:
        yield f"plain {name}", jpeg(bg)
    noise = np.random.default_rng(5)
    yield "noise gaussian", jpeg(Image.fromarray(np.clip(noise.normal(128, 50, (H, W, 3)), 0, 255).astype(np.uint8)))
    yield "noise uniform", jpeg(Image.fromarray(noise.integers(0, 256, (H, W, 3), dtype=np.uint8)))
    yield "noise blocks", jpeg(Image.fromarray(noise.integers(0, 256, (27, 48, 3), dtype=np.uint8)).resize((W, H)))
    for lang, text in NEGATIVE_TEXTS:
        for place in ("tl", "br", "bc", "mc"):
            bg_name, bg = rng.choice(bgs)
            img, _ = draw(bg, text, lang, rng.choice(SIZES), place, rng.choice(STYLES))
            yield f"{text!r} {place} on {bg_name}", jpeg(img)
    for place in ("mc", "tc"):  # a big AI mid-picture (a conference banner): a word, not a badge
        img, _ = draw(bgs[0][1], "AI", "en", 160, place, "boxed")
        yield f"big 'AI' {place}", jpeg(img)


def run_negatives(bgs, rng):
    false, n, cpu = [], 0, []
    for name, arr in negatives(bgs, rng):
        found, c, _ = timed(labels_in, arr)
        n += 1
        cpu.append(c)
        false += [(name, lab.phrase_id, h.text) for lab, h in found]
    return false, n, cpu


def make_video(path: Path, source: str, text: str, lang: str, px: int, seconds: float = 8.0) -> None:
    """A clip with `text` burnt in (top right, boxed) for its first 2 s: a transparent PNG overlaid by ffmpeg."""
    layer, _ = draw(Image.new("RGBA", (W, H), (0, 0, 0, 0)), text, lang, px, "tr", "boxed")
    png = path.with_suffix(".png")
    layer.save(png)
    src = f"{source}=s={W}x{H}:r=25:d={seconds:g}" if source != "mandelbrot" else f"mandelbrot=s={W}x{H}:r=25"
    args = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", src, "-i", str(png), "-t", f"{seconds:g}"]
    args += ["-filter_complex", "[0][1]overlay=enable='lt(t,2)'", "-c:v", "libx264", "-preset", "veryfast"]
    subprocess.run(args + ["-pix_fmt", "yuv420p", str(path)], check=True, capture_output=True)


def run_videos(tmp: Path):
    rows = []
    for source, text, lang in (("testsrc2", "AI生成", "zh"), ("mandelbrot", "AI-generated", "en"),
                               ("smptehdbars", "KI-generiert", "de")):  # fmt: skip
        path = tmp / f"{source}.mp4"
        make_video(path, source, text, lang, 54)
        reading, cpu, wall = timed(pixels.read_video, path, 3.0, 0)
        size = (reading.width, reading.height)
        seen = sorted(
            {h.time for h in reading.hits if (lab := classify_hit(h.text, h.box, size, h.text_height)) and lab.status}
        )
        rows.append((source, text, cpu, wall, reading.times, seen))
    return rows


def pct(a: int, b: int) -> str:
    return f"{a}/{b} ({100 * a / max(1, b):.0f}%)"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=5, help="cases per language x size x style (default 5: 375)")
    ap.add_argument("--seed", type=int, default=20261206)
    ap.add_argument("--photos", type=Path, default=PHOTOS)
    ap.add_argument("--all-cores", action="store_true", help="do not pin to one core")
    ap.add_argument("--set", action="append", default=[], help="override a reader constant, e.g. WHOLE_LONG=800")
    ap.add_argument("--baseline", type=int, default=0, help="instead: one read of the whole picture at this long side")
    ap.add_argument("--no-video", action="store_true")
    args = ap.parse_args()
    global BASELINE_LONG
    BASELINE_LONG = args.baseline
    if not args.all_cores and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    for kv in args.set:
        key, value = kv.split("=")
        setattr(pixels, key, type(getattr(pixels, key))(float(value)))
    rng = random.Random(args.seed)
    bgs = backgrounds(args.photos)
    _, load_cpu, load_wall = timed(pixels.engine)
    print(f"engine: {pixels._ENGINE_NAME}; made in {load_wall:.2f}s wall; backgrounds: {len(bgs)}")
    read(jpeg(bgs[0][1]))  # warm-up

    found, total, cpu, wall, misses, herr = run_positives(bgs, args.reps, rng)
    n = sum(v for k, v in total.items() if k.startswith("lang="))
    f = sum(v for k, v in found.items() if k.startswith("lang="))
    print(f"\nPOSITIVES (1080p JPEG q75): recall {pct(f, n)}")
    for prefix in ("lang=", "size=", "style=", "place=", "bg="):
        print("  " + "  ".join(f"{k[len(prefix) :]} {pct(found[k], total[k])}" for k in total if k.startswith(prefix)))
    q = statistics.quantiles(cpu, n=20)
    print(f"  cost per still, 1 core: cpu mean {statistics.mean(cpu):.3f}s p95 {q[-1]:.3f}s; wall mean"
          f" {statistics.mean(wall):.3f}s")  # fmt: skip
    hq = statistics.quantiles(herr, n=20)
    print(f"  letter height read / drawn (ink box): median {statistics.median(herr):.2f}, p5 {hq[0]:.2f},"
          f" p95 {hq[-1]:.2f}")  # fmt: skip
    for m in misses:
        print("  miss:", m)
    badge_hits, badge_n = run_badges(bgs, rng)
    print(f"  bare 'AI' badge in a corner: {pct(badge_hits, badge_n)}")

    false, nn, ncpu = run_negatives(bgs, rng)
    print(f"\nNEGATIVES: {nn} pictures, false labels {len(false)}; cpu mean {statistics.mean(ncpu):.3f}s")
    for item in false:
        print("  FALSE:", item)

    if args.no_video:
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        print("\nVIDEOS (1080p25 H.264, label top right for the first 2 s; head 3 s, no sparse frames):")
        for source, text, c, w, times, seen in run_videos(Path(tmp)):
            print(f"  {source:11s} {text!r}: cpu {c:.2f}s wall {w:.2f}s (decoding included); frames {list(times)};"
                  f" label read at {seen}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
