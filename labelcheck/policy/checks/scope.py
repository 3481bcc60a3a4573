"""Which items a duty applies to: the answer shared by the checks whose duty falls on AI content."""

from __future__ import annotations

from ...model import AiStatus, FindingStatus, Outcome, Subject

AI = (AiStatus.FULLY_AI, AiStatus.MADE_WITH_AI)


def ai_only(subject: Subject) -> Outcome | None:
    """None when the item is AI content (the duty applies); otherwise the outcome that says why it does not."""
    status = subject.classification.status
    if status in AI:
        return None
    if status is AiStatus.POSSIBLY_AI:
        return Outcome(
            FindingStatus.MANUAL_REVIEW,
            "the item may contain AI-generated material (possibly_ai): decide by hand whether the duty applies",
        )
    if status is AiStatus.NOT_AI:
        return Outcome(FindingStatus.NOT_APPLICABLE, "the item declares no AI involvement")
    return Outcome(
        FindingStatus.NOT_APPLICABLE,
        "no AI declaration found: whether the duty applies cannot be decided from the file",
    )


def can_hold(subject: Subject, carriers: list[str]) -> list[str]:
    """The carriers of `carriers` that this item's format can hold: by the format table, or because the item holds
    one (the file is the better witness: a TC260 AIGC tag in an ASF file, say)."""
    from ...classify.vocab import CARRIER_FORMATS

    mime = subject.evidence.media_type
    present = {r.carrier for r in subject.labels}
    return [c for c in carriers if c in present or mime in CARRIER_FORMATS.get(c, frozenset())]
