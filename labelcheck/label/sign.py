"""The C2PA step of `labelcheck label`: a manifest made with c2pa-python's Builder, signed with the user's certificate.

What the manifest says, by the source and the label asked for (labelcheck's actions table, c2pa_actions.yaml, then
reads that label, basis standard):

- no manifest, fully_ai: c2pa.created with trainedAlgorithmicMedia (creates: the asset is wholly generated).
- no manifest, made_with_ai: an existing work edited with AI: c2pa.opened of the source (a parentOf ingredient
  without a manifest) + c2pa.edited with compositeWithTrainedAlgorithmicMedia (edits_part: an AI part).
- a manifest declaring fully_ai, fully_ai: c2pa.opened of it (carries_parent: opening is not editing, the parent's
  fully_ai stays; its c2pa.created still names the system that made it).
- a manifest declaring fully_ai, made_with_ai: refused. The manifest says the content is wholly generated; made_with_ai
  would need a person's part, which this signature cannot witness (label it fully_ai).
- a manifest declaring less (not_ai, possibly_ai, made_with_ai, or no status), made_with_ai: c2pa.opened of it +
  c2pa.edited with compositeWithTrainedAlgorithmicMedia (an AI part: made_with_ai).
- a manifest declaring less, fully_ai: refused. No action can honestly turn a parent that says otherwise into wholly
  generated content: c2pa.edited with trainedAlgorithmicMedia is an AI part (reads made_with_ai), and a type on
  c2pa.opened stands for the parent only where it declares none and fails the C2PA 2.4 conformance rubric (label it
  made_with_ai).

A label never contradicts the manifest it keeps: the source's manifest is always kept (as the parentOf ingredient,
c2pa-rs carries it and records its validation, a mismatch included), never dropped, and a label that would say the
opposite of it is a SignError that names the label to use. The parent's status is what labelcheck's table reads from
its manifest (classify.provenance).

SB 942 latent disclosure: the created or edited action carries softwareAgent {name: system, version} and `when` (the
time of signing, UTC); the signer is the provider; the manifest label is the identifier; with a time-stamp authority
the signature is time-stamped too. claim_generator_info names labelcheck and its version. With `training`, a
cawg.training-mining assertion gives every entry (cawg.ai_training, cawg.ai_generative_training, cawg.ai_inference,
cawg.data_mining) that use. No thumbnails are embedded.

The output is written to a temporary file beside dst and renamed into place only when it reads back with a manifest;
dst must not exist, src is only read. Only an embedded manifest is kept: a sidecar (NAME.c2pa) is not carried.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import c2pa
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from .. import __version__
from ..classify.provenance import classify_manifest
from ..classify.vocab import TRAINING_USE as VOCAB_TRAINING
from ..extract.c2pa import store_from_json
from ..model import AiStatus

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
FULLY_AI_TYPE = IPTC + "trainedAlgorithmicMedia"
MADE_WITH_AI_TYPE = IPTC + "compositeWithTrainedAlgorithmicMedia"
STATUSES = ("fully_ai", "made_with_ai")
TRAINING_USE = {t.value: word for word, t in VOCAB_TRAINING.items()}  # not_allowed -> notAllowed, as read
TRAINING_ENTRIES = ("cawg.ai_training", "cawg.ai_generative_training", "cawg.ai_inference", "cawg.data_mining")
PARENT = "parent"  # the ingredient's label, named by c2pa.opened's ingredientIds
_CURVES = {"secp256r1": "es256", "secp384r1": "es384", "secp521r1": "es512"}
# Extended key usages a C2PA claim signer may have (C2PA 2.2 §14.5.1): emailProtection, documentSigning, claimSigning.
_SIGNING_EKUS = {
    ExtendedKeyUsageOID.EMAIL_PROTECTION.dotted_string,
    "1.3.6.1.5.5.7.3.36",
    "1.3.6.1.4.1.62558.2.1",
}
_NOT_MEDIA = {"application/c2pa", "application/x-c2pa-manifest-store"}
_BUILDER_SETTINGS = {"builder": {"thumbnail": {"enabled": False}}}
_READER_SETTINGS = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}}


@dataclass(frozen=True)
class SignRequest:
    status: str  # "fully_ai" | "made_with_ai"
    cert_chain: Path  # PEM, leaf first
    key: Path  # PEM private key (ES256/ES384/ES512/PS256/Ed25519 per the key type)
    system: str = "labelcheck"  # the softwareAgent name (the AI system that made the content, as the user says)
    system_version: str = ""  # its version
    training: str | None = None  # "not_allowed" | "allowed" | "constrained": a cawg.training-mining assertion
    tsa_url: str | None = None  # a time-stamp authority
    title: str = ""


@dataclass(frozen=True)
class Signed:
    manifest_label: str  # urn:c2pa:... of the new manifest
    action: str  # c2pa.created, c2pa.edited, or c2pa.opened (a fully_ai parent carried)
    parent_kept: bool  # the source's own manifest kept as a parentOf ingredient
    algorithm: str


class SignError(Exception):
    """Why a file cannot be signed; nothing is left written (dst does not exist, no temporary file remains)."""


@dataclass(frozen=True)
class ManifestPlan:
    """What decide() chose for one source."""

    actions: tuple[dict[str, Any], ...]
    action: str  # the action that states the label
    ingredient: bool  # the source as the parentOf ingredient
    parent_kept: bool


# ---------------------------------------------------------------- credentials


def _load_chain(path: Path) -> list[x509.Certificate]:
    try:
        certs = x509.load_pem_x509_certificates(path.read_bytes())
    except OSError as exc:
        raise SignError(f"cannot read the certificate {path}: {exc.strerror or exc}") from None
    except ValueError:
        raise SignError(f"{path} holds no PEM certificate") from None
    return certs


def _load_key(path: Path) -> Any:
    try:
        return serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise SignError(f"cannot read the key {path}: {exc.strerror or exc}") from None
    except TypeError:
        raise SignError(f"{path} is an encrypted key: give it unencrypted (PEM, PKCS#8)") from None
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise SignError(f"{path} is not a PEM private key: {exc}") from None


def _algorithm(key: Any, path: Path) -> str:
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name in _CURVES:
        return _CURVES[key.curve.name]
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < 2048:
            raise SignError(f"{path}: an RSA key of {key.key_size} bits; C2PA needs at least 2048")
        return "ps256"
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    raise SignError(f"{path}: a {type(key).__name__} key; C2PA signs with EC P-256/384/521, RSA (PS256) or Ed25519")


def _spki(public_key: Any) -> bytes:
    return bytes(public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))


def _subject(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string() or f"serial {cert.serial_number}"


def _check_match(chain: list[x509.Certificate], key: Any, req_key: Path, cert_path: Path) -> None:
    mine = _spki(key.public_key())
    if _spki(chain[0].public_key()) == mine:
        return
    if any(_spki(c.public_key()) == mine for c in chain[1:]):
        raise SignError(f"{cert_path}: the signing certificate must come first in the chain (leaf first)")
    raise SignError(f"the key {req_key} does not match the certificate {_subject(chain[0])} in {cert_path}")


def _check_dates(chain: list[x509.Certificate], now: dt.datetime) -> None:
    for n, cert in enumerate(chain):
        what = "the signing certificate" if n == 0 else f"the chain's certificate {_subject(cert)}"
        start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
        if now < start:
            raise SignError(f"{what} is not yet valid (from {start:%Y-%m-%d %H:%M} UTC)")
        if now > end:
            raise SignError(f"{what} expired on {end:%Y-%m-%d %H:%M} UTC")


def _extension(cert: x509.Certificate, kind: Any) -> Any:
    try:
        return cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def _check_signer_profile(cert: x509.Certificate) -> None:
    """A claim signer (C2PA 2.2 §14.5.1): not a CA, digitalSignature, an extended key usage C2PA accepts, and (when
    issued by another) an authority key identifier; c2pa-rs refuses the others as "the certificate is invalid"."""
    who = _subject(cert)
    basic = _extension(cert, x509.BasicConstraints)
    if basic is not None and basic.ca:
        raise SignError(f"{who} is a CA certificate, not a signing certificate")
    usage = _extension(cert, x509.KeyUsage)
    if usage is None or not usage.digital_signature:
        raise SignError(f"{who} is not a signing certificate: it needs a key usage with digitalSignature")
    if cert.issuer != cert.subject and _extension(cert, x509.AuthorityKeyIdentifier) is None:
        raise SignError(f"{who} lacks the authorityKeyIdentifier extension C2PA requires of an issued certificate")
    eku = _extension(cert, x509.ExtendedKeyUsage)
    oids = {o.dotted_string for o in eku} if eku is not None else set()
    if not oids & _SIGNING_EKUS or ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE.dotted_string in oids:
        raise SignError(
            f"{who} is not a C2PA signing certificate: its extended key usage must name emailProtection, "
            "documentSigning or c2pa-kp-claimSigning (and not anyExtendedKeyUsage)"
        )


def check_credentials(cert_chain: Path, key: Path, now: dt.datetime | None = None) -> str:
    """The signing algorithm (es256, es384, es512, ps256, ed25519) for this certificate chain and key; SignError when
    the key does not match the signing certificate, a certificate is expired or not yet valid, or the first is not a
    C2PA signing certificate."""
    when = now or dt.datetime.now(dt.UTC)
    when = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    chain, private = _load_chain(cert_chain), _load_key(key)
    algorithm = _algorithm(private, key)
    _check_match(chain, private, key, cert_chain)
    _check_dates(chain, when)
    _check_signer_profile(chain[0])
    return algorithm


def supported(mime: str) -> bool:
    """Whether c2pa-rs can embed a manifest in this media type."""
    return mime not in _NOT_MEDIA and mime in set(c2pa.Builder.get_supported_mime_types())


# ---------------------------------------------------------------- what the manifest says


def _parent_status(src: Path, mime: str) -> tuple[bool, AiStatus | None]:
    """Whether the source has an embedded manifest, and the status labelcheck's table reads from it (None: none)."""
    try:
        with open(src, "rb") as fh:
            reader = c2pa.Reader.try_create(mime, fh, context=c2pa.Context.from_dict(_READER_SETTINGS))
            if reader is None:
                return False, None
            with reader:
                store = store_from_json(json.loads(reader.json()), reader.get_validation_state(), True, None)
    except c2pa.C2paError as exc:
        raise SignError(f"the source's C2PA manifest cannot be read, so it cannot be kept: {exc}") from None
    except OSError as exc:
        raise SignError(f"cannot read {src}: {exc.strerror or exc}") from None
    verdict = classify_manifest(store, store.active)
    return True, verdict.status if verdict is not None and verdict.status is not AiStatus.UNKNOWN else None


