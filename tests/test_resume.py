"""--resume: a long jsonl run cut short goes on where it stopped; every target ends with exactly one result."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys

from conftest import MEDIA, eventually, run_cli

from labelcheck.render import document as report_mod


def _lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_an_interrupted_run_resumed_ends_with_each_target_once_and_the_full_runs_verdict(tmp_path):
    sample = tmp_path / "sample"
    sample.mkdir()
    media = sorted(p for p in MEDIA.iterdir() if p.is_file() and not p.name.startswith("bad_"))
    for n in range(6):  # distinct files (copies: a walk checks hard links to one file once): a few hundred items
        for p in media:
            shutil.copyfile(p, sample / f"{n}-{p.name}")
    out = tmp_path / "r.jsonl"
    cmd = [sys.executable, "-m", "labelcheck", "check", str(sample), "--format", "jsonl", "-o", str(out), "-j", "1"]
    proc = subprocess.Popen(
        cmd, stderr=subprocess.PIPE, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)
    )
    eventually(lambda: out.exists() and out.read_text().count("\n") >= 20 or proc.poll() is not None, 60, "no result")
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    assert proc.wait(30) == report_mod.EXIT_INTERRUPTED
    before = [d for d in _lines(out) if d["type"] == "result"]
    assert len(before) >= 19
    with open(out, "a") as fh:
        fh.write('{"type":"result","target":"cut off mid-wr')  # as a killed run may leave it

    p = run_cli("check", sample, "--format", "jsonl", "-o", out, "--resume")
    whole = run_cli("check", sample, "--format", "jsonl", "-o", tmp_path / "whole.jsonl")
    assert p.returncode == whole.returncode == report_mod.EXIT_NONCOMPLIANT, p.stderr
    lines = _lines(out)  # every line parses: the cut-off line is gone
    results = [d for d in lines if d["type"] == "result"]
    full = sorted(d["target"] for d in _lines(tmp_path / "whole.jsonl") if d["type"] == "result")
    assert len(before) < len(full) and sorted(d["target"] for d in results) == full  # each exactly once
    assert [d["type"] for d in lines].count("run") == 2
    assert lines[-1] == _lines(tmp_path / "whole.jsonl")[-1]  # the summary covers the whole file, as a full run's


def test_resume_needs_a_jsonl_file(tmp_path):
    for args in (("--format", "json", "-o", tmp_path / "r.json"), ("--format", "jsonl")):
        p = run_cli("check", MEDIA / "xmp_fully_ai.jpg", "--resume", *args)
        assert p.returncode == report_mod.EXIT_USAGE and "--resume needs" in p.stderr


def test_a_file_with_a_broken_line_before_its_end_is_not_resumed(tmp_path):
    out = tmp_path / "r.jsonl"
    out.write_text(
        '{"type":"run"}\nnot json\n{"type":"result","target":"/x","status":"pass","ai":{"status":"unknown"}}\n'
    )
    p = run_cli("check", MEDIA / "xmp_fully_ai.jpg", "--format", "jsonl", "-o", out, "--resume")
    assert p.returncode == report_mod.EXIT_USAGE and "line 2" in p.stderr
    assert out.read_text().count("\n") == 3  # nothing dropped
