"""The built-in rule applied until a policy is chosen: AI content must carry a standard machine-readable label."""

from __future__ import annotations

from .model import AiStatus, Basis, Classification, Evidence, Finding, FindingStatus

RULE_ID = "ai-label-standard"
REFERENCE = "EU AI Act Art. 50(2); creators' demand: 'fully AI-generated' or 'made with AI-generated work'"
REMEDIATION = (
    "add a standard label: a signed C2PA manifest whose c2pa.created action carries digitalSourceType "
    "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia (fully AI-generated) or "
    "compositeWithTrainedAlgorithmicMedia (made with AI-generated work), or XMP Iptc4xmpExt:DigitalSourceType "
    "with the same value"
)


def evaluate(ev: Evidence, cls: Classification) -> tuple[Finding, ...]:
    if cls.status not in (AiStatus.FULLY_AI, AiStatus.MADE_WITH_AI):
        msg = (
            "no AI declaration found"
            if cls.status is AiStatus.UNKNOWN
            else f"item declares {cls.status.value}; no AI label is required"
        )
        return (Finding(RULE_ID, FindingStatus.NOT_APPLICABLE, "error", msg, reference=REFERENCE),)
    if cls.basis is Basis.STANDARD:
        return (
            Finding(
                RULE_ID,
                FindingStatus.PASS,
                "error",
                f"{cls.status.value} declared in a standard label",
                reference=REFERENCE,
            ),
        )
    return (
        Finding(
            RULE_ID,
            FindingStatus.FAIL,
            "error",
            f"AI content ({cls.status.value}) is declared only by non-standard metadata "
            f"({cls.evidence[0].reason if cls.evidence else 'heuristic'})",
            reference=REFERENCE,
            remediation=REMEDIATION,
        ),
    )
