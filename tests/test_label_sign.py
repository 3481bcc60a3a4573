"""labelcheck label's C2PA step (labelcheck/label/sign.py): plain JPEG, PNG, MP4 and WAV files (made with ffmpeg)
signed with the test CA read back Trusted with the status asked (basis standard), the SB 942 latent disclosure and the
training reservation; a file with a manifest keeps it as its parent; a label that contradicts that manifest, a key
that does not match, a certificate out of its dates or not a signing one are refused before anything is written;
the source is never changed and the output never half-written."""

from __future__ import annotations

import datetime as dt
import hashlib
import http.server
import json
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import c2pa
import pytest
from conftest import FIXTURES, MEDIA, checked_scan
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from labelcheck import __version__
from labelcheck.classify.provenance import classify_manifest
from labelcheck.extract.c2pa import store_from_json
from labelcheck.label import sign as S
from labelcheck.model import AiStatus
from labelcheck.policy import load

CERTS = FIXTURES / "certs"
CHAIN, KEY = CERTS / "signer-chain.pem", CERTS / "signer.key"
IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
MIME = {"jpg": "image/jpeg", "png": "image/png", "mp4": "video/mp4", "wav": "audio/wav", "webp": "image/webp"}
AGENT = ("Example Image Model", "3.1")
FF = ("ffmpeg", "-y", "-hide_banner", "-loglevel", "error")
PLAIN = {  # ffmpeg arguments of each plain file
    "jpg": ("-f", "lavfi", "-i", "testsrc2=size=96x64:rate=1", "-frames:v", "1"),
    "png": ("-f", "lavfi", "-i", "testsrc2=size=96x64:rate=1", "-frames:v", "1"),
    "mp4": ("-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10", "-f", "lavfi", "-i", "sine=frequency=440", "-t", "1",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "32k"),
    "wav": ("-f", "lavfi", "-i", "sine=frequency=330:sample_rate=8000", "-t", "0.5", "-c:a", "pcm_s16le"),
}  # fmt: skip
CASES = [(ext, status) for ext in PLAIN for status in S.STATUSES]


def request(status: str = "fully_ai", **kw: Any) -> S.SignRequest:
    return S.SignRequest(status, kw.pop("cert_chain", CHAIN), kw.pop("key", KEY), *AGENT, **kw)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sb942(paths: list[Path], **kw: Any) -> dict[str, dict[str, Any]]:
    """Each file's report entry, judged by the ca-sb942 policy, the test CA trusted."""
    _, doc = checked_scan(paths, policies=(load.load("ca-sb942"),), as_of=dt.date(2026, 9, 1), **kw)
    return {Path(r["target"]).name: r for r in doc["results"]}


def finding(result: dict[str, Any], rule: str) -> dict[str, Any]:
    return next(f for f in result["findings"] if f["rule"] == rule)


def raw_store(path: Path, mime: str) -> dict[str, Any]:
    with open(path, "rb") as fh, c2pa.Reader(mime, fh) as reader:
        return dict(json.loads(reader.json()))


# ---------------------------------------------------------------- plain files, signed


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is needed to make the plain media")
    d = tmp_path_factory.mktemp("plain")
    for ext, args in PLAIN.items():
        subprocess.run([*FF, *args, str(d / f"plain.{ext}")], check=True, capture_output=True)
    return {ext: d / f"plain.{ext}" for ext in PLAIN}


@pytest.fixture(scope="module")
def signed(plain: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Any]:
    """(ext, status) -> (source sha256 before, after, Signed, the output's report entry)."""
    out, before, done = tmp_path_factory.mktemp("signed"), {}, {}
    for ext, status in CASES:
        before[ext] = sha256(plain[ext])
        done[ext, status] = S.sign(plain[ext], out / f"{status}.{ext}", MIME[ext], request(status))
    results = sb942([out / f"{status}.{ext}" for ext, status in CASES])
    return {(e, s): (before[e], sha256(plain[e]), done[e, s], results[f"{s}.{e}"]) for e, s in CASES}


