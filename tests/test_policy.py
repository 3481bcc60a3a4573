"""Policies: loading and validation errors, extends, the law's calendar, fail-on, built-in policies end to end."""

import datetime as dt
import textwrap

import pytest
from conftest import MEDIA, TEST_CA, checked_scan, run_cli

from labelcheck.model import FindingStatus
from labelcheck.policy import load as policy

BUILTIN_CASES = {
    # policy -> fixtures that pass, fixtures that fail (item status under --fail-on error, as of 2026-12-15)
    "eu-ai-act-art50": (
        ["c2pa_fully_ai.jpg", "xmp_composite_https.png", "tc260_aigc.jpg", "xmp_capture.jpg"],
        ["png_a1111_parameters.png", "credit_google_ai.jpg", "bad_label_tc260_code.jpg"],
    ),
    "cn-gb45438": (
        ["tc260_aigc.jpg", "id3_aigc.mp3", "mp4_aigc.mp4", "xmp_capture.jpg"],
        ["c2pa_fully_ai.jpg", "tc260_no_producer.jpg", "png_comfyui.png"],
    ),
    "ca-sb942": (
        ["c2pa_latent_disclosure.jpg", "c2pa_capture.webp"],
        ["c2pa_fully_ai.jpg", "xmp_fully_ai.jpg", "tc260_aigc.jpg"],
    ),
    "creators-two-labels": (
        ["c2pa_composite_ai.png", "c2pa_ai_parent_resigned.jpg", "c2pa_training_notallowed.jpg", "plus_datamining.jpg"],
        ["tc260_aigc.jpg", "png_a1111_parameters.png", "xmp_capture.jpg"],
    ),
    "broadcast-gate": (
        ["c2pa_fully_ai.jpg", "c2pa_ai_dubbed.wav", "c2pa_capture.webp"],
        ["c2pa_tampered.jpg", "c2pa_conflict_xmp.jpg", "c2pa_stripped.jpg", "png_comfyui.png"],
    ),
}


def write(tmp_path, name, text):
    f = tmp_path / name
    f.write_text(textwrap.dedent(text))
    return f


@pytest.mark.parametrize("pid", sorted(BUILTIN_CASES))
def test_builtin_policy_end_to_end(pid):
    passing, failing = BUILTIN_CASES[pid]
    _, doc = checked_scan(
        [MEDIA / n for n in passing + failing], policies=(policy.load(pid),), as_of=dt.date(2026, 12, 15)
    )
    got = {r["target"].rsplit("/", 1)[-1]: r for r in doc["results"]}
    for n in passing:
        assert got[n]["status"] == "pass", (n, [f for f in got[n]["findings"] if f["status"] == "fail"])
    for n in failing:
        assert got[n]["status"] == "fail", (n, got[n]["findings"])
        assert all(f["policy"] == pid and f["reference"] for f in got[n]["findings"])
    assert doc["policies"][0]["id"] == pid


def test_every_builtin_policy_loads_and_is_tested():
    assert set(policy.BUILTIN) == set(BUILTIN_CASES) | {policy.DEFAULT}
    for pid in policy.BUILTIN:
        p = policy.load(pid, strict=True)  # the schema and every check's options, as for a user's file
        assert p.rules and all(r.reference for r in p.rules)
        assert policy.load(pid) == p  # what a run loads without re-validating is the same policy


def test_a_users_file_is_always_validated_even_when_it_extends_a_builtin(tmp_path):
    f = write(
        tmp_path,
        "bad.yaml",
        """
        id: bad
        title: bad
        extends: labelcheck-default
        rules:
          - {id: extra, check: label-present, level: error, reference: x, options: {carriers: [nonsense]}}
        """,
    )
    with pytest.raises(policy.PolicyError, match="rule 'extra': option 'carriers/0'"):
        policy.load(str(f))


