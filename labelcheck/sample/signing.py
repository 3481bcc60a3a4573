"""The container side of a WACZ bundle: the zip written atomically and opened safely, the files' digests in
datapackage.json, and the operator's signature in datapackage-digest.json (`signedData`, WACZ Signing and Verification
0.1.0), made and checked with `cryptography`.

What is signed: the ASCII bytes of the `hash` string ("sha256:<hex of datapackage.json>"), as the spec and authsign
do. datapackage.json lists every file's sha256 and size and carries `created`, the operator, the policies and the
trust-list date, so this one signature covers the whole bundle. The spec's two forms, as far as they fit an operator:
  anonymous (Ed25519Signer): `publicKey` = base64 of the key's SubjectPublicKeyInfo (DER). Who holds the key is known
      out of band: the operator publishes it and `verify(trusted=...)` pins it.
  certificate (X509Signer): `domainCert` = the PEM chain, leaf first, as the spec has it. The spec's domain form also
      wants `domain`, an RFC 3161 `timeSignature` and `timestampCert`: an operator's certificate needs not name a
      domain and no time-stamp authority is reachable offline, so those are left out and the subject is reported.
Besides the spec's hash, created, software, version ("0.1.0", the signing spec's) and signature, `signatureAlgorithm`
says how it was made: ed25519 | rsa-pkcs1v15-sha256 | ecdsa-sha256 (signature DER-encoded, as authsign's).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from labelcheck import resources

SIGNING_SPEC_VERSION = "0.1.0"
PACKAGE_FILE, DIGEST_FILE = "datapackage.json", "datapackage-digest.json"
READ_ERRORS = (KeyError, ValueError, OSError, EOFError, RecursionError, zipfile.BadZipFile, zlib.error)
CHUNK = 1 << 20
_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----.+?-----END \1-----", re.DOTALL)
_SPKI = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


class Signer(Protocol):
    """Signs the manifest's hash with the operator's key and says how to check it."""

    @property
    def algorithm(self) -> str: ...

    def sign(self, data: bytes) -> bytes: ...

    def identity(self) -> dict[str, str]:
        """`publicKey` or `domainCert` for signedData."""
        ...


_SCHEMES: tuple[tuple[str, tuple[type, ...], tuple[Any, ...]], ...] = (  # name, key types, sign() arguments
    ("ed25519", (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey), ()),
    ("rsa-pkcs1v15-sha256", (rsa.RSAPrivateKey, rsa.RSAPublicKey), (padding.PKCS1v15(), hashes.SHA256())),
    ("ecdsa-sha256", (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey), (ec.ECDSA(hashes.SHA256()),)),
)


def _scheme(key: Any) -> tuple[str, tuple[Any, ...]]:
    """(signatureAlgorithm, the arguments sign() and verify() take after the data) for a private or public key."""
    for name, types, args in _SCHEMES:
        if isinstance(key, types):
            return name, args
    raise ValueError(f"unsupported key type {type(key).__name__}: use Ed25519, RSA or ECDSA")


class Ed25519Signer:
    """An operator's bare Ed25519 key: the spec's anonymous form (`publicKey`)."""

    algorithm = "ed25519"

    def __init__(self, private_key_pem: bytes, password: bytes | None = None) -> None:
        key = serialization.load_pem_private_key(private_key_pem, password)
        if not isinstance(key, ed25519.Ed25519PrivateKey):
            raise ValueError("Ed25519Signer needs an Ed25519 private key (RSA and ECDSA keys come with a certificate)")
        self._key = key

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data)

    def identity(self) -> dict[str, str]:
        return {"publicKey": base64.b64encode(self._key.public_key().public_bytes(*_SPKI)).decode("ascii")}


class X509Signer:
    """An operator's certificate (chain, leaf first) and its private key: RSA, ECDSA (or Ed25519)."""

    def __init__(self, cert_pem_chain: bytes, private_key_pem: bytes, password: bytes | None = None) -> None:
        self._certs = x509.load_pem_x509_certificates(cert_pem_chain)
        self._key: Any = serialization.load_pem_private_key(private_key_pem, password)
        self.algorithm, self._args = _scheme(self._key)
        if self._key.public_key().public_bytes(*_SPKI) != self._certs[0].public_key().public_bytes(*_SPKI):
            raise ValueError("the private key does not belong to the first certificate of the chain")

    def sign(self, data: bytes) -> bytes:
        return bytes(self._key.sign(data, *self._args))

    def identity(self) -> dict[str, str]:
        pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in self._certs)
        return {"domainCert": pem.decode("ascii")}


