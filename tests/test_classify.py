"""Classification rules on hand-built evidence (pure: no tools run)."""

from dataclasses import replace

from labelcheck.classify.classification import classify, manifest_declares, parse_aigc
from labelcheck.extract.c2pa import store_from_json
from labelcheck.model import (
    AiStatus,
    Basis,
    C2paAction,
    C2paIngredient,
    C2paManifest,
    C2paStore,
    Evidence,
    Kind,
    Signal,
    Training,
    TrainingEntry,
)

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"


def man(label, actions=(), ingredients=(), training=(), meta=()):
    return C2paManifest(
        label, "gen", (), "signer", None, label, tuple(actions), tuple(ingredients), tuple(training), tuple(meta)
    )


def act(name, dst=None, vendor=None):
    return C2paAction(name, IPTC + dst if dst else None, vendor)


def ev(store=None, signals=()):
    return Evidence("/x", "image/jpeg", "image", 1, None, store or C2paStore(present=False), tuple(signals), ())


def store(active, *manifests, state="Valid"):
    return C2paStore(present=True, active=active, manifests=tuple(manifests), validation_state=state)


def status(e):
    return classify(e).status


def test_created_with_trained_media_is_fully_ai():
    c = classify(ev(store("m", man("m", [act("c2pa.created", "trainedAlgorithmicMedia")]))))
    assert (c.status, c.basis, c.specific) == (AiStatus.FULLY_AI, Basis.STANDARD, True)


def test_composite_types_are_made_with_ai():
    for dst in ("compositeWithTrainedAlgorithmicMedia", "compositeSynthetic"):
        assert status(ev(store("m", man("m", [act("c2pa.created", dst)])))) is AiStatus.MADE_WITH_AI


def test_an_ai_edit_of_a_capture_is_made_with_ai():
    m = man("m", [act("c2pa.created", "digitalCapture"), act("c2pa.edited", "compositeWithTrainedAlgorithmicMedia")])
    assert status(ev(store("m", m))) is AiStatus.MADE_WITH_AI


def test_ai_dubbing_and_translation_are_made_with_ai():
    for a in ("c2pa.dubbed", "c2pa.translated"):
        m = man("m", [act("c2pa.created", "digitalCapture"), act(a, "trainedAlgorithmicMedia")])
        c = classify(ev(store("m", m)))
        assert c.status is AiStatus.MADE_WITH_AI and a.split(".")[1] in c.evidence[0].reason


def test_an_ai_component_makes_made_with_ai_an_input_does_not():
    ai = man("ai", [act("c2pa.created", "trainedAlgorithmicMedia")])
    top = man(
        "top", [act("c2pa.created", "digitalCapture"), act("c2pa.placed")], [C2paIngredient("componentOf", "g", "ai")]
    )
    assert status(ev(store("top", top, ai))) is AiStatus.MADE_WITH_AI
    # inputTo is an input to a process (a prompt, a reference image), not content: the action that used it decides.
    img2img = man("top", [act("c2pa.created", "trainedAlgorithmicMedia")], [C2paIngredient("inputTo", "photo", "p")])
    photo = man("p", [act("c2pa.created", "digitalCapture")])
    assert status(ev(store("top", img2img, photo))) is AiStatus.FULLY_AI
    reference = man("top", [act("c2pa.created", "digitalCapture")], [C2paIngredient("inputTo", "g", "ai")])
    assert status(ev(store("top", reference, ai))) is AiStatus.NOT_AI


def test_fully_ai_parent_only_reencoded_stays_fully_ai_through_the_chain():
    ai = man("ai", [act("c2pa.created", "trainedAlgorithmicMedia")])
    mid = man("mid", [act("c2pa.opened"), act("c2pa.transcoded")], [C2paIngredient("parentOf", "a", "ai")])
    top = man("top", [act("c2pa.opened"), act("c2pa.published")], [C2paIngredient("parentOf", "b", "mid")])
    c = classify(ev(store("top", top, mid, ai)))
    assert c.status is AiStatus.FULLY_AI
    assert "parentOf" in c.evidence[0].reason


def test_fully_ai_parent_with_human_edits_is_made_with_ai_but_cropping_is_not_an_edit():
    ai = man("ai", [act("c2pa.created", "trainedAlgorithmicMedia")])
    top = man("top", [act("c2pa.opened"), act("c2pa.edited")], [C2paIngredient("parentOf", "a", "ai")])
    assert status(ev(store("top", top, ai))) is AiStatus.MADE_WITH_AI
    cropped = man("top", [act("c2pa.opened"), act("c2pa.cropped"), act("c2pa.color_adjustments")],
                  [C2paIngredient("parentOf", "a", "ai")])  # fmt: skip
    assert status(ev(store("top", cropped, ai))) is AiStatus.FULLY_AI  # non-editorial: the content is the model's