@pytest.mark.parametrize("ext,status", CASES)
def test_a_plain_file_signed_reads_trusted_with_the_status_asked(signed, ext, status):
    before, after, result, entry = signed[ext, status]
    assert before == after, "the source changed"
    assert entry["c2pa"]["validation_state"] == "Trusted", entry["c2pa"]["failures"]
    assert (entry["ai"]["status"], entry["ai"]["basis"]) == (status, "standard"), entry["ai"]
    assert entry["c2pa"]["active_manifest"] == result.manifest_label and result.manifest_label.startswith("urn:c2pa:")
    assert (result.algorithm, result.parent_kept) == ("es256", False)
    assert entry["c2pa"]["generator"] == f"labelcheck {__version__}"
    active = next(m for m in entry["c2pa"]["manifests"] if m["label"] == result.manifest_label)
    stated = next(a for a in active["actions"] if a["action"] == result.action)
    assert stated["software_agent"] == " ".join(AGENT) and stated["when"]
    if status == "fully_ai":
        assert result.action == "c2pa.created" and stated["source_type"] == IPTC + "trainedAlgorithmicMedia"
    else:  # an existing work, opened as the parent (the file itself, no manifest), edited with AI
        assert result.action == "c2pa.edited" and stated["source_type"] == IPTC + "compositeWithTrainedAlgorithmicMedia"
        assert [a["action"] for a in active["actions"]] == ["c2pa.opened", "c2pa.edited"]
        assert [(i["relationship"], i.get("active_manifest")) for i in active["ingredients"]] == [("parentOf", None)]


@pytest.mark.parametrize("ext", PLAIN)
def test_a_fully_ai_file_signed_passes_the_sb942_latent_disclosure(signed, ext):
    entry = signed[ext, "fully_ai"][3]
    f = finding(entry, "latent-disclosure")
    assert f["status"] == "pass", f["message"]
    assert "Example Image Model 3.1" in f["message"] and signed[ext, "fully_ai"][2].manifest_label in f["message"]


@pytest.mark.parametrize("ext", PLAIN)
def test_a_made_with_ai_file_signed_passes_the_sb942_latent_disclosure(signed, ext):
    """SB 942 §22757.3(b) covers content the system altered too: the system, its version and `when` are read from
    the c2pa.edited action with the generative type (before, only c2pa.created was read, and this failed)."""
    f = finding(signed[ext, "made_with_ai"][3], "latent-disclosure")
    assert f["status"] == "pass", f["message"]


@pytest.mark.parametrize("training", ["not_allowed", "allowed", "constrained"])
def test_a_training_reservation_reads_as_asked(plain, tmp_path, training):
    dst = tmp_path / "reserved.jpg"
    S.sign(plain["jpg"], dst, "image/jpeg", request(training=training))
    entry = sb942([dst])[dst.name]
    assert entry["training"]["status"] == training
    keys = {(e["key"], e["use"]) for e in entry["training"]["evidence"]}
    assert keys == {(k, S.TRAINING_USE[training]) for k in S.TRAINING_ENTRIES}
    records = [r for r in entry["labels"] if r["kind"] == "training"]
    assert records and all(r["conforms"] for r in records), records


# ---------------------------------------------------------------- a source with a manifest of its own


def test_a_signed_file_keeps_its_manifest_as_the_parent_and_stays_fully_ai(tmp_path):
    src, dst = MEDIA / "c2pa_fully_ai.jpg", tmp_path / "resigned.jpg"
    before, old = sha256(src), raw_store(src, "image/jpeg")["active_manifest"]
    result = S.sign(src, dst, "image/jpeg", request("fully_ai"))
    assert sha256(src) == before
    assert (result.action, result.parent_kept) == ("c2pa.opened", True)
    entry = sb942([dst])[dst.name]
    assert entry["c2pa"]["validation_state"] == "Trusted", entry["c2pa"]["failures"]
    assert (entry["ai"]["status"], entry["ai"]["basis"]) == ("fully_ai", "standard"), entry["ai"]
    active = next(m for m in entry["c2pa"]["manifests"] if m["label"] == result.manifest_label)
    assert [(i["relationship"], i.get("active_manifest")) for i in active["ingredients"]] == [("parentOf", old)]
    assert old in {m["label"] for m in entry["c2pa"]["manifests"]}


def test_made_with_ai_over_a_captured_photo_keeps_it_as_the_parent(tmp_path):
    src, dst = MEDIA / "c2pa_capture.webp", tmp_path / "edited.webp"
    result = S.sign(src, dst, "image/webp", request("made_with_ai"))
    assert (result.action, result.parent_kept) == ("c2pa.edited", True)
    entry = sb942([dst])[dst.name]
    assert entry["c2pa"]["validation_state"] == "Trusted"
    assert (entry["ai"]["status"], entry["ai"]["basis"]) == ("made_with_ai", "standard"), entry["ai"]


