"""The sample's evidence bundle (labelcheck/sample/bundle.py, signing.py): a WACZ 1.1.1 that warcio reads back, whose
every digest, index line and signature verify, and that names the file and what mismatched when one byte changes."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import hashlib
import io
import json
import os
import threading
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID
from PIL import Image
from warcio.archiveiterator import ArchiveIterator

from labelcheck import resources
from labelcheck.sample.bundle import (
    BundleError,
    BundleMeta,
    BundleWriter,
    PolicyRef,
    records,
    surt_key,
    verify,
)
from labelcheck.sample.signing import Ed25519Signer, Limits, TrustAnchors, X509Signer, load_signer
from labelcheck.sample.types import Exchange

PAGE_URL = "https://www.example.com/news/story?b=2&a=1"
PNG_URL = "https://cdn.example.com/img/photo.png"
BIG_URL = "https://cdn.example.com/video/clip.bin"
META = BundleMeta(
    operator="Market Surveillance Unit 3",
    policies=(PolicyRef("eu-ai-act-art50", "2025-08", "ab" * 32), PolicyRef("cn-gb45438", "2025")),
    trust_list_date="2025-06-01",
    seeds=("https://www.example.com/",),
    sample_seed=20250601,
)
NOW = dt.datetime.now(dt.timezone.utc)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _exchange(tmp: Path, url: str, body: bytes, content_type: str, **kw: Any) -> Exchange:
    path = tmp / hashlib.sha1(url.encode()).hexdigest()
    path.write_bytes(body)
    defaults: dict[str, Any] = {
        "started": "2025-06-02T10:00:00.250000+00:00",
        "request_headers": (("Host", url.split("/")[2]), ("User-Agent", "labelcheck-sample/0.1"), ("Accept", "*/*")),
        "status": 200,
        "reason": "OK",
        "response_headers": (("Content-Type", content_type), ("Content-Length", str(len(body)))),
        "body_path": str(path),
        "body_size": len(body),
        "body_sha256": _sha(body),
        "address": "192.0.2.10",
    }
    return Exchange(url=url, **(defaults | kw))


@pytest.fixture(scope="module")
def bodies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    png = io.BytesIO()
    Image.new("RGB", (48, 32), (200, 30, 90)).save(png, format="PNG")
    html = b"<!doctype html><html><head><title>Story</title></head><body><img src='/img/photo.png'>hello</body></html>"
    return {"html": html, "png": png.getvalue(), "big": os.urandom(5 * 1024 * 1024)}


def _exchanges(tmp: Path, bodies: dict[str, bytes]) -> list[Exchange]:
    return [
        _exchange(tmp, PAGE_URL, bodies["html"], "text/html; charset=utf-8", purpose="page"),
        _exchange(tmp, PNG_URL, bodies["png"], "image/png", purpose="media", started="2025-06-02T10:00:01Z"),
        _exchange(tmp, BIG_URL, bodies["big"], "application/octet-stream", purpose="media"),
        Exchange("https://gone.example.org/", "2025-06-02T10:00:03Z", (("Host", "gone.example.org"),),
                 error="connection refused", purpose="page"),
        _exchange(tmp, "https://cdn.example.com/cut.bin", bodies["png"][:100], "image/png",
                  error="body over the size cap", purpose="media"),
    ]  # fmt: skip


def _write(path: Path, tmp: Path, bodies: dict[str, bytes], signer: Any = None, big: bool = True) -> Path:
    with BundleWriter(path, META) as writer:
        for ex in _exchanges(tmp, bodies):
            if big or ex.url != BIG_URL:
                writer.add(ex)
        writer.add_resource("sample-report.json", "application/json", b'{"prevalence": 0.25}')
        writer.add_resource("policy/eu-ai-act-art50.yaml", "text/yaml", b"id: eu-ai-act-art50\n")
        writer.add_page(PAGE_URL, "Story", "2025-06-02T10:00:00.250000Z")
        writer.close(signer)
    return path


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory, bodies: dict[str, bytes]) -> Path:
    tmp = tmp_path_factory.mktemp("bundle")
    return _write(tmp / "out.wacz", tmp, bodies)


def _ed25519_pem() -> bytes:
    key = ed25519.Ed25519PrivateKey.generate()
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _cert(subject: str, key: Any, issuer: x509.Certificate | None, issuer_key: Any, ca: bool) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject), x509.NameAttribute(NameOID.COUNTRY_NAME, "EU")])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    return builder.sign(issuer_key, hashes.SHA256())


def _pki(leaf_key: Any) -> tuple[bytes, bytes, bytes]:
    """(leaf + CA chain PEM, leaf key PEM, CA certificate PEM)."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert("Test Regulator Root CA", ca_key, None, ca_key, ca=True)
    leaf = _cert("Sampling Operator 7", leaf_key, ca, ca_key, ca=False)
    chain = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (leaf, ca))
    key_pem = leaf_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return chain, key_pem, ca.public_bytes(serialization.Encoding.PEM)


