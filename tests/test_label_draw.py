"""labelcheck/label/draw.py: visible labels drawn into copies of pictures and videos, read back by labelcheck's own OCR
reader (extract/pixels.py) and vocabulary (classify/visible.py) and judged by the explicit-label check, as
`labelcheck label --visible` re-checks its outputs. Inputs are made by Pillow and ffmpeg from a fixture photograph
and lavfi sources. OCR costs ~0.7 s a still and ~2 s a video: three reads in all; the rest is checked on pixels."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageOps

from labelcheck.classify import visible
from labelcheck.classify.classification import classify
from labelcheck.extract import pixels
from labelcheck.label import draw
from labelcheck.label.draw import DrawError
from labelcheck.model import AiStatus, C2paStore, Evidence, FindingStatus, Kind, PixelScan, Signal, Subject
from labelcheck.policy.checks import explicit_label

ROOT = Path(__file__).resolve().parent.parent
W, H = 1280, 720
DUTCH = "Gemaakt met door AI gegenereerd werk"
pytestmark = [
    pytest.mark.skipif(
        not (draw.CJK_FONT.exists() and draw.LATIN_FONT.exists()), reason="fonts-noto-cjk, fonts-dejavu"
    ),
    pytest.mark.skipif(shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None, reason="ffmpeg"),
]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True, capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("sources")
    photo = Image.open(ROOT / "fixtures" / "media" / "plain_camera.jpg").convert("RGB").resize((W, H))
    exif = Image.Exif()
    exif[0x010F] = "labelcheck-test-camera"  # Make
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    photo.save(d / "photo.jpg", "JPEG", quality=82, icc_profile=srgb, exif=exif)
    yy, xx = np.mgrid[0:H, 0:W]
    cutout = photo.convert("RGBA")  # a cut-out subject: opaque ellipse, transparent around it
    cutout.putalpha(Image.fromarray(np.where(((xx - W / 2) / 500) ** 2 + ((yy - H / 2) / 300) ** 2 < 1, 255, 0)
                                    .astype(np.uint8)))  # fmt: skip
    cutout.save(d / "cutout.png")
    video = d / "clip.mp4"
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=s={W}x{H}:r=25:d=5", "-f", "lavfi", "-i", "sine=f=440:d=5",
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k",
           "-metadata", "title=clip", str(video))  # fmt: skip
    return {"jpg": d / "photo.jpg", "png": d / "cutout.png", "mp4": video}


def read_labels(reading: pixels.PixelReading) -> list[tuple[visible.VisibleLabel, pixels.TextHit]]:
    size = (reading.width, reading.height)
    found = [(visible.classify_hit(h.text, h.box, size, h.text_height), h) for h in reading.hits]
    return [(lab, h) for lab, h in found if lab is not None]


def overlaps(a, b) -> bool:
    return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])


def explicit(reading: pixels.PixelReading, kind: str, phrases: list[str] | None = None) -> FindingStatus:
    """The explicit-label check (cn-gb45438's options, or other phrases) on what the reader read, for AI content."""
    size = (reading.width, reading.height)
    signals = [
        Signal("visible", Kind.VISIBLE_LABEL, "ocr", h.text, visible.place(h.box, size, h.text_height, h.time))
        for h in reading.hits
    ]
    xmp = Signal("xmp", Kind.SOURCE_TYPE, "XMP-iptcExt:DigitalSourceType", "trainedAlgorithmicMedia")
    scan = PixelScan(reading.width, reading.height, reading.times, reading.duration)
    ev = Evidence("/x", f"{kind}/x", kind, 1, None, C2paStore(present=False), (xmp, *signals), (), (), scan)
    options = {**explicit_label.DEFAULTS, **({"phrases": phrases} if phrases else {})}
    return explicit_label.check(Subject(ev, classify(ev), (), dt.date(2026, 1, 1)), options).status


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


# ------------------------------------------------------------------------------------------ wording and fonts


@pytest.mark.parametrize(
    "status,lang,want",
    [("fully_ai", "zh", "AI生成"), ("made_with_ai", "zh", "AI合成"), ("fully_ai", "nl", "Volledig gegenereerd door AI"),
     ("made_with_ai", "nl-NL", DUTCH), ("fully_ai", "en", "AI-generated"),
     ("made_with_ai", "en", "Made with AI-generated work"), ("fully_ai", "de", "KI-generiert")],
)  # fmt: skip
def test_the_wording_is_the_vocabulary_s_and_reads_as_its_claim(status, lang, want):
    assert draw.wording(status, lang) == want
    label = visible.classify_hit(want, (20, 20, 300, 60), (W, H))
    assert label is not None and label.status.value == status and not label.badge


def test_no_wording_for_other_claims_or_languages():
    with pytest.raises(DrawError, match="possibly_ai"):
        draw.wording("possibly_ai", "en")
    with pytest.raises(DrawError, match="'xx'.*nl"):
        draw.wording("fully_ai", "xx")


def test_the_font_has_the_glyphs():
    assert draw.font_for("AI生成") == draw.CJK_FONT
    assert draw.font_for(DUTCH) == draw.LATIN_FONT
    assert not draw._covers(draw.LATIN_FONT, "AI生成") and draw._covers(draw.CJK_FONT, "AI生成")


# ------------------------------------------------------------------------------------- drawn, then read by OCR


def test_a_jpeg_carries_a_gb45438_label_and_keeps_its_encoding(media, tmp_path):
    src, dst = media["jpg"], tmp_path / "out.jpg"
    before = sha(src)
    drawn = draw.draw_still(src, dst, "AI生成")
    assert drawn.corner == "bottom-right" and drawn.seconds is None and drawn.height_share >= 0.05
    assert drawn.box[2] <= W and drawn.box[3] <= H and drawn.box[0] > W / 2 and drawn.box[1] > H / 2
    reading = pixels.read_still(dst)
    found = [(lab, h) for lab, h in read_labels(reading) if overlaps(h.box, drawn.box)]
    assert found, [h.text for h in reading.hits]
    lab, hit = found[0]
    assert lab.status is AiStatus.FULLY_AI and lab.phrase_id == "zh.generated" and lab.height_share >= 0.05
    assert explicit(reading, "image") is FindingStatus.PASS  # cn-gb45438's explicit-label rule
    with Image.open(src) as a, Image.open(dst) as b:
        assert (b.format, b.mode, b.size) == (a.format, a.mode, a.size)
        assert b.quantization == a.quantization  # the source's quality, table for table
        assert b.info["icc_profile"] == a.info["icc_profile"]
        assert b.getexif()[0x010F] == "labelcheck-test-camera"
    assert 0.8 < dst.stat().st_size / src.stat().st_size < 1.5
    assert sha(src) == before and leftovers(tmp_path) == []


def test_a_png_with_alpha_carries_the_creators_wording_and_nothing_else_changes(media, tmp_path):
    src, dst = media["png"], tmp_path / "out.png"
    drawn = draw.draw_still(src, dst, DUTCH, corner="bottom-left")
    assert drawn.height_share >= 0.05 and drawn.box[2] - drawn.box[0] <= 0.9 * W + 1
    reading = pixels.read_still(dst)
    found = [lab for lab, h in read_labels(reading) if overlaps(h.box, drawn.box)]
    assert [(lab.status, lab.phrase_id) for lab in found] == [(AiStatus.MADE_WITH_AI, "nl.made-with")], reading.hits
    assert found[0].height_share >= 0.05
    assert explicit(reading, "image", ["*.generated", "*.made-with"]) is FindingStatus.PASS
    a, b = np.asarray(Image.open(src)), np.asarray(Image.open(dst))
    assert Image.open(dst).mode == "RGBA" and a.shape == b.shape
    outside = np.ones(a.shape[:2], bool)
    outside[drawn.box[1] : drawn.box[3], drawn.box[0] : drawn.box[2]] = False
    assert np.array_equal(a[outside], b[outside])  # lossless: every pixel but the label's is the source's
    assert b[drawn.box[1] + 2, drawn.box[0] + 2, 3] == draw.PLATE[3]  # the plate over a transparent corner


def test_a_video_shows_the_label_throughout_and_keeps_its_audio(media, tmp_path):
    src, dst = media["mp4"], tmp_path / "out.mp4"
    before = sha(src)
    drawn = draw.draw_video(src, dst, "AI生成")
    assert drawn.seconds is None and drawn.corner == "top-right" and drawn.height_share >= 0.05
    reading = pixels.read_video(dst, head_seconds=3.0, sparse=1)
    assert reading.error is None and reading.times[:4] == (0.0, 0.52, 1.0, 1.52)
    seen = {h.time for lab, h in read_labels(reading)
            if lab.status is AiStatus.FULLY_AI and lab.height_share >= 0.05 and overlaps(h.box, drawn.box)}  # fmt: skip
    assert seen == set(reading.times)  # every frame read: the head's and the one after it
    assert explicit(reading, "video") is FindingStatus.PASS
    assert streams(dst) == [("video", "h264", W, H), ("audio", "aac", None, None)]
    assert audio_md5(dst) == audio_md5(src)  # copied, packet for packet
    assert sha(src) == before and leftovers(tmp_path) == []


def streams(path: Path) -> list[tuple]:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,codec_name,width,height",
                          "-of", "csv=p=0", str(path)], capture_output=True, text=True, check=True).stdout  # fmt: skip
    rows = [line.split(",") for line in out.split()]
    return [(r[1], r[0], int(r[2]) if r[2:] and r[2] else None, int(r[3]) if r[3:] and r[3] else None) for r in rows]


