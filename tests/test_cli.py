"""The installed command line, run as a real process: output, named exit codes, no tracebacks."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import MEDIA, ROOT, TEST_CA, descendants, eventually, run_cli, running, unprivileged_cli

from labelcheck.render import document as report_mod

run = run_cli


def test_check_passes_with_exit_0_and_valid_json():
    p = run("check", "--trust-anchors", TEST_CA, MEDIA / "c2pa_fully_ai.jpg", MEDIA / "xmp_capture.jpg")
    assert p.returncode == report_mod.EXIT_OK, p.stderr
    doc = json.loads(p.stdout)  # not a terminal: JSON by default
    report_mod.validate(doc)
    assert [r["c2pa"]["validation_state"] for r in doc["results"]] == ["Trusted", None]


def test_non_compliant_item_exits_1_and_table_lists_it(tmp_path):
    out = tmp_path / "r.txt"
    p = run("check", "--format", "table", "--output", out, MEDIA / "png_comfyui.png")
    assert p.returncode == report_mod.EXIT_NONCOMPLIANT and p.stdout == ""
    text = out.read_text()
    # the table names the failed rule; what it says is in explain and the other formats
    assert "png_comfyui.png" in text and "ai-label-standard" in text and "1 fail" in text


def test_unreadable_item_exits_5_and_names_the_file():
    p = run("check", MEDIA / "bad_empty.png")
    assert p.returncode == report_mod.EXIT_ITEM_ERROR
    assert "bad_empty.png: file is empty" in p.stdout and "Traceback" not in p.stderr


def test_nothing_to_check_exits_6_unless_allowed(tmp_path):
    empty = tmp_path / "delivery"
    empty.mkdir()
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "notes.txt").write_text("not media")
    (photos / "camera.jpg").write_bytes((MEDIA / "plain_camera.jpg").read_bytes())
    listed = tmp_path / "list.txt"
    listed.write_text("")
    for args in (
        (empty,),  # an empty directory
        ("--from-list", listed),  # an empty list
        ("--include", "*.png", photos),  # a filter that leaves nothing
        ("--format", "jsonl", empty),  # the streaming path counts too
    ):
        p = run("check", *args)
        assert p.returncode == report_mod.EXIT_NOTHING_CHECKED, (args, p.stderr)
        assert "nothing to check" in p.stderr and p.stdout  # the (empty) report is still written
    p = run("check", "--allow-empty", empty)
    assert p.returncode == report_mod.EXIT_OK and json.loads(p.stdout)["summary"]["total"] == 0
    assert run("check", MEDIA / "plain_camera.jpg").returncode != report_mod.EXIT_NOTHING_CHECKED


def test_usage_errors_exit_2():
    assert run("check").returncode == report_mod.EXIT_USAGE
    assert run("check", "--format", "pdf", MEDIA).returncode == report_mod.EXIT_USAGE
    p = run("check", "--trust-anchors", MEDIA / "plain_camera.jpg", MEDIA / "plain_camera.jpg")
    assert p.returncode == report_mod.EXIT_USAGE and "no PEM certificate" in p.stderr


def test_missing_tool_exits_4(tmp_path):
    env = dict(os.environ, PATH=str(tmp_path))  # neither exiftool nor ffprobe can be found
    p = run("check", MEDIA / "plain_camera.jpg", env=env)
    assert p.returncode == report_mod.EXIT_TOOL_MISSING
    assert "not found" in p.stderr and "Traceback" not in p.stderr


def test_an_exiftool_that_does_not_start_exits_4_and_does_not_hang(tmp_path):
    """A program named exiftool that exits at once (a broken installation): pyexiftool alone would spin forever
    waiting for its version; labelcheck names it and stops, with workers and without."""
    fake = tmp_path / "exiftool"
    fake.write_text("#!/bin/sh\nsleep 0.3\nexit 3\n")
    fake.chmod(0o755)
    env = dict(os.environ, PATH=f"{tmp_path}:{os.environ['PATH']}")
    for workers in ("1", "0"):
        p = run("check", "--workers", workers, MEDIA / "xmp_fully_ai.jpg", env=env, timeout=60)
        assert p.returncode == report_mod.EXIT_TOOL_MISSING, (workers, p.stderr)
        assert "did not start as exiftool" in p.stderr and "Traceback" not in p.stderr


def test_explain_shows_the_evidence_tree():
    p = run("explain", "--trust-anchors", TEST_CA, MEDIA / "c2pa_ai_parent_edited.jpg")
    assert p.returncode == 0
    assert "ingredient parentOf" in p.stdout and "c2pa.cropped" in p.stdout
    assert "fully_ai" in p.stdout and "state Trusted" in p.stdout
    assert "c2pa.cropped  [c2pa.actions.v2] -> carries_parent" in p.stdout  # the actions table's rule
    assert "decided by c2pa: fully_ai (standard)" in p.stdout and "rule c2pa_trusted (rank 6)" in p.stdout


def test_schema_command_prints_the_report_schema():
    p = run("schema", "report")
    assert p.returncode == 0 and json.loads(p.stdout)["title"] == "labelcheck report"


def test_unwritable_output_is_a_usage_error(tmp_path):
    p = run("check", "-o", tmp_path / "missing-dir" / "r.json", MEDIA / "plain_camera.jpg")
    assert p.returncode == report_mod.EXIT_USAGE and "cannot write" in p.stderr and "Traceback" not in p.stderr


def test_help_and_readme_list_every_exit_code():
    codes = {v for k, v in vars(report_mod).items() if k.startswith("EXIT_")}
    helptext = " ".join(run("--help").stdout.split())
    table = (ROOT / "README.md").read_text()
    for code in codes:
        assert re.search(rf"(?<![0-9]){code}(?![0-9])", helptext), code
        assert re.search(rf"^\| ([0-9]+, )*{code}(, [0-9]+)* \|", table, re.M), code


def test_the_github_action_uses_every_input_and_only_options_check_has():
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    script = "\n".join(step.get("run", "") for step in action["runs"]["steps"])
    for name in action["inputs"]:
        assert f"inputs.{name} }}}}" in script, name
    check_step = next(step["run"] for step in action["runs"]["steps"] if step.get("id") == "check")
    check_help = run("check", "--help").stdout
    for option in set(re.findall(r"(--[a-z][a-z-]+)", check_step)):
        assert option in check_help, option


def test_version():
    p = run("--version")
    assert p.returncode == 0 and "labelcheck" in p.stdout


def test_from_list_globs_and_streamed_jsonl(tmp_path):
    lst = tmp_path / "list.txt"
    lst.write_text(f"# a comment\n{MEDIA / 'xmp_fully_ai.jpg'}\n\n{MEDIA / 'png_comfyui.png'}\n")
    out = tmp_path / "r.jsonl"
    p = run(
        "check",
        "--from-list",
        lst,
        str(MEDIA / "tc260_*.jpg"),
        "--exclude",
        "*propagated*",
        "--format",
        "jsonl",
        "-o",
        out,
        "--workers",
        "1",
        "--report",
        f"csv={tmp_path / 'r.csv'}",
    )
    assert p.returncode == report_mod.EXIT_NONCOMPLIANT, p.stderr
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x["type"] for x in lines] == ["run"] + ["result"] * 4 + ["summary"]
    names = sorted(x["target"].rsplit("/", 1)[-1] for x in lines if x["type"] == "result")
    assert names == ["png_comfyui.png", "tc260_aigc.jpg", "tc260_no_producer.jpg", "xmp_fully_ai.jpg"]
    assert lines[-1]["fail"] == 1 and lines[-1]["total"] == 4
    assert (tmp_path / "r.csv").read_text().count("\n") == 5


def test_dangling_links_and_fifos_are_item_errors(tmp_path):
    (tmp_path / "gone.jpg").symlink_to(tmp_path / "never-there.jpg")
    os.mkfifo(tmp_path / "pipe.mp4")
    p = run("check", tmp_path / "gone.jpg", tmp_path / "pipe.mp4", MEDIA / "xmp_capture.jpg", "--workers", "0")
    assert p.returncode == report_mod.EXIT_ITEM_ERROR
    doc = json.loads(p.stdout)
    assert doc["summary"]["error"] == 2 and doc["summary"]["pass"] == 1
    msgs = [r["errors"][0]["message"] for r in doc["results"][:2]]
    assert "no such file" in msgs[0] and "not a regular file" in msgs[1]


def test_nothing_to_check_is_a_usage_error():
    assert run("check").returncode == report_mod.EXIT_USAGE


def test_permission_denied_is_a_per_item_error_and_the_scan_goes_on():
    import shutil
    import tempfile

    d = Path(tempfile.mkdtemp(prefix="labelcheck-perm-", dir="/tmp"))
    try:
        d.chmod(0o755)
        shutil.copy(MEDIA / "xmp_fully_ai.jpg", d / "readable.jpg")
        (d / "readable.jpg").chmod(0o644)
        shutil.copy(MEDIA / "xmp_fully_ai.jpg", d / "secret.jpg")
        (d / "secret.jpg").chmod(0o000)
        (d / "locked").mkdir()
        shutil.copy(MEDIA / "xmp_fully_ai.jpg", d / "locked" / "inside.jpg")
        (d / "locked").chmod(0o000)
        cmd = unprivileged_cli(["check", str(d), "--workers", "1", "--format", "json", "--no-progress"])
        if cmd is None:
            pytest.skip("no way to drop privileges here")
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
        assert p.returncode == 5, p.stderr  # an item could not be checked; nothing crashed
        results = {Path(r["target"]).name: r for r in json.loads(p.stdout)["results"]}
        assert results["readable.jpg"]["status"] == "pass"
        assert results["secret.jpg"]["status"] == "error"
        assert "Permission denied" in results["secret.jpg"]["errors"][0]["message"]
        assert (
            results["locked"]["status"] == "error" and "could not be read" in results["locked"]["errors"][0]["message"]
        )
    finally:
        (d / "locked").chmod(0o755)
        shutil.rmtree(d, ignore_errors=True)


@pytest.mark.parametrize(("sig", "code"), [("SIGINT", 130), ("SIGTERM", 143)])
def test_an_interrupted_run_exits_130_or_143_with_whole_lines_and_no_workers_left(tmp_path, sig, code):
    """Ctrl-C or a cancelled CI job: not exit 1 (which says an item failed); the jsonl lines written so far are
    whole, no summary line claims a complete run, and the worker processes are gone."""
    import signal

    targets = tmp_path / "targets.txt"
    targets.write_text("".join(f"{p}\n" for p in sorted(MEDIA.glob("xmp_*")) * 400))
    out = tmp_path / "r.jsonl"
    cmd = [sys.executable, "-m", "labelcheck", "check", "--from-list", targets, "--format", "jsonl", "-o", out]
    proc = subprocess.Popen(
        [str(c) for c in cmd],
        stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # not ignored, as under a background shell
    )
    eventually(lambda: out.exists() and out.read_text().count("\n") >= 3 or proc.poll() is not None, 60, "no result")
    assert proc.poll() is None, "the run ended before it could be interrupted"
    workers = descendants(proc.pid)
    proc.send_signal(getattr(signal, sig))
    assert proc.wait(30) == code
    assert "interrupted" in proc.stderr.read().decode()
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines[0]["type"] == "run" and all(d["type"] == "result" for d in lines[1:])
    assert workers
    eventually(lambda: not any(running(p) for p in workers), 10, "processes outlived the interrupted run")


def test_a_progress_bar_over_a_list_file_knows_the_total(tmp_path):
    """With --from-list (a regulator's sample) the bar showed '3/?' and no ETA: the total was known only for paths
    given on the command line. A list in a regular file whose lines are each one item is now counted alongside the
    run; a list naming a directory, or read from a pipe, keeps an open total."""
    listed = tmp_path / "sample.txt"
    names = ["xmp_fully_ai.jpg", "xmp_capture.jpg", "c2pa_fully_ai.jpg"]
    listed.write_text("# sample of 3\n\n" + "".join(f"{MEDIA / n}\n" for n in names), encoding="utf-8")
    args = ("check", "--from-list", listed, "--progress", "--format", "jsonl", "-o", tmp_path / "r.jsonl", "-j", "1")
    bar = run_cli(*args).stderr.splitlines()[-1]
    assert " 3/3 " in bar and "ETA 0:00:00" in bar, bar
    listed.write_text(f"{MEDIA / names[0]}\n{MEDIA}\n", encoding="utf-8")  # a directory: its items are walked
    assert "/? " in run_cli(*args).stderr.splitlines()[-1]