def test_ingredient_cycles_do_not_recurse_forever():
    a = man("a", [act("c2pa.opened")], [C2paIngredient("parentOf", "b", "b")])
    b = man("b", [act("c2pa.opened")], [C2paIngredient("parentOf", "a", "a")])
    assert status(ev(store("a", a, b))) is AiStatus.UNKNOWN


def test_possible_and_non_ai_types():
    for dst in ("composite", "screenCapture", "virtualRecording"):
        assert status(ev(store("m", man("m", [act("c2pa.created", dst)])))) is AiStatus.POSSIBLY_AI
    assert status(ev(store("m", man("m", [act("c2pa.created", "digitalCapture")])))) is AiStatus.NOT_AI


def test_no_signal_is_unknown_never_not_ai():
    c = classify(ev())
    assert (c.status, c.basis, c.evidence) == (AiStatus.UNKNOWN, Basis.NONE, ())
    assert status(ev(store("m", man("m", [act("c2pa.opened")])))) is AiStatus.UNKNOWN


def test_vendor_source_type_parameter_is_non_standard():
    m = man("m", [act("c2pa.created", vendor=IPTC + "trainedAlgorithmicMedia")])
    c = classify(ev(store("m", m)))
    assert (c.status, c.basis) == (AiStatus.FULLY_AI, Basis.NON_STANDARD)


def test_ingredient_v3_source_type_without_manifest():
    top = man(
        "top",
        [act("c2pa.created", "digitalCapture")],
        [C2paIngredient("componentOf", "x", None, IPTC + "trainedAlgorithmicMedia")],
    )
    assert status(ev(store("top", top))) is AiStatus.MADE_WITH_AI


def test_signed_manifest_outranks_xmp_and_the_conflict_is_listed():
    xmp = Signal("xmp", Kind.SOURCE_TYPE, "XMP-iptcExt:DigitalSourceType", IPTC + "digitalCapture")
    c = classify(ev(store("m", man("m", [act("c2pa.created", "trainedAlgorithmicMedia")])), [xmp]))
    assert c.status is AiStatus.FULLY_AI and len(c.conflicts) == 1
    assert c.conflicts[0].other.source == "xmp" and "digitalCapture" in c.conflicts[0].message


def test_xmp_decides_when_the_manifest_says_nothing_about_ai():
    xmp = Signal("xmp", Kind.SOURCE_TYPE, "XMP-iptcExt:DigitalSourceType", IPTC + "trainedAlgorithmicMedia")
    assert status(ev(store("m", man("m", [act("c2pa.opened")])), [xmp])) is AiStatus.FULLY_AI


def test_standard_metadata_outranks_generator_hints():
    xmp = Signal("xmp", Kind.SOURCE_TYPE, "k", IPTC + "compositeWithTrainedAlgorithmicMedia")
    gen = Signal("png", Kind.GENERATOR, "PNG:Parameters", "a cat\nSteps: 20, Sampler: Euler")
    c = classify(ev(signals=[gen, xmp]))
    assert (c.status, c.basis) == (AiStatus.MADE_WITH_AI, Basis.STANDARD)


def test_generator_metadata_alone_is_fully_ai_non_standard():
    gen = Signal("png", Kind.GENERATOR, "PNG:Prompt", "{}")
    c = classify(ev(signals=[gen]))
    assert (c.status, c.basis, c.specific) == (AiStatus.FULLY_AI, Basis.NON_STANDARD, False)


def test_disclosure_text_and_generator_software():
    edited = Signal("xmp", Kind.AI_TEXT, "XMP-photoshop:Credit", "Edited with Google AI")
    assert status(ev(signals=[edited])) is AiStatus.MADE_WITH_AI
    sw = Signal("exif", Kind.SOFTWARE, "IFD0:Software", "Midjourney v6")
    assert status(ev(signals=[sw])) is AiStatus.FULLY_AI
    camera = Signal("exif", Kind.SOFTWARE, "IFD0:Software", "Adobe Photoshop 25.0")
    assert status(ev(signals=[camera])) is AiStatus.UNKNOWN


def test_tc260_labels():
    def aigc(value):
        return classify(ev(signals=[Signal("xmp", Kind.AIGC, "XMP-TC260:AIGC", value)]))

    c = aigc('{"Label": "1", "ContentProducer": "x"}')
    assert (c.status, c.basis, c.specific) == (AiStatus.FULLY_AI, Basis.STANDARD, False)
    assert aigc("{&quot;Label&quot;: &quot;2&quot;}").status is AiStatus.POSSIBLY_AI
    bad = aigc('{"Label": "AIGC"}')
    assert (bad.status, bad.basis) == (AiStatus.FULLY_AI, Basis.NON_STANDARD)
    assert parse_aigc("not json") is None


