"""C2PA actions as data (c2pa_actions.yaml, read once and validated): what an action, its digitalSourceType and its
ingredient's relationship do to an item's AI status; manifest_status, the classification of one manifest by the table
(pure; provenance.py walks the ingredients). Its precedence:

| base 1 | c2pa.created (creates) with a known type: its status (Adobe's vendor parameter: non_standard)          |
| base 2 | parentOf ingredients (carries_parent), by the resolver or a 2.4 ingredient type: the highest status   |
| base 3 | a type on c2pa.opened (Adobe's parameter for partner models), when no parent says one                 |
| base 4 | the types of metadata assertions (c2pa.metadata and the like)                                         |
| base 5 | com.adobe.generative-ai when no action says AI: alone fully_ai, not specific; on a parent or a stated |
|        | origin, an AI part (generative AI used on an existing asset)                                          |
| base 6 | c2pa.created without a type: unknown, deferred to the generator registry                              |
| parts  | edits_part, adds_component: an AI part makes made_with_ai (fully_ai stays); a possibly-AI one         |
|        | possibly_ai when nothing says more; a human one turns an inherited (base 2, 3) fully_ai made_with_ai  |
| last   | c2pa.ai-disclosure when the result is below made_with_ai: fully_ai, not specific                      |
carries_parent, enhances, removes and metadata_only change nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from .. import resources
from ..model import AiStatus, Basis, C2paAction, C2paIngredient, C2paManifest
from .precedence import ENHANCEMENT_NOTE
from .vocab import ENHANCED_TERM as ENHANCED
from .vocab import IPTC_DST_PREFIXES

TABLE = Path(__file__).with_name("c2pa_actions.yaml")
GENERATOR_REGISTRY = "generator-registry"  # who may decide what the table cannot (Verdict.deferred)
VENDOR_GENAI = "com.adobe.generative-ai"
RANK = {s: n for n, s in enumerate(reversed(AiStatus))}  # unknown 0, not_ai 1, ..., fully_ai 4
# What a changed or placed part adds: an AI part, a possibly-AI part, else (no or a human type) a human part.
_PART = {s: AiStatus.MADE_WITH_AI if RANK[s] > 2 else s for s in AiStatus if RANK[s] > 1}
Resolver = Callable[[C2paIngredient], "Verdict | AiStatus | None"]  # an ingredient's manifest's status, or None
_RELATIONSHIPS = {"parentof": "parentOf", "componentof": "componentOf", "inputto": "inputTo"}


class EffectKind(str, Enum):
    CREATES = "creates"
    EDITS_PART = "edits_part"
    CARRIES_PARENT = "carries_parent"
    ADDS_COMPONENT = "adds_component"
    METADATA_ONLY = "metadata_only"
    REMOVES = "removes"
    ENHANCES = "enhances"


@dataclass(frozen=True)
class Effect:
    kind: EffectKind
    action: str  # the table's name for the action; "*" when it took the default rows
    source_type: str | None  # the term as normalised (an unknown value as given); None when absent
    relationship: str  # parentOf | componentOf | inputTo | none (an unknown value as given)
    reason: str
    sources: tuple[str, ...]
    status: AiStatus | None = None  # the row's fixed outcome (c2pa.created without a type: unknown)
    known: bool = True  # False: a name the table does not list (the default rows: report it as ambiguous)


@dataclass(frozen=True)
class Verdict:
    status: AiStatus
    basis: Basis
    reason: str
    specific: bool = True  # says which of the two AI labels (a type), not only "AI"
    deferred: str | None = None  # who may decide what the table cannot (GENERATOR_REGISTRY)


class _Row(NamedTuple):
    source_type: str
    relationship: str
    effect: EffectKind
    reason: str
    sources: tuple[str, ...]
    status: AiStatus | None


class _Table(NamedTuple):
    terms: Mapping[str, tuple[str, str, AiStatus]]  # any spelling -> (term, class, status)
    actions: Mapping[str, tuple[_Row, ...]]  # "*": the default rows
    aliases: Mapping[str, str]
    ingredients: Mapping[str, _Row]
    vendor: Mapping[str, Mapping[str, Any]]


def _rows(raw: list[dict[str, Any]], sources: list[str]) -> tuple[_Row, ...]:
    out = []
    for r in raw:
        st, src = AiStatus(r["status"]) if "status" in r else None, tuple(r.get("sources", sources))
        out.append(_Row(r["source_type"], r["relationship"], EffectKind(r["effect"]), r["reason"], src, st))
    return tuple(out)


@cache
def _table() -> _Table:
    """The table, read once; a file other than the bundled one (resources.bundled) is checked against
    schemas/c2pa-actions-table.schema.json first (ValueError names the place)."""
    doc = resources.read_yaml(TABLE)
    if not resources.bundled(TABLE) and (error := resources.schema_error("c2pa-actions-table", doc)):
        raise ValueError(f"{TABLE.name}: {error}")
    terms: dict[str, tuple[str, str, AiStatus]] = {}
    for t in doc["source_types"]:
        names = (t["term"], t["term"][0].upper() + t["term"][1:] + "DigitalSource", t["schema_org"])
        terms.update((n, (t["term"], t["class"], AiStatus(t["status"]))) for n in names if n)
    actions = {name: _rows(a["rows"], a["sources"]) for name, a in doc["actions"].items()}
    actions["*"] = _rows(doc["default"]["rows"], doc["default"]["sources"])
    aliases = {alias: name for name, a in doc["actions"].items() for alias in a.get("aliases", ())}
    ingredients = {i["relationship"]: _rows([{**i, "source_type": "*"}], i["sources"])[0] for i in doc["ingredients"]}
    return _Table(terms, actions, aliases, ingredients, {v["name"]: v for v in doc["vendor"]})


def prepare() -> None:
    """Read the table now rather than at the first action judged."""
    _table()


def normalise_relationship(value: str | None) -> str:
    """parentOf | componentOf | inputTo in any case or separator; "none" when absent; an unknown value as given."""
    v = (value or "").strip()
    return _RELATIONSHIPS.get(v.replace("_", "").replace("-", "").lower(), v) if v else "none"


def source_type_term(value: str | None) -> str | None:
    """The term of a source type in any spelling (http or https URI, QCode, bare term, 1.4's c2pa. form, schema.org
    name); None when absent; a value outside the vocabularies comes back as given (trimmed)."""
    v = (value or "").strip()
    prefix = next((p for p in IPTC_DST_PREFIXES if v.startswith(p)), "")
    v = v[len(prefix) :].rstrip("/") if prefix else v
    return _table().terms.get(v, (v or None,))[0]


def source_type_status(uri_or_term: str | None) -> AiStatus | None:
    """What a source type says of a whole asset; None when absent or not a term of the vocabularies."""
    found = _table().terms.get(source_type_term(uri_or_term) or "")
    return found[2] if found else None


def effect(action: str, source_type: str | None = None, relationship: str | None = None) -> Effect:
    """The table's row for an action, its source type (any spelling, or None) and the relationship of the
    ingredient it acts on (or None). A name the table does not list takes the default rows: its type decides, and
    without one the status is carried (known=False: report it as ambiguous)."""
    table = _table()
    name = table.aliases.get(action.strip(), action.strip())  # 1.4's c2pa.font.* are font.*
    known = name in table.actions and name != "*"
    term, rel = source_type_term(source_type), normalise_relationship(relationship)
    found = table.terms.get(term or "")
    cls = found[1] if found else "none" if term is None else "unrecognised"

    def score(r: _Row) -> int:  # a term beats a class or `none`, which beat `*`; then the relationship
        st = r.source_type
        s = 0 if st == "*" else 2 if (st == "none" and term is None) or st == f"@{cls}" else 3 if st == term else -99
        return 2 * s + (0 if r.relationship == "*" else 1 if r.relationship == rel else -99)

    row = max(table.actions[name if known else "*"], key=score)  # the first of equals
    return Effect(row.effect, name if known else "*", term, rel, row.reason, row.sources, row.status, known)


def ingredient_effect(relationship: str | None) -> Effect:
    """What an ingredient does by its relationship; one without a known relationship counts as a component (the
    extractor's default for a missing one), with known=False."""
    rel, ingredients = normalise_relationship(relationship), _table().ingredients
    row = ingredients.get(rel, ingredients["componentOf"])
    return Effect(row.effect, "*", None, rel, row.reason, row.sources, None, rel in ingredients)


def _created(m: C2paManifest, a: C2paAction, status: AiStatus | None, basis: Basis, said: str) -> Verdict:
    if status is not None and status is not AiStatus.UNKNOWN:
        return Verdict(status, basis, said)
    if a.source_type or a.vendor_source_type:
        return Verdict(AiStatus.UNKNOWN, basis, f"{said}: not a term of the IPTC or C2PA vocabularies")
    named = {"claim generator": m.claim_generator or ", ".join(m.generator_info), "softwareAgent": a.software_agent}
    named["description"] = repr(a.description) if a.description else None
    who = "; ".join(f"{k} {v}" for k, v in named.items() if v)
    why = f"c2pa.created without a digitalSourceType ({who}): the table cannot say; left to the generator registry"
    return Verdict(AiStatus.UNKNOWN, Basis.NONE, why, deferred=GENERATOR_REGISTRY)


def manifest_status(m: C2paManifest, resolve: Resolver) -> Verdict | None:
    """The AI status one manifest declares by the table (precedence: the module's docstring); `resolve` gives the
    status of an ingredient's manifest (None when it has none); provenance.walk gives one that follows a store."""
    created = named = parent = enhanced = None
    parts: list[Verdict] = []
    for a in m.actions:
        dst = a.source_type or a.vendor_source_type
        basis = Basis.NON_STANDARD if dst and not a.source_type else Basis.STANDARD
        e = effect(a.action, dst)
        status = e.status or source_type_status(dst)
        said = a.action + (f" dst={e.source_type}" if dst else "") + (" (vendor)" if dst and not a.source_type else "")
        if enhanced is None and (e.kind is EffectKind.ENHANCES or e.source_type == ENHANCED):
            enhanced = Verdict(AiStatus.NOT_AI, basis, f"{said}: {ENHANCEMENT_NOTE}")
        if e.kind is EffectKind.CREATES and created is None:
            created = _created(m, a, status, basis, said)
        elif e.kind is EffectKind.EDITS_PART or (e.kind is EffectKind.ADDS_COMPONENT and status is not None):
            parts.append(Verdict(_PART.get(status or AiStatus.UNKNOWN, AiStatus.NOT_AI), basis, said))
        elif e.action == "c2pa.opened" and status is not None and named is None:  # the opened asset's type
            named = Verdict(status, basis, said)
    types = (source_type_status(a.source_type or a.vendor_source_type) for a in m.actions)
    said_ai = any(t is not None and RANK[t] >= RANK[AiStatus.POSSIBLY_AI] for t in types)
    for ing in m.ingredients:
        e = ingredient_effect(ing.relationship)
        sub = resolve(ing)
        sub = Verdict(sub, Basis.STANDARD, f"its manifest says {sub.value}") if isinstance(sub, AiStatus) else sub
        if (sub is None or sub.status is AiStatus.UNKNOWN) and (own := source_type_status(ing.source_type)):
            sub = Verdict(own, Basis.STANDARD, f"ingredient dst={source_type_term(ing.source_type)}")
        if sub is None or sub.status is AiStatus.UNKNOWN:
            continue
        where = f"{e.relationship} ingredient '{ing.title or ing.label}': {sub.reason}"
        if e.kind is EffectKind.CARRIES_PARENT and (parent is None or RANK[sub.status] > RANK[parent.status]):
            parent = Verdict(sub.status, sub.basis, where, sub.specific)
        elif e.kind is EffectKind.ADDS_COMPONENT:
            parts.append(Verdict(_PART.get(sub.status, AiStatus.NOT_AI), sub.basis, where, sub.specific))
    meta = next((Verdict(s, Basis.STANDARD, f"metadata assertion dst={source_type_term(d)}")
                 for d in m.metadata_source_types if (s := source_type_status(d)) is not None), None)  # fmt: skip
    base = (created if created and created.status is not AiStatus.UNKNOWN else None) or parent or named or meta
    if VENDOR_GENAI in {x.split("__")[0] for x in m.assertions} and not said_ai:
        vendor, said = _table().vendor[VENDOR_GENAI], f"vendor assertion {VENDOR_GENAI} (non-standard)"
        on_parent = any(ingredient_effect(i.relationship).kind is EffectKind.CARRIES_PARENT for i in m.ingredients)
        if base is not None or on_parent:  # generative AI used on an existing asset
            parts.append(Verdict(AiStatus(vendor["with_parent"]), Basis.NON_STANDARD, said, False))
        elif base is None:
            base = Verdict(AiStatus(vendor["with_inception"]), Basis.NON_STANDARD, said, False)
    verdict = _combined(base or created, parts, base is not None and (base is parent or base is named))
    if enhanced and (verdict is None or RANK[verdict.status] <= RANK[AiStatus.NOT_AI]):  # say why it is not AI
        if verdict is None or verdict.status is not AiStatus.NOT_AI or enhanced.reason.startswith(verdict.reason):
            verdict = enhanced
        else:
            verdict = replace(verdict, reason=f"{verdict.reason}; {enhanced.reason}")
    if not m.ai_disclosures or (verdict is not None and RANK[verdict.status] >= RANK[AiStatus.MADE_WITH_AI]):
        return verdict
    said = "c2pa.ai-disclosure without a type" + "".join(f" ({d})" for d in m.ai_disclosures if d)  # says only "AI"
    return Verdict(AiStatus.FULLY_AI, Basis.STANDARD, said, False)


def _combined(base: Verdict | None, parts: list[Verdict], inherited: bool) -> Verdict | None:
    ai = sorted((p for p in parts if p.status is AiStatus.MADE_WITH_AI), key=lambda p: p.basis is not Basis.STANDARD)
    possible = [p for p in parts if p.status is AiStatus.POSSIBLY_AI]
    human = [p for p in parts if p.status is AiStatus.NOT_AI]
    if base is not None and base.status is AiStatus.FULLY_AI and inherited and human:
        why = f"{base.reason}; then {human[0].reason} (a human part)"
        return Verdict(AiStatus.MADE_WITH_AI, base.basis, why, base.specific)
    if base is not None and RANK[base.status] >= RANK[AiStatus.MADE_WITH_AI]:
        return base
    if ai:
        return Verdict(AiStatus.MADE_WITH_AI, ai[0].basis, f"AI part: {ai[0].reason}", ai[0].specific)
    if possible and (base is None or RANK[base.status] < RANK[AiStatus.POSSIBLY_AI]):
        return Verdict(AiStatus.POSSIBLY_AI, possible[0].basis, f"possibly AI part: {possible[0].reason}")
    return base
