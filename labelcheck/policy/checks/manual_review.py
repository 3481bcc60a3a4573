"""manual-review: a duty that cannot be decided from the file, flagged for a person.

Examples: a deepfake's visible disclosure (EU AI Act Art. 50(4)), China's explicit label (text in a corner
at least 5% of the shortest side, a spoken prompt), California's manifest disclosure. labelcheck reads
metadata, not pixels or speech: it never passes such a duty silently.

Options:
  duty: what a person must verify (required).
  applies_to: the AI statuses it concerns; default fully_ai, made_with_ai.

Manual review: an item whose AI status is in applies_to. Not applicable: any other item.
"""

from __future__ import annotations

from typing import Any

from ...model import FindingStatus, Outcome, Subject

ID = "manual-review"
OPTIONS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["duty"],
    "properties": {
        "duty": {"type": "string", "minLength": 1},
        "applies_to": {
            "type": "array",
            "minItems": 1,
            "uniqueItems": True,
            "items": {"enum": ["fully_ai", "made_with_ai", "possibly_ai", "not_ai", "unknown"]},
        },
    },
}
DEFAULTS: dict[str, Any] = {"applies_to": ["fully_ai", "made_with_ai"]}


def check(subject: Subject, options: dict[str, Any]) -> Outcome:
    status = subject.classification.status.value
    if status in options["applies_to"]:
        return Outcome(FindingStatus.MANUAL_REVIEW, f"cannot be decided from the file ({status}): {options['duty']}")
    return Outcome(FindingStatus.NOT_APPLICABLE, f"the duty concerns {', '.join(options['applies_to'])} items")
