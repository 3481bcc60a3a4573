"""The checker over the third-party corpus (../shared/corpus) against its expected.json."""

import json

import pytest
from conftest import CORPUS, checked_scan

pytestmark = pytest.mark.skipif(not (CORPUS / "expected.json").exists(), reason="../shared/corpus is absent")

# expected `none` may read not_ai or unknown; expected `unknown` may read unknown or possibly_ai.
ACCEPT = {"none": {"not_ai", "unknown"}, "unknown": {"unknown", "possibly_ai"}, None: {"not_ai", "unknown"}}


@pytest.fixture(scope="module")
def corpus():
    expected = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))
    _, doc = checked_scan([CORPUS], anchors=())
    results = {r["target"][len(str(CORPUS)) + 1 :]: r for r in doc["results"]}
    return expected, results


def _agree_ai(exp, got):
    return got["ai"]["status"] in ACCEPT.get(exp["ai_label"], {exp["ai_label"]})


def test_every_media_file_gives_a_result(corpus):
    expected, results = corpus
    media = {k for k in expected if not k.endswith(".c2pa")}
    assert media <= set(results)


def test_ai_status_agrees_for_at_least_95_percent(corpus):
    expected, results = corpus
    keys = [k for k in expected if k in results]
    agree = [k for k in keys if _agree_ai(expected[k], results[k])]
    misses = {k: (expected[k]["ai_label"], results[k]["ai"]["status"]) for k in keys if k not in agree}
    assert len(agree) / len(keys) >= 0.95, misses


def test_generator_only_declarations_are_non_standard(corpus):
    expected, results = corpus
    gap = [
        k
        for k, e in expected.items()
        if e["ai_label_strict"] == "none" and e["ai_label"] in ("fully_ai", "made_with_ai")
    ]
    assert gap, "the corpus should hold generator-only items"
    for k in gap:
        assert results[k]["ai"]["basis"] == "non_standard", k
        assert results[k]["status"] == "fail", k


def test_validation_state_agrees_for_at_least_95_percent(corpus):
    expected, results = corpus
    keys = [k for k, e in expected.items() if e["validation_state"] in ("Valid", "Invalid")]

    def ok(k):
        got = results[k]["c2pa"]["validation_state"]
        want = expected[k]["validation_state"]
        return got == want or (want == "Valid" and got == "Trusted")

    agree = [k for k in keys if ok(k)]
    assert len(agree) / len(keys) >= 0.95, {k: results[k]["c2pa"]["validation_state"] for k in keys if not ok(k)}


def test_failure_codes_of_the_active_manifest_match(corpus):
    expected, results = corpus
    keys = [k for k, e in expected.items() if e["validation_state"] in ("Valid", "Invalid")]
    same = [k for k in keys if set(expected[k]["codes_fail"]) <= set(results[k]["c2pa"]["failures"])]
    assert len(same) / len(keys) >= 0.95


def test_unreadable_declarations_are_errors_not_passes(corpus):
    expected, results = corpus
    for k, e in expected.items():
        if e["validation_state"] == "Error":
            assert results[k]["status"] == "error" and results[k]["errors"], k


@pytest.fixture(scope="module")
def corpus_policies():
    import datetime as dt

    from labelcheck.policy import load as policy

    expected = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))
    pols = tuple(policy.load(p) for p in ("eu-ai-act-art50", "creators-two-labels", "broadcast-gate"))
    _, doc = checked_scan([CORPUS], anchors=(), policies=pols, as_of=dt.date(2026, 12, 15))
    results = {r["target"][len(str(CORPUS)) + 1 :]: r for r in doc["results"]}
    return expected, results


def _findings(r, policy_id, rule=None):
    return [f for f in r["findings"] if f["policy"] == policy_id and (rule is None or f["rule"] == rule)]


def test_generator_only_items_fail_eu_and_creators(corpus_policies):
    expected, results = corpus_policies
    gap = [
        k
        for k, e in expected.items()
        if e["ai_label_strict"] == "none" and e["ai_label"] in ("fully_ai", "made_with_ai")
    ]
    for k in gap:
        assert any(
            f["status"] == "fail" for f in _findings(results[k], "eu-ai-act-art50", "art50-2-machine-readable-mark")
        ), k
        assert any(f["status"] == "fail" for f in _findings(results[k], "creators-two-labels", "ai-work-labelled")), k
        assert results[k]["status"] == "fail"


def test_valid_standard_ai_labels_pass_the_label_rules(corpus_policies):
    expected, results = corpus_policies
    labelled = [
        k
        for k, e in expected.items()
        if e["ai_label_strict"] in ("fully_ai", "made_with_ai") and e["validation_state"] == "Valid"
    ]
    assert labelled
    for k in labelled:
        for pid, rule in (
            ("eu-ai-act-art50", "art50-2-machine-readable-mark"),
            ("creators-two-labels", "ai-work-labelled"),
            ("creators-two-labels", "says-which-of-the-two"),
            ("broadcast-gate", "art50-2-machine-readable-mark"),
        ):
            assert [f["status"] for f in _findings(results[k], pid, rule)] == ["pass"], (k, pid, rule)


def test_hash_mismatches_fail_the_broadcast_integrity_rule(corpus_policies):
    expected, results = corpus_policies
    broken = [
        k
        for k, e in expected.items()
        if any(c.endswith("Hash.mismatch") or c.endswith("hashedURI.mismatch") for c in e["codes_fail"] or [])
    ]
    assert broken
    for k in broken:
        (f,) = _findings(results[k], "broadcast-gate", "integrity-trusted-signer")
        assert f["status"] == "fail" and "mismatch" in f["message"], k
        assert results[k]["status"] == "fail"
