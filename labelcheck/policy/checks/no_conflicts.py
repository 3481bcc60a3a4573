"""no-conflicting-labels: the carriers of one item do not contradict each other.

Options: none.

Pass: C2PA and XMP both say trainedAlgorithmicMedia; only one source declares anything.
Fail: XMP says digitalCapture while the signed manifest says trainedAlgorithmicMedia (the signed
      manifest wins for the AI status, and the contradiction is reported here).
"""

from __future__ import annotations

from typing import Any

from ...model import FindingStatus, Outcome, Subject

ID = "no-conflicting-labels"
OPTIONS: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": {}}
DEFAULTS: dict[str, Any] = {}


def check(subject: Subject, options: dict[str, Any]) -> Outcome:
    conflicts = subject.classification.conflicts
    if not conflicts:
        return Outcome(FindingStatus.PASS, "no conflicting labels")
    return Outcome(
        FindingStatus.FAIL,
        "; ".join(c.message for c in conflicts),
        f"make every carrier say the same: correct {conflicts[0].other.location or conflicts[0].other.source}",
    )