def _rewrite(src: Path, dst: Path, changes: dict[str, bytes]) -> Path:
    """The same zip with some members' bytes replaced (their CRCs right: only the content differs)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info, changes.get(info.filename, zin.read(info.filename)))
    return dst


def _rehashed(src: Path, dst: Path, changes: dict[str, bytes]) -> Path:
    """As an editor who also fixes datapackage.json's digests and the digest file (no key to re-sign with) would."""
    with zipfile.ZipFile(src) as zf:
        package = json.loads(zf.read("datapackage.json"))
    for res in package["resources"]:
        if res["path"] in changes:
            res |= {"hash": "sha256:" + _sha(changes[res["path"]]), "bytes": len(changes[res["path"]])}
    raw = json.dumps(package, indent=2).encode()
    digest = json.dumps({"path": "datapackage.json", "hash": "sha256:" + _sha(raw)}).encode()
    return _rewrite(src, dst, changes | {"datapackage.json": raw, "datapackage-digest.json": digest})


def _member(path: Path, name: str) -> bytes:
    with zipfile.ZipFile(path) as zf:
        return zf.read(name)


def _index(path: Path) -> list[tuple[str, str, dict[str, Any]]]:
    lines = _member(path, "indexes/index.cdx").decode().splitlines()
    return [(key, ts, json.loads(data)) for key, ts, data in (line.split(" ", 2) for line in lines)]


def _problems(path: Path, **kw: Any) -> str:
    result = verify(path, **kw)
    assert not result.ok
    return "\n".join(result.problems)


# -- writing and reading back ---------------------------------------------------------------------------------------


def test_a_written_bundle_verifies(bundle: Path) -> None:
    result = verify(bundle)
    assert result.ok, result.problems
    assert result.problems == ()
    assert (result.signed, result.signer) == (False, "")
    assert result.records == 1 + 5 + 4 + 2 + 2  # warcinfo, requests, responses, metadata (2 errors), resources
    assert result.digests_checked >= 3 + 1 + 2 * 13


def test_the_zip_holds_the_wacz_layout(bundle: Path) -> None:
    with zipfile.ZipFile(bundle) as zf:
        infos = {i.filename: i for i in zf.infolist()}
    assert set(infos) == {
        "archive/data.warc.gz",
        "indexes/index.cdx",
        "pages/pages.jsonl",
        "datapackage.json",
        "datapackage-digest.json",
    }
    assert infos["archive/data.warc.gz"].compress_type == zipfile.ZIP_STORED
    assert not list(bundle.parent.glob(".*.part")) and not list(bundle.parent.glob(".wacz-*"))