@pytest.mark.parametrize(
    "name,status,use",
    [("c2pa_capture.webp", "fully_ai", "made_with_ai"), ("c2pa_fully_ai.jpg", "made_with_ai", "fully_ai")],
)
def test_a_label_that_contradicts_the_kept_manifest_is_refused(tmp_path, name, status, use):
    dst = tmp_path / name
    with pytest.raises(S.SignError, match=f"label it {use}"):
        S.sign(MEDIA / name, dst, MIME[name.rsplit(".", 1)[1]], request(status))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(shutil.which("exiftool") is None, reason="exiftool writes the metadata")
def test_a_parent_whose_binding_broke_under_new_metadata_is_kept_with_the_mismatch_recorded(tmp_path):
    """As `label` runs: the IPTC metadata is written first, which breaks the old manifest's hash; c2pa records it."""
    src = tmp_path / "labelled.jpg"
    shutil.copyfile(MEDIA / "c2pa_fully_ai.jpg", src)
    tag = "-XMP-iptcExt:DigitalSourceType=" + IPTC + "trainedAlgorithmicMedia"
    subprocess.run(["exiftool", "-overwrite_original", "-q", tag, str(src)], check=True, capture_output=True)
    dst = tmp_path / "signed.jpg"
    result = S.sign(src, dst, "image/jpeg", request("fully_ai"))
    entry = sb942([dst])[dst.name]
    assert (entry["c2pa"]["validation_state"], entry["ai"]["status"]) == ("Trusted", "fully_ai")
    ingredient = raw_store(dst, "image/jpeg")["manifests"][result.manifest_label]["ingredients"][0]
    failures = {f["code"] for f in ingredient["validation_results"]["activeManifest"]["failure"]}
    assert result.parent_kept and "assertion.dataHash.mismatch" in failures


# ---------------------------------------------------------------- the rule, read by labelcheck's actions table

PARENTS = {  # the parent's status -> the actions of its manifest
    AiStatus.FULLY_AI: "trainedAlgorithmicMedia", AiStatus.MADE_WITH_AI: "compositeWithTrainedAlgorithmicMedia",
    AiStatus.POSSIBLY_AI: "composite", AiStatus.NOT_AI: "digitalCapture", None: "",  # "": a manifest declaring nothing
}  # fmt: skip
REFUSED = {("fully_ai", s) for s in PARENTS if s is not AiStatus.FULLY_AI} | {("made_with_ai", AiStatus.FULLY_AI)}
RULE = [(st, False, None) for st in S.STATUSES] + [(st, True, p) for st in S.STATUSES for p in PARENTS]


@pytest.mark.parametrize("status,has_manifest,parent", RULE)
def test_every_case_of_the_rule_reads_the_status_asked_or_is_refused(status, has_manifest, parent):
    """The actions decide() writes, over a parent of each status, read by classify.provenance as a reader would."""
    if (status, parent) in REFUSED and has_manifest:
        with pytest.raises(S.SignError, match="label it"):
            S.decide(status, has_manifest, parent, request(status), "2026-09-01T00:00:00Z")
        return
    p = S.decide(status, has_manifest, parent, request(status), "2026-09-01T00:00:00Z")
    new = S.definition(p, request(status), "t")
    if p.ingredient:
        link = "urn:c2pa:parent" if has_manifest else None
        new["ingredients"] = [{"relationship": "parentOf", "title": "src", "active_manifest": link, "label": "x"}]
    manifests = {"urn:c2pa:new": new}
    if has_manifest:
        made = {"action": "c2pa.created", "digitalSourceType": IPTC + PARENTS[parent]} if parent else None
        actions = {"label": "c2pa.actions.v2", "data": {"actions": [made or {"action": "c2pa.edited"}]}}
        manifests["urn:c2pa:parent"] = {"assertions": [actions]}
    store = store_from_json({"active_manifest": "urn:c2pa:new", "manifests": manifests}, "Trusted", True, None)
    verdict = classify_manifest(store, "urn:c2pa:new")
    assert verdict is not None and (verdict.status.value, verdict.basis.value) == (status, "standard"), verdict
    assert p.parent_kept is has_manifest


