"""Evidence -> Classification: what an item declares about AI and training, from the vocabulary tables (pure)."""

from __future__ import annotations

import html
import json
from collections.abc import Iterable

from ..model import (
    AiStatus,
    Basis,
    C2paManifest,
    C2paStore,
    Classification,
    Conflict,
    Decision,
    Evidence,
    Kind,
    Signal,
    Training,
    TrainingEntry,
)
from . import actions, generators, precedence, provenance, visible, vocab
from .precedence import decision
from .provenance import AI_RANK
from .provenance import MAX_DEPTH as MAX_DEPTH  # re-exported: the walk's names as they were here
from .provenance import classify_manifest as classify_manifest
from .provenance import manifest_declares as manifest_declares

STANDARD, MARK, WORDS = "standard_metadata", "generator_mark", "words"  # rules of precedence.RULES


# ---------------------------------------------------------------- C2PA (the walk itself: provenance.py)


def _c2pa_decisions(store: C2paStore) -> tuple[list[Decision], bool]:
    """The C2PA decision, and whether its provenance chain went deeper than provenance.MAX_DEPTH."""
    if not store.present and not store.remote_url:
        return [], False
    rule = precedence.c2pa_rule(store.validation_state)
    if not store.manifests:
        reason = "remote manifest not fetched" if store.remote_url else "manifest store present but unreadable"
        return [decision("c2pa", AiStatus.UNKNOWN, Basis.STANDARD, reason, store.remote_url or "", rule)], False
    verdict, cut = provenance.walk(store, store.active)
    if verdict is None or verdict.deferred == actions.GENERATOR_REGISTRY:  # the table cannot say: names can
        marked = _manifest_marks(store)
        if marked is not None:
            return [marked], cut
    if verdict is None:
        reason = "manifest declares no digital source type"
        return [decision("c2pa", AiStatus.UNKNOWN, Basis.NONE, reason, store.active or "", rule)], cut
    reason = verdict.reason
    if rule == "c2pa_unverified" and verdict.status is not AiStatus.UNKNOWN:  # a claim whose seal did not hold
        reason += f" (manifest {store.validation_state or 'not validated'}: the producer's claim, unproven)"
    return [decision("c2pa", verdict.status, verdict.basis, reason, store.active or "", rule)], cut


def _manifest_fields(m: C2paManifest) -> Iterable[tuple[str, str]]:
    """(carrier, value) of every place in a manifest where a generator names itself or an action is described."""
    if m.claim_generator:
        yield "c2pa.claim_generator", m.claim_generator
    for info in m.generator_info:
        yield "c2pa.claim_generator_info", info
    for a in m.actions:
        if a.software_agent:
            yield "c2pa.softwareAgent", a.software_agent
        if a.description:
            yield "c2pa.action_description", a.description
    for label in m.assertions:
        yield "c2pa.vendor_assertion", label


def _manifest_marks(store: C2paStore) -> Decision | None:
    """A manifest the actions table cannot judge (c2pa.created without a digital source type, or nothing said) that
    names a registered generator (its claim generator, an action's software agent) or says AI in an action's
    description: that claim, non-standard (the standard term is missing), inside a signed manifest. Standard
    metadata outranks it."""
    m = store.manifest(store.active)
    if m is None:
        return None
    for carrier, value in _manifest_fields(m):
        gen = generators.match(carrier, value)
        if gen is not None:
            reason = f"manifest names {gen.product} ({carrier}={value[:80]}) but declares no digital source type"
            return decision("c2pa", AiStatus(gen.default), Basis.NON_STANDARD, reason, store.active or "", MARK)
    for carrier, value in _manifest_fields(m):
        if carrier == "c2pa.action_description" and vocab.AI_PHRASES.search(value):
            status = vocab.disclosure(value)
            reason = f"manifest action says {value[:80]!r} but declares no digital source type"
            return decision("c2pa", status, Basis.NON_STANDARD, reason, store.active or "", WORDS)
    return None


# ---------------------------------------------------------------- metadata


def parse_aigc(value: str) -> dict[str, object] | None:
    """The TC260 AIGC JSON object (also when entity-escaped); None when it does not parse."""
    for candidate in (value, html.unescape(value)):
        try:
            data = json.loads(candidate)
        except (json.JSONDecodeError, TypeError):
            continue
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except json.JSONDecodeError:
                continue
        if isinstance(data, dict):
            return data
    return None


