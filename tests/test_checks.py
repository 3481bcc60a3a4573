"""Every check on real fixtures: pass and fail cases (and the not-applicable / manual-review ones)."""

import datetime as dt
from dataclasses import replace

import pytest
from conftest import MEDIA, checked_scan

from labelcheck.classify import labels
from labelcheck.model import Subject
from labelcheck.policy.checks import CHECKS

# check id -> options -> fixture -> expected status
CASES = {
    "label-present": (
        {},
        {
            "c2pa_fully_ai.jpg": "pass",
            "xmp_composite_https.png": "pass",
            "tc260_aigc.jpg": "pass",
            "xmp_ai_system.jpg": "pass",
            "png_a1111_parameters.png": "fail",
            "credit_google_ai.jpg": "fail",
            "bad_label_tc260_code.jpg": "fail",
            "bad_label_tc260_type.png": "fail",
            "c2pa_screen_capture.jpg": "manual_review",
            "xmp_capture.jpg": "not_applicable",
            "plain_camera.jpg": "not_applicable",
        },
    ),
    "label-says-which": (
        {},
        {
            "c2pa_composite_ai.png": "pass",
            "c2pa_ai_parent_resigned.jpg": "pass",
            "xmp_bare_term.webp": "pass",
            "tc260_aigc.jpg": "fail",
            "xmp_ai_system.jpg": "fail",
            "png_comfyui.png": "fail",
            "c2pa_capture.webp": "not_applicable",
        },
    ),
    "c2pa-integrity": (
        {"require_trusted": True},
        {
            "c2pa_fully_ai.jpg": "pass",
            "sidecar_fully_ai.jpg": "pass",
            "c2pa_tampered.jpg": "fail",
            "c2pa_stripped.jpg": "fail",
            "xmp_fully_ai.jpg": "not_applicable",
        },
    ),
    "no-conflicting-labels": (
        {},
        {"c2pa_fully_ai.jpg": "pass", "plus_datamining.jpg": "pass", "c2pa_conflict_xmp.jpg": "fail"},
    ),
    "provenance-intact": (
        {},
        {"c2pa_ai_parent_resigned.jpg": "pass", "c2pa_stripped.jpg": "fail", "xmp_fully_ai.jpg": "not_applicable"},
    ),
    "cn-implicit-label": (
        {},
        {
            "tc260_aigc.jpg": "pass",
            "tc260_aigc.png": "pass",
            "id3_aigc.mp3": "pass",
            "mp4_aigc.mp4": "pass",
            "tc260_no_producer.jpg": "fail",
            "c2pa_fully_ai.jpg": "fail",
            "bad_label_tc260_code.jpg": "fail",
            "c2pa_capture.webp": "not_applicable",
        },
    ),
    "ca-latent-disclosure": (
        {},
        {
            "c2pa_latent_disclosure.jpg": "pass",
            "c2pa_fully_ai.jpg": "fail",
            "c2pa_tampered.jpg": "fail",
            "xmp_fully_ai.jpg": "fail",
            "xmp_capture.jpg": "not_applicable",
        },
    ),
    "training-reservation": (
        {},
        {
            "c2pa_training_notallowed.jpg": "pass",
            "plus_datamining.jpg": "pass",
            "tdm_reserved.jpg": "pass",
            "xmp_capture.jpg": "fail",
            "plain_camera.jpg": "fail",
            "bad_label_training.jpg": "fail",
            "c2pa_fully_ai.jpg": "not_applicable",
        },
    ),
    "label-payloads-valid": (
        {},
        {
            "c2pa_fully_ai.jpg": "pass",
            "tc260_aigc.jpg": "pass",
            "bad_label_c2pa_action.jpg": "fail",
            "bad_label_dst_uri.jpg": "fail",
            "bad_label_tc260_code.jpg": "fail",
            "bad_label_training.jpg": "fail",
            "plain_camera.jpg": "not_applicable",
        },
    ),
    "explicit-label": (  # pass and fail need the pixels read: tests/test_explicit_label.py
        {},
        {"c2pa_fully_ai.jpg": "manual_review", "id3_aigc.mp3": "manual_review", "xmp_capture.jpg": "not_applicable"},
    ),
    "manual-review": (
        {"duty": "check the visible label"},
        {"c2pa_fully_ai.jpg": "manual_review", "xmp_capture.jpg": "not_applicable"},
    ),
}


