"""ca-latent-disclosure: California SB 942 §22757.3(b) latent disclosure in a valid C2PA manifest.

All four must be present in a manifest that validates (Valid or Trusted):
  (A) the provider's name            <- the signer (issuer / common name) or claim generator
  (B) the system's name and version  <- softwareAgent of the c2pa.created action (or of the action with a generative
                                        source type, for altered content; or the opened parent's), with a version
  (C) time and date of creation      <- the action's `when`, or the time of signing (a time-stamp)
  (D) a unique identifier            <- the manifest identifier (urn:c2pa:... / urn:uuid:...)

Options: none.

Pass: a Trusted manifest whose created action names "Example Image Model 1" with `when` set.
Fail: no manifest; an Invalid manifest; a manifest without a time of creation.
Not applicable: not AI content.
"""

from __future__ import annotations

import re
from typing import Any

from ...classify.actions import RANK as AI_RANK
from ...classify.actions import source_type_status
from ...model import AiStatus, C2paAction, C2paManifest, C2paStore, FindingStatus, Outcome, Subject
from . import scope

ID = "ca-latent-disclosure"
OPTIONS: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": {}}
DEFAULTS: dict[str, Any] = {}
MADE = AiStatus.MADE_WITH_AI
MAX_HOPS = 8  # parentOf links followed to the action the AI system did
HOW = (
    "sign the output with C2PA: signer = provider, c2pa.created softwareAgent {name, version}, `when` "
    "(or a trusted time-stamp), and keep the manifest's urn:c2pa identifier"
)


def _system_action(store: C2paStore, m: C2paManifest) -> C2paAction | None:
    """The action the AI system did (SB 942 covers content it created or altered): c2pa.created, else an action whose
    digital source type says generative AI; a manifest that only opened its parent is the parent's (to MAX_HOPS)."""
    for _ in range(MAX_HOPS):
        ai = [a for a in m.actions if (st := source_type_status(a.source_type)) and AI_RANK[st] >= AI_RANK[MADE]]
        found = next((a for a in m.actions if a.action == "c2pa.created"), None) or next(iter(ai), None)
        if found is not None:
            return found
        parent = next((i for i in m.ingredients if i.relationship == "parentOf" and i.active_manifest), None)
        m_next = store.manifest(parent.active_manifest) if parent else None
        if m_next is None:
            return None
        m = m_next
    return None


def check(subject: Subject, options: dict[str, Any]) -> Outcome:
    skip = scope.ai_only(subject)
    if skip:
        return skip
    store = subject.evidence.c2pa
    m = store.manifest(store.active)
    if m is None:
        return Outcome(FindingStatus.FAIL, "AI content without a C2PA manifest: no latent disclosure", HOW)
    if store.validation_state not in ("Valid", "Trusted"):
        return Outcome(
            FindingStatus.FAIL,
            f"the latent disclosure is in a manifest that does not validate "
            f"({store.validation_state}: {', '.join(store.failures)})",
            HOW,
        )
    created = _system_action(store, m)
    agent = created.software_agent if created else None
    fields = {
        "provider name": m.signer or m.claim_generator or (m.generator_info[0] if m.generator_info else None),
        "system name and version": agent if agent and re.search(r"\d", agent) else None,
        "time of creation": (created.when if created else None) or m.signed_at,
        "unique identifier": m.label if m.label.startswith(("urn:", "adobe:urn:", "contentauth:urn:")) else None,
    }
    missing = [k for k, v in fields.items() if not v]
    if missing:
        return Outcome(FindingStatus.FAIL, f"latent disclosure incomplete: {', '.join(missing)} missing", HOW)
    return Outcome(FindingStatus.PASS, "; ".join(f"{k}: {v}" for k, v in fields.items()))