def _metadata_decision(s: Signal) -> Decision | None:
    def said(status: AiStatus, basis: Basis, reason: str, rule: str, source: str = s.source) -> Decision:
        return decision(source, status, basis, reason, s.key, rule)

    if s.kind is Kind.SOURCE_TYPE:
        st = vocab.source_type_status(s.value)
        if st is None:
            return said(AiStatus.UNKNOWN, Basis.STANDARD, f"unrecognised {s.key}={s.value}", STANDARD)
        term = vocab.source_type_term(s.value)
        note = f" ({precedence.ENHANCEMENT_NOTE})" if term == vocab.ENHANCED_TERM else ""
        return said(st, Basis.STANDARD, f"{s.key}={term}{note}", STANDARD)
    if s.kind is Kind.AIGC:
        data = parse_aigc(s.value)
        label = data.get("Label") if data else None
        if isinstance(label, str) and label in vocab.AIGC_LABELS:
            return said(vocab.AIGC_LABELS[label], Basis.STANDARD, f"TC260 AIGC Label={label}", STANDARD, "aigc")
        why = f"AIGC field present but not a conformant TC260 label ({s.value[:80]})"
        return said(AiStatus.FULLY_AI, Basis.NON_STANDARD, why, MARK, "aigc")
    if s.kind is Kind.AI_SYSTEM and s.key.lower().endswith("aisystemused"):
        return said(AiStatus.FULLY_AI, Basis.STANDARD, f"{s.key}={s.value[:80]}", STANDARD)
    if s.kind is Kind.STREAM_LABEL:  # custom stream carriers are not standard labels
        if s.value == "none":  # the carrier is there and names no AI involvement: no declaration
            return said(AiStatus.UNKNOWN, Basis.NONE, f"{s.key}=none", MARK, "stream")
        status = AiStatus(s.value) if s.value in AiStatus._value2member_map_ else AiStatus.FULLY_AI
        return said(status, Basis.NON_STANDARD, f"{s.key}={s.value}", MARK, "stream")
    if s.kind is Kind.AI_DISCLOSURE:  # an expired Internet-Draft: a claim, not a standard label
        disclosed = vocab.ai_disclosure(s.value)
        mode = disclosed.get("mode", "").lower()
        by = ", ".join(f"{k} {disclosed[k]}" for k in ("model", "provider") if disclosed.get(k))
        reason = f"{s.key} mode={mode or '(none given)'}" + (f" ({by[:80]})" if by else "")
        if mode not in vocab.AI_DISCLOSURE_MODES:
            return said(AiStatus.UNKNOWN, Basis.NONE, f"{reason}: not a known mode", MARK)
        return said(vocab.AI_DISCLOSURE_MODES[mode], Basis.NON_STANDARD, reason, MARK)
    if s.kind is Kind.PROVENANCE_REF:
        why = f"manifest reference {s.key}={s.value[:120]} (declaration held elsewhere)"
        return said(AiStatus.UNKNOWN, Basis.STANDARD, why, STANDARD)
    if s.kind is Kind.GENERATOR:
        gen = generators.named_in(s.key, s.value)
        status = vocab.generation(s.value)
        reason = f"generator metadata {s.key}" + (f" ({gen.product})" if gen else "")
        if status is AiStatus.MADE_WITH_AI:
            reason += " (part of an existing picture regenerated: inpainting or outpainting)"
        elif gen is not None and gen.default != AiStatus.FULLY_AI.value:  # the registry: what its output means
            status, reason = AiStatus(gen.default), f"{reason}: its output is {gen.default} by default"
        return said(status, Basis.NON_STANDARD, reason, MARK)
    if s.kind is Kind.VISIBLE_LABEL:
        label = visible.from_place(s.value, s.location)
        if label is None:
            return None
        share = f"letters {label.height_share:.1%} of the shortest side"
        reason = f"visible label {s.value[:60]!r} ({label.phrase_id}, {share})"
        return decision("visible", label.status, Basis.NON_STANDARD, reason, s.location, WORDS)
    if s.kind is Kind.WATERMARK:
        reason = f"invisible watermark {s.key} {s.value!r} ({s.location}): strong evidence where found"
        return said(AiStatus.FULLY_AI, Basis.NON_STANDARD, reason, "watermark", "watermark")
    if s.kind is Kind.AI_TEXT:
        return said(vocab.disclosure(s.value), Basis.NON_STANDARD, f"{s.key}: {s.value[:80]!r}", WORDS)
    if s.kind is Kind.SOFTWARE and (gen := generators.named_in(s.key, s.value)) is not None:
        reason = f"generator software {s.key}={s.value[:80]} ({gen.product}, generator registry)"
        return said(AiStatus(gen.default), Basis.NON_STANDARD, reason, MARK)
    return None


def _detached(s: Signal, d: Decision) -> Decision:
    """A standard term that does not travel with the file (an XMP sidecar beside it, the web page that shows it) is
    evidence of what the file is, never the file's own label: non-standard, and ranked below the file's own terms
    (precedence rules `sidecar`, `page`). Words stay words."""
    where = {vocab.SIDECAR_SOURCE: ("sidecar", "XMP sidecar"), vocab.PAGE_SOURCE: ("page", "on the web page")}
    if s.source not in where or d.rule == WORDS:
        return d
    rule, said = where[s.source]
    basis = Basis.NON_STANDARD if d.basis is Basis.STANDARD else d.basis
    return decision(s.source, d.status, basis, f"{d.reason} ({said}, not in the file)", d.location, rule)


def _specific(d: Decision, source_types: set[Decision]) -> bool:
    """The label distinguishes fully AI-generated from made with AI (a source type, not only 'AI'): a manifest's
    dst, or one of `source_types`, the decisions read from a source-type field in whatever carrier and case."""
    return d.basis is Basis.STANDARD and ("dst=" in d.reason or d in source_types)