def test_unrecognised_source_type_is_unknown_and_reported():
    c = classify(ev(signals=[Signal("xmp", Kind.SOURCE_TYPE, "k", "http://example.org/newThing")]))
    assert c.status is AiStatus.UNKNOWN and "unrecognised" in c.evidence[0].reason


def test_training_most_restrictive_across_vocabularies():
    tm = TrainingEntry("c2pa", "cawg.training-mining", "cawg.ai_training", "allowed")
    m = man("m", [act("c2pa.created", "digitalCapture")], training=[tm])
    dm = Signal("xmp", Kind.DATA_MINING, "XMP-plus:DataMining", "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED")
    assert classify(ev(store("m", m))).training is Training.ALLOWED
    assert classify(ev(store("m", m), [dm])).training is Training.NOT_ALLOWED
    tdm = Signal("xmp", Kind.TDM, "XMP-tdm:Reservation", "1")
    assert classify(ev(signals=[tdm])).training is Training.NOT_ALLOWED
    assert classify(ev(signals=[Signal("xmp", Kind.TDM, "XMP-tdm:Reservation", "0")])).training is Training.ALLOWED
    assert classify(ev()).training is Training.UNSPECIFIED


def test_store_from_json_reads_templates_v1_actions_and_numbered_labels():
    doc = {
        "active_manifest": "m",
        "manifests": {
            "m": {
                "claim_generator": "tool/1",
                "signature_info": {"issuer": "Org", "common_name": "Signer", "time": "2026-01-01T00:00:00Z"},
                "assertions": [
                    {
                        "label": "c2pa.actions",
                        "data": {"actions": [{"action": "c2pa.created", "softwareAgent": "Gen 1"}]},
                    },
                    {
                        "label": "c2pa.actions.v2__1",
                        "data": {
                            "templates": [{"action": "*", "digitalSourceType": IPTC + "trainedAlgorithmicMedia"}],
                            "softwareAgents": [{"name": "Fill", "version": "2"}],
                            "actions": [{"action": "c2pa.edited", "softwareAgentIndex": 0}],
                        },
                    },
                    {"label": "cawg.training-mining", "data": {"entries": {"cawg.ai_training": {"use": "notAllowed"}}}},
                ],
            }
        },
        "validation_results": {"activeManifest": {"failure": [{"code": "signingCredential.untrusted"}]}},
    }
    s = store_from_json(doc, "Valid", True, None)
    m = s.manifest("m")
    assert [a.action for a in m.actions] == ["c2pa.created", "c2pa.edited"]
    assert m.actions[0].software_agent == "Gen 1"
    assert m.actions[1].source_type.endswith("trainedAlgorithmicMedia") and m.actions[1].software_agent == "Fill 2"
    assert m.actions[1].assertion == "c2pa.actions.v2__1"
    assert m.signer == "Org / Signer" and s.failures == ("signingCredential.untrusted",)
    c = classify(ev(s))
    assert c.status is AiStatus.MADE_WITH_AI and c.training is Training.NOT_ALLOWED


def test_an_ai_disclosure_says_ai_without_saying_which_label():
    disclosed = "modelName=Edit Model, humanOversightLevel=prompt_guided"
    opened = replace(man("m", [act("c2pa.opened")]), ai_disclosures=(disclosed,))
    c = classify(ev(store("m", opened)))
    assert (c.status, c.basis, c.specific) == (AiStatus.FULLY_AI, Basis.STANDARD, False)
    assert "Edit Model" in c.evidence[0].reason
    assert manifest_declares(store("m", opened))[0] == "ai"
    # on a capture, the disclosure is what says AI was involved
    capture = replace(man("m", [act("c2pa.created", "digitalCapture")]), ai_disclosures=("",))
    c = classify(ev(store("m", capture)))
    assert (c.status, c.specific) == (AiStatus.FULLY_AI, False)
    # a source type that already names the label wins over the vaguer disclosure
    composite = replace(man("m", [act("c2pa.created", "compositeWithTrainedAlgorithmicMedia")]), ai_disclosures=("",))
    c = classify(ev(store("m", composite)))
    assert (c.status, c.specific) == (AiStatus.MADE_WITH_AI, True)
    assert manifest_declares(store("m", composite))[0] == "made_with_ai"
    # no disclosure, nothing declared
    assert status(ev(store("m", man("m", [act("c2pa.opened")])))) is AiStatus.UNKNOWN