def audio_md5(path: Path) -> str:
    args = ["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:a", "-c", "copy", "-f", "md5", "-"]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout.strip()


# ------------------------------------------------------------------------------------ placement, without OCR


@pytest.mark.parametrize("orientation", range(1, 9))
def test_the_label_is_placed_in_the_displayed_orientation(tmp_path, orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation
    stored = Image.new("RGB", (480, 270) if orientation < 5 else (270, 480), (200, 200, 200))
    stored.save(tmp_path / "o.jpg", quality=90, exif=exif)
    drawn = draw.draw_still(tmp_path / "o.jpg", tmp_path / "out.jpg", "AI-generated", corner="top-left")
    with Image.open(tmp_path / "out.jpg") as out:
        assert out.size == stored.size and out.getexif()[0x0112] == orientation
        shown = np.asarray(ImageOps.exif_transpose(out).convert("L"), np.float32)
    assert shown.shape == (270, 480)
    x0, y0, x1, y1 = drawn.box
    assert x0 < 40 and y0 < 40 and shown[y0:y1, x0:x1].mean() < 140 and shown[y1 + 5 :, x1 + 5 :].mean() > 190


def test_a_label_for_a_part_of_a_video_goes_after_its_seconds(media, tmp_path):
    clip, dst = tmp_path / "short.mp4", tmp_path / "out.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=gray:s=640x360:r=10:d=4", "-c:v", "libx264", "-preset", "ultrafast", str(clip))
    drawn = draw.draw_video(clip, dst, "AI生成", seconds=2.0, corner="bottom-left")
    assert drawn.seconds == 2.0
    x0, y0, x1, y1 = drawn.box
    for t, dark in ((0.5, True), (1.9, True), (2.5, False), (3.5, False)):
        args = ["ffmpeg", "-v", "error", "-ss", str(t), "-i", str(dst), "-frames:v", "1", "-f", "rawvideo"]
        raw = subprocess.run([*args, "-pix_fmt", "gray", "-"], capture_output=True, check=True).stdout
        frame = np.frombuffer(raw, np.uint8).reshape(360, 640)
        assert bool(frame[y0:y1, x0:x1].mean() < 100) is dark, t


