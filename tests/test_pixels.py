"""The visible-label reader (extract/pixels.py, extract/frames.py) and the phrase vocabulary (classify/visible.py) on
pictures and videos made by real tools: Pillow drawing with Debian's fonts (fonts-noto-cjk, fonts-dejavu-core; `make
test` installs them) onto ffmpeg's lavfi frames and a fixture photograph, saved as JPEG at quality 75; ffmpeg burning
a label into a clip's first 2 s. A few representative cases: bench/pixels_eval.py measures the large set."""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
import yaml

from labelcheck.classify import visible
from labelcheck.classify.visible import VocabularyError, classify_hit
from labelcheck.extract import frames, pixels
from labelcheck.model import AiStatus

PIL = pytest.importorskip("PIL")
from PIL import Image, ImageDraw, ImageFont  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CJK = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc")
LATIN = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
LATIN_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
needs_fonts = pytest.mark.skipif(
    not (CJK.exists() and LATIN.exists()), reason="fonts-noto-cjk / fonts-dejavu-core not installed (make test does)"
)
needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed (make test does)")
W, H = 1920, 1080


def ffmpeg_frame(source: str, w: int = W, h: int = H) -> Image.Image:
    args = ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"{source}=s={w}x{h}", "-frames:v", "1", "-f", "rawvideo"]
    raw = subprocess.run([*args, "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    return Image.frombytes("RGB", (w, h), raw)


@pytest.fixture(scope="module")
def backgrounds() -> dict[str, Image.Image]:
    photo = Image.open(ROOT / "fixtures" / "media" / "plain_camera.jpg").convert("RGB").resize((W, H))
    return {"photo": photo, **{s: ffmpeg_frame(s) for s in ("testsrc2", "mandelbrot", "smptehdbars")}}


def draw(img: Image.Image, text: str, px: int, place: str, style: str, cjk: bool = False):
    """`text` drawn `px` high at a corner or edge ('tl', 'bc', 'mc', …): boxed (bold on a translucent plate), plain (in
    the colour that contrasts with what is under it) or shadowed. The picture and the text's box."""
    img = img.copy().convert("RGB")
    f = (
        ImageFont.truetype(str(CJK), px, index=2)
        if cjk
        else ImageFont.truetype(str(LATIN_BOLD if style == "boxed" else LATIN), px)
    )
    d = ImageDraw.Draw(img, "RGBA")
    left, top, right, bottom = d.textbbox((0, 0), text, font=f)
    tw, th, pad, m = right - left, bottom - top, int(px * 0.35), int(0.025 * min(img.size))
    x = {"l": m + pad, "r": img.width - m - pad - tw, "c": (img.width - tw) // 2}[place[1]]
    y = {"t": m + pad, "b": img.height - m - pad - th, "m": (img.height - th) // 2}[place[0]]
    if style == "boxed":
        d.rectangle((x - pad, y - pad, x + tw + pad, y + th + pad), fill=(0, 0, 0, 150))
    if style == "shadow":
        d.text((x - left + 2, y - top + 2), text, font=f, fill=(0, 0, 0, 220))
    under = float(np.asarray(img.crop((x, y, x + tw, y + th)).convert("L")).mean())
    colour = (20, 20, 20) if style == "plain" and under > 128 else (255, 255, 255)
    d.text((x - left, y - top), text, font=f, fill=colour)
    return img, (x, y, x + tw, y + th)


def jpeg_file(img: Image.Image, path: Path, quality: int = 75) -> Path:
    img.save(path, "JPEG", quality=quality)
    return path


def labels(reading: pixels.PixelReading):
    """(label, hit) for each hit the vocabulary reads as a label."""
    size = (reading.width, reading.height)
    found = [(classify_hit(h.text, h.box, size, h.text_height), h) for h in reading.hits]
    return [(lab, h) for lab, h in found if lab is not None]


def overlaps(a, b) -> bool:
    return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])


# ------------------------------------------------------------------------------------------------- stills, labelled

POSITIVES = [  # text, px on 1080 lines, place, style, background, CJK font, claim
    ("AI生成", 54, "tr", "boxed", "testsrc2", True, AiStatus.FULLY_AI),
    ("人工智能合成", 30, "bl", "plain", "mandelbrot", True, AiStatus.MADE_WITH_AI),
    ("Made with AI", 24, "br", "shadow", "photo", False, AiStatus.MADE_WITH_AI),
    ("Volledig gegenereerd door AI", 36, "tl", "boxed", "smptehdbars", False, AiStatus.FULLY_AI),
    ("KI-generiert", 44, "tc", "plain", "photo", False, AiStatus.FULLY_AI),
    ("Créé avec l'IA", 30, "bc", "boxed", "mandelbrot", False, AiStatus.MADE_WITH_AI),
]


@needs_fonts
@needs_ffmpeg
@pytest.mark.parametrize("text,px,place,style,bg,cjk,claim", POSITIVES, ids=[p[0] for p in POSITIVES])
def test_a_burnt_in_label_is_read_where_it_is_with_its_claim(
    backgrounds, tmp_path, text, px, place, style, bg, cjk, claim
):
    img, box = draw(backgrounds[bg], text, px, place, style, cjk)
    reading = pixels.read_still(jpeg_file(img, tmp_path / "l.jpg"))
    assert reading.error is None and (reading.width, reading.height) == (W, H)
    found = [(lab, h) for lab, h in labels(reading) if overlaps(h.box, box)]
    assert found, [h.text for h in reading.hits]
    lab, hit = found[0]
    assert lab.status is claim and not lab.badge and lab.sources
    drawn = (box[3] - box[1]) / min(W, H)
    assert 0.5 * drawn <= hit.height_share <= 1.3 * drawn, (hit.height_share, drawn)
    # its cost is measured by bench/pixels_eval.py (~0.65 s of one core), not asserted in a timed test


@needs_fonts
@needs_ffmpeg
def test_a_gb45438_label_is_measured_against_the_shortest_side(backgrounds, tmp_path):
    """A 54-px CJK label on 1080 lines: its characters' height read within a few pixels (~5 % of the short side)."""
    img, box = draw(backgrounds["photo"], "AI生成", 54, "br", "boxed", cjk=True)
    lab, hit = labels(pixels.read_still(jpeg_file(img, tmp_path / "l.jpg")))[0]
    assert abs(hit.text_height - (box[3] - box[1])) <= 6 and 0.044 <= lab.height_share <= 0.056
    assert lab.region == "bottom-right" and lab.wording == "AI生成"


@needs_fonts
@needs_ffmpeg
def test_a_bare_ai_badge_counts_in_a_corner_and_not_mid_picture(backgrounds, tmp_path):
    img, box = draw(backgrounds["photo"], "AI", 36, "tl", "boxed")
    img, _ = draw(img, "AI", 160, "mc", "boxed")  # a conference banner's AI: a word, not a mark
    found = labels(pixels.read_still(jpeg_file(img, tmp_path / "b.jpg")))
    assert [(lab.badge, lab.phrase_id) for lab, _ in found] == [(True, "badge.ai")]
    assert overlaps(found[0][1].box, box)


# ------------------------------------------------------------------------------------------------ stills, negatives

NEGATIVES = [  # other text, drawn where labels and subtitles sit
    ("MAIN STREET", "tl", "boxed"), ("RAID", "tr", "plain"), ("Thailand", "bl", "shadow"), ("SAID", "br", "boxed"),
    ("a talk about AI", "tc", "plain"), ("She flew to Thailand in May.", "bc", "shadow"),
    ("Photo: Jan de Vries / ANP", "ml", "plain"), ("Directed by Ava Chen", "mr", "boxed"),
]  # fmt: skip


@needs_fonts
@needs_ffmpeg
@pytest.mark.parametrize("bg", ["photo", "mandelbrot"])
def test_other_text_is_read_but_never_taken_for_a_label(backgrounds, tmp_path, bg):
    img = backgrounds[bg]
    for text, place, style in NEGATIVES:
        img, _ = draw(img, text, 36, place, style)
    reading = pixels.read_still(jpeg_file(img, tmp_path / "n.jpg"))
    read = " | ".join(h.text for h in reading.hits)
    assert sum(t.replace(" ", "").lower() in read.replace(" ", "").lower() for t, _, _ in NEGATIVES) >= 6, read
    assert labels(reading) == [], read


@needs_ffmpeg
@pytest.mark.parametrize("source", ["smptehdbars", "noise"])
def test_no_text_no_label(tmp_path, source):
    if source == "noise":
        rng = np.random.default_rng(3)
        img = Image.fromarray(rng.integers(0, 256, (H, W, 3), dtype=np.uint8))
    else:
        img = ffmpeg_frame(source)
    assert labels(pixels.read_still(jpeg_file(img, tmp_path / "x.jpg"))) == []


# ------------------------------------------------------------------------------------------------- the vocabulary


def test_every_vocabulary_example_is_read_as_its_group():
    assert visible.check_examples() == []


@pytest.mark.parametrize(
    "text",
    ["MAIN STREET", "RAID", "Thailand", "SAID", "a talk about AI", "Made with a smile", "Made with aid", "OpenAI",
     "AI Act conference 2026", "No AI training", "Music generated by AI Studio", "I think the AI generated this",
     "生成式人工智能服务管理暂行办法", "人工智能大会", "ai", "Al Pacino", "00:00:01.480", ""],
)  # fmt: skip
def test_words_holding_ai_and_sentences_mentioning_it_are_not_labels(text):
    assert classify_hit(text, (20, 20, 300, 60), (W, H)) is None


@pytest.mark.parametrize(
    "text,status,group",
    [
        ("Al-generated", AiStatus.FULLY_AI, "en.generated"),  # OCR's l for I
        ("A1 generated", AiStatus.FULLY_AI, "en.generated"),
        ("Made with Al-generated work", AiStatus.MADE_WITH_AI, "en.made-with"),  # the longer wording wins
        ("Made with AI-generatd work", AiStatus.MADE_WITH_AI, "en.made-with"),  # an OCR slip in the rest
        ("Volledig gegenereerd door Al", AiStatus.FULLY_AI, "nl.generated"),
        ("Gemaakt met door AI gegenereerd werk", AiStatus.MADE_WITH_AI, "nl.made-with"),
        ("KI-generierter Inhalt", AiStatus.FULLY_AI, "de.generated"),
        ("Contenu généré par IA", AiStatus.FULLY_AI, "fr.generated"),
        ("Generado con IA", AiStatus.FULLY_AI, "es.generated"),
        ("Creato con l'IA", AiStatus.MADE_WITH_AI, "it.made-with"),
        ("作者声明：内容由AI生成", AiStatus.FULLY_AI, "zh.generated"),
        ("Not AI-generated", AiStatus.NOT_AI, "en.generated"),
        ("非AI生成", AiStatus.NOT_AI, "zh.not-ai"),
        ("疑似AI生成", AiStatus.POSSIBLY_AI, "zh.generated"),
        ("疑似使用了AI生成技术", AiStatus.POSSIBLY_AI, "zh.suspected"),
        ("Possibly AI-generated", AiStatus.POSSIBLY_AI, "en.generated"),
        ("Not By AI", AiStatus.NOT_AI, "en.not-ai"),
    ],
)
def test_wordings_their_ocr_noise_negations_and_hedges(text, status, group):
    lab = classify_hit(text, (20, 20, 300, 60), (W, H))
    assert lab is not None and (lab.status, lab.phrase_id) == (status, group)
    assert lab.negated == (status is AiStatus.NOT_AI and "not-ai" not in group)
    assert lab.hedged == (status is AiStatus.POSSIBLY_AI and group != "zh.suspected")


def test_a_bare_badge_needs_a_mark_s_place_and_shape():
    corner, centre, edge = (1800, 20, 1880, 70), (920, 500, 1000, 560), (920, 20, 1000, 70)
    assert classify_hit("AI", corner, (W, H)).badge
    assert classify_hit("AIGC", (20, 1000, 140, 1060), (W, H)).status is AiStatus.FULLY_AI
    assert classify_hit("AI", centre, (W, H)) is None
    assert classify_hit("AI", edge, (W, H)) is None
    assert classify_hit("AI", edge, (W, H), on_plate=True).badge
    assert classify_hit("AI", (1500, 20, 1900, 500), (W, H)) is None  # a title's size, not a mark's
    assert classify_hit("ai", corner, (W, H)) is None  # a word, not a capital mark


def test_the_vocabulary_is_validated_against_its_schema_at_load():
    data = yaml.safe_load(visible.VOCABULARY.read_text(encoding="utf-8"))
    visible.parse(data)
    bad = {**data, "phrases": [{**data["phrases"][0], "status": "sort_of_ai"}]}
    with pytest.raises(VocabularyError, match="status"):
        visible.parse(bad)
    unknown = {**data, "phrases": [{**data["phrases"][0], "sources": ["nowhere"]}]}
    with pytest.raises(VocabularyError, match="nowhere"):
        visible.parse(unknown)
    assert visible.resources.schema("visible-phrases")["$id"] == "urn:labelcheck:schema:visible-phrases"


# -------------------------------------------------------------------------------------- odd pictures, never a hang


def _small_label() -> Image.Image:
    img, _ = draw(Image.new("RGB", (640, 360), (90, 120, 160)), "AI-generated", 30, "tr", "boxed")
    return img


@needs_fonts
@pytest.mark.parametrize("kind", ["cmyk", "png16", "palette-alpha", "rgba", "grey", "exif-rotated"])
def test_odd_modes_are_read_as_rgb(tmp_path, kind):
    img = _small_label()
    path = tmp_path / f"p.{'jpg' if kind in ('cmyk', 'exif-rotated') else 'png'}"
    if kind == "cmyk":
        img.convert("CMYK").save(path, "JPEG", quality=90)
    elif kind == "png16":
        grey = np.asarray(img.convert("L"), dtype=np.uint16) * 257
        Image.fromarray(grey).save(path)  # a 16-bit greyscale PNG (mode I;16)
    elif kind == "palette-alpha":
        rgba = img.convert("RGBA")
        rgba.putalpha(Image.new("L", img.size, 255).point(lambda v: v))
        rgba.convert("P", palette=Image.Palette.ADAPTIVE).save(path, transparency=0)
    elif kind == "rgba":  # white text on a transparent picture: legible over the grey the reader puts behind it
        rgba = Image.new("RGBA", img.size, (0, 0, 0, 0))
        ImageDraw.Draw(rgba).text((380, 20), "AI-generated", font=ImageFont.truetype(str(LATIN), 30), fill="white")
        rgba.save(path)
    elif kind == "grey":
        img.convert("L").save(path)
    else:
        exif = Image.Exif()
        exif[0x0112] = 6  # shown rotated 90° clockwise: the stored pixels are turned the other way
        img.transpose(Image.Transpose.ROTATE_90).save(path, "JPEG", quality=90, exif=exif)
    reading = pixels.read_still(path)
    assert reading.error is None, reading.error
    assert (reading.width, reading.height) == (640, 360)
    assert any(lab.status is AiStatus.FULLY_AI for lab, _ in labels(reading)), [h.text for h in reading.hits]


def _png_header_only(path: Path, w: int, h: int) -> Path:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)))
    return path