def has_manifest(src: Path, mime: str) -> bool:
    """Whether the file carries a C2PA manifest, embedded or by a reference to a remote one (whose hash binding a
    write breaks as well). A file c2pa cannot parse (empty, truncated, not what its type says) carries none that
    can be kept: the writer then says what is wrong with it."""
    if not supported(mime):
        return False
    try:
        return _parent_status(src, mime)[0]
    except SignError as exc:
        return "Remote" in str(exc)


def _stated(action: str, source_type: str, req: SignRequest, when: str) -> dict[str, Any]:
    agent = {"name": req.system, **({"version": req.system_version} if req.system_version else {})}
    return {"action": action, "digitalSourceType": source_type, "softwareAgent": agent, "when": when}


def _opened() -> dict[str, Any]:
    return {"action": "c2pa.opened", "parameters": {"ingredientIds": [PARENT]}}


def _refusal(status: str, parent: AiStatus | None) -> str:
    said = parent.value if parent is not None else "no AI status"
    if status == "fully_ai":
        return (
            f"the source's own C2PA manifest declares {said}: labelcheck keeps it as the parent and cannot call the "
            "same content wholly AI-generated over it; label it made_with_ai"
        )
    return (
        f"the source's own C2PA manifest declares {said}: labelcheck keeps it as the parent, and made_with_ai would "
        "say people changed the content, which this signature cannot witness; label it fully_ai"
    )