# ---------------------------------------------------------------- credentials


def _cert(cn: str, public: Any, ca_key: Any, start: dt.datetime, days: int, ca: bool, **kw: bool) -> x509.Certificate:
    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    b = (
        x509.CertificateBuilder().subject_name(name(cn)).issuer_name(name("Throwaway CA")).public_key(public)
        .serial_number(x509.random_serial_number()).not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(not ca, False, False, False, False, ca, ca, False, False), critical=True)
    )  # fmt: skip
    if kw.get("eku", not ca):
        b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
    if kw.get("aki", not ca):
        b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
    return b.sign(ca_key, hashes.SHA256())


def throwaway(d: Path, key: Any = None, start: dt.datetime | None = None, days: int = 30, **kw: Any) -> Path:
    """A throwaway CA and a signing certificate (valid from `start` for `days`); d/chain.pem, d/key.pem, d/ca.pem.
    kw: ca_leaf (the leaf is a CA), eku, aki (False: no extended key usage, no authority key identifier)."""
    key, ca_key = key or ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = _cert("Throwaway CA", ca_key.public_key(), ca_key, dt.datetime(2020, 1, 1), 40 * 365, True)
    start = start or dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    leaf = _cert("Signer", key.public_key(), ca_key, start, days, kw.pop("ca_leaf", False), **kw)
    pem = serialization.Encoding.PEM
    d.mkdir(parents=True, exist_ok=True)
    (d / "chain.pem").write_bytes(leaf.public_bytes(pem) + ca.public_bytes(pem))
    (d / "ca.pem").write_bytes(ca.public_bytes(pem))
    (d / "key.pem").write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return d


def _refused_before_writing(src: Path, tmp: Path, req: S.SignRequest, match: str, mime: str = "image/jpeg") -> None:
    before, out = sha256(src), tmp / "out"
    out.mkdir(exist_ok=True)
    with pytest.raises(S.SignError, match=match):
        S.sign(src, out / "never.jpg", mime, req)
    assert list(out.iterdir()) == [] and sha256(src) == before


def test_a_key_that_does_not_match_the_certificate_is_refused_before_writing(plain, tmp_path):
    other = throwaway(tmp_path / "other") / "key.pem"
    _refused_before_writing(plain["jpg"], tmp_path, request(key=other), "does not match the certificate")
    swapped = tmp_path / "swapped.pem"  # the CA first: the key matches a later certificate
    certs = x509.load_pem_x509_certificates(CHAIN.read_bytes())
    swapped.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in reversed(certs)))
    _refused_before_writing(plain["jpg"], tmp_path, request(cert_chain=swapped), "must come first")


@pytest.mark.parametrize("start,days,match", [(-60, 30, "expired on"), (60, 30, "not yet valid")], ids=["old", "new"])
def test_a_certificate_out_of_its_dates_is_refused_before_writing(plain, tmp_path, start, days, match):
    d = throwaway(tmp_path / "ca", start=dt.datetime.now(dt.UTC) + dt.timedelta(days=start), days=days)
    _refused_before_writing(plain["jpg"], tmp_path, request(cert_chain=d / "chain.pem", key=d / "key.pem"), match)


def test_check_credentials_at_a_given_time():
    assert S.check_credentials(CHAIN, KEY, now=dt.datetime(2030, 1, 1, tzinfo=dt.UTC)) == "es256"
    with pytest.raises(S.SignError, match="signing certificate expired"):
        S.check_credentials(CHAIN, KEY, now=dt.datetime(2060, 1, 1, tzinfo=dt.UTC))
    with pytest.raises(S.SignError, match="not yet valid"):
        S.check_credentials(CHAIN, KEY, now=dt.datetime(2025, 1, 1))  # a naive time is UTC


@pytest.mark.parametrize(
    "kw,match",
    [({"ca_leaf": True}, "is a CA certificate"), ({"eku": False}, "key usage"), ({"aki": False}, "authorityKeyId")],
)
def test_a_certificate_that_cannot_sign_claims_is_refused(tmp_path, kw, match):
    d = throwaway(tmp_path, **kw)
    with pytest.raises(S.SignError, match=match):
        S.check_credentials(d / "chain.pem", d / "key.pem")


