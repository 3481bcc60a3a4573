"""Waivers: a decision taken by hand turns the named rules' failures on one content (SHA-256) into `waived`."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import xml.etree.ElementTree as ET

from conftest import MEDIA, run_cli

from labelcheck import resources
from labelcheck.model import Finding, FindingStatus, Waiver
from labelcheck.policy import waivers
from labelcheck.render import document as report_mod

ITEM = MEDIA / "plain_camera.jpg"  # creators-two-labels fails it: no training/data-mining declaration
RULE = "training-consent-declared"
SHA = hashlib.sha256(ITEM.read_bytes()).hexdigest()


def _waiver_file(tmp_path, sha=SHA, rules=(f"creators-two-labels/{RULE}",), expires="2027-06-30"):
    lines = ["waivers:", "  - id: BC-1234", f"    sha256: {sha}", f"    rules: [{', '.join(rules)}]"]
    lines += [
        "    reason: licensed before the reservation clause",
        "    approved_by: J. Doe",
        f"    expires: {expires}",
    ]
    path = tmp_path / "waivers.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _check(*args):
    p = run_cli("check", "-p", "creators-two-labels", "--as-of", "2026-11-22", *args, ITEM)
    assert "Traceback" not in p.stderr
    return p


def test_without_a_waiver_the_item_fails():
    p = _check("--format", "json")
    assert p.returncode == report_mod.EXIT_NONCOMPLIANT
    finding = next(f for f in json.loads(p.stdout)["results"][0]["findings"] if f["rule"] == RULE)
    assert finding["status"] == "fail" and "waiver" not in finding


def test_a_waiver_for_the_content_makes_the_failure_waived_in_every_report(tmp_path):
    w = _waiver_file(tmp_path)
    p = _check(
        "--waivers",
        w,
        "--format",
        "json",
        "--report",
        f"junit={tmp_path / 'r.xml'}",
        "--report",
        f"sarif={tmp_path / 'r.sarif'}",
        "--report",
        f"markdown={tmp_path / 'r.md'}",
        "--report",
        f"csv={tmp_path / 'r.csv'}",
    )
    assert p.returncode == report_mod.EXIT_OK, p.stderr
    doc = json.loads(p.stdout)
    resources.validator("report").validate(doc)
    assert doc["summary"]["waived"] == 1 and doc["summary"]["pass"] == 1
    finding = next(f for f in doc["results"][0]["findings"] if f["rule"] == RULE)
    assert finding["status"] == "waived"
    assert finding["waiver"] == {
        "id": "BC-1234",
        "reason": "licensed before the reservation clause",
        "approved_by": "J. Doe",
        "expires": "2027-06-30",
    }
    case = next(c for c in ET.parse(tmp_path / "r.xml").iter("testcase") if c.get("name") == RULE)
    assert case.find("failure") is None and "BC-1234" in case.find("skipped").get("message")
    sarif = json.loads((tmp_path / "r.sarif").read_text())["runs"][0]["results"]
    assert [r["suppressions"][0]["status"] for r in sarif] == ["accepted"]
    assert "BC-1234" in (tmp_path / "r.md").read_text()
    assert f"creators-two-labels/{RULE}" in (tmp_path / "r.csv").read_text().splitlines()[1]


def test_a_waiver_binds_content_rule_and_date(tmp_path):
    other = _waiver_file(tmp_path, sha="f" * 64)
    assert _check("--waivers", other).returncode == report_mod.EXIT_NONCOMPLIANT
    wrong_rule = _waiver_file(tmp_path, rules=("eu-ai-act-art50/" + RULE,))
    p = _check("--waivers", wrong_rule)
    assert p.returncode == report_mod.EXIT_NONCOMPLIANT
    assert f"names rule 'eu-ai-act-art50/{RULE}', which no policy in use has" in p.stderr
    bare_rule = _waiver_file(tmp_path, rules=(RULE,))
    p = _check("--waivers", bare_rule)
    assert p.returncode == report_mod.EXIT_OK and "warning" not in p.stderr
    expired = _waiver_file(tmp_path, expires="2026-11-21")
    p = _check("--waivers", expired, "--format", "json")
    assert p.returncode == report_mod.EXIT_NONCOMPLIANT
    finding = next(f for f in json.loads(p.stdout)["results"][0]["findings"] if f["rule"] == RULE)
    assert finding["status"] == "fail" and "waiver expired on 2026-11-21" in finding["message"]


def test_a_malformed_waiver_file_stops_the_run_with_exit_3_naming_the_place(tmp_path):
    for body, said in (
        ("waivers:\n  - sha256: abc\n    rules: [x]\n    reason: r\n", "waiver '#1' sha256"),
        (
            f"waivers:\n  - id: T-1\n    sha256: {SHA}\n    rules: [x]\n    reason: r\n    expires: 2026-02-30\n",
            "waiver 'T-1' expires",
        ),
        ("waivers: [\n", "not valid YAML"),
        ("- just a list\n", "a waiver file is a mapping"),
    ):
        path = tmp_path / "w.yaml"
        path.write_text(body)
        p = _check("--waivers", path)
        assert p.returncode == report_mod.EXIT_POLICY and said in p.stderr, (body, p.stderr)


def test_apply_waives_only_failed_or_review_findings_it_covers():
    day = dt.date(2026, 11, 22)
    w = Waiver("a" * 64, ("r1", "p/r2", "r3", "r4"), "why")
    findings = (
        Finding("r1", FindingStatus.FAIL, "error", "m", "p"),
        Finding("r2", FindingStatus.MANUAL_REVIEW, "warning", "m", "p"),
        Finding("r3", FindingStatus.ERROR, "error", "m", "p"),  # could not be checked: not waivable
        Finding("r4", FindingStatus.PASS, "error", "m", "p"),
        Finding("r5", FindingStatus.FAIL, "error", "m", "p"),  # not named
        Finding("r2", FindingStatus.FAIL, "error", "m", "q"),  # p/r2 names policy p only
    )
    got = waivers.apply(findings, "a" * 64, (w,), day)
    assert [f.status.value for f in got] == ["waived", "waived", "error", "pass", "fail", "fail"]
    assert got[0].waiver is w and got[4].waiver is None
    assert waivers.apply(findings, "b" * 64, (w,), day) == findings
    assert waivers.apply(findings, None, (w,), day) == findings
