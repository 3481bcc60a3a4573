"""GB 45438-2025's explicit label, end to end: `check --policy cn-gb45438` reads the pixels by itself (the policy
needs them) and its explicit-label rule passes an AI picture or video that shows "AI生成" large enough and early
enough, and fails one whose label is missing, too small, in another wording or late. Pictures drawn by Pillow with
Debian's CJK font, videos by ffmpeg; the metadata written by exiftool."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

import pytest
from conftest import run_cli
from PIL import Image
from test_pixels import CJK, LATIN_BOLD, draw, jpeg_file, labelled_clip

from labelcheck.classify import visible
from labelcheck.classify.classification import classify
from labelcheck.model import AiStatus, C2paStore, Evidence, FindingStatus, Kind, PixelScan, Signal, Subject
from labelcheck.policy.checks import explicit_label

pytestmark = pytest.mark.skipif(not (CJK.exists() and LATIN_BOLD.exists()), reason="fonts for the labels are missing")
MEDIA = Path(__file__).resolve().parent.parent / "fixtures" / "media"
W, H = 1280, 720
AI_XMP = "-XMP-iptcExt:DigitalSourceType=http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"


def _declared_ai(path: Path) -> Path:
    subprocess.run(["exiftool", "-q", "-overwrite_original", AI_XMP, str(path)], check=True, timeout=60)
    return path


def _video(tmp_path: Path, name: str, text: str | None, enable: str) -> Path:
    return _declared_ai(labelled_clip(tmp_path / f"{name}.mp4", text, enable, (W, H))[0])


@pytest.fixture(scope="module")
def items(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("explicit")
    photo = Image.open(MEDIA / "plain_camera.jpg").convert("RGB").resize((W, H))
    made = {
        "big": draw(photo, "AI生成", 54, "br", "boxed", cjk=True)[0],  # letters ~6% of 720
        "small": draw(photo, "AI生成", 22, "br", "boxed", cjk=True)[0],  # ~2.5%
        "english": draw(photo, "AI-generated", 54, "br", "boxed")[0],  # not GB 45438's wording
        "none": photo,
    }
    out = {k: _declared_ai(jpeg_file(img, d / f"{k}.jpg")) for k, img in made.items()}
    out["video_head"] = _video(d, "video_head", "人工智能合成", "lt(t,3)")
    out["video_late"] = _video(d, "video_late", "人工智能合成", "gte(t,1)")
    return out


def _findings(paths: list[Path], *flags: str) -> dict[str, dict]:
    p = run_cli("check", "--format", "json", "-j", "0", "-p", "cn-gb45438", "--as-of", "2026-01-01", *flags, *paths,
                timeout=600)  # fmt: skip
    assert "Traceback" not in p.stderr, p.stderr
    out = {}
    for r in json.loads(p.stdout)["results"]:
        (f,) = [f for f in r["findings"] if f["rule"] == "explicit-label"]
        out[Path(r["target"]).stem] = {**f, "pixels": r.get("pixels")}
    return out


def test_the_policy_reads_the_pixels_and_judges_the_explicit_label(items):
    got = _findings(list(items.values()))
    want = {
        "big": "pass",
        "small": "fail",
        "english": "fail",
        "none": "fail",
        "video_head": "pass",
        "video_late": "fail",
    }
    assert {k: f["status"] for k, f in got.items()} == want, got
    assert all(f["pixels"] is not None for f in got.values())  # read without --read-pixels: the policy needs them
    assert "too small" in got["small"]["message"] and "below 5%" in got["small"]["message"]
    assert "OCR reads most labels" in got["none"]["message"] and "AI生成" in got["none"]["remediation"]
    assert "at 0 s" in got["video_late"]["message"]
    assert got["video_head"]["pixels"]["frame_times"][:4] == [0.0, 0.52, 1.0, 1.52]


def test_without_the_pixels_the_rule_asks_for_a_person(items):
    got = _findings([items["big"]], "--no-read-pixels")
    assert got["big"]["status"] == "manual_review" and got["big"]["pixels"] is None


# ---------------------------------------------------------------- the check on hand-built evidence (no OCR)


def _subject(kind: str, hits: list[tuple[str, float, float | None]], times=(), duration=None) -> Subject:
    """Hits are (text, letters' height in px on a 1000x1000 picture, frame time)."""
    places = [(text, visible.place((900, 900, 990, 900 + h), (1000, 1000), h, t)) for text, h, t in hits]
    signals = [Signal("visible", Kind.VISIBLE_LABEL, "ocr", text, where) for text, where in places]
    xmp = Signal("xmp", Kind.SOURCE_TYPE, "XMP-iptcExt:DigitalSourceType", "trainedAlgorithmicMedia")
    ev = Evidence("/x", "video/mp4" if kind == "video" else "image/png", kind, 1, None, C2paStore(present=False),
                  (xmp, *signals), (), (), PixelScan(1000, 1000, tuple(times), duration))  # fmt: skip
    cls = classify(ev)
    assert cls.status is AiStatus.FULLY_AI
    return Subject(ev, cls, (), dt.date(2026, 1, 1))


def test_the_rule_by_size_wording_and_time():
    opts = dict(explicit_label.DEFAULTS)
    check = explicit_label.check
    assert check(_subject("image", [("AI生成", 60, None)]), opts).status is FindingStatus.PASS
    assert check(_subject("image", [("AI生成", 40, None)]), opts).status is FindingStatus.FAIL  # 4% < 5%
    assert check(_subject("image", [("非AI生成", 60, None)]), opts).status is FindingStatus.FAIL  # a denial
    assert check(_subject("image", [("Made with AI", 60, None)]), opts).status is FindingStatus.FAIL
    creators = {**opts, "phrases": ["*.generated", "*.made-with"]}
    assert check(_subject("image", [("Made with AI", 60, None)]), creators).status is FindingStatus.PASS
    times = (0.0, 0.5, 1.0, 1.5, 2.0, 2.5)
    head = [("AI生成", 60, t) for t in (0.0, 0.5, 1.0, 1.5)]
    assert check(_subject("video", head, times, 10.0), opts).status is FindingStatus.PASS
    gap = [h for h in head if h[2] != 1.0]
    out = check(_subject("video", gap, times, 10.0), opts)
    assert out.status is FindingStatus.FAIL and "at 1 s" in out.message
    short = [("AI生成", 60, 0.0), ("AI生成", 60, 0.5)]  # a 1-second video labelled throughout
    assert check(_subject("video", short, (0.0, 0.5), 1.0), opts).status is FindingStatus.PASS
