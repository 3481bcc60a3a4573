"""The checker over fixtures/media (made by fixtures/make_fixtures.py) against fixtures/manifest.json."""

import pytest
from conftest import MEDIA, checked_scan, fixture_manifest

EXPECTED = fixture_manifest()


def test_every_fixture_has_an_expectation_and_a_result(fixture_results):
    assert set(fixture_results) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture(name, fixture_results):
    exp, got = EXPECTED[name], fixture_results[name]
    assert got["ai"]["status"] == exp["ai_status"]
    assert got["ai"]["basis"] == exp["basis"]
    assert got["c2pa"]["validation_state"] == exp["validation_state"]
    assert got["training"]["status"] == exp["training"]
    signals = {f"{s['kind']}:{s['key']}" for s in got["signals"]}
    assert set(exp["signals"]) <= signals
    assert sorted({e["source"] for e in got["errors"]}) == exp["error_sources"]
    assert len(got["conflicts"]) == exp["conflicts"]
    assert len(got["notes"]) == exp["notes"]
    assert got["status"] == ("error" if exp["error_sources"] else got["status"])


def test_without_the_test_ca_our_signatures_are_valid_but_not_trusted():
    _, doc = checked_scan([MEDIA / "c2pa_fully_ai.jpg", MEDIA / "c2pa_tampered.jpg"], anchors=())
    fully, tampered = doc["results"]
    assert fully["c2pa"]["validation_state"] == "Valid"
    assert "signingCredential.untrusted" in fully["c2pa"]["failures"]
    assert tampered["c2pa"]["validation_state"] == "Invalid"
    assert "assertion.dataHash.mismatch" in tampered["c2pa"]["failures"]


def test_manifest_details_are_captured(fixture_results):
    c = fixture_results["c2pa_ai_parent_resigned.jpg"]["c2pa"]
    assert c["signer"] == "labelcheck tests / labelcheck Test Signer"
    assert c["generator"].startswith("labelcheck-fixtures")
    assert len(c["manifests"]) == 2
    active = next(m for m in c["manifests"] if m["label"] == c["active_manifest"])
    assert active["ingredients"][0]["relationship"] == "parentOf"
    assert [a["action"] for a in active["actions"]] == ["c2pa.opened", "c2pa.transcoded"]
    dub = fixture_results["c2pa_ai_dubbed.wav"]["c2pa"]["manifests"][0]["actions"]
    assert dub[1]["action"] == "c2pa.dubbed" and dub[1]["software_agent"] == "Dubbing Model 2"


def test_sidecar_is_read_when_the_file_has_no_manifest(fixture_results):
    r = fixture_results["sidecar_fully_ai.jpg"]
    assert r["c2pa"]["sidecar"].endswith("sidecar_fully_ai.c2pa")
    assert r["ai"]["status"] == "fully_ai"


def test_training_entries_name_their_vocabulary(fixture_results):
    ev = fixture_results["c2pa_training_notallowed.jpg"]["training"]["evidence"]
    uses = {e["key"]: e["use"] for e in ev}
    assert uses["cawg.ai_training"] == "notAllowed" and uses["cawg.data_mining"] == "constrained"
    assert {e["vocabulary"] for e in ev} == {"cawg.training-mining"}


def test_builtin_rule_fails_only_non_standard_ai(fixture_results):
    for name, r in fixture_results.items():
        ai = r["ai"]["status"] in ("fully_ai", "made_with_ai")
        failed = any(f["status"] == "fail" for f in r["findings"])
        assert failed == (ai and r["ai"]["basis"] != "standard"), name
        if failed:  # how to label it, or (a format that holds no accepted carrier, e.g. MXF) what to deliver
            finding = r["findings"][0]
            wanted = "format that can carry" if "cannot hold any" in finding["message"] else "DigitalSourceType"
            assert r["status"] == "fail" and wanted in finding["remediation"], name


