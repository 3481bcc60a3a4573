"""The C2PA provenance walk: what a manifest declares about AI, through its ingredients' manifests (pure). Each
manifest is judged by the actions table (actions.manifest_status, c2pa_actions.yaml); this module only follows the
ingredients, within bounds.

A hostile store is bounded two ways. Depth: at most MAX_DEPTH ingredient links are followed; an ingredient's manifest
below that is not read, and counts as possibly AI (what it declares is unknown, and may be AI), never as nothing,
unless the ingredient states its own type. Breadth: a manifest that several ingredients share (one picture placed
twice, at every level) is judged once per depth, so a walk costs the store's size times MAX_DEPTH, not 2**depth.
"""

from __future__ import annotations

from ..model import AiStatus, Basis, C2paIngredient, C2paManifest, C2paStore
from .actions import RANK, Verdict, manifest_status, source_type_status

MAX_DEPTH = 32  # ingredient links followed from the active manifest
AI_RANK = RANK  # unknown 0, not_ai 1, possibly_ai 2, made_with_ai 3, fully_ai 4
TOO_DEEP = f"provenance chain deeper than {MAX_DEPTH} manifests: not followed further"

__all__ = ["AI_RANK", "MAX_DEPTH", "TOO_DEEP", "Verdict", "classify_manifest", "manifest_declares", "walk"]


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
            seen = seen | {m.label}
            self.done[key] = manifest_status(m, lambda ing: self._ingredient(ing, depth, seen))
        return self.done[key]

    def _ingredient(self, ing: C2paIngredient, depth: int, seen: frozenset[str]) -> Verdict | None:
        """The status of an ingredient's manifest; None when it has none (the table then reads its own type)."""
        if ing.active_manifest not in self.manifests or ing.active_manifest in seen:
            return None
        if depth >= MAX_DEPTH:  # its manifest is there but not read: it may declare AI
            self.cut = True
            own = source_type_status(ing.source_type)
            return None if own is not None else Verdict(AiStatus.POSSIBLY_AI, Basis.STANDARD, TOO_DEEP)
        return self.verdict(ing.active_manifest, depth + 1, seen)


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