def test_extends_overrides_and_disables(tmp_path):
    f = write(
        tmp_path,
        "house.yaml",
        """
        id: house
        title: House rules
        extends: eu-ai-act-art50
        rules:
          - id: art50-4-deepfake-disclosure
            enabled: false
          - id: cop-1-1-signed-metadata-intact
            level: error
            options: {require_trusted: true}
          - id: opt-out
            check: training-reservation
            level: warning
            reference: house
        """,
    )
    p = policy.load(str(f))
    rules = {r.id: r for r in p.rules}
    assert "art50-4-deepfake-disclosure" not in rules
    assert rules["cop-1-1-signed-metadata-intact"].level == "error"
    assert rules["cop-1-1-signed-metadata-intact"].options["require_trusted"] is True
    assert rules["art50-2-machine-readable-mark"].check == "label-present"  # inherited
    assert rules["opt-out"].options["applies_to"] == "not_ai_or_unknown"  # defaults filled in


def test_calendar_applies_from_and_escalate(tmp_path):
    f = write(
        tmp_path,
        "legacy.yaml",
        """
        id: legacy-system
        title: A generator on the market before 2026-08-02
        extends: eu-ai-act-art50
        rules:
          - id: art50-2-machine-readable-mark
            level: warning
            escalate: [{from: "2026-12-02", level: error}]
        """,
    )
    rule = {r.id: r for r in policy.load(str(f)).rules}["art50-2-machine-readable-mark"]
    assert rule.level_on(dt.date(2026, 7, 1)) == "info"
    assert rule.level_on(dt.date(2026, 11, 22)) == "warning"
    assert rule.level_on(dt.date(2026, 12, 2)) == "error"
    p = policy.load(str(f))
    for day, status in ((dt.date(2026, 7, 1), "pass"), (dt.date(2026, 11, 22), "pass"), (dt.date(2026, 12, 2), "fail")):
        _, doc = checked_scan([MEDIA / "png_comfyui.png"], policies=(p,), as_of=day)
        r = doc["results"][0]
        assert r["status"] == status, day
        mark = next(x for x in r["findings"] if x["rule"] == "art50-2-machine-readable-mark")
        assert mark["status"] == "fail"  # the finding is always reported; its level follows the calendar
        assert ("[in force from 2026-08-02]" in mark["message"]) == (day < dt.date(2026, 8, 2))
    _, doc = checked_scan([MEDIA / "png_comfyui.png"], policies=(p,), as_of=dt.date(2026, 11, 22), fail_on="warning")
    assert doc["results"][0]["status"] == "fail" and doc["fail_on"] == "warning"



def test_a_judge_kept_running_reads_the_day_per_item():
    """A watcher, server or Dask worker builds its Judge once and keeps it for days: a rule that takes effect on a
    date (EU AI Act Art. 50(2) on 2026-08-02) applies to the items judged from that day, without a restart."""
    from conftest import options

    from labelcheck.extract.gather import Scanner
    from labelcheck.policy.judge import Judge

    with Scanner(options()) as scanner:
        (ev,) = scanner.each([MEDIA / "png_comfyui.png"])  # AI generator metadata, no standard label
    days = iter([dt.date(2026, 8, 1), dt.date(2026, 8, 2)])
    judge = Judge.of((policy.load("eu-ai-act-art50"),), clock=lambda: next(days))
    before, after = judge(ev), judge(ev)
    assert before.status.value == "pass" and after.status.value == "fail"
    pinned = Judge.of((policy.load("eu-ai-act-art50"),), as_of=dt.date(2026, 8, 1), clock=lambda: dt.date(2027, 1, 1))
    assert pinned(ev).status.value == "pass" and pinned.day() == dt.date(2026, 8, 1)  # --as-of wins over the clock

@pytest.mark.parametrize(
    "text,needle",
    [
        ("id: x\ntitle: t\nrules: [{id: a, check: nope, level: error}]", "unknown check 'nope'"),
        (
            "id: x\ntitle: t\nrules: [{id: a, check: c2pa-integrity, level: error, options: {require_trusted: 'yes'}}]",
            "rule 'a': option 'require_trusted'",
        ),
        (
            "id: x\ntitle: t\nrules: [{id: a, check: label-present, level: error, options: {carriers: [fax]}}]",
            "option 'carriers/0'",
        ),
        ("id: x\ntitle: t\nrules: [{id: a, check: label-present, level: fatal}]", "rule 'a' level"),
        ("id: x\ntitle: t\nrules: [{id: a, check: label-present}]", "no level"),
        ("id: x\ntitle: t\nrules: [{id: a, check: manual-review, level: info}]", "option 'duty'"),
        ("id: x\ntitle: t\nsurprise: 1\nrules: []", "Additional properties"),
        ("id: x\ntitle: t\nrules: [{id: a, check: label-present, level: error, applies_from: '2026-13-45'}]", "month"),
        ("id: x\ntitle: [unclosed\n", "not valid YAML"),
        ("- just\n- a list\n", "a policy is a mapping"),
        ("id: x\ntitle: t\nextends: no-such-policy\n", "no such policy"),
    ],
)
def test_bad_policies_are_named_errors(tmp_path, text, needle):
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    with pytest.raises(policy.PolicyError) as err:
        policy.load(str(f))
    assert needle in str(err.value) and str(f.name) in str(err.value)


