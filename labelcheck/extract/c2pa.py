"""C2PA extractor: c2pa-python's Reader with explicit settings, flattened into typed manifests (never judges)."""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import c2pa

from .. import resources
from ..classify.vocab import (
    ACTIONS_ASSERTIONS,
    AI_DISCLOSURE_ASSERTIONS,
    AI_DISCLOSURE_FIELDS,
    METADATA_ASSERTIONS,
    TRAINING_ASSERTIONS,
    VENDOR_SOURCE_TYPE_PARAMS,
)
from ..inputs.media import MediaType
from ..model import C2paAction, C2paIngredient, C2paManifest, C2paStore, ToolError, TrainingEntry
from . import carriers
from .sidecar import MANIFEST_MAX_BYTES, beside

_REMOTE_URL = re.compile(r"(https?://\S+)")
_SUFFIX = re.compile(r"__\d+$")

# Formats c2pa-rs reads; others are reported as "cannot verify" without calling it.
_MIME_ALIASES = {"audio/wav": "audio/wav", "video/quicktime": "video/quicktime", "image/heif": "image/heif"}


@dataclass(frozen=True)
class C2paSettings:
    allow_network: bool = False
    trust_anchors: tuple[str, ...] = ()  # extra PEM files given by the user
    trust_list: str | None = None  # replaces the bundled official list; "" disables it

    def anchors_pem(self) -> str:
        paths = [] if self.trust_list == "" else [self.trust_list or str(resources.trust_list_pem())]
        paths.extend(self.trust_anchors)
        return "\n".join(Path(p).read_text(encoding="ascii") for p in paths)


def make_context(settings: C2paSettings) -> c2pa.Context:
    """A reader context: remote fetching and OCSP only with network use allowed; anchors = list + user's."""
    conf: dict[str, Any] = {
        "verify": {
            "remote_manifest_fetch": settings.allow_network,
            "ocsp_fetch": settings.allow_network,
            "verify_trust": True,
        },
    }
    pem = settings.anchors_pem()
    if pem.strip():
        conf["trust"] = {"trust_anchors": pem}
    return c2pa.Context.from_dict(conf)


@functools.cache
def sdk_version() -> str:
    """The c2pa-rs version underneath (validation rules change between releases)."""
    return str(c2pa.sdk_version())


def supported_mime_types() -> frozenset[str]:
    return frozenset(c2pa.Reader.get_supported_mime_types())


def _agent(value: Any, agents: list[Any], index: Any) -> str | None:
    if value is None and isinstance(index, int) and 0 <= index < len(agents):
        value = agents[index]
    if isinstance(value, dict):
        name = value.get("name")
        version = value.get("version")
        return f"{name} {version}".strip() if name and version else (str(name) if name else None)
    return str(value) if value is not None else None


def _actions(label: str, data: dict[str, Any]) -> list[C2paAction]:
    templates: dict[str, dict[str, Any]] = {}
    for t in data.get("templates") or []:
        if isinstance(t, dict) and isinstance(t.get("action"), str):
            templates[t["action"]] = t
    agents = data.get("softwareAgents") or []
    out = []
    for raw in data.get("actions") or []:
        if not isinstance(raw, dict):
            continue
        a = {**templates.get("*", {}), **templates.get(str(raw.get("action")), {}), **raw}
        params: dict[str, Any] = a["parameters"] if isinstance(a.get("parameters"), dict) else {}
        vendor = next((str(params[k]) for k in VENDOR_SOURCE_TYPE_PARAMS if params.get(k)), None)
        desc = a.get("description") or params.get("description")
        out.append(
            C2paAction(
                action=str(a.get("action", "")),
                source_type=str(a["digitalSourceType"]) if a.get("digitalSourceType") else None,
                vendor_source_type=vendor,
                software_agent=_agent(a.get("softwareAgent"), agents, a.get("softwareAgentIndex")),
                description=str(desc) if desc else None,
                when=str(a["when"]) if a.get("when") else None,
                assertion=label,
            )
        )
    return out