def load_signer(key_path: Path, cert_path: Path | None = None, password: bytes | None = None) -> Signer:
    """The operator's key (PEM; with its certificate chain when given)."""
    key_pem = Path(key_path).read_bytes()
    if cert_path is not None:
        return X509Signer(Path(cert_path).read_bytes(), key_pem, password)
    return Ed25519Signer(key_pem, password)


def signed_data(signer: Signer, hash_: str, created: str, software: str) -> dict[str, str]:
    """The spec's SignatureData for the manifest hash `hash_` ("sha256:<hex>")."""
    signature = signer.sign(hash_.encode("ascii"))
    return {
        "hash": hash_,
        "created": created,
        "software": software,
        "version": SIGNING_SPEC_VERSION,
        "signatureAlgorithm": signer.algorithm,
        "signature": base64.b64encode(signature).decode("ascii"),
        **signer.identity(),
    }


@dataclass(frozen=True)
class TrustAnchors:
    """Whom verify() trusts: CA (or operator) certificates, and bare public keys (SubjectPublicKeyInfo DER)."""

    certificates: tuple[x509.Certificate, ...] = ()
    public_keys: tuple[bytes, ...] = ()

    @classmethod
    def from_pem(cls, *pems: bytes) -> TrustAnchors:
        certs: list[x509.Certificate] = []
        keys: list[bytes] = []
        for pem in pems:
            for block in _PEM_BLOCK.finditer(pem):
                if block.group(1) == b"CERTIFICATE":
                    certs.append(x509.load_pem_x509_certificate(block.group(0)))
                elif block.group(1) == b"PUBLIC KEY":
                    keys.append(serialization.load_pem_public_key(block.group(0)).public_bytes(*_SPKI))
        return cls(tuple(certs), tuple(keys))

    def holds_key(self, public_key: Any) -> bool:
        spki = public_key.public_bytes(*_SPKI)
        return spki in self.public_keys or any(c.public_key().public_bytes(*_SPKI) == spki for c in self.certificates)

    def anchors(self, chain: list[x509.Certificate]) -> bool:
        """The chain holds a trusted certificate, or its last certificate was issued by one."""
        fingerprints = {c.fingerprint(hashes.SHA256()) for c in self.certificates}
        if any(c.fingerprint(hashes.SHA256()) in fingerprints for c in chain):
            return True
        return any(_issued_by(chain[-1], ca) and _is_ca(ca) for ca in self.certificates)


@dataclass(frozen=True)
class SignatureCheck:
    ok: bool
    signer: str
    problems: tuple[str, ...]


