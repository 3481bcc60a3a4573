"""Which labels a policy requires of an item, as a plan of carriers (pure: no file is read or written).

A rule's check says what it needs: label-present and label-says-which the IPTC term (or the carriers its options
list), cn-implicit-label the TC260 AIGC field, ca-latent-disclosure a signed C2PA manifest, training-reservation a
reservation (when --training is given), explicit-label a visible wording (with --visible), c2pa-integrity with
require_manifest a C2PA manifest. The IPTC term is always written: it is the label every policy reads. What a
carrier needs that was not given (a certificate, a producer) is a problem of the plan, said before anything is
written."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..policy.load import Policy

STATUSES = ("fully_ai", "made_with_ai")
TRAINING = ("not_allowed", "allowed", "constrained")


@dataclass(frozen=True)
class Plan:
    carriers: tuple[str, ...]  # iptc | tc260 | plus | tdmrep | c2pa | visible, in the order they are applied
    visible_language: str = ""  # the visible wording's language (zh for GB 45438, nl for the creators' policy)
    visible_share: float = 0.05  # the letters' height the policy's explicit-label rules ask (the largest of them)
    problems: tuple[str, ...] = ()  # what the policy needs that the options do not give
    why: tuple[str, ...] = ()  # "rule -> carrier" lines: which rule asked for what


@dataclass(frozen=True)
class Given:
    """What the user gave `label`."""

    status: str
    sign: bool = False  # --sign-cert and --sign-key
    visible: bool = False
    training: str | None = None
    producer: str = ""
    produce_id: str = ""
    language: str = ""  # --language for the visible wording; "" chooses by policy


def _needs(check: str, options: dict[str, object]) -> tuple[str, ...]:
    if check == "label-present":
        listed = options.get("carriers") or ("iptc",)
        wanted = tuple(c for c in ("iptc", "tc260", "c2pa") if c in listed) if isinstance(listed, list) else ("iptc",)
        return ("c2pa",) if options.get("signed_only") else wanted[:1] or ("iptc",)
    return {
        "label-says-which": ("iptc",),
        "cn-implicit-label": ("tc260",),
        "ca-latent-disclosure": ("c2pa",),
        "training-reservation": ("training",),
        "explicit-label": ("visible",),
        "c2pa-integrity": ("c2pa",) if options.get("require_manifest") else (),
    }.get(check, ())


def plan(policies: Iterable[Policy], given: Given) -> Plan:
    asked: dict[str, list[str]] = {"iptc": ["(always)"]}
    language, share = given.language, 0.0
    for p in policies:
        for r in p.rules:
            for need in _needs(r.check, r.options):
                asked.setdefault(need, []).append(f"{p.id}/{r.id}")
            if r.check == "explicit-label":
                asked_share = r.options.get("min_height_share", 0.05)
                share = max(share, float(asked_share) if isinstance(asked_share, int | float) else 0.05)
            if r.check == "explicit-label" and not language:
                phrases = r.options.get("phrases") or ["zh.generated"]
                first = str(phrases[0]) if isinstance(phrases, list) and phrases else "zh.generated"
                language = first.split(".")[0] if not first.startswith("*") else "en"
    if given.training:
        asked.setdefault("training", []).append("--training")
    if given.sign:
        asked.setdefault("c2pa", []).append("--sign-cert")
    if given.visible:
        asked.setdefault("visible", []).append("--visible")
    problems = []
    if "tc260" in asked and not (given.producer and given.produce_id):
        problems.append("the TC260 AIGC label needs --producer and --produce-id (" + ", ".join(asked["tc260"]) + ")")
    if "c2pa" in asked and not given.sign:
        problems.append("a C2PA manifest needs --sign-cert and --sign-key (" + ", ".join(asked["c2pa"]) + ")")
    if "visible" in asked and not given.visible:
        problems.append("a visible label needs --visible (" + ", ".join(asked["visible"]) + ")")
    if "training" in asked and not given.training:
        asked.pop("training")  # a reservation is the creator's choice: written only when --training says which
    order = ("visible", "iptc", "tc260", "training", "c2pa")  # pixels first; the signature binds the final bytes
    usable = {c for c in asked if (c != "c2pa" or given.sign) and (c != "visible" or given.visible)}
    carriers = tuple(c for c in order if c in usable)
    why = tuple(f"{c} <- {', '.join(asked[c])}" for c in carriers)
    return Plan(carriers, language or "en", share or 0.05, tuple(problems), why)