def _training(label: str, data: dict[str, Any]) -> list[TrainingEntry]:
    entries: dict[str, Any] = data["entries"] if isinstance(data.get("entries"), dict) else data
    vocab = _SUFFIX.sub("", label)
    return [
        TrainingEntry("c2pa", vocab, str(k), str(v.get("use")), label)
        for k, v in entries.items()
        if isinstance(v, dict) and "use" in v
    ]


def _metadata_source_types(data: Any, depth: int = 0) -> list[str]:
    """DigitalSourceType values inside metadata assertions (vocab.METADATA_ASSERTIONS)."""
    if depth > 6:
        return []
    found: list[str] = []
    if isinstance(data, dict):
        for k, v in data.items():
            if k.lower().endswith("digitalsourcetype") and isinstance(v, str):
                found.append(v)
            else:
                found.extend(_metadata_source_types(v, depth + 1))
    elif isinstance(data, list):
        for v in data:
            found.extend(_metadata_source_types(v, depth + 1))
    return found


def _disclosure(data: dict[str, Any]) -> str:
    """A c2pa.ai-disclosure in a few words: its named fields, found at any depth (e.g. contentProfile)."""
    found: dict[str, str] = {}

    def walk(v: Any, depth: int = 0) -> None:
        if isinstance(v, dict) and depth < 4:
            for k, x in v.items():
                if k in AI_DISCLOSURE_FIELDS and isinstance(x, (str, int, float)) and k not in found:
                    found[k] = str(x)
                walk(x, depth + 1)

    walk(data)
    return ", ".join(f"{k}={found[k]}" for k in AI_DISCLOSURE_FIELDS if k in found)


def _manifest(label: str, m: dict[str, Any]) -> C2paManifest:
    actions: list[C2paAction] = []
    training: list[TrainingEntry] = []
    meta_dst: list[str] = []
    assertion_labels = []
    payloads: list[tuple[str, str]] = []
    disclosures: list[str] = []
    for a in m.get("assertions") or []:
        alabel = str(a.get("label", ""))
        assertion_labels.append(alabel)
        base = _SUFFIX.sub("", alabel)
        data = a.get("data") if isinstance(a.get("data"), dict) else {}
        if base in ACTIONS_ASSERTIONS:
            actions.extend(_actions(alabel, data))
            payloads.append((alabel, json.dumps(a.get("data"), sort_keys=True)))
        elif base in TRAINING_ASSERTIONS:
            training.extend(_training(alabel, data))
            payloads.append((alabel, json.dumps(a.get("data"), sort_keys=True)))
        elif base in AI_DISCLOSURE_ASSERTIONS:
            disclosures.append(_disclosure(data))
        elif base in METADATA_ASSERTIONS:
            meta_dst.extend(_metadata_source_types(data))
    ingredients = tuple(
        C2paIngredient(
            relationship=str(i.get("relationship", "componentOf")),
            title=i.get("title"),
            active_manifest=i.get("active_manifest"),
            source_type=i.get("digital_source_type") or i.get("digitalSourceType"),
            label=str(i.get("label", "")),
        )
        for i in m.get("ingredients") or []
        if isinstance(i, dict)
    )
    sig = m.get("signature_info") or {}
    signer = " / ".join(str(x) for x in (sig.get("issuer"), sig.get("common_name")) if x) or None
    info = tuple(
        " ".join(str(x) for x in (g.get("name"), g.get("version")) if x)
        for g in m.get("claim_generator_info") or []
        if isinstance(g, dict)
    )
    return C2paManifest(
        label=label,
        claim_generator=m.get("claim_generator"),
        generator_info=info,
        signer=signer,
        signed_at=sig.get("time"),
        title=m.get("title"),
        actions=tuple(actions),
        ingredients=ingredients,
        training=tuple(training),
        metadata_source_types=tuple(meta_dst),
        assertions=tuple(assertion_labels),
        payloads=tuple(payloads),
        ai_disclosures=tuple(disclosures),
    )


def _codes(results: dict[str, Any], kind: str) -> tuple[str, ...]:
    active = results.get("activeManifest") or {}
    return tuple(sorted({str(s.get("code")) for s in active.get(kind) or [] if s.get("code")}))


