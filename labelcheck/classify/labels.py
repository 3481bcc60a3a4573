"""Label records: each carrier's label payload validated against its JSON Schema, then normalised (pure).

A label that does not conform is kept, with the schema path that failed, but rules do not trust it.
"""

from __future__ import annotations

import json
from typing import Any

from .. import resources
from ..model import Evidence, Kind, LabelRecord, Signal
from . import vocab
from .classification import manifest_declares, own_signals, parse_aigc, tdm_signals, training_use

# Which schema validates which payload.
SCHEMAS = {
    "c2pa.actions": "labels/c2pa-actions",
    "c2pa.actions.v2": "labels/c2pa-actions",
    "cawg.training-mining": "labels/training-mining",
    "c2pa.training-mining": "labels/training-mining",
    "dst": "labels/digital-source-type",
    "aigc": "labels/aigc",
    "plus": "labels/plus-data-mining",
    "tdmrep": "labels/tdmrep",
    "record": "labels/label-record",
}
AIGC_DECLARES = {"1": "ai", "2": "possibly_ai", "3": "possibly_ai"}


def prepare() -> None:
    """Build the payload validators now (jsonschema's import and its schema registry: ~55 ms): a worker does this
    in a thread while its first batch's tools work, rather than after them, on its first payload."""
    for name in sorted(set(SCHEMAS.values())):
        resources.validator(name)


def problems(payload: Any, name: str) -> list[str]:
    """Each way `payload` breaks schema `name`, naming the schema path and the place in the payload."""
    out = []
    for err in sorted(resources.validator(name).iter_errors(payload), key=lambda e: (list(e.absolute_path), e.message)):
        where = "/".join(str(p) for p in err.absolute_path) or "(the value)"
        schema_path = "/".join(str(p) for p in err.absolute_schema_path)
        message = err.message if len(err.message) <= 160 else err.message[:157] + "..."
        out.append(f"{resources.schema_file(name)}#/{schema_path}: {message} at {where}")
    return out


def _base(label: str) -> str:
    return label.split("__")[0]


def _c2pa_records(ev: Evidence) -> list[LabelRecord]:
    store = ev.c2pa
    if not store.manifests:
        return []
    ai_problems: list[str] = []
    records = []
    for m in store.manifests:
        for label, raw in m.payloads:
            data = json.loads(raw)
            found = problems(data, SCHEMAS[_base(label)])
            where = f"{m.label}/{label}"
            if _base(label) in vocab.TRAINING_ASSERTIONS:
                uses = [u for u in (training_use(t) for t in m.training if t.location == label) if u is not None]
                declares = vocab.most_restrictive(uses).value
                if m.label == store.active:
                    records.append(
                        LabelRecord(
                            "c2pa", "training", where, raw[:200], declares, False, True, not found, tuple(found)
                        )
                    )
            else:
                ai_problems += [f"{where}: {p}" for p in found]
    declares, reason = manifest_declares(store)
    specific = "dst=" in reason
    records.insert(
        0,
        LabelRecord(
            "c2pa", "ai", store.active or "", reason, declares, specific, True, not ai_problems, tuple(ai_problems)
        ),
    )
    return records


def _signal_record(s: Signal) -> LabelRecord | None:
    if s.kind is Kind.SOURCE_TYPE:
        status = vocab.source_type_status(s.value)
        found = problems(s.value, SCHEMAS["dst"])
        return LabelRecord(
            "iptc", "ai", s.key, s.value, status.value if status else "none", True, False, not found, tuple(found)
        )
    if s.kind is Kind.AI_SYSTEM and s.key.lower().endswith("aisystemused"):
        found = [] if s.value.strip() else [f"{s.key} is empty"]
        return LabelRecord("iptc", "ai", s.key, s.value, "ai", False, False, not found, tuple(found))
    if s.kind is Kind.AIGC:
        data = parse_aigc(s.value)
        found = problems(data, SCHEMAS["aigc"]) if data is not None else ["the AIGC value is not a JSON object"]
        label = str(data.get("Label", "")) if data else ""
        return LabelRecord(
            "tc260", "ai", s.key, s.value, AIGC_DECLARES.get(label, "ai"), False, False, not found, tuple(found)
        )
    if s.kind is Kind.DATA_MINING:
        found = problems(s.value, SCHEMAS["plus"])
        use = vocab.plus_data_mining(s.value)
        return LabelRecord(
            "plus",
            "training",
            s.key,
            s.value,
            (use.value if use else "unspecified"),
            False,
            False,
            not found,
            tuple(found),
        )
    return None


def _tdm_record(signals: list[Signal]) -> LabelRecord | None:
    tdm = tdm_signals(signals)
    if not tdm:
        return None
    doc = {("policy" if s.key.lower().endswith("policy") else "reservation"): s.value.strip() for s in tdm}
    found = problems(doc, SCHEMAS["tdmrep"])
    declares = {"1": "not_allowed", "0": "allowed"}.get(doc.get("reservation", ""), "unspecified")
    if declares == "not_allowed" and doc.get("policy"):
        declares = "constrained"
    return LabelRecord(
        "tdmrep",
        "training",
        tdm[0].location,
        json.dumps(doc, sort_keys=True),
        declares,
        False,
        False,
        not found,
        tuple(found),
    )


def records(ev: Evidence) -> tuple[LabelRecord, ...]:
    """The label records of one item: the C2PA store, then each metadata label, in signal order."""
    out = _c2pa_records(ev)
    seen: set[tuple[str, str]] = set()
    own = own_signals(ev.signals)
    for s in own:
        rec = _signal_record(s)
        if rec is not None and (rec.carrier, rec.value) not in seen:  # the same label seen by two tools
            seen.add((rec.carrier, rec.value))
            out.append(rec)
    tdm = _tdm_record(own)
    if tdm is not None:
        out.append(tdm)
    return tuple(out)


def record_dict(r: LabelRecord) -> dict[str, Any]:
    return {
        "carrier": r.carrier,
        "kind": r.kind,
        "location": r.location,
        "value": r.value,
        "declares": r.declares,
        "specific": r.specific,
        "signed": r.signed,
        "conforms": r.conforms,
        "problems": list(r.problems),
    }