@pytest.mark.parametrize(
    "name,save,info",
    [("l.webp", {"lossless": True}, "lossless"), ("y.webp", {"quality": 80}, "lossy"),
     ("t.tif", {"compression": "tiff_lzw"}, "tiff_lzw"), ("p.png", {}, "P"), ("g.png", {}, "I;16"),
     ("s.gif", {}, "P"), ("c.jpg", {"quality": 85}, "CMYK")],
)  # fmt: skip
def test_formats_and_modes_are_kept(tmp_path, name, save, info):
    base = Image.open(ROOT / "fixtures" / "media" / "plain_camera.jpg").convert("RGB").resize((640, 360))
    img = {"P": base.quantize(64), "I;16": Image.fromarray(np.asarray(base.convert("L"), np.uint16) * 257),
           "CMYK": base.convert("CMYK")}.get(info, base)  # fmt: skip
    img.save(tmp_path / name, **save)
    draw.draw_still(tmp_path / name, tmp_path / f"out-{name}", "AI-generated")
    with Image.open(tmp_path / name) as a, Image.open(tmp_path / f"out-{name}") as b:
        assert (b.format, b.mode, b.size) == (a.format, a.mode, a.size)
        assert b.info.get("compression") == a.info.get("compression")
    if name.endswith(".webp"):
        assert draw._webp_lossless(tmp_path / f"out-{name}") is (info == "lossless")


# ------------------------------------------------------------------------------------------------- failures


def test_what_cannot_be_drawn_on_is_refused_and_nothing_is_left(media, tmp_path):
    frames_ = [Image.new("RGB", (320, 240), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    frames_[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames_[1:], duration=100, loop=0)
    (tmp_path / "notes.jpg").write_bytes(b"not a picture at all")
    (tmp_path / "notes.mp4").write_bytes(b"\0" * 4096)
    Image.new("RGB", (200, 720), "white").save(tmp_path / "narrow.png")
    cases = [
        (draw.draw_still, "anim.gif", "AI生成", "animated"),
        (draw.draw_still, "notes.jpg", "AI生成", "not a picture"),
        (draw.draw_video, "notes.mp4", "AI生成", "not a video"),
        (draw.draw_video, "narrow.png", "AI生成", "still picture"),
        (draw.draw_still, "narrow.png", DUTCH, "does not fit"),
    ]
    for fn, name, text, message in cases:
        src = tmp_path / name
        before = sha(src)
        dst = tmp_path / f"out-{name}"
        with pytest.raises(DrawError, match=message):
            fn(src, dst, text)
        assert not dst.exists() and sha(src) == before, name
    with pytest.raises(DrawError, match="source"):
        draw.draw_still(tmp_path / "narrow.png", tmp_path / "narrow.png", "AI")
    with pytest.raises(DrawError):  # ffprobe alone may take the time; ffmpeg surely cannot re-encode 5 s in it
        draw.draw_video(media["mp4"], tmp_path / "late.mp4", "AI生成", timeout=0.3)
    assert not (tmp_path / "late.mp4").exists() and leftovers(tmp_path) == []