# ---------------------------------------------------------------- training


def own_signals(signals: Iterable[Signal]) -> list[Signal]:
    """The signals of the item itself: not those of an XMP sidecar beside it, which never count as its label or
    reservation (they do not travel with the file)."""
    return [s for s in signals if s.source != vocab.SIDECAR_SOURCE]


def tdm_signals(signals: Iterable[Signal]) -> list[Signal]:
    """The TDMRep facts that count: the file's own, or else those of the HTTP headers it was served with (TDMRep:
    the file's metadata overrides the protocol's)."""
    tdm = [s for s in signals if s.kind is Kind.TDM]
    return [s for s in tdm if s.source != "http"] or tdm


def _training_entries(store: C2paStore, signals: tuple[Signal, ...]) -> list[TrainingEntry]:
    entries: list[TrainingEntry] = []
    active = store.manifest(store.active)
    if active is not None:
        entries.extend(active.training)
    signals = tuple(own_signals(signals))
    for s in signals:
        if s.kind is Kind.DATA_MINING:
            entries.append(TrainingEntry(s.source, "plus:DataMining", s.key, s.value, s.location))
    entries += [TrainingEntry(s.source, "tdm", s.key, s.value, s.location) for s in tdm_signals(signals)]
    return entries


def training_use(entry: TrainingEntry) -> Training | None:
    if entry.vocabulary == "plus:DataMining":
        return vocab.plus_data_mining(entry.use)
    if entry.vocabulary == "tdm":
        if entry.key.lower().endswith("reservation"):
            return {"1": Training.NOT_ALLOWED, "0": Training.ALLOWED}.get(entry.use.strip())
        return Training.CONSTRAINED if entry.use.strip() else None  # a policy URL: licensed use only
    return vocab.TRAINING_USE.get(entry.use)


# ---------------------------------------------------------------- together


def _too_deep(winner: Decision, c2pa_said: list[Decision]) -> Conflict:
    """The note that a provenance chain was cut: its unread part may declare more AI than the status shows."""
    said = c2pa_said[0] if c2pa_said else winner
    return Conflict(
        winner,
        said,
        f"c2pa: {provenance.TOO_DEEP}; the manifests below may declare AI that the status found "
        f"({said.status.value}) does not show: check the item's provenance by hand",
    )


def _denial(a: Decision, b: Decision) -> bool:
    """One says no AI and the other says AI (possibly AI included)."""
    lo, hi = sorted((AI_RANK[a.status], AI_RANK[b.status]))
    return lo == AI_RANK[AiStatus.NOT_AI] and hi >= AI_RANK[AiStatus.POSSIBLY_AI]


def _conflicts(winner: Decision, d: Decision, source_types: set[Decision]) -> bool:
    """Whether an outranked decision is reported as a conflict: it says another status in another carrier, or in
    the same field, or it denies what the winner claims (or claims what it denies) anywhere. Two statements that
    both say AI are not a conflict when one only says "AI" (a mark, a TC260 label, an AI disclosure: not which of
    the two labels); two source types that name different ones are."""
    if d.status is winner.status:
        return False
    if _denial(winner, d):
        return True
    both_ai = AI_RANK[d.status] >= 3 and AI_RANK[winner.status] >= 3
    if both_ai and not (_specific(d, source_types) and _specific(winner, source_types)):
        return False
    return d.source != winner.source or d.location == winner.location


def _disagreement(winner: Decision, d: Decision) -> str:
    said = f"{d.source} says {d.status.value} ({d.reason}) but {winner.source} says {winner.status.value} " \
           f"({winner.reason}); "  # fmt: skip
    if d.location == winner.location and d.source == winner.source:
        return said + f"{d.location} holds both, and takes one value: the more AI involvement counts"
    return said + precedence.outranks(winner, d)


def classify(ev: Evidence) -> Classification:
    decisions, cut = _c2pa_decisions(ev.c2pa)
    c2pa_said = list(decisions)
    read = [(s, _detached(s, d)) for s in ev.signals if (d := _metadata_decision(s)) is not None]
    decisions += [d for _, d in read]
    source_types = {d for s, d in read if s.kind is Kind.SOURCE_TYPE}
    decisions.sort(key=precedence.order)
    informative = [d for d in decisions if d.status is not AiStatus.UNKNOWN]
    entries = _training_entries(ev.c2pa, ev.signals)
    uses = [u for u in map(training_use, entries) if u is not None]
    training = vocab.most_restrictive(uses)
    if not informative:
        return Classification(AiStatus.UNKNOWN, Basis.NONE, False, tuple(decisions), (), training, tuple(entries))
    winner = informative[0]
    conflicts = tuple(
        Conflict(winner, d, _disagreement(winner, d)) for d in informative[1:] if _conflicts(winner, d, source_types)
    ) + ((_too_deep(winner, c2pa_said),) if cut else ())
    return Classification(
        winner.status,
        winner.basis,
        _specific(winner, source_types),
        tuple(decisions),
        conflicts,
        training,
        tuple(entries),
    )
