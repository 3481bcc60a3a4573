"""label-payloads-valid: every label payload the item carries conforms to its JSON Schema.

Each carrier's payload is validated before any rule trusts it: C2PA actions and training-mining
assertions, IPTC DigitalSourceType, TC260 AIGC JSON, PLUS DataMining, TDMRep. A failure names the
schema path (e.g. schemas/labels/aigc.schema.json#/properties/Label/enum).

Options: none.

Pass: every label conforms. Fail: AIGC Label "AIGC" or 1 (a number); a DigitalSourceType URI that is not
in the vocabulary; a C2PA action "c2pa.generated". Not applicable: no labels at all.
"""

from __future__ import annotations

from typing import Any

from ...model import FindingStatus, Outcome, Subject

ID = "label-payloads-valid"
OPTIONS: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": {}}
DEFAULTS: dict[str, Any] = {}


def check(subject: Subject, options: dict[str, Any]) -> Outcome:
    if not subject.labels:
        return Outcome(FindingStatus.NOT_APPLICABLE, "the item carries no label payload")
    bad = [(r, p) for r in subject.labels for p in r.problems]
    if not bad:
        return Outcome(FindingStatus.PASS, f"{len(subject.labels)} label payload(s) conform")
    shown = "; ".join(f"{r.carrier} {r.location}: {p}" for r, p in bad[:3])
    more = f" (+{len(bad) - 3} more)" if len(bad) > 3 else ""
    return Outcome(
        FindingStatus.FAIL,
        f"malformed label: {shown}{more}",
        "rewrite the label with values from the vocabulary (a label that does not parse is not a label)",
    )
