"""label-says-which: the label says which of the two it is, fully AI-generated or made with AI-generated work.

The creative workers' demand: "AI" alone is not enough. A conforming standard label must carry a digital
source type that distinguishes the two (trainedAlgorithmicMedia vs compositeWithTrainedAlgorithmicMedia,
compositeSynthetic, or an AI edit / AI ingredient in a C2PA manifest).

Options: none.

Pass: C2PA c2pa.created + compositeWithTrainedAlgorithmicMedia ("made with AI-generated work").
Fail: only TC260 AIGC Label "1" (says "AI-generated", not which); only IPTC AISystemUsed.
Not applicable: not AI content.
"""

from __future__ import annotations

from typing import Any

from ...model import FindingStatus, Outcome, Subject
from . import scope
from .label_present import remediation

ID = "label-says-which"
OPTIONS: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": {}}
DEFAULTS: dict[str, Any] = {}
WORDS = {"fully_ai": "fully AI-generated", "made_with_ai": "made with AI-generated work"}


def check(subject: Subject, options: dict[str, Any]) -> Outcome:
    skip = scope.ai_only(subject)
    if skip:
        return skip
    specific = [r for r in subject.labels if r.kind == "ai" and r.conforms and r.specific and r.declares in WORDS]
    if specific:
        r = specific[0]
        return Outcome(FindingStatus.PASS, f"the {r.carrier} label says '{WORDS[r.declares]}' ({r.location})")
    status = subject.classification.status.value
    vague = [r for r in subject.labels if r.kind == "ai" and r.conforms and r.declares == "ai"]
    what = f"the {vague[0].carrier} label says only 'AI'" if vague else "no standard label says which"
    return Outcome(
        FindingStatus.FAIL,
        f"{what}: state 'fully AI-generated' or 'made with AI-generated work'",
        remediation(["c2pa", "iptc"], status),
    )