def decide(status: str, has_manifest: bool, parent: AiStatus | None, req: SignRequest, when: str) -> ManifestPlan:
    """The actions for one source by the module's rule; SignError when the label would contradict its manifest."""
    if status not in STATUSES:
        raise SignError(f"unknown status {status!r}: fully_ai or made_with_ai")
    if status == "fully_ai" and not has_manifest:
        return ManifestPlan((_stated("c2pa.created", FULLY_AI_TYPE, req, when),), "c2pa.created", False, False)
    if status == "fully_ai" and parent is AiStatus.FULLY_AI:
        return ManifestPlan((_opened(),), "c2pa.opened", True, True)
    if status == "made_with_ai" and parent is not AiStatus.FULLY_AI:
        edited = _stated("c2pa.edited", MADE_WITH_AI_TYPE, req, when)
        return ManifestPlan((_opened(), edited), "c2pa.edited", True, has_manifest)
    raise SignError(_refusal(status, parent))


def definition(p: ManifestPlan, req: SignRequest, title: str) -> dict[str, Any]:
    """The manifest definition given to c2pa.Builder."""
    assertions: list[dict[str, Any]] = [{"label": "c2pa.actions.v2", "data": {"actions": list(p.actions)}}]
    if req.training is not None:
        if req.training not in TRAINING_USE:
            raise SignError(f"unknown training use {req.training!r}: not_allowed, allowed or constrained")
        entries = {e: {"use": TRAINING_USE[req.training]} for e in TRAINING_ENTRIES}
        assertions.append({"label": "cawg.training-mining", "data": {"entries": entries}})
    info = [{"name": "labelcheck", "version": __version__}]
    return {"claim_generator_info": info, "title": title, "assertions": assertions}


