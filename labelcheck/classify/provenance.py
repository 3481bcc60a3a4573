"""The C2PA provenance walk: what a manifest declares about AI, through its ingredients' manifests (pure).

A hostile store is bounded two ways. Depth: at most MAX_DEPTH ingredient links are followed; an ingredient's manifest
below that is not read, and counts as possibly AI (what it declares is unknown, and may be AI), never as nothing.
Breadth: a manifest that several ingredients share (one picture placed twice, at every level) is judged once per
depth, so a walk costs the store's size times MAX_DEPTH, not 2**depth.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model import AiStatus, Basis, C2paIngredient, C2paManifest, C2paStore
from . import vocab

MAX_DEPTH = 32  # ingredient links followed from the active manifest
AI_RANK = {
    AiStatus.FULLY_AI: 4,
    AiStatus.MADE_WITH_AI: 3,
    AiStatus.POSSIBLY_AI: 2,
    AiStatus.NOT_AI: 1,
    AiStatus.UNKNOWN: 0,
}
AI_DISCLOSED = "c2pa.ai-disclosure without a digital source type"  # the reason when only a disclosure says AI
TOO_DEEP = f"provenance chain deeper than {MAX_DEPTH} manifests: not followed further"


@dataclass(frozen=True)
class Verdict:
    status: AiStatus
    reason: str
    basis: Basis
    specific: bool = True  # a source type says which of the two labels; an AI disclosure alone says only "AI"


def _opened_claim(
    status: AiStatus | None, vendor: AiStatus | None, term: str | None, vendor_term: str | None
) -> Verdict | None:
    """What a c2pa.opened action's source type says of the asset it opened (opening is not editing): the standard
    term over a vendor's."""
    if status is not None:
        return Verdict(status, f"c2pa.opened dst={term} (the asset opened)", Basis.STANDARD)
    if vendor is not None:
        return Verdict(vendor, f"c2pa.opened vendor dst={vendor_term} (the asset opened)", Basis.NON_STANDARD)
    return None


def _action_verdicts(m: C2paManifest) -> tuple[Verdict | None, list[Verdict], bool, Verdict | None]:
    """(inception verdict, AI edit verdicts, has human editorial actions, what an opened action says of the asset
    it opened) of one manifest's own actions."""
    inception: Verdict | None = None
    opened: Verdict | None = None
    edits: list[Verdict] = []
    human_edits = False
    for a in m.actions:
        term = vocab.source_type_term(a.source_type)
        status = vocab.source_type_status(a.source_type)
        vendor = vocab.source_type_status(a.vendor_source_type)
        if a.action == "c2pa.opened":
            vendor_term = vocab.source_type_term(a.vendor_source_type)
            opened = opened or _opened_claim(status, vendor, term, vendor_term)
            continue
        if a.action == "c2pa.created" and inception is None:
            if status is not None:
                inception = Verdict(status, f"c2pa.created dst={term}", Basis.STANDARD)
            elif vendor is not None:
                inception = Verdict(
                    vendor,
                    f"c2pa.created vendor dst={vocab.source_type_term(a.vendor_source_type)}",
                    Basis.NON_STANDARD,
                )
            elif term:
                inception = Verdict(AiStatus.UNKNOWN, f"c2pa.created with unrecognised dst={term}", Basis.STANDARD)
            continue
        genai = status in (AiStatus.FULLY_AI, AiStatus.MADE_WITH_AI)
        if genai and a.action in vocab.TRANSLATION_ACTIONS:
            edits.append(
                Verdict(AiStatus.MADE_WITH_AI, f"AI {a.action.split('.')[-1]} ({a.action} dst={term})", Basis.STANDARD)
            )
        elif genai:
            edits.append(Verdict(AiStatus.MADE_WITH_AI, f"AI edit {a.action} dst={term}", Basis.STANDARD))
        elif vendor in (AiStatus.FULLY_AI, AiStatus.MADE_WITH_AI):
            edits.append(
                Verdict(
                    AiStatus.MADE_WITH_AI,
                    f"AI edit {a.action} vendor dst={vocab.source_type_term(a.vendor_source_type)}",
                    Basis.NON_STANDARD,
                )
            )
        elif status is AiStatus.POSSIBLY_AI:
            edits.append(Verdict(AiStatus.POSSIBLY_AI, f"{a.action} dst={term}", Basis.STANDARD))
        elif a.action not in vocab.NON_EDITORIAL_ACTIONS and a.action not in vocab.INCEPTION_ACTIONS:
            human_edits = True
    return inception, edits, human_edits, opened


def _combined(inception: Verdict | None, parent: Verdict | None, edits: list[Verdict], human: bool) -> Verdict | None:
    """One manifest's verdict from its inception (or parent), its AI edits and whether people edited it."""
    base = inception if inception is not None and inception.status is not AiStatus.UNKNOWN else parent
    if base is not None and base.status is AiStatus.FULLY_AI:
        if base is parent and human:
            return Verdict(AiStatus.MADE_WITH_AI, f"{base.reason}; then edited", base.basis, base.specific)
        return base
    ai_edits = [e for e in edits if e.status is AiStatus.MADE_WITH_AI]
    if base is not None and base.status is AiStatus.MADE_WITH_AI:
        return base
    if ai_edits:
        standard = [e for e in ai_edits if e.basis is Basis.STANDARD]
        return (standard or ai_edits)[0]
    possible = [e for e in edits if e.status is AiStatus.POSSIBLY_AI]
    if base is not None and base.status is AiStatus.POSSIBLY_AI:
        return base
    if possible:
        return possible[0]
    if base is not None:
        return base
    return inception  # an unrecognised dst, or None


