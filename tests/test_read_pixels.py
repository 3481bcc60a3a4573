"""`check --read-pixels` end to end: a picture whose metadata says nothing (stripped, as platforms publish it) is
judged by the label it shows and by Stable Diffusion's invisible watermark; without the flag it reads unknown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli
from PIL import Image
from test_pixels import CJK, LATIN_BOLD, draw, jpeg_file
from test_watermark import PIPELINES, _save

pytestmark = pytest.mark.skipif(not (CJK.exists() and LATIN_BOLD.exists()), reason="fonts for the labels are missing")
MEDIA = Path(__file__).resolve().parent.parent / "fixtures" / "media"


def _ai(path: Path, *flags: str) -> dict:
    p = run_cli("check", "--format", "json", "-j", "0", *flags, path, timeout=180)
    assert "Traceback" not in p.stderr, p.stderr
    return json.loads(p.stdout)["results"][0]


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    return Image.open(MEDIA / "plain_camera.jpg").convert("RGB").resize((1280, 720))


@pytest.mark.parametrize(
    "text,cjk,status", [("AI生成", True, "fully_ai"), ("Made with AI-generated work", False, "made_with_ai")]
)
def test_a_stripped_picture_is_judged_by_the_label_it_shows(tmp_path, photo, text, cjk, status):
    img, _ = draw(photo, text, 48, "br", "boxed", cjk=cjk)
    path = jpeg_file(img, tmp_path / "labelled.jpg")  # Pillow writes no metadata: nothing but the pixels says AI
    assert _ai(path)["ai"]["status"] == "unknown"
    r = _ai(path, "--read-pixels")
    assert (r["ai"]["status"], r["ai"]["basis"]) == (status, "non_standard"), r["ai"]
    assert any(s["kind"] == "visible_label" and s["source"] == "visible" for s in r["signals"]), r["signals"]


def test_a_picture_with_other_text_stays_unknown(tmp_path, photo):
    img, _ = draw(photo, "MAIN STREET", 48, "bl", "boxed")
    r = _ai(jpeg_file(img, tmp_path / "street.jpg"), "--read-pixels")
    assert r["ai"]["status"] == "unknown" and not [s for s in r["signals"] if s["source"] == "visible"], r


def test_a_stable_diffusion_watermark_is_found_in_a_lossless_picture(tmp_path, photo):
    import numpy as np

    mark, embed = PIPELINES[0][1]  # the first pipeline the decoder knows (SD 1.x scripts)
    rgb = np.asarray(photo.resize((512, 512)))
    path = _save(embed(rgb), tmp_path / "sd.png")
    r = _ai(path, "--read-pixels")
    assert (r["ai"]["status"], r["ai"]["basis"]) == ("fully_ai", "non_standard"), r["ai"]
    assert [s["key"] for s in r["signals"] if s["kind"] == "watermark"] == [mark]