# ---------------------------------------------------------------- signing


def signer_info(req: SignRequest, algorithm: str) -> c2pa.C2paSignerInfo:
    """What c2pa-python's Signer is made from: the algorithm, the chain, the key and the time-stamp authority."""
    tsa = req.tsa_url.encode() if req.tsa_url else None
    return c2pa.C2paSignerInfo(algorithm.encode(), req.cert_chain.read_bytes(), req.key.read_bytes(), tsa)


def _write(src: Path, tmp: Path, mime: str, spec: dict[str, Any], p: ManifestPlan, req: SignRequest, alg: str) -> None:
    with (
        c2pa.Signer.from_info(signer_info(req, alg)) as signer,
        c2pa.Builder(spec, context=c2pa.Context.from_dict(_BUILDER_SETTINGS)) as builder,
    ):
        if p.ingredient:
            with open(src, "rb") as fh:
                title = req.title or src.name
                builder.add_ingredient({"title": title, "relationship": "parentOf", "label": PARENT}, mime, fh)
        with open(src, "rb") as s, open(tmp, "w+b") as d:
            builder.sign(signer, mime, s, d)


def _label_of(path: Path, mime: str) -> str:
    with open(path, "rb") as fh, c2pa.Reader(mime, fh, context=c2pa.Context.from_dict(_READER_SETTINGS)) as r:
        label = json.loads(r.json()).get("active_manifest")
        if not label or r.get_validation_state() == "Invalid":
            raise SignError(f"the signed file does not read back with a valid manifest ({r.get_validation_state()})")
        return str(label)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def sign(src: Path, dst: Path, mime: str, req: SignRequest) -> Signed:
    """Write dst: src with a C2PA manifest (the module's rule) signed with req's certificate. dst must not exist; it
    is written to a temporary file beside it and renamed into place when complete; src is only read."""
    algorithm = check_credentials(req.cert_chain, req.key)
    if not supported(mime):
        raise SignError(f"C2PA cannot embed a manifest in {mime}")
    if dst.exists():
        raise SignError(f"{dst} exists: it is never overwritten")
    has_manifest, parent = _parent_status(src, mime)
    p = decide(req.status, has_manifest, parent, req, _now())
    manifest_def = definition(p, req, req.title or dst.name)
    try:
        fd, name = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".part", dir=dst.parent)
    except OSError as exc:
        raise SignError(f"cannot write beside {dst}: {exc.strerror or exc}") from None
    os.close(fd)
    tmp = Path(name)
    try:
        try:
            _write(src, tmp, mime, manifest_def, p, req, algorithm)
            label = _label_of(tmp, mime)
        except c2pa.C2paError as exc:
            raise SignError(f"c2pa could not sign {src.name} as {mime}: {exc}") from None
        if dst.exists():
            raise SignError(f"{dst} appeared while it was signed: it is never overwritten")
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)
    return Signed(label, p.action, p.parent_kept, algorithm)