@pytest.fixture(scope="module")
def subjects():
    names = sorted({n for _, cases in CASES.values() for n in cases} | {"mkv_aigc.mkv", "tc260_propagated.jpg"})
    rep, _ = checked_scan([MEDIA / n for n in names])
    return {
        r.evidence.target.rsplit("/", 1)[-1]: Subject(
            r.evidence, r.classification, labels.records(r.evidence), dt.date(2026, 11, 22)
        )
        for r in rep.results
    }


def test_every_check_is_covered():
    assert set(CASES) == set(CHECKS)


@pytest.mark.parametrize(
    "check_id,name,expected", [(c, n, s) for c, (_, cases) in CASES.items() for n, s in cases.items()]
)
def test_check(check_id, name, expected, subjects):
    module = CHECKS[check_id]
    options = {**module.DEFAULTS, **CASES[check_id][0]}
    outcome = module.check(subjects[name], options)
    assert outcome.status.value == expected, outcome.message
    if expected == "fail":
        assert outcome.message and outcome.remediation  # says what is wrong and what to do


@pytest.mark.parametrize("module", list(CHECKS.values()), ids=list(CHECKS))
def test_each_check_documents_itself(module):
    doc = module.__doc__ or ""
    assert doc.startswith(module.ID) and ("Pass" in doc or "Manual review" in doc)
    assert module.OPTIONS["type"] == "object" and module.OPTIONS.get("additionalProperties") is False


def test_failure_messages_name_the_schema_path(subjects):
    out = CHECKS["label-payloads-valid"].check(subjects["bad_label_tc260_code.jpg"], {})
    assert "schemas/labels/aigc.schema.json#/properties/Label/enum" in out.message
    out = CHECKS["label-payloads-valid"].check(subjects["bad_label_c2pa_action.jpg"], {})
    assert "c2pa-actions.schema.json" in out.message and "c2pa.generated" in out.message


def test_a_carrier_the_format_cannot_hold_is_named(subjects):
    out = CHECKS["label-present"].check(subjects["mkv_aigc.mkv"], {"carriers": ["c2pa", "iptc"], "signed_only": False})
    assert out.status.value == "fail" and "cannot hold" in out.message and "video/x-matroska" in out.message
    ok = CHECKS["label-present"].check(subjects["mkv_aigc.mkv"], CHECKS["label-present"].DEFAULTS)
    assert ok.status.value == "pass"


def test_a_label_the_file_holds_counts_whatever_the_format_table_says(subjects):
    """The format table says which carriers a format can hold; a label found in the file outweighs it."""
    mkv = subjects["mkv_aigc.mkv"]
    odd = replace(mkv, evidence=replace(mkv.evidence, media_type="video/x-unlisted"))
    assert CHECKS["label-present"].check(odd, CHECKS["label-present"].DEFAULTS).status.value == "pass"
    assert "cannot hold" not in CHECKS["cn-implicit-label"].check(odd, CHECKS["cn-implicit-label"].DEFAULTS).message
    bare = replace(odd, labels=())
    assert "cannot hold" in CHECKS["label-present"].check(bare, CHECKS["label-present"].DEFAULTS).message


def test_propagator_role_needs_the_platform_fields(subjects):
    check = CHECKS["cn-implicit-label"].check
    assert check(subjects["tc260_aigc.jpg"], {"role": "propagator"}).status.value == "fail"
    assert check(subjects["tc260_propagated.jpg"], {"role": "propagator"}).status.value == "pass"


def test_training_reservation_can_require_an_opt_out(subjects):
    check = CHECKS["training-reservation"].check
    strict = {"applies_to": "all", "accept": ["not_allowed"]}
    assert check(subjects["c2pa_training_notallowed.jpg"], strict).status.value == "pass"
    assert check(subjects["tdm_reserved.jpg"], strict).status.value == "fail"  # constrained: a policy URL