def test_the_datapackage_lists_every_file_and_the_run(bundle: Path) -> None:
    raw = _member(bundle, "datapackage.json")
    package = json.loads(raw)
    assert list(resources.validator("wacz-manifest").iter_errors(package)) == []
    assert package["profile"] == "data-package" and package["wacz_version"] == "1.1.1"
    assert package["software"].startswith("labelcheck ")
    assert dt.datetime.fromisoformat(package["created"]).tzinfo is not None
    assert package["mainPageUrl"] == PAGE_URL
    for res in package["resources"]:
        data = _member(bundle, res["path"])
        assert res["hash"] == "sha256:" + _sha(data) and res["bytes"] == len(data)
        assert res["name"] == res["path"].rsplit("/", 1)[1]
    own = package["labelcheck"]
    assert own["operator"] == META.operator and own["trust_list_date"] == "2025-06-01"
    assert own["policies"][0] == {"id": "eu-ai-act-art50", "version": "2025-08", "sha256": "ab" * 32}
    assert own["seeds"] == ["https://www.example.com/"] and own["sample_seed"] == 20250601
    assert own["records"] == {"metadata": 2, "request": 5, "resource": 2, "response": 4, "warcinfo": 1}
    digest = json.loads(_member(bundle, "datapackage-digest.json"))
    assert digest == {"path": "datapackage.json", "hash": "sha256:" + _sha(raw)}


def test_the_pages_list_is_json_pages(bundle: Path) -> None:
    lines = [json.loads(line) for line in _member(bundle, "pages/pages.jsonl").decode().splitlines()]
    assert lines[0]["format"] == "json-pages-1.0"
    assert lines[1]["url"] == PAGE_URL and lines[1]["title"] == "Story"
    assert lines[1]["ts"] == "2025-06-02T10:00:00.250000Z" and lines[1]["id"]


def test_warcio_reads_the_warc_back_with_every_digest_right(bundle: Path, bodies: dict[str, bytes]) -> None:
    seen: list[tuple[str, str]] = []
    with zipfile.ZipFile(bundle) as zf, zf.open("archive/data.warc.gz") as fh:
        for rec in ArchiveIterator(fh, check_digests=True):
            payload = rec.content_stream().read() if rec.rec_type == "response" else rec.raw_stream.read()
            assert rec.digest_checker.problems == []
            head = rec.rec_headers
            seen.append((rec.rec_type, head.get_header("WARC-Target-URI") or ""))
            assert head.protocol == "WARC/1.1"
            assert head.get_header("WARC-Block-Digest").startswith("sha256:")
            if rec.rec_type in ("response", "resource", "metadata", "request"):
                assert head.get_header("WARC-Payload-Digest") == "sha256:" + _sha(payload)
            if rec.rec_type == "response" and head.get_header("WARC-Target-URI") == PNG_URL:
                assert payload == bodies["png"]
                assert rec.http_headers.get_statuscode() == "200"
                assert rec.http_headers.get_header("Content-Type") == "image/png"
                assert head.get_header("WARC-IP-Address") == "192.0.2.10"
                assert head.get_header("WARC-Date") == "2025-06-02T10:00:01Z"
            if rec.rec_type == "response" and head.get_header("WARC-Target-URI") == BIG_URL:
                assert payload == bodies["big"]
            if rec.rec_type == "request" and head.get_header("WARC-Target-URI") == PAGE_URL:
                assert rec.http_headers.protocol == "GET"
                assert rec.http_headers.statusline == "/news/story?b=2&a=1 HTTP/1.1"
                assert rec.http_headers.get_header("User-Agent") == "labelcheck-sample/0.1"
                assert head.get_header("WARC-Concurrent-To")
            if rec.rec_type == "metadata":
                assert head.get_header("Content-Type") == "application/warc-fields"
                assert head.get_header("WARC-Refers-To") and payload.startswith(b"error: ")
    assert seen[0] == ("warcinfo", "")
    assert seen[1:4] == [("request", PAGE_URL), ("response", PAGE_URL), ("request", PNG_URL)]
    assert ("metadata", "https://gone.example.org/") in seen
    assert ("response", "https://gone.example.org/") not in seen
    assert ("resource", "urn:labelcheck:sample-report.json") in seen


def test_a_partial_body_is_marked_truncated(bundle: Path) -> None:
    with zipfile.ZipFile(bundle) as zf, zf.open("archive/data.warc.gz") as fh:
        cut = [
            r for r in ArchiveIterator(fh) if (r.rec_headers.get_header("WARC-Target-URI") or "").endswith("cut.bin")
        ]
    assert [r.rec_type for r in cut] == ["request", "response", "metadata"]
    assert cut[1].rec_headers.get_header("WARC-Truncated") == "length"


