"""label-present: AI content carries a standard machine-readable AI label.

Options:
  carriers: which carriers count (c2pa, iptc, tc260); default all three.
  signed_only: only a signed C2PA manifest counts (default false).

A label counts only when its payload conforms to its schema (see label-payloads-valid).

Pass: a fully-AI image whose C2PA manifest says c2pa.created + trainedAlgorithmicMedia; an image with
      XMP Iptc4xmpExt:DigitalSourceType = .../compositeWithTrainedAlgorithmicMedia.
Fail: a Stable Diffusion PNG whose only declaration is its `parameters` text chunk; an AIGC field whose
      Label is "AIGC" (not a TC260 code).
Not applicable: an item that declares no AI, or declares nothing. Manual review: possibly_ai.
"""

from __future__ import annotations

from typing import Any

from ...classify.vocab import CARRIER_NAMES
from ...model import FindingStatus, Outcome, Subject
from . import scope

ID = "label-present"
OPTIONS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "carriers": {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"enum": ["c2pa", "iptc", "tc260"]}},
        "signed_only": {"type": "boolean"},
    },
}
DEFAULTS: dict[str, Any] = {"carriers": ["c2pa", "iptc", "tc260"], "signed_only": False}
AI_DECLARATIONS = ("fully_ai", "made_with_ai", "ai")


def remediation(carriers: list[str], status: str) -> str:
    term = "trainedAlgorithmicMedia" if status == "fully_ai" else "compositeWithTrainedAlgorithmicMedia"
    ways = {
        "c2pa": f"sign a C2PA manifest whose c2pa.created action carries digitalSourceType "
        f"http://cv.iptc.org/newscodes/digitalsourcetype/{term}",
        "iptc": f"write XMP Iptc4xmpExt:DigitalSourceType = http://cv.iptc.org/newscodes/digitalsourcetype/{term}",
        "tc260": 'write the TC260 AIGC field (XMP TC260:AIGC) as JSON with "Label": "1" and the producer fields',
    }
    return "; or ".join(ways[c] for c in carriers)


def check(subject: Subject, options: dict[str, Any]) -> Outcome:
    skip = scope.ai_only(subject)
    if skip:
        return skip
    carriers = options["carriers"]
    status = subject.classification.status.value
    holdable = scope.can_hold(subject, carriers)
    if not holdable:
        names = ", ".join(CARRIER_NAMES[c] for c in carriers)
        return Outcome(
            FindingStatus.FAIL,
            f"AI content ({status}), and this format ({subject.evidence.media_type}) cannot hold any of "
            f"the accepted carriers ({names})",
            "deliver the item in a format that can carry one of them",
        )
    found = [
        r
        for r in subject.labels
        if r.kind == "ai"
        and r.carrier in carriers
        and r.declares in AI_DECLARATIONS
        and (r.signed or not options["signed_only"])
    ]
    good = [r for r in found if r.conforms]
    if good:
        return Outcome(FindingStatus.PASS, f"{status} declared in {good[0].carrier} ({good[0].location})")
    if found:
        return Outcome(
            FindingStatus.FAIL,
            f"AI content ({status}) whose label does not conform: {found[0].problems[0]}",
            f"fix the label so it conforms; {remediation(holdable, status)}",
        )
    cls = subject.classification
    basis = next((d.reason for d in cls.evidence if d.status is cls.status), "heuristics")  # what decided
    return Outcome(
        FindingStatus.FAIL,
        f"AI content ({status}) without a standard machine-readable label in "
        f"{' / '.join(carriers)}; it is declared only by {basis}",
        remediation(holdable, status),
    )