def store_from_json(
    doc: dict[str, Any], state: str | None, embedded: bool | None, remote: str | None, sidecar: str | None = None
) -> C2paStore:
    manifests = tuple(_manifest(lbl, m) for lbl, m in sorted((doc.get("manifests") or {}).items()))
    results = doc.get("validation_results") or {}
    failures = _codes(results, "failure")
    if not results:  # older stores report only the flat list
        failures = tuple(sorted({str(s.get("code")) for s in doc.get("validation_status") or []}))
    return C2paStore(
        present=True,
        active=doc.get("active_manifest"),
        manifests=manifests,
        validation_state=state,
        failures=failures,
        informational=_codes(results, "informational"),
        remote_url=remote,
        embedded=embedded,
        sidecar=sidecar,
    )


def _reader_mime(media: MediaType, supported: frozenset[str]) -> str | None:
    mime = _MIME_ALIASES.get(media.mime, media.mime)
    return mime if mime in supported else None


def read(
    path: Path, media: MediaType, ctx: c2pa.Context, supported: frozenset[str]
) -> tuple[C2paStore, list[ToolError], str | None]:
    """Read the manifest store of one file (or its sidecar): the store, every failure as a ToolError, and the
    store's JSON as c2pa-rs gave it (None when there was none)."""
    try:
        bare = carriers.no_carrier(path, media)
    except OSError as exc:
        return C2paStore(present=False), [ToolError("c2pa", f"cannot read the file: {exc.strerror or exc}")], None
    if bare and beside(path, ".c2pa") is None:  # a sidecar manifest still goes to c2pa-rs (it reports what it can)
        return C2paStore(present=False, note=bare), [], None
    mime = _reader_mime(media, supported)
    if mime is None:
        return (*carriers.without_reader(media), None)
    return _read_store(path, mime, ctx)


def _read_store(path: Path, mime: str, ctx: c2pa.Context) -> tuple[C2paStore, list[ToolError], str | None]:
    try:
        with open(path, "rb") as stream:
            reader = c2pa.Reader.try_create(mime, stream, context=ctx)
            sidecar = None
            if reader is None:
                side = beside(path, ".c2pa")
                if side is None:
                    return C2paStore(present=False), [], None
                if side.stat().st_size > MANIFEST_MAX_BYTES:
                    why = f"sidecar manifest {side.name} is larger than {MANIFEST_MAX_BYTES >> 20} MB: not read"
                    return C2paStore(present=True, sidecar=str(side)), [ToolError("c2pa", why)], None
                stream.seek(0)
                reader = c2pa.Reader(mime, stream, manifest_data=side.read_bytes(), context=ctx)
                sidecar = str(side)
            with reader:
                text = reader.json()
                store = store_from_json(
                    json.loads(text),
                    reader.get_validation_state(),
                    reader.is_embedded(),
                    reader.get_remote_url(),
                    sidecar,
                )
                return store, [], text
    except c2pa.C2paError as exc:
        msg = str(exc).strip() or type(exc).__name__
        m = _REMOTE_URL.search(msg) if msg.startswith("Remote") else None
        if m:
            note = f"manifest is remote-only ({m.group(1)}); network use is off (use --allow-network)"
            return C2paStore(present=False, remote_url=m.group(1), embedded=False), [ToolError("c2pa", note)], None
        if "NotSupported" in type(exc).__name__ or msg.startswith("NotSupported"):
            why = f"C2PA reader does not support this file: {msg}"
            return C2paStore(present=False), [ToolError("c2pa", why)], None
        # An I/O or container failure says nothing about a manifest, nor does a failure c2pa-rs gave no reason for
        # (a bare C2paError, "Unknown error": e.g. an .mp4 of zeros); any other failure is a broken store.
        unstated = type(exc) is c2pa.C2paError and msg.endswith("Unknown error")
        unreadable_asset = unstated or "Io" in type(exc).__name__ or "asset could not be parsed" in msg
        what = (
            "C2PA reader failed without giving a reason"
            if unstated
            else "file could not be parsed for C2PA"
            if unreadable_asset
            else "manifest store could not be read"
        )
        return C2paStore(present=not unreadable_asset), [ToolError("c2pa", f"{what}: {msg}")], None
    except (OSError, ValueError, RuntimeError) as exc:
        return C2paStore(present=False), [ToolError("c2pa", f"{type(exc).__name__}: {exc}")], None