def test_the_cdxj_is_sorted_and_points_at_single_gzip_members(bundle: Path) -> None:
    entries = _index(bundle)
    lines = _member(bundle, "indexes/index.cdx").decode().splitlines()
    assert lines == sorted(lines)
    assert {e["url"] for _, _, e in entries} == {
        PAGE_URL,
        PNG_URL,
        BIG_URL,
        "https://cdn.example.com/cut.bin",
        "urn:labelcheck:sample-report.json",
        "urn:labelcheck:policy/eu-ai-act-art50.yaml",
    }
    warc = _member(bundle, "archive/data.warc.gz")
    for key, ts, entry in entries:
        assert entry["filename"] == "data.warc.gz"
        chunk = warc[int(entry["offset"]) : int(entry["offset"]) + int(entry["length"])]
        record = gzip.decompress(chunk)  # one whole member: a replayer's range read
        assert record.startswith(b"WARC/1.1\r\n") and entry["url"].encode() in record
        assert key == surt_key(entry["url"]) and len(ts) == 14
    page = next(e for k, t, e in entries if e["url"] == PAGE_URL)
    assert (page["mime"], page["status"]) == ("text/html", "200")
    assert ("com,example)/news/story?a=1&b=2", "20250602100000") in [(k, t) for k, t, _ in entries]


def test_records_gives_the_stored_responses_back(bundle: Path, bodies: dict[str, bytes]) -> None:
    got = []
    for ex in records(bundle):
        body = Path(str(ex.body_path)).read_bytes()
        got.append(ex)
        assert ex.body_sha256 == _sha(body) and ex.body_size == len(body)
        if ex.url == PAGE_URL:
            assert body == bodies["html"]
            assert ex.status == 200 and ex.reason == "OK" and ex.http_version == "HTTP/1.1"
            assert ("Content-Type", "text/html; charset=utf-8") in ex.response_headers
            assert ("User-Agent", "labelcheck-sample/0.1") in ex.request_headers
            assert (ex.address, ex.purpose, ex.error) == ("192.0.2.10", "page", "")
            assert ex.started == "2025-06-02T10:00:00.250000Z"
        if ex.url == BIG_URL:
            assert body == bodies["big"]
    assert [e.url for e in got] == [PAGE_URL, PNG_URL, BIG_URL, "https://cdn.example.com/cut.bin"]
    assert got[-1].error == "truncated: length"
    assert not any(Path(str(e.body_path)).exists() for e in got)


def test_surt_keys_match_pywb() -> None:
    assert surt_key("https://www.Example.com/Path?b=2&a=1#frag") == "com,example)/path?a=1&b=2"
    assert surt_key("http://www2.example.com:80/") == "com,example)/"
    assert surt_key("https://example.com:8443") == "com,example:8443)/"
    assert surt_key("https://wwwx.example.com/") == "com,example,wwwx)/"
    assert surt_key("https://www.example.com/") == surt_key("https://example.com/")
    assert surt_key("urn:labelcheck:report.json") == "urn:labelcheck:report.json"


def test_a_body_changed_since_the_fetch_is_refused(tmp_path: Path, bodies: dict[str, bytes]) -> None:
    ex = _exchange(tmp_path, PAGE_URL, bodies["html"], "text/html")
    Path(str(ex.body_path)).write_bytes(bodies["html"] + b"!")
    with pytest.raises(BundleError, match="not the body fetched"), BundleWriter(tmp_path / "x.wacz", META) as w:
        w.add(ex)
    assert list(tmp_path.iterdir()) == [Path(str(ex.body_path))]  # no bundle, no temp files


# -- signatures -----------------------------------------------------------------------------------------------------


