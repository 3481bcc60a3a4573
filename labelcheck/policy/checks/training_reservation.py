"""training-reservation: a human work states, machine-readably, whether it may be used for AI training.

Read from CAWG / C2PA training-mining assertions, IPTC PLUS DataMining and W3C TDMRep; a declaration
counts only when it conforms to its schema. Absence is not consent.

Options:
  applies_to: not_ai (works declared human), not_ai_or_unknown (default: also undeclared works, as a
              rights-holder checking their own catalogue), all.
  accept: which declared terms satisfy the rule; default any explicit term (not_allowed, constrained,
          allowed). Narrow it to [not_allowed, constrained] to require an opt-out.

Pass: cawg.training-mining with cawg.ai_training notAllowed; plus:DataMining DMI-PROHIBITED-AIMLTRAINING.
Fail: a human photo with no declaration; a declaration that does not conform (DataMining "no-thanks").
Not applicable: AI content (outside applies_to).
"""

from __future__ import annotations

from typing import Any

from ...model import AiStatus, FindingStatus, Outcome, Subject

ID = "training-reservation"
OPTIONS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "applies_to": {"enum": ["not_ai", "not_ai_or_unknown", "all"]},
        "accept": {
            "type": "array",
            "minItems": 1,
            "uniqueItems": True,
            "items": {"enum": ["not_allowed", "constrained", "allowed"]},
        },
    },
}
DEFAULTS: dict[str, Any] = {"applies_to": "not_ai_or_unknown", "accept": ["not_allowed", "constrained", "allowed"]}
SCOPES = {
    "not_ai": (AiStatus.NOT_AI,),
    "not_ai_or_unknown": (AiStatus.NOT_AI, AiStatus.UNKNOWN),
    "all": tuple(AiStatus),
}
HOW = (
    "declare the terms: a C2PA cawg.training-mining assertion (cawg.ai_training / cawg.ai_generative_training: "
    "notAllowed), or XMP plus:DataMining = http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-AIMLTRAINING"
)


def check(subject: Subject, options: dict[str, Any]) -> Outcome:
    status = subject.classification.status
    if status not in SCOPES[options["applies_to"]]:
        return Outcome(
            FindingStatus.NOT_APPLICABLE, f"the rule covers {options['applies_to']} works; this item is {status.value}"
        )
    records = [r for r in subject.labels if r.kind == "training"]
    bad = [r for r in records if not r.conforms]
    if bad:
        return Outcome(FindingStatus.FAIL, f"the training declaration does not conform: {bad[0].problems[0]}", HOW)
    accepted = [r for r in records if r.declares in options["accept"]]
    if accepted:
        r = accepted[0]
        return Outcome(FindingStatus.PASS, f"training {r.declares} declared in {r.carrier} ({r.location})")
    if records:
        return Outcome(
            FindingStatus.FAIL,
            f"training declared as {records[0].declares}, which this rule does not "
            f"accept ({', '.join(options['accept'])})",
            HOW,
        )
    return Outcome(
        FindingStatus.FAIL,
        "no machine-readable training/data-mining declaration (absence is not consent, but nothing says so)",
        HOW,
    )
