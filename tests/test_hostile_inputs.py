"""Hostile input: link loops under a `**` glob, files nobody may read, names a report could mangle (CR, LF, bytes that
are not UTF-8), playlists that cannot be read. The real command line on real files made in temporary folders."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import MEDIA, Server, run_cli, unprivileged_cli

from labelcheck.render import document as report_mod

JPEG = MEDIA / "xmp_fully_ai.jpg"  # passes the default policy


def _check(*args, **kw) -> subprocess.CompletedProcess[str]:
    return run_cli("check", "--workers", "1", "--no-progress", *args, **kw)


def _targets(p: subprocess.CompletedProcess[str]) -> list[str]:
    assert p.returncode in (0, 1, 5), p.stderr
    return [r["target"] for r in json.loads(p.stdout)["results"]]


def _exit_of(summary: dict) -> int:
    """The exit code a summary calls for: 1 when an item fails, else 5 when one could not be checked, else 0."""
    if summary["fail"]:
        return report_mod.EXIT_NONCOMPLIANT
    return report_mod.EXIT_ITEM_ERROR if summary["error"] else report_mod.EXIT_OK


# ---------------------------------------------------------------- 8: links, loops, each real file once


@pytest.mark.parametrize("loops", [1, 3])
@pytest.mark.parametrize("pattern", ["d/**/*.jpg", "d/**"])
def test_a_recursive_glob_over_link_loops_ends_and_names_each_file_once(tmp_path, loops, pattern):
    """Before: one loop link gave 41 copies of each file (glob followed the loop until the path was too long);
    three never ended."""
    d = tmp_path / "d"
    (d / "sub").mkdir(parents=True)
    shutil.copy(JPEG, d / "a.jpg")
    shutil.copy(JPEG, d / "sub" / "b.jpg")
    (d / "sub" / "up").symlink_to("..")
    if loops == 3:
        (d / "sub" / "self").symlink_to(".")
        (d / "down").symlink_to("sub")
    p = _check(tmp_path / pattern, "--format", "json", timeout=60)
    assert p.returncode == report_mod.EXIT_OK, p.stderr
    assert _targets(p) == [str(d / "a.jpg"), str(d / "sub" / "b.jpg")]


def _linked_tree(tmp_path: Path) -> Path:
    """d/ holds a.jpg, sub/b.jpg, links to both inside the tree (named to sort before their targets), a hard link
    to a.jpg, and links to a file and a folder outside it."""
    d = tmp_path / "d"
    (d / "sub").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    for f in (d / "a.jpg", d / "sub" / "b.jpg", tmp_path / "outside" / "o.jpg", tmp_path / "out.jpg"):
        shutil.copy(JPEG, f)
    (d / "0-link-to-a.jpg").symlink_to("a.jpg")
    os.link(d / "a.jpg", d / "hard-a.jpg")  # the same file: checked once, by its first name
    (d / "alias").symlink_to("sub")  # sorts before sub
    (d / "out.jpg").symlink_to(tmp_path / "out.jpg")
    (d / "outdir").symlink_to(tmp_path / "outside")
    return d


@pytest.mark.parametrize("how", ["walk", "glob"])
def test_links_inside_the_tree_add_nothing_and_links_leaving_it_are_followed(tmp_path, how):
    """A link to a file or folder inside the tree: what it points to is checked once, under its own name (before:
    twice, or under the link's name). A link leaving the tree is followed and named by the link (as before). A hard
    link is the same real file: checked once."""
    d = _linked_tree(tmp_path)
    p = _check(d if how == "walk" else d / "**" / "*.jpg", "--format", "json", timeout=60)
    assert sorted(_targets(p)) == sorted(str(d / n) for n in ("a.jpg", "sub/b.jpg", "out.jpg", "outdir/o.jpg"))


# ---------------------------------------------------------------- 9: files nobody may read


@pytest.fixture
def reachable() -> Iterator[Path]:
    """A folder of its own under /tmp (mode 755), whose modes are put back before it is removed."""
    d = Path(tempfile.mkdtemp(prefix="labelcheck-hostile-", dir="/tmp"))
    d.chmod(0o755)
    try:
        yield d
    finally:
        for sub in d.rglob("*"):
            if sub.is_dir() and not sub.is_symlink():
                sub.chmod(0o755)
        shutil.rmtree(d, ignore_errors=True)


@pytest.mark.parametrize("unreadable", ["secret.jpg", "locked/inside.jpg", "locked/*.jpg"])
def test_a_file_nobody_may_read_is_an_item_error_in_a_full_report(reachable, unreadable):
    """Before: an unreadable file named on the command line was a usage error (exit 2, click's readable check);
    a file in a mode-000 folder crashed the run (exit 70: Path.is_dir raised PermissionError)."""
    d = reachable
    shutil.copy(JPEG, d / "readable.jpg")
    shutil.copy(JPEG, d / "secret.jpg")
    (d / "locked").mkdir()
    shutil.copy(JPEG, d / "locked" / "inside.jpg")
    for f in (d / "readable.jpg", d / "secret.jpg", d / "locked" / "inside.jpg"):
        f.chmod(0o644)
    (d / "secret.jpg").chmod(0o000)
    (d / "locked").chmod(0o000)
    cmd = unprivileged_cli(["check", str(d / "readable.jpg"), str(d / unreadable), "-j", "1", "--format", "json"])
    if cmd is None:
        pytest.skip("no way to drop privileges here")
    p = subprocess.run([*cmd, "--no-progress"], capture_output=True, text=True, timeout=120, check=False)
    assert p.returncode == report_mod.EXIT_ITEM_ERROR, p.stderr
    doc = json.loads(p.stdout)
    report_mod.validate(doc)
    readable, denied = doc["results"]
    assert readable["target"] == str(d / "readable.jpg") and readable["status"] == "pass"
    assert denied["target"] == str(d / unreadable) and denied["status"] == "error"
    assert "Permission denied" in denied["errors"][0]["message"]
    counts = {k: doc["summary"][k] for k in ("total", "pass", "fail", "error")}
    assert counts == {"total": 2, "pass": 1, "fail": 0, "error": 1}


# ---------------------------------------------------------------- 10: names written reversibly

NOT_UTF8 = os.fsdecode(b"\xff.jpg")  # the byte 0xff, as os.fsdecode keeps it (a surrogate escape)
LOOKALIKE = "\\xff.jpg"  # a real file whose name is the four characters \, x, f, f


def _named(d: Path, *names: str) -> Path:
    d.mkdir(exist_ok=True)
    for n in names:
        shutil.copy(JPEG, d / n)
    return d


def _raw(result: dict) -> str:
    """The target's name as the file system has it: from target_bytes when the name is not UTF-8."""
    return os.fsdecode(bytes.fromhex(result["target_bytes"])) if "target_bytes" in result else result["target"]


def test_csv_keeps_a_name_with_cr_or_lf_in_its_cell(tmp_path):
    """Before: a bare CR was written unquoted, and a CSV reader split the row there."""
    d = _named(tmp_path / "d", "a\rb.jpg", "c\nd.jpg", "plain.jpg")
    out = tmp_path / "r.csv"
    assert _check(d, "--format", "csv", "-o", out).returncode == report_mod.EXIT_OK
    with open(out, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["target"] for r in rows] == [str(d / n) for n in ("a\rb.jpg", "c\nd.jpg", "plain.jpg")]
    assert all(r["status"] == "pass" and r["size"] == str(JPEG.stat().st_size) for r in rows)
    text = out.read_text(encoding="utf-8")
    assert text.splitlines()[1].startswith('"')  # every cell quoted


def test_a_name_that_is_not_utf8_is_written_reversibly_and_apart_from_its_lookalike(tmp_path):
    """Before: both files were named "/.../\\xff.jpg" in JSON, JSONL and CSV; nothing told them apart."""
    d = _named(tmp_path / "d", NOT_UTF8, LOOKALIKE)
    for fmt in ("json", "jsonl"):
        out = tmp_path / f"r.{fmt}"
        assert _check(d, "--format", fmt, "-o", out).returncode == report_mod.EXIT_OK
        text = out.read_text(encoding="utf-8")
        lines = [json.loads(text)] if fmt == "json" else [json.loads(x) for x in text.splitlines()]
        results = lines[0]["results"] if fmt == "json" else [x for x in lines if x["type"] == "result"]
        assert sorted(map(_raw, results)) == sorted([str(d / NOT_UTF8), str(d / LOOKALIKE)]), fmt
        assert [r["target"] for r in results] == [str(d / LOOKALIKE)] * 2  # shown alike, told apart by target_bytes
        if fmt == "json":
            report_mod.validate(lines[0])
    out = tmp_path / "r.csv"
    assert _check(d, "--format", "csv", "-o", out).returncode == report_mod.EXIT_OK
    with open(out, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    named = {os.fsdecode(bytes.fromhex(r["target_bytes"])) if r["target_bytes"] else r["target"] for r in rows}
    assert named == {str(d / NOT_UTF8), str(d / LOOKALIKE)}


def test_resume_tells_a_name_that_is_not_utf8_from_its_lookalike(tmp_path):
    """Before: a run that had checked `\\xff.jpg` resumed as if the file named by the byte 0xff were done too."""
    d = _named(tmp_path / "d", LOOKALIKE, NOT_UTF8)
    out = tmp_path / "r.jsonl"
    assert _check(d / LOOKALIKE, "--format", "jsonl", "-o", out).returncode == report_mod.EXIT_OK
    for _ in range(2):  # the second resume finds both done: the name that is not UTF-8 matched exactly
        p = _check(d, "--format", "jsonl", "-o", out, "--resume")
        assert p.returncode == report_mod.EXIT_OK, p.stderr
        lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
        results = [x for x in lines if x["type"] == "result"]
        assert sorted(map(_raw, results)) == sorted([str(d / LOOKALIKE), str(d / NOT_UTF8)])
        assert lines[-1]["total"] == 2


# ---------------------------------------------------------------- 13: playlists that cannot be read


BROKEN = b"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nmissing.ts\n#EXT-X-ENDLIST\n"


@pytest.mark.parametrize("fmt", ["jsonl", "json"])
def test_a_playlist_that_cannot_be_read_is_counted_and_the_exit_code_agrees(fmt):
    """Before: the summary said total 0 (streams were left out of it) while the exit code counted them."""
    with Server({"/broken.m3u8": BROKEN, "/garbage.m3u8": b"not a playlist"}) as srv:
        urls = [f"{srv.url}/broken.m3u8", f"{srv.url}/garbage.m3u8", f"{srv.url}/404/gone.m3u8"]
        p = _check(*urls, JPEG, "--format", fmt, "--allow-private-network", timeout=120)
    if fmt == "jsonl":
        lines = [json.loads(x) for x in p.stdout.splitlines()]
        assert [x["type"] for x in lines] == ["run", "result", "stream", "stream", "stream", "summary"]
        summary = lines[-1]
    else:
        doc = json.loads(p.stdout)
        report_mod.validate(doc)
        summary = doc["summary"]
    assert summary["total"] == 4 and summary["pass"] == 1 and summary["error"] == 3, summary
    assert sum(summary["ai_status"].values()) == 4
    assert p.returncode == _exit_of(summary) == report_mod.EXIT_ITEM_ERROR, p.stderr


@pytest.mark.parametrize(
    "fmt,line",
    [("table", "4 items: 1 pass, 0 fail, 3 error"), ("markdown", "**1 pass, 0 fail, 3 could not be checked**")],
)
def test_the_human_formats_count_streams_as_the_json_summary_does(fmt, line):
    """The table, Markdown, HTML and GitHub renderers counted only the files: 1 item for this run."""
    with Server({"/broken.m3u8": BROKEN, "/garbage.m3u8": b"not a playlist"}) as srv:
        urls = [f"{srv.url}/broken.m3u8", f"{srv.url}/garbage.m3u8", f"{srv.url}/404/gone.m3u8"]
        p = _check(*urls, JPEG, "--format", fmt, "--allow-private-network", timeout=120)
    assert line in p.stdout, p.stdout