def test_an_ed25519_signature_verifies_and_can_be_pinned(tmp_path: Path, bodies: dict[str, bytes]) -> None:
    key_pem = _ed25519_pem()
    (tmp_path / "operator.key").write_bytes(key_pem)
    path = _write(tmp_path / "signed.wacz", tmp_path, bodies, load_signer(tmp_path / "operator.key"), big=False)
    result = verify(path)
    assert result.ok, result.problems
    assert result.signed and result.signer.startswith("public key sha256:")
    signed = json.loads(_member(path, "datapackage-digest.json"))["signedData"]
    assert signed["signatureAlgorithm"] == "ed25519" and signed["version"] == "0.1.0"
    assert signed["hash"] == "sha256:" + _sha(_member(path, "datapackage.json"))
    assert signed["created"] == json.loads(_member(path, "datapackage.json"))["created"]
    public = serialization.load_pem_private_key(key_pem, None).public_key()
    public_pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert verify(path, trusted=TrustAnchors.from_pem(public_pem)).ok
    stranger = serialization.load_pem_private_key(_ed25519_pem(), None).public_key()
    other = stranger.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert "is not a trusted key" in _problems(path, trusted=TrustAnchors.from_pem(other))


@pytest.mark.parametrize("kind", ["rsa", "ecdsa"])
def test_an_x509_signature_verifies_and_names_the_subject(tmp_path: Path, bodies: dict[str, bytes], kind: str) -> None:
    leaf_key = rsa.generate_private_key(65537, 2048) if kind == "rsa" else ec.generate_private_key(ec.SECP384R1())
    chain, key_pem, ca_pem = _pki(leaf_key)
    (tmp_path / "op.pem").write_bytes(chain)
    (tmp_path / "op.key").write_bytes(key_pem)
    signer = load_signer(tmp_path / "op.key", tmp_path / "op.pem")
    path = _write(tmp_path / "signed.wacz", tmp_path, bodies, signer, big=False)
    result = verify(path, trusted=TrustAnchors.from_pem(ca_pem))
    assert result.ok, result.problems
    assert result.signed and "CN=Sampling Operator 7" in result.signer
    signed = json.loads(_member(path, "datapackage-digest.json"))["signedData"]
    assert signed["signatureAlgorithm"] == {"rsa": "rsa-pkcs1v15-sha256", "ecdsa": "ecdsa-sha256"}[kind]
    assert signed["domainCert"].count("BEGIN CERTIFICATE") == 2 and "publicKey" not in signed
    _, _, other_ca = _pki(ec.generate_private_key(ec.SECP256R1()))
    assert "does not chain to a trusted certificate" in _problems(path, trusted=TrustAnchors.from_pem(other_ca))


def test_a_key_that_is_not_the_certificates_is_refused() -> None:
    chain, _, _ = _pki(ec.generate_private_key(ec.SECP256R1()))
    other = ec.generate_private_key(ec.SECP256R1())
    pem = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(ValueError, match="does not belong"):
        X509Signer(chain, pem)
    with pytest.raises(ValueError, match="Ed25519"):
        Ed25519Signer(pem)


def test_an_unsigned_bundle_fails_when_a_signer_is_required(bundle: Path) -> None:
    assert "not signed" in _problems(bundle, trusted=TrustAnchors())


# -- one changed byte -----------------------------------------------------------------------------------------------


def test_one_byte_changed_in_a_warc_payload(bundle: Path, tmp_path: Path) -> None:
    warc = _member(bundle, "archive/data.warc.gz")
    page = next(e for _, _, e in _index(bundle) if e["url"] == PAGE_URL)
    start, end = int(page["offset"]), int(page["offset"]) + int(page["length"])
    record = gzip.decompress(warc[start:end]).replace(b"hello", b"jello")
    tampered = warc[:start] + gzip.compress(record) + warc[end:]
    plain = _problems(_rewrite(bundle, tmp_path / "a.wacz", {"archive/data.warc.gz": tampered}))
    assert "archive/data.warc.gz: sha256 is sha256:" in plain and ", datapackage.json says sha256:" in plain
    fixed = _problems(_rehashed(bundle, tmp_path / "b.wacz", {"archive/data.warc.gz": tampered}))
    assert f"archive/data.warc.gz: response record of {PAGE_URL} at offset {start}: payload digest failed" in fixed