def test_bad_inputs_have_clear_messages(fixture_results):
    assert "file is empty" in fixture_results["bad_empty.png"]["errors"][0]["message"]
    truncated = fixture_results["bad_truncated.jpg"]["errors"][0]
    assert truncated["source"] == "c2pa" and "parse" in truncated["message"]
    assert "image/png" in fixture_results["bad_mislabelled_png.jpg"]["notes"][0]
    assert fixture_results["bad_mislabelled_png.jpg"]["media_type"] == "image/png"


def test_sidecar_lookup_copes_with_long_names_and_reads_an_upper_case_sidecar(tmp_path):
    """A file whose name is near the file system's limit (254 bytes) was an item error: looking for NAME.EXT.c2pa
    beside it raised ENAMETOOLONG. A sidecar named in capitals (camera and Windows habits) is read; one larger than
    MANIFEST_MAX_BYTES is an error of its item, not read into memory."""
    import shutil
    import subprocess

    from labelcheck.extract.sidecar import MANIFEST_MAX_BYTES

    long_name = tmp_path / ("a" * 250 + ".jpg")
    shutil.copyfile(MEDIA / "plain_camera.jpg", long_name)
    upper = tmp_path / "upper.jpg"
    shutil.copyfile(MEDIA / "sidecar_fully_ai.jpg", upper)
    shutil.copyfile(MEDIA / "sidecar_fully_ai.c2pa", tmp_path / "upper.C2PA")
    huge = tmp_path / "huge.jpg"
    shutil.copyfile(MEDIA / "sidecar_fully_ai.jpg", huge)
    subprocess.run(["truncate", "-s", str(MANIFEST_MAX_BYTES + 1), str(tmp_path / "huge.c2pa")], check=True)
    _, doc = checked_scan([long_name, upper, huge])
    by_name = {r["target"].rsplit("/", 1)[-1]: r for r in doc["results"]}
    assert by_name[long_name.name]["errors"] == [] and by_name[long_name.name]["status"] == "pass"
    assert by_name["upper.jpg"]["ai"]["status"] == "fully_ai"
    assert by_name["upper.jpg"]["c2pa"]["sidecar"].endswith("upper.C2PA")
    assert by_name["huge.jpg"]["status"] == "error"
    assert any("larger than 64 MB" in e["message"] for e in by_name["huge.jpg"]["errors"])


@pytest.mark.parametrize("assertion", ["cawg.metadata", "c2pa.metadata"])
def test_a_source_type_in_a_cawg_or_c2pa_metadata_assertion_is_read(tmp_path, assertion):
    """CAWG's metadata assertion (cawg.metadata) carries the IPTC fields C2PA 2.x no longer allows in c2pa.metadata,
    the digital source type among them. A manifest that opened a photo and declared its AI composite there read
    `unknown`; only c2pa.metadata was read. Signed here with c2pa-python and the fixtures' test CA."""
    import sys

    import c2pa

    sys.path.insert(0, str(MEDIA.parent))
    import make_fixtures as mf

    certs = MEDIA.parent / "certs"
    info = c2pa.C2paSignerInfo(
        b"es256", (certs / "signer-chain.pem").read_bytes(), (certs / "signer.key").read_bytes(), None
    )
    metadata = {
        "@context": {"Iptc4xmpExt": "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"},
        "Iptc4xmpExt:DigitalSourceType": mf.IPTC + "compositeWithTrainedAlgorithmicMedia",
    }
    m = mf.manifest("edit", [{"action": "c2pa.opened"}], [{"label": assertion, "kind": "Json", "data": metadata}])
    src, out = MEDIA / "plain_camera.jpg", tmp_path / "edit.jpg"
    mf.sign(src, out, m, c2pa.Signer.from_info(info), [(src, "parentOf")])
    _, doc = checked_scan([out])
    (r,) = doc["results"]
    assert r["c2pa"]["validation_state"] == "Trusted"
    assert (r["ai"]["status"], r["ai"]["basis"], r["ai"]["specific"]) == ("made_with_ai", "standard", True)
    assert r["ai"]["evidence"][0]["reason"] == "metadata assertion dst=compositeWithTrainedAlgorithmicMedia"