@pytest.mark.parametrize(
    "make_key,alg",
    [
        (lambda: ec.generate_private_key(ec.SECP384R1()), "es384"),
        (lambda: ec.generate_private_key(ec.SECP521R1()), "es512"),
        (lambda: rsa.generate_private_key(65537, 2048), "ps256"),
        (ed25519.Ed25519PrivateKey.generate, "ed25519"),
    ],
    ids=["p384", "p521", "rsa", "ed25519"],
)
def test_the_algorithm_follows_the_key_and_signs_trusted(plain, tmp_path, make_key, alg):
    d = throwaway(tmp_path / "ca", key=make_key())
    dst = tmp_path / "signed.jpg"
    result = S.sign(plain["jpg"], dst, "image/jpeg", request(cert_chain=d / "chain.pem", key=d / "key.pem"))
    assert result.algorithm == alg
    entry = sb942([dst], anchors=(str(d / "ca.pem"),))[dst.name]
    assert (entry["c2pa"]["validation_state"], entry["ai"]["status"]) == ("Trusted", "fully_ai")


def test_keys_c2pa_cannot_use_are_refused(tmp_path):
    weak = throwaway(tmp_path / "weak", key=rsa.generate_private_key(65537, 1024))
    with pytest.raises(S.SignError, match="at least 2048"):
        S.check_credentials(weak / "chain.pem", weak / "key.pem")
    locked, enc = tmp_path / "locked.pem", serialization.BestAvailableEncryption(b"secret")
    pem, pkcs8 = serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8
    locked.write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(pem, pkcs8, enc))
    with pytest.raises(S.SignError, match="encrypted"):
        S.check_credentials(CHAIN, locked)
    with pytest.raises(S.SignError, match="no PEM certificate"):
        S.check_credentials(KEY, KEY)


# ---------------------------------------------------------------- formats, outputs, time-stamps


def test_supported_media_types_and_a_format_c2pa_cannot_embed_into_is_refused_before_writing(tmp_path):
    assert all(S.supported(m) for m in MIME.values())
    assert not any(S.supported(m) for m in ("application/mxf", "text/plain", "application/c2pa", "video/x-matroska"))
    _refused_before_writing(MEDIA / "plain_master.mxf", tmp_path, request(), "cannot embed", "application/mxf")


def test_an_existing_output_is_never_overwritten(plain, tmp_path):
    dst = tmp_path / "taken.jpg"
    dst.write_bytes(b"mine")
    with pytest.raises(S.SignError, match="exists"):
        S.sign(plain["jpg"], dst, "image/jpeg", request())
    assert dst.read_bytes() == b"mine"


@pytest.mark.parametrize("error", [c2pa.C2paError("disk full"), KeyboardInterrupt()], ids=["c2pa", "interrupted"])
def test_a_failure_while_signing_leaves_nothing_half_written(plain, tmp_path, monkeypatch, error):
    def broken(self: Any, signer: Any, mime: str, source: Any, dest: Any) -> bytes:
        dest.write(source.read(100))
        raise error

    monkeypatch.setattr(c2pa.Builder, "sign", broken)
    before = sha256(plain["jpg"])
    with pytest.raises(S.SignError if isinstance(error, c2pa.C2paError) else KeyboardInterrupt):
        S.sign(plain["jpg"], tmp_path / "out.jpg", "image/jpeg", request())
    assert list(tmp_path.iterdir()) == [] and sha256(plain["jpg"]) == before


def test_the_time_stamp_authority_is_passed_to_the_signer(plain, tmp_path):
    """The URL reaches c2pa-rs: a loopback server receives its RFC 3161 query (a junk reply: nothing is written)."""
    assert S.signer_info(request(), "es256").ta_url is None
    seen: list[tuple[str, str | None]] = []

    class Tsa(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen.append((self.path, self.headers.get("Content-Type")))
            self.send_response(200)
            self.send_header("Content-Length", "4")
            self.end_headers()
            self.wfile.write(b"junk")

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Tsa)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/tsa"
    try:
        assert S.signer_info(request(tsa_url=url), "es256").ta_url == url.encode()
        with pytest.raises(S.SignError):
            S.sign(plain["jpg"], tmp_path / "stamped.jpg", "image/jpeg", request(tsa_url=url))
    finally:
        server.shutdown()
        server.server_close()
    assert seen == [("/tsa", "application/timestamp-query")]
    assert list(tmp_path.iterdir()) == []
