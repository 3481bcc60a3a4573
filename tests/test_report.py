"""Report document, exit codes and renderers (golden files for a hand-built report)."""

import datetime as dt
import json
from pathlib import Path

import jsonschema
import pytest

from labelcheck.model import (
    AiStatus,
    Basis,
    C2paAction,
    C2paManifest,
    C2paStore,
    Classification,
    Decision,
    Evidence,
    Finding,
    FindingStatus,
    ItemStatus,
    Kind,
    PolicyRef,
    Report,
    Result,
    Signal,
    ToolError,
    Training,
    Waiver,
)
from labelcheck.render import document as report_mod
from labelcheck.render import explain, table
from labelcheck.render import json as json_r

GOLDEN = Path(__file__).parent / "golden"
IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"


def _result(target, status, ai, basis, findings=(), errors=(), store=None, signals=()):
    ev = Evidence(
        target, "image/png", "image", 10, "0" * 64, store or C2paStore(present=False), tuple(signals), tuple(errors)
    )
    decisions = (
        (Decision("png", ai, basis, "generator metadata PNG:Parameters", "PNG:Parameters", 2, "generator_mark"),)
        if ai is not AiStatus.UNKNOWN
        else ()
    )
    cls = Classification(ai, basis, False, decisions, (), Training.UNSPECIFIED, ())
    return Result(ev, cls, tuple(findings), status)


def sample_report() -> Report:
    m = C2paManifest(
        "urn:c2pa:1",
        "Gen/1",
        (),
        "Org / Signer",
        "2026-01-01T00:00:00+00:00",
        "a.jpg",
        (C2paAction("c2pa.created", IPTC + "trainedAlgorithmicMedia", assertion="c2pa.actions.v2"),),
        (),
        (),
    )
    store = C2paStore(True, "urn:c2pa:1", (m,), "Trusted")
    ok = Result(
        Evidence("/media/a.jpg", "image/jpeg", "image", 5, "1" * 64, store, (), ()),
        Classification(
            AiStatus.FULLY_AI,
            Basis.STANDARD,
            True,
            (
                Decision(
                    "c2pa",
                    AiStatus.FULLY_AI,
                    Basis.STANDARD,
                    "c2pa.created dst=trainedAlgorithmicMedia",
                    "urn:c2pa:1",
                    6,
                    "c2pa_trusted",
                ),
            ),
            (),
            Training.UNSPECIFIED,
            (),
        ),
        (Finding("ai-label-standard", FindingStatus.PASS, "error", "fully_ai declared in a standard label"),),
        ItemStatus.PASS,
    )
    bad = _result(
        "/media/b.png",
        ItemStatus.FAIL,
        AiStatus.FULLY_AI,
        Basis.NON_STANDARD,
        (
            Finding(
                "ai-label-standard",
                FindingStatus.FAIL,
                "error",
                "only non-standard metadata",
                remediation="add a standard label",
            ),
            Finding(
                "training-consent-declared",
                FindingStatus.WAIVED,
                "error",
                "no machine-readable training/data-mining declaration",
                waiver=Waiver(
                    "0" * 64, ("training-consent-declared",), "licensed in 2019", "J. Doe", dt.date(2027, 6, 30), "BC-1"
                ),
            ),
        ),
        signals=(Signal("png", Kind.GENERATOR, "PNG:Parameters", "a cat\nSteps: 20, Sampler: x"),),
    )
    err = _result(
        "/media/[c].mp4",
        ItemStatus.ERROR,
        AiStatus.UNKNOWN,
        Basis.NONE,
        errors=(ToolError("exiftool", "exiftool gave no answer within 5s"),),
    )
    policy = PolicyRef("labelcheck-default", "default", "builtin", ("ai-label-standard",))
    return Report("0.1.0", "0.91.3", "12.57", "2026-11-22T00:00:00+00:00", (ok, bad, err), (policy,), "2026-11-22")


def test_document_is_schema_valid_and_summarised():
    doc = report_mod.to_dict(sample_report())
    report_mod.validate(doc)
    assert doc["summary"] == {
        "total": 3,
        "pass": 1,
        "fail": 1,
        "error": 1,
        "waived": 1,
        "ai_status": {"fully_ai": 2, "made_with_ai": 0, "possibly_ai": 0, "not_ai": 0, "unknown": 1},
    }


def test_schema_rejects_what_it_should():
    doc = report_mod.to_dict(sample_report())
    doc["results"][0]["ai"]["status"] = "maybe"
    with pytest.raises(jsonschema.ValidationError):
        report_mod.validate(doc)
    doc = report_mod.to_dict(sample_report())
    doc["results"][0]["surprise"] = 1
    with pytest.raises(jsonschema.ValidationError):
        report_mod.validate(doc)


def test_exit_code_is_a_pure_function_of_the_report():
    rep = sample_report()
    assert report_mod.exit_code(rep) == report_mod.EXIT_NONCOMPLIANT
    no_fail = Report(rep.tool_version, rep.c2pa_sdk, None, rep.generated_at, (rep.results[0], rep.results[2]))
    assert report_mod.exit_code(no_fail) == report_mod.EXIT_ITEM_ERROR
    only_pass = Report(rep.tool_version, rep.c2pa_sdk, None, rep.generated_at, (rep.results[0],))
    assert report_mod.exit_code(only_pass) == report_mod.EXIT_OK
    empty = Report(rep.tool_version, rep.c2pa_sdk, None, rep.generated_at, ())
    assert report_mod.exit_code(empty) == report_mod.EXIT_OK


@pytest.mark.parametrize(
    "name,render",
    [("report.json", json_r.render), ("report.table.txt", table.render), ("report.explain.txt", explain.render)],
)
def test_renderers_match_golden_files(name, render, request):
    text = render(sample_report())
    path = GOLDEN / name
    if request.config.getoption("--update-golden"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_json_renderer_round_trips():
    assert json.loads(json_r.render(sample_report())) == report_mod.to_dict(sample_report())


def test_display_path_keeps_undecodable_bytes_visible():
    assert report_mod.display_path("/m/caf\udce9.jpg") == "/m/caf\\xe9.jpg"


def test_label_records_are_validated_through_the_report_schema(fixture_report):
    _, doc = fixture_report
    doc = json.loads(json.dumps(doc))
    with_labels = next(r for r in doc["results"] if r["labels"])
    with_labels["labels"][0]["declares"] = "sort of AI"
    with pytest.raises(jsonschema.ValidationError, match="sort of AI"):
        report_mod.validate(doc)
