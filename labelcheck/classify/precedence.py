"""Precedence by basis: one table says which statement about AI decides when an item carries several (pure).

Every decision the classifier makes names its rule here; the strongest informative decision decides the item's AI
status. On a tie of rank the carrier order decides (C2PA, then XMP, then the TC260 AIGC field, then any other), then
the more AI involvement. What a decision outranks stays in the report (evidence and conflicts): a denial against a
claim, or two carriers that disagree, is a conflict, never silently resolved.

| rank | rule              | the statement                                                                          |
| ---- | ----------------- | -------------------------------------------------------------------------------------- |
| 6    | c2pa_trusted      | a C2PA manifest signed by a certificate on the trust list, its hash binding intact     |
| 5    | c2pa_valid        | a C2PA manifest with a valid signature and binding, its signer not on the trust list   |
| 4    | c2pa_unverified   | a C2PA manifest whose signature or binding failed, or could not be checked: still the  |
|      |                   | producer's claim, and the report says it failed                                        |
| 3    | standard_metadata | a standard term in the file's own metadata: IPTC DigitalSourceType in XMP, the TC260   |
|      |                   | AIGC implicit label, IPTC PLUS / EU AI Act fields                                      |
| 2    | generator_mark    | a vendor's or generator's own mark: a registered generator named in a software or      |
|      |                   | parameters field or in a manifest without a source type, a vendor's assertion or       |
|      |                   | stream tag, an AI-disclosure header                                                    |
| 2    | watermark         | an invisible watermark decoded from the pixels                                         |
| 2    | sidecar           | a standard term in an XMP sidecar beside the file (it does not travel with the file)   |
| 2    | page              | a standard term on the web page that shows the item (schema.org digitalSourceType in   |
|      |                   | JSON-LD, IPTC fields in HTML meta): it does not travel with the file either            |
| 1    | words             | words: a caption, description or comment, an action's description, a visible label    |
|      |                   | read from the pixels                                                                   |

The basis (standard / non_standard) is reported beside the status: whether the deciding statement used a standard
term. A signed manifest naming a vendor's source type is rank 5 or 6 and non_standard; a policy that requires the
standard term fails it. Enhancement alone (noise reduction, sharpening, upscaling: IPTC algorithmicallyEnhanced, or
an action the actions table calls `enhances`) is not "made with AI-generated work": the EU AI Act, Art. 50(2),
exempts AI in an assistive function for standard editing; the report says so (ENHANCEMENT_NOTE).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model import AiStatus, Basis, Decision


@dataclass(frozen=True)
class Rule:
    name: str
    rank: int
    statement: str


RULES = (
    Rule("c2pa_trusted", 6, "a C2PA manifest signed by a certificate on the trust list, its hash binding intact"),
    Rule("c2pa_valid", 5, "a C2PA manifest with a valid signature and binding, its signer not on the trust list"),
    Rule("c2pa_unverified", 4, "a C2PA manifest whose signature or binding failed or was not checked: still a claim"),
    Rule("standard_metadata", 3, "a standard term in the file's own metadata (IPTC in XMP, TC260 AIGC, IPTC PLUS)"),
    Rule("generator_mark", 2, "a vendor's or generator's own mark (software, parameters, vendor assertion or tag)"),
    Rule("watermark", 2, "an invisible watermark decoded from the pixels"),
    Rule("sidecar", 2, "a standard term in an XMP sidecar beside the file (it does not travel with the file)"),
    Rule("page", 2, "a standard term on the web page that shows the item (JSON-LD, HTML meta), not in the file"),
    Rule("words", 1, "words: a caption, description or comment, an action's description, a visible label"),
)
BY_NAME = {r.name: r for r in RULES}
BY_STATE = {"Trusted": "c2pa_trusted", "Valid": "c2pa_valid"}  # any other state (Invalid, none): c2pa_unverified
CARRIER_ORDER = ("c2pa", "xmp", "aigc")
ENHANCEMENT_NOTE = (
    "enhancement only (algorithmicallyEnhanced: noise reduction, sharpening, upscaling) is not made with "
    "AI-generated work; the EU AI Act, Art. 50(2), exempts AI in an assistive function for standard editing"
)
_RANK = {s: n for n, s in enumerate(reversed(AiStatus))}  # unknown 0 ... fully_ai 4


def c2pa_rule(validation_state: str | None) -> str:
    """The rule of a C2PA manifest by its validation state."""
    return BY_STATE.get(validation_state or "", "c2pa_unverified")


def decision(source: str, status: AiStatus, basis: Basis, reason: str, location: str, rule: str) -> Decision:
    """A decision under one of the table's rules (its rank is the decision's strength)."""
    return Decision(source, status, basis, reason, location, BY_NAME[rule].rank, rule)


def order(d: Decision) -> tuple[int, int, int]:
    """The sort key that puts the deciding statement first: rank, then carrier order, then the more AI."""
    src = CARRIER_ORDER.index(d.source) if d.source in CARRIER_ORDER else len(CARRIER_ORDER)
    return (-d.strength, src, -_RANK[d.status])


def outranks(winner: Decision, other: Decision) -> str:
    """Why `winner` decides over `other`, in words."""
    if winner.strength != other.strength:
        return f"{winner.rule or winner.source} (rank {winner.strength}) outranks {other.rule or other.source} " \
               f"(rank {other.strength})"  # fmt: skip
    if order(winner)[1] != order(other)[1]:
        return f"same rank ({winner.strength}): {winner.source} comes before {other.source}"
    return f"same rank and carrier: {winner.status.value} says more AI involvement than {other.status.value}"