def _issued_by(child: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        child.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _chain_problems(chain: list[x509.Certificate], created: str) -> list[str]:
    where = f"{DIGEST_FILE}: signedData.domainCert"
    problems = []
    for n, (child, issuer) in enumerate(zip(chain, chain[1:], strict=False)):
        if not _issued_by(child, issuer) or not _is_ca(issuer):
            problems.append(f"{where}: certificate {n + 1} is not issued by certificate {n + 2} (a CA) of the chain")
    when = _parse_time(created)
    leaf = chain[0]
    if when is None:
        problems.append(f"{DIGEST_FILE}: signedData.created {created!r} is not an RFC 3339 time")
    elif not leaf.not_valid_before_utc <= when <= leaf.not_valid_after_utc:
        problems.append(f"{where}: the certificate was not valid at {created}")
    return problems


def _parse_time(value: str) -> datetime | None:
    try:
        when = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _embedded_key(signed: dict[str, Any], trusted: TrustAnchors | None) -> tuple[Any, str, list[str]]:
    """(public key, signer, problems) from `domainCert` or `publicKey`."""
    if isinstance(signed.get("domainCert"), str):
        chain = x509.load_pem_x509_certificates(signed["domainCert"].encode("ascii"))
        problems = _chain_problems(chain, str(signed.get("created", "")))
        signer = chain[0].subject.rfc4514_string()
        if trusted is not None and not trusted.anchors(chain):
            problems.append(f"{DIGEST_FILE}: the certificate of {signer} does not chain to a trusted certificate")
        return chain[0].public_key(), signer, problems
    if isinstance(signed.get("publicKey"), str):
        key = serialization.load_der_public_key(base64.b64decode(signed["publicKey"], validate=True))
        signer = "public key sha256:" + hashlib.sha256(key.public_bytes(*_SPKI)).hexdigest()
        untrusted = trusted is not None and not trusted.holds_key(key)
        return key, signer, [f"{DIGEST_FILE}: {signer} is not a trusted key"] if untrusted else []
    raise ValueError("signedData has neither publicKey nor domainCert")


def check_signed_data(signed: Any, manifest_hash: str, created: str, trusted: TrustAnchors | None) -> SignatureCheck:
    """Checks signedData against the hash of datapackage.json as it is and the manifest's `created`."""
    if not isinstance(signed, dict):
        return SignatureCheck(False, "", (f"{DIGEST_FILE}: signedData is not an object",))
    problems: list[str] = []
    if signed.get("hash") != manifest_hash:
        problems.append(f"{DIGEST_FILE}: signedData.hash {signed.get('hash')!r} is not the hash of datapackage.json")
    if signed.get("created") != created:
        problems.append(f"{DIGEST_FILE}: signedData.created {signed.get('created')!r} is not datapackage.json's")
    try:
        key, signer, found = _embedded_key(signed, trusted)
        signature = base64.b64decode(str(signed.get("signature", "")), validate=True)
        algorithm, args = _scheme(key)
        if signed.get("signatureAlgorithm") != algorithm:
            raise ValueError(f"signatureAlgorithm {signed.get('signatureAlgorithm')!r} does not fit a {algorithm} key")
        key.verify(signature, str(signed.get("hash", "")).encode("ascii"), *args)
    except InvalidSignature:
        bad = f"{DIGEST_FILE}: signedData.signature does not verify with the embedded key ({signer})"
        return SignatureCheck(False, signer, (*problems, *found, bad))
    except (ValueError, TypeError, binascii.Error, UnicodeError) as err:
        return SignatureCheck(False, "", (*problems, f"{DIGEST_FILE}: signedData unusable: {err}"))
    problems += found
    return SignatureCheck(not problems, signer, tuple(problems))


@dataclass(frozen=True)
class Limits:
    """What verify() and records() open: more entries, more declared bytes, a deflated entry past 1 MiB expanding more
    than max_ratio times, or a manifest over max_json_bytes, and the file is refused unread."""

    max_entries: int = 1000
    max_total_bytes: int = 64 << 30
    max_json_bytes: int = 32 << 20
    max_ratio: int = 200


def _refusal(infos: list[zipfile.ZipInfo], limits: Limits) -> str:
    names = [i.filename for i in infos]
    total = sum(i.file_size for i in infos)
    if len(infos) > limits.max_entries:
        return f"{len(infos)} entries, more than {limits.max_entries}"
    if total > limits.max_total_bytes:
        return f"{total} bytes declared uncompressed, more than {limits.max_total_bytes} (a zip bomb?)"
    if len(set(names)) != len(names):
        return "an entry name appears twice"
    for i in infos:
        name = i.filename
        if name.startswith(("/", "\\")) or ".." in name.replace("\\", "/").split("/") or ":" in name or "\0" in name:
            return f"entry {name!r} is an absolute path or climbs out with .."
        if i.flag_bits & 1:
            return f"entry {name!r} is encrypted"
        deflated = i.compress_type != zipfile.ZIP_STORED
        if deflated and i.file_size > CHUNK and i.file_size > limits.max_ratio * max(i.compress_size, 1):
            return f"entry {name!r} expands {i.file_size // max(i.compress_size, 1)} times (a zip bomb)"
    return ""


def open_zip(path: Path, limits: Limits) -> zipfile.ZipFile:
    """The bundle's zip once its directory shows it safe to read; ValueError naming what is refused otherwise."""
    zf = zipfile.ZipFile(path)
    if problem := _refusal(zf.infolist(), limits):
        zf.close()
        raise ValueError(f"{Path(path).name}: {problem}: refused")
    return zf


def write_zip(path: Path, files: dict[str, Path], manifests: dict[str, bytes]) -> None:
    """The zip to a temp file beside `path`, synced, then renamed over it: a reader sees the old file or the new whole.
    Gzipped files (the WARC) are STORED, as the WACZ spec asks, so that byte ranges of them stay readable."""
    fd, part = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as raw:
            with zipfile.ZipFile(raw, "w", allowZip64=True) as zf:
                for name, local in files.items():
                    zf.write(local, name, zipfile.ZIP_STORED if name.endswith(".gz") else zipfile.ZIP_DEFLATED)
                for name, data in manifests.items():
                    zf.writestr(name, data, zipfile.ZIP_DEFLATED)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(part, path)
    except BaseException:
        Path(part).unlink(missing_ok=True)
        raise


def sha256_stream(fh: Any, head: bytes = b"") -> tuple[int, str, str]:
    """(size, "sha256:<hex>" of the stream's bytes, the same of head + them), read in chunks."""
    payload, block, size = hashlib.sha256(), hashlib.sha256(head), 0
    while chunk := fh.read(CHUNK):
        payload.update(chunk)
        block.update(chunk)
        size += len(chunk)
    return size, "sha256:" + payload.hexdigest(), "sha256:" + block.hexdigest()


def digest_document(package: bytes, signer: Signer | None, created: str, software: str) -> bytes:
    """datapackage-digest.json for these datapackage.json bytes, signed when a signer is given."""
    digest: dict[str, Any] = {"path": PACKAGE_FILE, "hash": "sha256:" + hashlib.sha256(package).hexdigest()}
    if signer is not None:
        digest["signedData"] = signed_data(signer, digest["hash"], created, software)
    return json.dumps(digest, indent=2).encode("utf-8")


def _read_json(zf: zipfile.ZipFile, name: str, limit: int) -> tuple[bytes, Any]:
    size = zf.getinfo(name).file_size
    if size > limit:
        raise ValueError(f"{name}: declares {size} bytes, more than the {limit} a manifest may have: refused")
    raw = zf.read(name)
    return raw, json.loads(raw)


@dataclass(frozen=True)
class ManifestCheck:
    problems: tuple[str, ...]
    digests_checked: int
    signed: bool
    signer: str


def _file_problems(zf: zipfile.ZipFile, package: dict[str, Any]) -> tuple[list[str], int]:
    """Each listed file's sha256 and size as datapackage.json says; no file the manifest leaves out."""
    problems, listed = [], {PACKAGE_FILE, DIGEST_FILE}
    listing = package.get("resources")
    for res in [r for r in listing if isinstance(r, dict)] if isinstance(listing, list) else []:
        path = str(res.get("path"))
        listed.add(path)
        try:
            with zf.open(path) as fh:
                size, digest, _ = sha256_stream(fh)
        except READ_ERRORS as err:
            problems.append(f"{path}: listed in {PACKAGE_FILE} but unreadable: {err}")
            continue
        if digest != res.get("hash"):
            problems.append(f"{path}: sha256 is {digest}, {PACKAGE_FILE} says {res.get('hash')}")
        if size != res.get("bytes"):
            problems.append(f"{path}: {size} bytes, {PACKAGE_FILE} says {res.get('bytes')}")
    problems += [f"{name}: in the zip but not listed in {PACKAGE_FILE}" for name in zf.namelist() if name not in listed]
    return problems, len(listed) - 2


def check_manifest(zf: zipfile.ZipFile, limits: Limits, trusted: TrustAnchors | None) -> ManifestCheck:
    """datapackage.json (its schema, every file's digest) against the zip, and datapackage-digest.json (the hash of
    datapackage.json, the signature) against datapackage.json."""
    try:
        raw, package = _read_json(zf, PACKAGE_FILE, limits.max_json_bytes)
        _, digest = _read_json(zf, DIGEST_FILE, limits.max_json_bytes)
    except READ_ERRORS as err:
        return ManifestCheck((f"manifest unreadable: {err}",), 0, False, "")
    problems = [
        f"{PACKAGE_FILE}: {'/'.join(map(str, e.absolute_path)) or 'top'}: {e.message}"
        for e in resources.validator("wacz-manifest").iter_errors(package)
    ]
    if not isinstance(package, dict) or not isinstance(digest, dict):
        return ManifestCheck((*problems, f"{PACKAGE_FILE} or {DIGEST_FILE} is not a JSON object"), 0, False, "")
    files, checked = _file_problems(zf, package)
    actual = "sha256:" + hashlib.sha256(raw).hexdigest()
    if digest.get("path") != PACKAGE_FILE or digest.get("hash") != actual:
        files.append(f"{DIGEST_FILE}: hash {digest.get('hash')} is not that of {PACKAGE_FILE} ({actual})")
    signed, signer = "signedData" in digest, ""
    if signed:
        sig = check_signed_data(digest["signedData"], actual, str(package.get("created")), trusted)
        files, signer = files + list(sig.problems), sig.signer
    elif trusted is not None:
        files.append(f"{DIGEST_FILE}: not signed, and verify was asked to trust a signer")
    return ManifestCheck((*problems, *files), checked + 1, signed, signer)
