"""Precedence by basis (labelcheck/classify/precedence.py): one table decides which statement wins; the report names
each decision's rule; denials are conflicts wherever they are; enhancement alone is said not to be AI work."""

from __future__ import annotations

import pytest
from test_classify import IPTC, act, ev, man, store

from labelcheck import resources
from labelcheck.classify import precedence
from labelcheck.classify.classification import classify
from labelcheck.model import AiStatus, Basis, C2paIngredient, Kind, Signal

XMP_DST = "XMP-iptcExt:DigitalSourceType"


def sig(kind, key, value, source="xmp"):
    return Signal(source, kind, key, value)


def test_the_table_is_ordered_and_the_report_schema_names_its_rules():
    ranks = [r.rank for r in precedence.RULES]
    assert ranks == sorted(ranks, reverse=True)  # the table reads strongest first
    assert [r.name for r in precedence.RULES[:4]] == [
        "c2pa_trusted",
        "c2pa_valid",
        "c2pa_unverified",
        "standard_metadata",
    ]
    schema = resources.schema("report")["$defs"]["decision"]["properties"]
    assert schema["rule"]["enum"] == [r.name for r in precedence.RULES]
    assert schema["strength"]["maximum"] == max(ranks)


@pytest.mark.parametrize(
    "state, rule",
    [("Trusted", "c2pa_trusted"), ("Valid", "c2pa_valid"), ("Invalid", "c2pa_unverified"), (None, "c2pa_unverified")],
)
def test_a_manifest_ranks_by_its_validation_state_and_an_unverified_one_says_so(state, rule):
    photo = man("m", [act("c2pa.created", "digitalCapture")])
    xmp = sig(Kind.SOURCE_TYPE, XMP_DST, IPTC + "trainedAlgorithmicMedia")
    c = classify(ev(store("m", photo, state=state), [xmp]))
    d = next(d for d in c.evidence if d.source == "c2pa")
    assert d.rule == rule and d.strength == precedence.BY_NAME[rule].rank
    assert c.status is AiStatus.NOT_AI  # any manifest outranks unsigned XMP...
    (conflict,) = c.conflicts  # ...but the disagreement is reported, never resolved in silence
    assert f"{rule} (rank {d.strength}) outranks standard_metadata (rank 3)" in conflict.message
    assert ("the producer's claim, unproven" in d.reason) is (rule == "c2pa_unverified")


def test_standard_outranks_a_generator_mark_which_outranks_words():
    xmp = sig(Kind.SOURCE_TYPE, XMP_DST, IPTC + "compositeWithTrainedAlgorithmicMedia")
    software = sig(Kind.SOFTWARE, "IFD0:Software", "Midjourney v6.1", "exif")
    caption = sig(Kind.AI_TEXT, "IFD0:ImageDescription", "Made with AI-generated work", "exif")
    c = classify(ev(signals=[caption, software, xmp]))
    assert [d.rule for d in c.evidence] == ["standard_metadata", "generator_mark", "words"]
    assert (c.status, c.basis) == (AiStatus.MADE_WITH_AI, Basis.STANDARD)
    c = classify(ev(signals=[caption, software]))
    assert [d.rule for d in c.evidence] == ["generator_mark", "words"] and c.status is AiStatus.FULLY_AI


def test_a_denial_in_the_same_carrier_is_a_conflict_not_silently_outranked():
    """Before: a caption's 'not AI' in the same source as an IPTC term of AI was outranked without a word."""
    xmp = sig(Kind.SOURCE_TYPE, XMP_DST, IPTC + "trainedAlgorithmicMedia")
    denial = sig(Kind.AI_TEXT, "XMP-dc:Description", "No AI was used in this photograph")
    c = classify(ev(signals=[xmp, denial]))
    assert c.status is AiStatus.FULLY_AI
    (conflict,) = c.conflicts
    assert conflict.other.status is AiStatus.NOT_AI and "standard_metadata (rank 3) outranks words" in conflict.message


def test_two_marks_that_both_say_ai_are_not_a_conflict():
    software = sig(Kind.SOFTWARE, "IFD0:Software", "Midjourney v6.1", "exif")
    caption = sig(Kind.AI_TEXT, "XMP-dc:Description", "Made with AI-generated work")
    assert classify(ev(signals=[software, caption])).conflicts == ()


def test_enhancement_alone_says_it_is_not_ai_work():
    xmp = sig(Kind.SOURCE_TYPE, XMP_DST, IPTC + "algorithmicallyEnhanced")
    c = classify(ev(signals=[xmp]))
    assert c.status is AiStatus.NOT_AI and "Art. 50(2)" in c.evidence[0].reason
    photo = man("p", [act("c2pa.created", "digitalCapture")])
    denoised = man(
        "m", [act("c2pa.opened"), act("c2pa.edited", "algorithmicallyEnhanced")], [C2paIngredient("parentOf", "p", "p")]
    )
    c = classify(ev(store("m", denoised, photo)))
    assert c.status is AiStatus.NOT_AI
    assert "c2pa.created dst=digitalCapture" in c.evidence[0].reason and "enhancement only" in c.evidence[0].reason
    ai = man("a", [act("c2pa.created", "trainedAlgorithmicMedia")])
    upscaled_ai = man(
        "m", [act("c2pa.opened"), act("c2pa.edited", "algorithmicallyEnhanced")], [C2paIngredient("parentOf", "a", "a")]
    )
    c = classify(ev(store("m", upscaled_ai, ai)))
    assert c.status is AiStatus.FULLY_AI and "enhancement" not in c.evidence[0].reason  # still the model's picture


def test_a_visible_label_that_contradicts_the_metadata_is_a_conflict():
    from labelcheck.classify import visible

    capture = sig(Kind.SOURCE_TYPE, XMP_DST, IPTC + "digitalCapture")
    shown = Signal(
        "visible", Kind.VISIBLE_LABEL, "ocr", "AI生成", visible.place((900, 940, 990, 990), (1000, 1000), 50, None)
    )
    c = classify(ev(signals=[capture, shown]))
    assert c.status is AiStatus.NOT_AI  # the standard term outranks words on the picture...
    (conflict,) = c.conflicts  # ...and the picture's claim is reported against it
    assert conflict.other.source == "visible" and conflict.other.rule == "words"
    c = classify(ev(signals=[shown]))  # a stripped file: the label it shows is its only declaration
    assert (c.status, c.evidence[0].rule) == (AiStatus.FULLY_AI, "words")


def test_a_label_that_only_says_ai_does_not_conflict_with_one_that_says_which():
    """TC260 Label 1 says "AI" (GB 45438 has no code for "made with AI"): beside IPTC's composite term it is no
    conflict; two source types naming different labels are."""
    made = sig(Kind.SOURCE_TYPE, XMP_DST, IPTC + "compositeWithTrainedAlgorithmicMedia")
    aigc = sig(Kind.AIGC, "XMP-TC260:AIGC", '{"Label": "1", "ContentProducer": "p", "ProduceID": "1"}')
    c = classify(ev(signals=[made, aigc]))
    assert c.status is AiStatus.MADE_WITH_AI and c.conflicts == ()
    full = sig(Kind.SOURCE_TYPE, "XMP-iptcExt:DigitalSourceType", IPTC + "trainedAlgorithmicMedia", "xmp-other")
    assert classify(ev(signals=[made, full])).conflicts  # two source types naming different labels
