"""`labelcheck label` end to end: plain files made by ffmpeg, labelled by the command, pass the policy they were
labelled for on the command's own re-check, and on a separate `check`; originals are untouched; a signed output
validates; an input that already carries a manifest keeps it as the parent; failures are per item and leave nothing
half-written."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import FIXTURES, MEDIA, TEST_CA, run_cli

CERTS = FIXTURES / "certs"
SIGN = ["--sign-cert", CERTS / "signer-chain.pem", "--sign-key", CERTS / "signer.key", "--trust-anchors", TEST_CA]
EU = ["-p", "eu-ai-act-art50", "--as-of", "2026-09-01"]
SOURCES = {
    "a.jpg": ["-f", "lavfi", "-i", "testsrc2=s=320x240", "-frames:v", "1"],
    "b.png": ["-f", "lavfi", "-i", "testsrc2=s=320x240", "-frames:v", "1"],
    "c.webp": ["-f", "lavfi", "-i", "testsrc2=s=320x240", "-frames:v", "1"],
    "d.mp4": ["-f", "lavfi", "-i", "testsrc2=s=320x240:d=1", "-pix_fmt", "yuv420p"],
    "e.wav": ["-f", "lavfi", "-i", "sine=d=1"],
    "f.mp3": ["-f", "lavfi", "-i", "sine=d=1"],
}


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def plain(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("plain")
    for name, args in SOURCES.items():
        subprocess.run(["ffmpeg", "-v", "error", "-y", *args, str(d / name)], check=True, timeout=60)
    return d


def _label(*args: object) -> tuple[int, dict]:
    p = run_cli("label", "--format", "json", *args, timeout=300)
    assert "Traceback" not in p.stderr, p.stderr
    return p.returncode, json.loads(p.stdout) if p.stdout.strip() else {}


def _check(*paths: object, extra: tuple = ()) -> dict:
    p = run_cli("check", "--format", "json", "-j", "0", *EU, *extra, *paths, timeout=300)
    return {Path(r["target"]).name: r for r in json.loads(p.stdout)["results"]}


def test_plain_files_labelled_fully_ai_pass_the_eu_policy_and_originals_stay(plain, tmp_path):
    before = {p.name: sha(p) for p in plain.iterdir()}
    code, doc = _label("--as", "fully_ai", *EU, "--output-dir", tmp_path / "out", plain)
    assert code == 0, doc
    assert {Path(i["output"]).name for i in doc["items"]} == set(SOURCES)
    assert all(i["recheck"] == {"status": "pass", "ai_status": "fully_ai", "basis": "standard", "failed": []}
               for i in doc["items"]), doc  # fmt: skip
    assert {p.name: sha(p) for p in plain.iterdir()} == before  # originals never touched
    again = _check(tmp_path / "out")  # a separate check agrees with the command's own re-check
    assert {n: (r["status"], r["ai"]["status"], r["ai"]["basis"]) for n, r in again.items()} == {
        n: ("pass", "fully_ai", "standard") for n in SOURCES
    }
    read = subprocess.run(["exiftool", "-s3", "-XMP-iptcExt:DigitalSourceType", str(tmp_path / "out" / "a.jpg")],
                          capture_output=True, text=True, check=True, timeout=60).stdout.strip()  # fmt: skip
    assert read == "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"


def test_a_failing_file_is_labelled_signed_and_passes_its_recheck(tmp_path):
    """The README's example: a generator's PNG fails the gate (no standard label); labelled, it passes."""
    src = MEDIA / "png_a1111_parameters.png"
    assert _check(src)[src.name]["status"] == "fail"
    code, doc = _label("--as", "fully_ai", *EU, *SIGN, "--system", "Stable Diffusion", "--system-version", "1.5",
                       "--output-dir", tmp_path, src)  # fmt: skip
    assert code == 0, doc
    (item,) = doc["items"]
    assert {w["carrier"] for w in item["wrote"]} == {"iptc", "c2pa"}
    r = _check(tmp_path / src.name, extra=("--trust-anchors", TEST_CA))[src.name]
    assert r["status"] == "pass" and r["c2pa"]["validation_state"] == "Trusted", r
    assert (r["ai"]["status"], r["ai"]["basis"]) == ("fully_ai", "standard")


def test_a_signed_input_keeps_its_manifest_as_the_parent(tmp_path):
    src = MEDIA / "c2pa_fully_ai.jpg"
    code, doc = _label("--as", "fully_ai", *EU, *SIGN, "--output-dir", tmp_path, src)
    assert code == 0, doc
    r = _check(tmp_path / src.name, extra=("--trust-anchors", TEST_CA))[src.name]
    active = next(m for m in r["c2pa"]["manifests"] if m["label"] == r["c2pa"]["active_manifest"])
    assert [i["relationship"] for i in active["ingredients"]] == ["parentOf"]
    assert r["ai"]["status"] == "fully_ai" and r["c2pa"]["validation_state"] == "Trusted"


def test_a_signed_input_without_a_certificate_is_refused_not_broken(tmp_path):
    src = MEDIA / "c2pa_fully_ai.jpg"
    code, doc = _label("--as", "fully_ai", *EU, "--output-dir", tmp_path, src)
    assert code == 5 and "hash binding" in doc["items"][0]["error"]
    assert not list(tmp_path.iterdir())  # nothing written, no temporary left


def test_plan_problems_dry_run_in_place_and_bad_credentials(plain, tmp_path):
    p = run_cli("label", "--as", "fully_ai", "-p", "cn-gb45438", "--output-dir", tmp_path / "x", plain / "a.jpg")
    assert p.returncode == 2 and "--producer and --produce-id" in p.stderr  # said before anything is written
    code, doc = _label("--as", "made_with_ai", "--dry-run", "--output-dir", tmp_path / "dry", plain)
    assert code == 0 and not (tmp_path / "dry").exists() and doc["plan"]["carriers"] == ["iptc"]
    work = tmp_path / "work"
    shutil.copytree(plain, work)
    original = sha(work / "b.png")
    code, doc = _label("--as", "made_with_ai", "--in-place", work / "b.png")
    assert code == 0, doc
    assert sha(work / "b.png.orig") == original and sha(work / "b.png") != original
    wrong = ["--sign-cert", CERTS / "signer-chain.pem", "--sign-key", tmp_path / "other.key"]
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out",
                    str(tmp_path / "other.key")], check=True, capture_output=True, timeout=60)  # fmt: skip
    code, doc = _label("--as", "fully_ai", *wrong, "--output-dir", tmp_path / "w", plain / "a.jpg")
    assert code == 5 and "does not match" in doc["items"][0]["error"], doc
    assert not (tmp_path / "w" / "a.jpg").exists()


def test_a_full_disk_is_an_error_per_item_and_leaves_nothing_half_written(tmp_path):
    """A 96 KiB tmpfs as the output folder: the small file is labelled, the large one runs out of space."""
    import os

    out = tmp_path / "small-disk"
    out.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96k", "tmpfs", str(out)],
                                           capture_output=True, timeout=30).returncode != 0:  # fmt: skip
        pytest.skip("mounting a small tmpfs needs root")
    try:
        big = tmp_path / "big.png"
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=1280x720", "-frames:v", "1",
                        str(big)], check=True, timeout=60)  # fmt: skip
        small = MEDIA / "xmp_capture.jpg"
        code, doc = _label("--as", "fully_ai", "--output-dir", out, small, big)
        assert code == 5, doc
        by = {Path(i["source"]).name: i for i in doc["items"]}
        assert by["xmp_capture.jpg"]["recheck"]["status"] == "pass"
        assert "error writing output file" in by["big.png"]["error"].lower(), by["big.png"]  # exiftool's own words
        assert sorted(p.name for p in out.iterdir()) == ["xmp_capture.jpg"]  # no partial file, no temporary
    finally:
        subprocess.run(["umount", str(out)], capture_output=True, timeout=30)


def test_an_output_folder_that_cannot_be_made_is_an_error_per_item(plain):
    """/proc takes no new folder, even for root: before, the run ended in a traceback."""
    code, doc = _label("--as", "fully_ai", "--output-dir", "/proc/labelcheck-out", plain / "a.jpg", plain / "b.png")
    assert code == 5 and [bool(i["error"]) for i in doc["items"]] == [True, True], doc