def test_bombs_corrupt_and_odd_files_give_a_reason_not_a_hang(tmp_path):
    bomb = pixels.read_still(_png_header_only(tmp_path / "bomb.png", 60000, 60000))
    assert bomb.error is not None and "not decoded" in bomb.error.message
    assert pixels.read_still(_png_header_only(tmp_path / "tiny.png", 8, 8)).error is not None
    buf = io.BytesIO()
    Image.new("RGB", (800, 600), (200, 10, 10)).save(buf, "JPEG")
    (tmp_path / "cut.jpg").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 3])
    assert "decoded" in pixels.read_still(tmp_path / "cut.jpg").error.message
    (tmp_path / "text.jpg").write_bytes(b"not a picture at all")
    assert pixels.read_still(tmp_path / "text.jpg").error is not None
    frames_ = [Image.new("RGB", (320, 240), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    frames_[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames_[1:], duration=100)
    anim = pixels.read_still(tmp_path / "anim.gif")
    assert anim.error is None and any("first read" in n for n in anim.notes)


# ------------------------------------------------------------------------------------------------------------ video


@needs_fonts
@needs_ffmpeg
def labelled_clip(
    out: Path, text: str | None, enable: str, size: tuple[int, int] = (W, H)
) -> tuple[Path, tuple[int, int, int, int] | None]:
    """A 5-s H.264 clip of `size` (ffmpeg's testsrc2) with `text` drawn boxed 54 px high at its top right while
    `enable` (an ffmpeg expression of t) holds; the clip and the label's box."""
    layer, box = Image.new("RGBA", size, (0, 0, 0, 0)), None
    if text:
        layer, box = draw(layer, text, 54, "tr", "boxed", cjk=True)
    layer.save(out.with_suffix(".png"))
    args = [
        "ffmpeg",
        "-v",
        "error",
        "-f",
        "lavfi",
        "-i",
        f"testsrc2=s={size[0]}x{size[1]}:r=25:d=5",
        "-i",
        str(out.with_suffix(".png")),
    ]
    args += ["-filter_complex", f"[0][1]overlay=enable='{enable}'", "-c:v", "libx264", "-preset", "ultrafast"]
    subprocess.run([*args, "-pix_fmt", "yuv420p", str(out)], check=True, capture_output=True, timeout=120)
    return out, box


def test_a_video_label_is_read_over_its_first_two_seconds_only(tmp_path):
    clip, box = labelled_clip(tmp_path / "clip.mp4", "AI生成", "lt(t,2)")
    pixels.engine()
    reading = pixels.read_video(clip, head_seconds=3.0, sparse=1)  # its cost: bench/pixels_eval.py
    assert reading.error is None and reading.times[:6] == (0.0, 0.52, 1.0, 1.52, 2.0, 2.52) and len(reading.times) == 7
    seen = sorted({h.time for lab, h in labels(reading) if lab.status is AiStatus.FULLY_AI and overlaps(h.box, box)})
    assert seen == [0.0, 0.52, 1.0, 1.52]


def test_a_video_that_is_no_video_or_a_decoder_that_hangs_is_bounded(tmp_path):
    (tmp_path / "junk.mp4").write_bytes(b"\0" * 4096)
    assert pixels.read_video(tmp_path / "junk.mp4").error is not None
    if shutil.which("ffprobe") is None:
        return
    clip = tmp_path / "c.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=320x240:d=1", str(clip)], check=True)
    limits = tmp_path / "limits"
    stall = tmp_path / "ffmpeg"
    stall.write_text(f"#!/bin/sh\nulimit -v > {limits}\nexec sleep 30\n")
    stall.chmod(0o755)
    t0 = time.monotonic()
    reading = pixels.read_video(clip, timeout=2.0, ffmpeg=str(stall))
    assert time.monotonic() - t0 < 8 and reading.error is not None and reading.error.timed_out
    assert int(limits.read_text()) * 1024 == frames.MEMORY_LIMIT  # RLIMIT_AS was set before the decoder ran


# ------------------------------------------------------------------------------------------------------ the engine


def test_the_engine_is_made_once_and_needs_no_network(tmp_path):
    assert pixels.engine() is pixels.engine()
    unshare = next(
        (c for c in (["unshare", "-n"], ["unshare", "-r", "-n"]) if shutil.which("unshare") and
         subprocess.run([*c, "true"], capture_output=True, check=False).returncode == 0),
        None,
    )  # fmt: skip
    if unshare is None:
        pytest.skip("no network namespace can be made here (unshare)")
    code = (
        "from PIL import Image, ImageDraw, ImageFont; import numpy as np; from labelcheck.extract import pixels\n"
        "img = Image.new('RGB', (640, 360), 'navy')\n"
        "ImageDraw.Draw(img).text((300, 20), 'AI-generated', font=ImageFont.load_default(28), fill='white')\n"
        "print(pixels._ENGINE_NAME or 'engine', [h.text for h in pixels.read_picture(np.asarray(img))])"
    )
    p = subprocess.run([*unshare, sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert p.returncode == 0 and "generated" in p.stdout, p.stdout[-500:] + p.stderr[-2000:]
