"""provenance-intact: provenance was not stripped on the way to publication.

Fails when
  - a provenance reference (XMP dcterms:provenance, a remote manifest URL) points to a manifest the item
    no longer carries and that could not be read (stripped, or remote and offline: see --allow-network);
  - the ingredient chain loses its AI declaration: an ingredient's manifest declares AI but the active
    manifest no longer does (a re-signing or transcoding step dropped it).

Options: none.

Pass: a signed file whose AI declaration is carried through its ingredients.
Fail: a JPEG whose APP11 manifest was removed but whose XMP still names the manifest.
Not applicable: no manifest and no provenance reference.
"""

from __future__ import annotations

from typing import Any

from ...classify.classification import classify_manifest
from ...model import AiStatus, FindingStatus, Kind, Outcome, Subject

ID = "provenance-intact"
OPTIONS: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": {}}
DEFAULTS: dict[str, Any] = {}
AI = (AiStatus.FULLY_AI, AiStatus.MADE_WITH_AI)


def check(subject: Subject, options: dict[str, Any]) -> Outcome:
    store = subject.evidence.c2pa
    refs = [s.value for s in subject.evidence.signals if s.kind is Kind.PROVENANCE_REF]
    if store.remote_url:
        refs.append(store.remote_url)
    if not store.manifests:
        if refs:
            return Outcome(
                FindingStatus.FAIL,
                f"the item points to a C2PA manifest ({refs[0]}) that it does not carry and that could "
                "not be read: provenance stripped, or remote and not fetched",
                "deliver the file with its embedded manifest (or fetch it with --allow-network)",
            )
        return Outcome(FindingStatus.NOT_APPLICABLE, "no provenance (no manifest, no reference) to check")
    active = classify_manifest(store, store.active)
    if active is None or active.status not in AI:
        for m in store.manifests:
            if m.label == store.active:
                continue
            v = classify_manifest(store, m.label)
            if v is not None and v.status in AI:
                return Outcome(
                    FindingStatus.FAIL,
                    f"ingredient manifest {m.label} declares {v.status.value} ({v.reason}) but the "
                    "active manifest does not carry that declaration forward",
                    "record the AI ingredient with its relationship (parentOf/componentOf) and "
                    "carry its digitalSourceType into the active manifest",
                )
    return Outcome(FindingStatus.PASS, f"provenance chain of {len(store.manifests)} manifest(s) intact")
