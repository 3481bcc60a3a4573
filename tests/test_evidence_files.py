"""Evidence files: each item's raw tool answers, kept by content digest beside the report."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess

from conftest import MEDIA, TEST_CA, run_cli

from labelcheck.extract import evidence_files
from labelcheck.render import document as report_mod


def _check(tmp_path, *targets, evidence=None):
    evidence = evidence or tmp_path / "evidence"
    p = run_cli("check", "--format", "json", "--trust-anchors", TEST_CA, "--evidence-dir", evidence, *targets)
    assert "Traceback" not in p.stderr
    return p, json.loads(p.stdout), evidence


def test_each_item_has_its_tools_answers_under_its_digest(tmp_path):
    copy = tmp_path / "copy of c2pa_fully_ai.jpg"
    shutil.copyfile(MEDIA / "c2pa_fully_ai.jpg", copy)
    ogg = tmp_path / "voice.ogg"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine", "-t", "0.2", str(ogg)], check=True)
    targets = [MEDIA / "c2pa_fully_ai.jpg", copy, MEDIA / "xmp_fully_ai.jpg", MEDIA / "mkv_aigc.mkv", ogg]
    p, doc, evidence = _check(tmp_path, *targets)
    assert p.returncode == report_mod.EXIT_OK, p.stderr
    files = sorted(evidence.rglob("*.json"))
    assert len(files) == 4  # the copy is the same content: one file
    for r in doc["results"]:
        kept = json.loads(evidence_files.path_for(evidence, r["sha256"]).read_text())
        assert kept["format"] == evidence_files.FORMAT and kept["sha256"] == r["sha256"]
        assert kept["media_type"] == r["media_type"] and kept["tools"]["c2pa_sdk"] == doc["tool"]["c2pa_sdk"]
        assert kept["exiftool"] and "SourceFile" not in kept["exiftool"]  # about the content, not a copy's name
        assert not [k for k in kept["exiftool"] if k.startswith("System:")]
        if r["c2pa"]["present"]:  # the report interprets what c2pa-rs said, which is kept verbatim
            assert kept["c2pa"]["active_manifest"] == r["c2pa"]["active_manifest"]
            assert kept["c2pa"]["validation_state"] == r["c2pa"]["validation_state"] == "Trusted"
        else:
            assert kept["c2pa"] is None
    mkv = next(r for r in doc["results"] if r["target"].endswith(".mkv"))
    assert (
        json.loads(evidence_files.path_for(evidence, mkv["sha256"]).read_text())["ffprobe"] is None
    )  # exiftool read it
    vorbis = next(r for r in doc["results"] if r["target"].endswith(".ogg"))  # ffprobe reads Ogg
    probed = json.loads(evidence_files.path_for(evidence, vorbis["sha256"]).read_text())["ffprobe"]
    assert probed["streams"][0]["codec_name"] == "vorbis" and "filename" not in probed["format"]
    assert not [f for f in evidence.rglob("*") if f.name.endswith(".tmp")]


def test_an_unusable_evidence_directory_is_a_usage_error_and_a_failed_write_the_items_error(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the evidence directory should be")
    p = run_cli("check", "--evidence-dir", blocker / "sub", MEDIA / "xmp_fully_ai.jpg")
    assert p.returncode == report_mod.EXIT_USAGE and "cannot keep evidence" in p.stderr
    item = MEDIA / "xmp_fully_ai.jpg"
    evidence = tmp_path / "evidence"
    evidence_files.path_for(evidence, hashlib.sha256(item.read_bytes()).hexdigest()).mkdir(parents=True)
    p, doc, _ = _check(tmp_path, item, MEDIA / "xmp_capture.jpg", evidence=evidence)
    assert p.returncode == report_mod.EXIT_ITEM_ERROR
    first, second = doc["results"]
    assert first["status"] == "error" and [e["source"] for e in first["errors"]] == ["evidence"]
    assert second["status"] == "pass" and evidence_files.path_for(evidence, second["sha256"]).is_file()