def test_one_byte_changed_in_the_stored_zip_bytes(bundle: Path, tmp_path: Path) -> None:
    data = bytearray(bundle.read_bytes())
    with zipfile.ZipFile(bundle) as zf:
        info = zf.getinfo("archive/data.warc.gz")
    data[info.header_offset + 30 + len(info.filename) + 1_000_000] ^= 0x01  # inside the 5 MB body's gzip member
    (tmp_path / "c.wacz").write_bytes(bytes(data))
    assert "archive/data.warc.gz: " in _problems(tmp_path / "c.wacz")


def test_one_byte_changed_in_the_cdxj(bundle: Path, tmp_path: Path) -> None:
    cdx = _member(bundle, "indexes/index.cdx")
    offset = next(e["offset"] for _, _, e in _index(bundle) if e["url"] == PNG_URL)
    tampered = cdx.replace(f'"offset": "{offset}"'.encode(), f'"offset": "{int(offset) + 1}"'.encode())
    assert len(tampered) == len(cdx) and tampered != cdx
    plain = _problems(_rewrite(bundle, tmp_path / "a.wacz", {"indexes/index.cdx": tampered}))
    assert "indexes/index.cdx: sha256 is" in plain
    fixed = _problems(_rehashed(bundle, tmp_path / "b.wacz", {"indexes/index.cdx": tampered}))
    assert f"offset {int(offset) + 1} does not start a record of archive/data.warc.gz" in fixed
    assert f"response record of {PNG_URL} at offset {offset} is not in indexes/index.cdx" in fixed


def test_one_byte_changed_in_the_datapackage(bundle: Path, tmp_path: Path) -> None:
    raw = _member(bundle, "datapackage.json")
    tampered = raw.replace(b"Market Surveillance Unit 3", b"Market Surveillance Unit 4")
    problems = _problems(_rewrite(bundle, tmp_path / "a.wacz", {"datapackage.json": tampered}))
    assert "datapackage-digest.json: hash sha256:" in problems and "is not that of datapackage.json" in problems


def test_a_re_hashed_datapackage_breaks_the_signature(tmp_path: Path, bodies: dict[str, bytes]) -> None:
    path = _write(tmp_path / "s.wacz", tmp_path, bodies, Ed25519Signer(_ed25519_pem()), big=False)
    raw = _member(path, "datapackage.json").replace(b"Market Surveillance Unit 3", b"Market Surveillance Unit 4")
    digest = json.loads(_member(path, "datapackage-digest.json"))
    digest["hash"] = "sha256:" + _sha(raw)
    changes = {"datapackage.json": raw, "datapackage-digest.json": json.dumps(digest).encode()}
    problems = _problems(_rewrite(path, tmp_path / "t.wacz", changes))
    assert "signedData.hash" in problems and "is not the hash of datapackage.json" in problems


def test_one_byte_changed_in_the_signature(tmp_path: Path, bodies: dict[str, bytes]) -> None:
    for n, signer in enumerate(
        [Ed25519Signer(_ed25519_pem()), X509Signer(*_pki(rsa.generate_private_key(65537, 2048))[:2])]
    ):
        path = _write(tmp_path / f"s{n}.wacz", tmp_path, bodies, signer, big=False)
        digest = json.loads(_member(path, "datapackage-digest.json"))
        signature = bytearray(base64.b64decode(digest["signedData"]["signature"]))
        signature[5] ^= 0x01
        digest["signedData"]["signature"] = base64.b64encode(bytes(signature)).decode()
        tampered = _rewrite(path, tmp_path / f"t{n}.wacz", {"datapackage-digest.json": json.dumps(digest).encode()})
        assert "datapackage-digest.json: signedData.signature does not verify with the embedded key (" in _problems(
            tampered
        )
        assert verify(tampered).signed and verify(tampered).signer