def _declared_type(ing: C2paIngredient) -> Verdict | None:
    """The ingredient's own digitalSourceType (ingredient.v3, C2PA 2.4), read without its manifest."""
    st = vocab.source_type_status(ing.source_type) if ing.source_type else None
    if st is None:
        return None
    return Verdict(st, f"ingredient dst={vocab.source_type_term(ing.source_type)}", Basis.STANDARD)


class _Walk:
    """One walk over a store: its manifests by label, the verdicts already reached, and whether it was cut short."""

    def __init__(self, store: C2paStore) -> None:
        self.manifests: dict[str, C2paManifest] = {}
        for m in store.manifests:  # the first of a label, as C2paStore.manifest() finds it
            self.manifests.setdefault(m.label, m)
        self.done: dict[tuple[str, int], Verdict | None] = {}
        self.cut = False

    def verdict(self, label: str | None, depth: int, seen: frozenset[str]) -> Verdict | None:
        m = self.manifests.get(label) if label is not None else None
        if m is None or m.label in seen:  # absent, or a cycle (which hashed claims cannot make)
            return None
        key = (m.label, depth)
        if key not in self.done:
            self.done[key] = self._judged(m, depth, seen | {m.label})
        return self.done[key]

    def _ingredient(self, ing: C2paIngredient, depth: int, seen: frozenset[str]) -> Verdict | None:
        declared = _declared_type(ing)
        if ing.active_manifest not in self.manifests or ing.active_manifest in seen:
            return declared
        if depth >= MAX_DEPTH:  # its manifest is there but not read: it may declare AI
            self.cut = True
            return declared or Verdict(AiStatus.POSSIBLY_AI, TOO_DEEP, Basis.STANDARD)
        return self.verdict(ing.active_manifest, depth + 1, seen) or declared

    def _judged(self, m: C2paManifest, depth: int, seen: frozenset[str]) -> Verdict | None:
        inception, edits, human_edits, opened = _action_verdicts(m)
        for dst in m.metadata_source_types:
            st = vocab.source_type_status(dst)
            if st is not None and inception is None:
                inception = Verdict(st, f"metadata assertion dst={vocab.source_type_term(dst)}", Basis.STANDARD)
        parent: Verdict | None = None
        for ing in m.ingredients:
            sub = self._ingredient(ing, depth, seen)
            if sub is None:
                continue
            where = f"{ing.relationship} ingredient '{ing.title or ing.label}'"
            if ing.relationship == "parentOf":
                if parent is None or AI_RANK[sub.status] > AI_RANK[parent.status]:
                    parent = Verdict(sub.status, f"{where}: {sub.reason}", sub.basis, sub.specific)
            elif sub.status in (AiStatus.FULLY_AI, AiStatus.MADE_WITH_AI):
                edits.append(Verdict(AiStatus.MADE_WITH_AI, f"AI {where}: {sub.reason}", sub.basis))
            elif sub.status is AiStatus.POSSIBLY_AI:
                edits.append(Verdict(AiStatus.POSSIBLY_AI, f"{where}: {sub.reason}", sub.basis))
        if opened is not None and (
            parent is None or (opened.basis is Basis.STANDARD and parent.basis is not Basis.STANDARD)
        ):
            parent = opened  # the opened asset's own manifest, when read, says more than the action about it

        verdict = _combined(inception, parent, edits, human_edits)
        if m.ai_disclosures and (verdict is None or AI_RANK[verdict.status] < AI_RANK[AiStatus.MADE_WITH_AI]):
            said = "; ".join(d for d in m.ai_disclosures if d)
            reason = f"{AI_DISCLOSED} ({said})" if said else AI_DISCLOSED
            return Verdict(AiStatus.FULLY_AI, reason, Basis.STANDARD, False)
        return verdict


def walk(store: C2paStore, label: str | None) -> tuple[Verdict | None, bool]:
    """The AI status manifest `label` declares, following its ingredients' manifests (parentOf, componentOf,
    inputTo), and whether the chain went deeper than MAX_DEPTH (then the part below was not read)."""
    w = _Walk(store)
    verdict = w.verdict(label, 0, frozenset())
    return verdict, w.cut


def classify_manifest(store: C2paStore, label: str | None) -> Verdict | None:
    """The AI status one manifest declares, following its ingredients' manifests (parentOf, componentOf, inputTo)."""
    return walk(store, label)[0]


def manifest_declares(store: C2paStore) -> tuple[str, str]:
    """What the active manifest declares, as a status word ("none" when it declares nothing; "ai" when it says AI
    without saying which of the two labels), and why."""
    verdict = classify_manifest(store, store.active)
    if verdict is None or verdict.status is AiStatus.UNKNOWN:
        return "none", verdict.reason if verdict else ""
    return (verdict.status.value if verdict.specific else "ai"), verdict.reason
