"""cn-implicit-label: China's implicit label (GB 45438-2025, TC260 AIGC) on AI-generated content.

The AIGC field holds JSON with Label in {"1","2","3"} and the producer's ContentProducer and ProduceID;
a platform that redistributes the item (role: propagator) also fills ContentPropagator and PropagateID.

Options:
  role: provider (default) or propagator.

Pass: XMP TC260:AIGC = {"Label": "1", "ContentProducer": "...", "ProduceID": "..."} on an AI image.
Fail: AI content without AIGC; AIGC without ContentProducer; Label "AIGC"; as propagator, empty
      ContentPropagator/PropagateID.
Not applicable: not AI content.
"""

from __future__ import annotations

from typing import Any

from ...classify.classification import parse_aigc
from ...model import FindingStatus, Outcome, Subject
from . import scope

ID = "cn-implicit-label"
OPTIONS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"role": {"enum": ["provider", "propagator"]}},
}
DEFAULTS: dict[str, Any] = {"role": "provider"}
REQUIRED = {
    "provider": ("ContentProducer", "ProduceID"),
    "propagator": ("ContentProducer", "ProduceID", "ContentPropagator", "PropagateID"),
}
HOW = (
    'write XMP TC260:AIGC (namespace http://www.tc260.org.cn/ns/AIGC/1.0/) as JSON: {"Label": "1", '
    '"ContentProducer": <provider code>, "ProduceID": <content id>, "ContentPropagator": "", "PropagateID": ""}'
)


def check(subject: Subject, options: dict[str, Any]) -> Outcome:
    skip = scope.ai_only(subject)
    if skip:
        return skip
    if not scope.can_hold(subject, ["tc260"]):
        return Outcome(
            FindingStatus.FAIL,
            f"this format ({subject.evidence.media_type}) cannot hold the AIGC label",
            "deliver the item in a format that can (JPEG/PNG/WebP XMP, MP3 ID3, MP4 metadata)",
        )
    records = [r for r in subject.labels if r.carrier == "tc260"]
    if not records:
        return Outcome(FindingStatus.FAIL, "AI content without the AIGC implicit label", HOW)
    bad = [r for r in records if not r.conforms]
    if bad:
        return Outcome(FindingStatus.FAIL, f"the AIGC label does not conform: {bad[0].problems[0]}", HOW)
    data = parse_aigc(records[0].value) or {}
    missing = [k for k in REQUIRED[options["role"]] if not str(data.get(k, "")).strip()]
    if missing:
        return Outcome(
            FindingStatus.FAIL,
            f"the AIGC label is incomplete for a {options['role']}: {', '.join(missing)} empty or missing",
            HOW,
        )
    return Outcome(FindingStatus.PASS, f"AIGC Label {data.get('Label')} with {', '.join(REQUIRED[options['role']])}")