# -- refused unread -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../evil.txt", "/etc/cron.d/evil", "pages/../../evil", "C:/evil.txt"])
def test_a_path_that_climbs_out_is_refused(tmp_path: Path, name: str) -> None:
    path = tmp_path / "bad.wacz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("datapackage.json", "{}")
        zf.writestr(zipfile.ZipInfo(name), b"x")
    result = verify(path)
    assert not result.ok and result.problems == (
        f"bad.wacz: entry {name!r} is an absolute path or climbs out with ..: refused",
    )
    with pytest.raises(ValueError, match="refused"):
        next(records(path))


def test_a_zip_bomb_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.wacz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf, zf.open("pages/pages.jsonl", "w") as fh:
        for _ in range(64):
            fh.write(bytes(1 << 20))
    problems = _problems(path)
    assert "entry 'pages/pages.jsonl' expands" in problems and "(a zip bomb): refused" in problems


def test_limits_refuse_too_many_entries_too_many_bytes_and_a_large_manifest(bundle: Path) -> None:
    assert "5 entries, more than 3: refused" in _problems(bundle, limits=Limits(max_entries=3))
    assert "bytes declared uncompressed, more than 1048576" in _problems(bundle, limits=Limits(max_total_bytes=1 << 20))
    assert "datapackage.json: declares" in _problems(bundle, limits=Limits(max_json_bytes=100))


def test_a_file_that_is_not_a_zip_fails_cleanly(tmp_path: Path) -> None:
    (tmp_path / "x.wacz").write_bytes(b"not a zip at all")
    assert "not a zip file" in _problems(tmp_path / "x.wacz").lower()


def test_a_duplicate_entry_is_refused(bundle: Path, tmp_path: Path) -> None:
    path = tmp_path / "dup.wacz"
    path.write_bytes(bundle.read_bytes())
    with pytest.warns(UserWarning), zipfile.ZipFile(path, "a") as zf:
        zf.writestr("datapackage.json", b"{}")
    assert "appears twice" in _problems(path)


def test_two_fetches_of_one_body_are_two_records(tmp_path: Path, bodies: dict[str, bytes]) -> None:
    ex = _exchange(tmp_path, PAGE_URL, bodies["html"], "text/html")
    path = tmp_path / "two.wacz"
    with BundleWriter(path, META) as w:
        w.add(ex)
        w.add(replace(ex, url=PAGE_URL + "&c=3"))
    assert verify(path).ok
    assert [e.url for e in records(path)] == [PAGE_URL, PAGE_URL + "&c=3"]


def test_exchanges_added_from_several_threads_index_right(tmp_path: Path, bodies: dict[str, bytes]) -> None:
    ex = _exchange(tmp_path, PAGE_URL, bodies["png"], "image/png")
    path = tmp_path / "threads.wacz"
    with BundleWriter(path, META) as writer:

        def fetch(n: int) -> None:
            for k in range(25):
                writer.add(replace(ex, url=f"https://host{n}.example.com/img/{k}.png"))

        threads = [threading.Thread(target=fetch, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    result = verify(path)
    assert result.ok, result.problems[:5]
    assert result.records == 1 + 4 * 25 * 2 and len(_index(path)) == 100


@pytest.mark.parametrize(
    "changes,expected",
    [
        ({"datapackage.json": b'{"resources": "x"}'}, "datapackage.json: resources: 'x' is not of type 'array'"),
        ({"datapackage.json": b"[" * 100_000 + b"]" * 100_000}, "manifest unreadable"),
        ({"datapackage-digest.json": b"\xff\xfe"}, "manifest unreadable"),
        ({"indexes/index.cdx": b"com,example)/ 2025 {not json\n"}, "indexes/index.cdx line 1: not a CDXJ line"),
        ({"extra/notes.txt": b"added later"}, "extra/notes.txt: in the zip but not listed in datapackage.json"),
    ],
)
def test_a_malformed_bundle_fails_with_a_message(
    bundle: Path, tmp_path: Path, changes: dict[str, bytes], expected: str
) -> None:
    path = _rewrite(bundle, tmp_path / "m.wacz", changes)
    if "extra/notes.txt" in changes:
        with zipfile.ZipFile(path, "a") as zf:
            zf.writestr("extra/notes.txt", changes["extra/notes.txt"])
    assert expected in _problems(path)