def test_circular_extends_is_an_error(tmp_path):
    write(tmp_path, "a.yaml", "id: a\ntitle: a\nextends: b.yaml\n")
    write(tmp_path, "b.yaml", "id: b\ntitle: b\nextends: a.yaml\n")
    with pytest.raises(policy.PolicyError, match="circular extends"):
        policy.load(str(tmp_path / "a.yaml"))


cli = run_cli


def test_cli_policy_error_exits_3_in_one_line_and_checks_nothing(tmp_path):
    f = write(tmp_path, "bad.yaml", "id: x\ntitle: t\nrules: [{id: a, check: nope, level: error}]\n")
    for args in (("check", "-p", f, MEDIA / "plain_camera.jpg"), ("policy", "validate", f), ("policy", "show", f)):
        p = cli(*args)
        assert p.returncode == 3, args
        assert p.stdout == "" and len(p.stderr.strip().splitlines()) == 1 and "unknown check" in p.stderr


def test_cli_policy_commands(tmp_path):
    listed = cli("policy", "list")
    assert listed.returncode == 0 and all(pid in listed.stdout for pid in policy.BUILTIN)
    shown = cli("policy", "show", "broadcast-gate")
    assert "integrity-trusted-signer" in shown.stdout and "require_trusted" in shown.stdout
    good = write(tmp_path, "ok.yaml", "id: ok\ntitle: t\nextends: [creators-two-labels]\n")
    assert cli("policy", "validate", good).returncode == 0
    assert "label-present" in cli("policy", "checks").stdout


def test_cli_check_with_policies_and_fail_on():
    p = cli(
        "check",
        "-p",
        "creators-two-labels",
        "-p",
        "broadcast-gate",
        "--trust-anchors",
        TEST_CA,
        "--as-of",
        "2026-12-15",
        MEDIA / "tc260_aigc.jpg",
    )
    assert p.returncode == 1
    import json

    doc = json.loads(p.stdout)
    assert [x["id"] for x in doc["policies"]] == ["creators-two-labels", "broadcast-gate"]
    failed = {(f["policy"], f["rule"]) for f in doc["results"][0]["findings"] if f["status"] == "fail"}
    assert ("creators-two-labels", "says-which-of-the-two") in failed


def test_a_failing_check_is_an_error_finding_not_a_crash():
    from labelcheck.model import AiStatus, Basis, C2paStore, Classification, Evidence, Subject, Training

    broken = policy.Policy(
        "p",
        "t",
        "",
        "test",
        (
            policy.Rule(
                "r", "label-present", "error", "ref", "", None, (), '{"carriers": "not-a-list", "signed_only": false}'
            ),
        ),
    )
    ev = Evidence("/x.png", "image/png", "image", 1, None, C2paStore(False), (), ())
    cls = Classification(AiStatus.FULLY_AI, Basis.STANDARD, True, (), (), Training.UNSPECIFIED, ())
    (finding,) = policy.evaluate((broken,), Subject(ev, cls, (), dt.date(2026, 11, 22)))
    assert finding.status is FindingStatus.ERROR and "failed" in finding.message


def test_the_docs_document_every_builtin_rule():
    from conftest import ROOT

    readme = (ROOT / "docs" / "policies.md").read_text(encoding="utf-8")
    for pid in policy.BUILTIN:
        assert f"**`{pid}`**" in readme
        for r in policy.load(pid).rules:
            assert f"| `{r.id}` | `{r.check}` | {r.reference} |" in readme, (pid, r.id)
