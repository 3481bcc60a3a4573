"""The C2PA actions table (labelcheck/classify/c2pa_actions.yaml): it validates, it covers the C2PA actions and the
IPTC vocabulary with sources, its rows give the documented effects, and the reference classification
(actions.manifest_status) reads hand-built manifests and real files signed with c2pa-python and the test CA."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import c2pa
import pytest
import yaml
from conftest import FIXTURES, MEDIA, TEST_CA

from labelcheck import resources
from labelcheck.classify import actions as A
from labelcheck.classify import generators, vocab
from labelcheck.classify.provenance import classify_manifest
from labelcheck.extract import c2pa as c2pa_x
from labelcheck.inputs.media import MediaType
from labelcheck.model import AiStatus, Basis, C2paAction, C2paIngredient, C2paManifest, C2paStore

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
DOC = yaml.safe_load(A.TABLE.read_text(encoding="utf-8"))
K = A.EffectKind
FULL, MADE, NOT, UNKNOWN = AiStatus.FULLY_AI, AiStatus.MADE_WITH_AI, AiStatus.NOT_AI, AiStatus.UNKNOWN
STD = Basis.STANDARD

# The actions the issue names, then the rest of C2PA 2.2's Table 8 and deprecated list, 2.4's additions, fonts.
ISSUE_ACTIONS = (
    "c2pa.created c2pa.opened c2pa.placed c2pa.edited c2pa.edited.metadata c2pa.converted c2pa.transcoded "
    "c2pa.repackaged c2pa.cropped c2pa.resized c2pa.filtered c2pa.color_adjustments c2pa.orientation c2pa.drawing "
    "c2pa.dubbed c2pa.translated c2pa.removed c2pa.redacted c2pa.published c2pa.watermarked c2pa.produced "
    "c2pa.unknown"
).split()
SPEC_ACTIONS = (
    "c2pa.addedText c2pa.adjustedColor c2pa.changedSpeed c2pa.deleted c2pa.enhanced c2pa.trimmed c2pa.copied "
    "c2pa.formatted c2pa.version_updated c2pa.printed c2pa.managed c2pa.saved c2pa.mastered c2pa.mixed c2pa.remixed "
    "c2pa.resized.proportional c2pa.watermarked.bound c2pa.watermarked.unbound font.charactersAdded "
    "font.charactersDeleted font.charactersModified font.createdFromVariableFont font.edited font.hinted font.merged "
    "font.openTypeFeatureAdded font.openTypeFeatureModified font.openTypeFeatureRemoved font.subset"
).split()
# Every concept of https://cv.iptc.org/newscodes/digitalsourcetype/ (retired ones included), and C2PA's two.
IPTC_TERMS = (
    "digitalCapture computationalCapture negativeFilm positiveFilm print minorHumanEdits humanEdits "
    "compositeWithTrainedAlgorithmicMedia algorithmicallyEnhanced softwareImage digitalArt digitalCreation "
    "dataDrivenMedia trainedAlgorithmicMedia algorithmicMedia screenCapture virtualRecording composite "
    "compositeCapture compositeSynthetic"
).split()
C2PA_TERMS = ["empty", "trainedAlgorithmicData"]


# ---------------------------------------------------------------- the table as data


def test_the_table_validates_against_its_schema():
    schema = resources.schema("c2pa-actions-table")
    assert schema["$id"] == "urn:labelcheck:schema:c2pa-actions-table"
    resources.validator("c2pa-actions-table").validate(DOC)
    assert A.effect("c2pa.created").kind is K.CREATES  # the module reads it


def test_a_table_that_breaks_its_schema_is_refused_naming_the_place(tmp_path, monkeypatch):
    broken = yaml.safe_load(A.TABLE.read_text(encoding="utf-8"))
    broken["actions"]["c2pa.cropped"]["rows"] = [{"source_type": "*", "relationship": "*", "effect": "blurs"}]
    path = tmp_path / "c2pa_actions.yaml"
    path.write_text(yaml.safe_dump(broken), encoding="utf-8")
    monkeypatch.setattr(A, "TABLE", path)
    A._table.cache_clear()
    try:
        with pytest.raises(ValueError, match=r"c2pa\.cropped"):
            A.effect("c2pa.cropped")
    finally:
        A._table.cache_clear()


@pytest.mark.parametrize("name", ISSUE_ACTIONS + SPEC_ACTIONS)
def test_every_c2pa_action_is_in_the_table_with_sources_and_a_row_for_anything(name):
    entry = DOC["actions"][name]
    assert entry["sources"] and all(s.startswith(("http://", "https://")) for s in entry["sources"])
    assert all(len(row["reason"]) > 20 for row in entry["rows"])
    assert any(r["source_type"] == "*" and r["relationship"] == "*" for r in entry["rows"]), "no catch-all row"
    cases = {(r["source_type"], r["relationship"]) for r in entry["rows"]}
    assert len(cases) == len(entry["rows"]), "two rows for one case"
    assert A.effect(name).known


@pytest.mark.parametrize("term", IPTC_TERMS + C2PA_TERMS)
def test_every_source_type_term_is_in_the_table_with_a_source(term):
    entry = next(t for t in DOC["source_types"] if t["term"] == term)
    assert entry["sources"] and entry["vocabulary"] == ("iptc" if term in IPTC_TERMS else "c2pa")
    assert term not in IPTC_TERMS or IPTC + term in entry["sources"]  # the IPTC concept's own URI
    assert A.source_type_status(IPTC + term if term in IPTC_TERMS else term) is AiStatus(entry["status"])


def test_the_table_holds_no_term_the_vocabularies_lack():
    assert sorted(t["term"] for t in DOC["source_types"]) == sorted(IPTC_TERMS + C2PA_TERMS)


@pytest.mark.parametrize("entry", DOC["source_types"], ids=lambda t: t["term"])
def test_the_table_agrees_with_vocab_py_term_by_term(entry):
    """vocab_py records what vocab.SOURCE_TYPES maps today; the table's status is the same for every term."""
    assert vocab.SOURCE_TYPES[entry["term"]].value == entry["vocab_py"] == entry["status"]


def test_every_effect_is_explained_and_used():
    used = {r["effect"] for a in DOC["actions"].values() for r in a["rows"]} | {i["effect"] for i in DOC["ingredients"]}
    assert used == set(DOC["effects"]) == {k.value for k in K}
    assert all(e["sources"] and e["meaning"] for e in DOC["effects"].values())
    assert "Art. 50(2)" in DOC["effects"]["enhances"]["meaning"]


def test_the_1x_and_2x_forms_are_listed_with_sources():
    forms = {f["form"]: f for f in DOC["forms"]}
    wanted = "actions-assertion ingredient-assertion relationship action-ingredient-link software-agent "
    for form in (wanted + "source-type-place font-actions trained-algorithmic-data templates").split():
        assert forms[form]["sources"], form
    assert "parameters.ingredients" in forms["action-ingredient-link"]["v2"]
    assert "com.adobe.digitalSourceType" in forms["source-type-place"]["v2"]


# ---------------------------------------------------------------- effect()


@pytest.mark.parametrize(
    "action,dst,rel,kind,status",
    [
        ("c2pa.created", IPTC + "trainedAlgorithmicMedia", None, K.CREATES, None),
        ("c2pa.created", None, None, K.CREATES, AiStatus.UNKNOWN),  # left to the generator registry
        ("c2pa.created", None, "inputTo", K.CREATES, AiStatus.UNKNOWN),  # inputs do not make a type
        ("c2pa.created", "https://example.org/ai", None, K.CREATES, AiStatus.UNKNOWN),
        ("c2pa.created", IPTC + "digitalCapture", "inputTo", K.CREATES, None),
        ("c2pa.opened", None, "parentOf", K.CARRIES_PARENT, None),
        ("c2pa.opened", IPTC + "trainedAlgorithmicMedia", None, K.CARRIES_PARENT, None),
        ("c2pa.placed", None, "componentOf", K.ADDS_COMPONENT, None),
        ("c2pa.edited", IPTC + "compositeWithTrainedAlgorithmicMedia", None, K.EDITS_PART, None),
        ("c2pa.edited", None, None, K.EDITS_PART, None),
        ("c2pa.edited", IPTC + "algorithmicallyEnhanced", None, K.ENHANCES, None),
        ("c2pa.edited.metadata", None, None, K.METADATA_ONLY, None),
        ("c2pa.cropped", None, None, K.CARRIES_PARENT, None),
        ("c2pa.cropped", IPTC + "humanEdits", None, K.CARRIES_PARENT, None),
        ("c2pa.resized", IPTC.replace("http:", "https:") + "trainedAlgorithmicMedia", None, K.EDITS_PART, None),
        ("c2pa.filtered", IPTC + "composite", None, K.EDITS_PART, None),
        ("c2pa.color_adjustments", None, None, K.CARRIES_PARENT, None),
        ("c2pa.transcoded", IPTC + "trainedAlgorithmicMedia", "parentOf", K.CARRIES_PARENT, None),
        ("c2pa.published", None, None, K.CARRIES_PARENT, None),
        ("c2pa.watermarked", None, None, K.CARRIES_PARENT, None),
        ("c2pa.enhanced", None, None, K.ENHANCES, None),
        ("c2pa.enhanced", IPTC + "trainedAlgorithmicMedia", None, K.EDITS_PART, None),
        ("c2pa.drawing", None, None, K.EDITS_PART, None),
        ("c2pa.dubbed", IPTC + "trainedAlgorithmicMedia", None, K.EDITS_PART, None),
        ("c2pa.removed", None, "componentOf", K.REMOVES, None),
        ("c2pa.removed", IPTC + "compositeWithTrainedAlgorithmicMedia", None, K.EDITS_PART, None),
        ("c2pa.redacted", None, None, K.METADATA_ONLY, None),
        ("c2pa.produced", None, None, K.CARRIES_PARENT, None),
        ("c2pa.unknown", IPTC + "trainedAlgorithmicMedia", None, K.EDITS_PART, None),
        ("c2pa.unknown", IPTC + "humanEdits", None, K.EDITS_PART, None),
    ],
)
def test_effect_of_an_action_its_type_and_relationship(action, dst, rel, kind, status):
    e = A.effect(action, dst, rel)
    assert (e.kind, e.status, e.known) == (kind, status, True)
    assert e.reason and e.sources


def test_effect_normalises_1x_names_spellings_and_relationships():
    assert A.effect("c2pa.font.edited").action == "font.edited"  # 1.4's prefix
    assert A.effect(" c2pa.cropped ").action == "c2pa.cropped"
    for spelling in (
        IPTC + "trainedAlgorithmicMedia",
        "https://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia/",
        "digsrctype:trainedAlgorithmicMedia",
        "trainedAlgorithmicMedia",
        "https://schema.org/TrainedAlgorithmicMediaDigitalSource",
    ):
        assert A.effect("c2pa.edited", spelling).source_type == "trainedAlgorithmicMedia", spelling
    hdr = "https://schema.org/MultiFrameComputationalCaptureDigitalSource"
    assert A.source_type_term(hdr) == "computationalCapture"
    assert A.source_type_status("c2pa.trainedAlgorithmicData") is AiStatus.FULLY_AI  # 1.4's spelling
    assert A.source_type_status("http://c2pa.org/digitalsourcetype/empty") is AiStatus.NOT_AI
    assert A.source_type_status("https://example.org/ai") is None and A.source_type_status(None) is None
    relationships = [A.normalise_relationship(r) for r in ("ParentOf", "parent_of", "input-to", "", None)]
    assert relationships == ["parentOf", "parentOf", "inputTo", "none", "none"]


def test_an_action_the_table_does_not_know_takes_the_documented_default():
    ai = A.effect("com.example.magicFill", IPTC + "trainedAlgorithmicMedia")
    assert (ai.kind, ai.known, ai.action) == (K.EDITS_PART, False, "*")
    silent = A.effect("com.example.magicFill")
    assert (silent.kind, silent.known) == (K.CARRIES_PARENT, False)
    assert "ambiguous" in silent.reason
    assert A.effect("c2pa.generated").known is False  # not a C2PA name either
    assert any(r["source_type"] == "*" and r["relationship"] == "*" for r in DOC["default"]["rows"])


def test_ingredient_effects_by_relationship():
    assert A.ingredient_effect("parentOf").kind is K.CARRIES_PARENT
    assert A.ingredient_effect("componentOf").kind is K.ADDS_COMPONENT
    assert A.ingredient_effect("inputTo").kind is K.METADATA_ONLY
    odd = A.ingredient_effect("siblingOf")
    assert (odd.kind, odd.known, odd.relationship) == (K.ADDS_COMPONENT, False, "siblingOf")


# ---------------------------------------------------------------- manifest_status on hand-built manifests


def man(label, actions=(), ingredients=(), generator="gen", assertions=(), meta=(), disclosures=()):
    m = C2paManifest(label, generator, (), "signer", None, label, tuple(actions), tuple(ingredients), ())
    fields = {
        "metadata_source_types": tuple(meta),
        "assertions": tuple(assertions),
        "ai_disclosures": tuple(disclosures),
    }
    return replace(m, **fields)


def act(name, dst=None, vendor=None, agent=None, description=None):
    return C2paAction(name, IPTC + dst if dst else None, IPTC + vendor if vendor else None, agent, description)


def ing(rel, manifest=None, dst=None, title="ingredient.jpg"):
    return C2paIngredient(rel, title, manifest, IPTC + dst if dst else None)


def status_of(m, **statuses):
    return A.manifest_status(m, lambda i: statuses.get(i.active_manifest or ""))


def test_a_opened_only_carries_the_parents_fully_ai():
    """Opening is not editing: a manifest that only opened a fully-AI parent is fully AI (standard)."""
    m = man("child", [act("c2pa.opened")], [ing("parentOf", "parent")])
    v = status_of(m, parent=AiStatus.FULLY_AI)
    assert (v.status, v.basis, v.specific) == (AiStatus.FULLY_AI, Basis.STANDARD, True)
    assert "parentOf ingredient" in v.reason
    full = A.Verdict(AiStatus.FULLY_AI, Basis.STANDARD, "c2pa.created dst=trainedAlgorithmicMedia")
    assert status_of(m, parent=full).status is AiStatus.FULLY_AI  # a resolver may give verdicts too
    for carried in ("c2pa.transcoded", "c2pa.cropped", "c2pa.color_adjustments", "c2pa.resized", "c2pa.published"):
        m2 = man("child", [act("c2pa.opened"), act(carried)], [ing("parentOf", "parent")])
        assert status_of(m2, parent=AiStatus.FULLY_AI).status is AiStatus.FULLY_AI, carried


def test_people_authoring_on_a_fully_ai_parent_makes_it_made_with_ai():
    m = man("child", [act("c2pa.opened"), act("c2pa.drawing")], [ing("parentOf", "parent")])
    v = status_of(m, parent=AiStatus.FULLY_AI)
    assert v.status is AiStatus.MADE_WITH_AI and "human part" in v.reason


def test_b_created_without_a_type_is_left_to_the_generator_registry():
    """Not standard: the table says unknown and defers; the generator registry (generators.yaml) may decide."""
    created = act("c2pa.created", agent="Midjourney 6", description="AI Generated Image")
    v = status_of(man("m", [created], generator="Midjourney"))
    assert (v.status, v.basis, v.deferred) == (AiStatus.UNKNOWN, Basis.NONE, A.GENERATOR_REGISTRY)
    assert "Midjourney" in v.reason and "AI Generated Image" in v.reason
    assert generators.match("c2pa.softwareAgent", "Midjourney 6").id == "midjourney"  # what the registry finds


def test_c_a_vendor_generative_ai_assertion_declares_ai_without_saying_which_label():
    labels = ("c2pa.actions.v2", "com.adobe.generative-ai")
    v = status_of(man("m", [act("c2pa.created")], assertions=labels))
    assert (v.status, v.basis, v.specific) == (AiStatus.FULLY_AI, Basis.NON_STANDARD, False)
    edit = man("m", [act("c2pa.opened")], [ing("parentOf", "photo")], assertions=labels)
    v = status_of(edit, photo=AiStatus.NOT_AI)
    assert (v.status, v.basis, v.specific) == (AiStatus.MADE_WITH_AI, Basis.NON_STANDARD, False)
    # A stated human origin and the vendor's assertion are both true together: a capture with an AI part.
    typed = man("m", [act("c2pa.created", "digitalCapture"), act("c2pa.edited")], assertions=labels)
    assert (status_of(typed).status, status_of(typed).basis) == (AiStatus.MADE_WITH_AI, Basis.NON_STANDARD)
    # An action that says AI in the standard term says more than the vendor's assertion, which then adds nothing.
    said = man("m", [act("c2pa.created", "digitalCapture"), act("c2pa.edited", "compositeWithTrainedAlgorithmicMedia")],
               assertions=labels)  # fmt: skip
    assert (status_of(said).status, status_of(said).basis) == (AiStatus.MADE_WITH_AI, Basis.STANDARD)
    assert status_of(man("m", [act("c2pa.created", "digitalCapture")])).status is AiStatus.NOT_AI  # without it


def test_adobes_vendor_parameter_on_opened_stands_for_a_parent_without_a_manifest():
    m = man("m", [act("c2pa.opened", vendor="trainedAlgorithmicMedia")], [ing("parentOf")])
    v = status_of(m)
    assert (v.status, v.basis) == (AiStatus.FULLY_AI, Basis.NON_STANDARD)


def test_components_inputs_and_ingredient_types():
    placed = man("m", [act("c2pa.created", "digitalCapture"), act("c2pa.placed")], [ing("componentOf", "gen")])
    assert status_of(placed, gen=AiStatus.FULLY_AI).status is AiStatus.MADE_WITH_AI
    assert status_of(placed, gen=AiStatus.NOT_AI).status is AiStatus.NOT_AI
    assert status_of(placed, gen=AiStatus.POSSIBLY_AI).status is AiStatus.POSSIBLY_AI
    img2img = man("m", [act("c2pa.created", "trainedAlgorithmicMedia")], [ing("inputTo", "photo")])
    assert status_of(img2img, photo=AiStatus.NOT_AI).status is AiStatus.FULLY_AI
    captured = man("m", [act("c2pa.created", "digitalCapture")], [ing("inputTo", "gen")])
    assert status_of(captured, gen=AiStatus.FULLY_AI).status is AiStatus.NOT_AI  # an input is not content
    part = ing("componentOf", dst="trainedAlgorithmicMedia")
    v24 = man("m", [act("c2pa.created", "empty"), act("c2pa.placed")], [part])
    assert status_of(v24).status is AiStatus.MADE_WITH_AI  # 2.4: a manifest-less ingredient's own type


def test_ai_edits_enhancements_and_what_says_nothing():
    photo = [ing("parentOf", "photo")]
    fill = man("m", [act("c2pa.opened"), act("c2pa.edited", "compositeWithTrainedAlgorithmicMedia")], photo)
    assert status_of(fill, photo=AiStatus.NOT_AI).status is AiStatus.MADE_WITH_AI
    sharpened = man("m", [act("c2pa.opened"), act("c2pa.edited", "algorithmicallyEnhanced")], photo)
    assert status_of(sharpened, photo=AiStatus.NOT_AI).status is AiStatus.NOT_AI
    dubbed = man("m", [act("c2pa.created", "digitalCapture"), act("c2pa.dubbed", "trainedAlgorithmicMedia")])
    assert status_of(dubbed).status is AiStatus.MADE_WITH_AI
    screen = man("m", [act("c2pa.created", "screenCapture")])
    assert status_of(screen).status is AiStatus.POSSIBLY_AI
    assert status_of(man("m", [act("c2pa.edited")])) is None  # nothing declared: no verdict
    disclosed = status_of(man("m", [act("c2pa.edited")], disclosures=["modelName=X"]))
    assert (disclosed.status, disclosed.specific) == (AiStatus.FULLY_AI, False)
    meta = status_of(man("m", [act("c2pa.opened")], meta=[IPTC + "trainedAlgorithmicMedia"]))
    assert meta.status is AiStatus.FULLY_AI


def test_the_walk_follows_ingredients_and_stops_at_loops():
    a = man("a", [act("c2pa.opened")], [ing("parentOf", "b")])
    b = man("b", [act("c2pa.opened")], [ing("parentOf", "a")])
    store = C2paStore(present=True, active="a", manifests=(a, b))
    assert classify_manifest(store, "a") is None
    gen = man("g", [act("c2pa.created", "trainedAlgorithmicMedia")])
    store = C2paStore(present=True, active="a", manifests=(man("a", [act("c2pa.opened")], [ing("parentOf", "g")]), gen))
    assert classify_manifest(store, store.manifests[0].label).status is AiStatus.FULLY_AI


# ---------------------------------------------------------------- real files, signed with the test CA


def _sign(src: Path, dst: Path, actions: list[dict], ingredients=(), extra=(), generator="labelcheck-tests") -> Path:
    """As fixtures/make_fixtures.py signs: opened/placed actions name their ingredient by label (c2pa-rs needs it);
    c2pa-rs's check after signing is off, so that non-conformant manifests (created without a type) can be made."""
    assertions = [{"label": "c2pa.actions.v2", "data": {"actions": actions}}, *extra]
    m = {"claim_generator_info": [{"name": generator, "version": "1"}], "title": dst.name, "assertions": assertions}
    for n, (_, rel) in enumerate(ingredients):
        for a in actions:
            if a["action"] == {"parentOf": "c2pa.opened", "componentOf": "c2pa.placed"}[rel]:
                a.setdefault("parameters", {})["ingredientIds"] = [f"ingredient-{n}"]
    certs = FIXTURES / "certs"
    chain, key = (certs / "signer-chain.pem").read_bytes(), (certs / "signer.key").read_bytes()
    signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(b"es256", chain, key, None))
    settings = {"builder": {"thumbnail": {"enabled": False}}, "verify": {"verify_after_sign": False}}
    with c2pa.Builder(json.dumps(m), context=c2pa.Context.from_dict(settings)) as builder:
        for n, (path, rel) in enumerate(ingredients):
            with open(path, "rb") as fh:
                info = {"title": path.name, "relationship": rel, "label": f"ingredient-{n}"}
                builder.add_ingredient(info, "image/jpeg", fh)
        with open(src, "rb") as s, open(dst, "w+b") as d:
            builder.sign(signer, "image/jpeg", s, d)
    return dst


# name: (actions, each "action" or "action:type"; ingredient "file:relationship"; status; basis; Trusted), in the order
# they are signed (parents first). All are signed with the test CA, as fixtures/make_fixtures.py does.
REAL = {
    "camera": ("c2pa.created:digitalCapture", "", NOT, STD, True),
    "ai": ("c2pa.created:trainedAlgorithmicMedia", "", FULL, STD, True),
    "opened_ai": ("c2pa.opened", "ai:parentOf", FULL, STD, True),  # opening is not editing
    "edited_composite": (
        "c2pa.opened c2pa.edited:compositeWithTrainedAlgorithmicMedia",
        "camera:parentOf",
        MADE,
        STD,
        True,
    ),
    "placed_ai": ("c2pa.created:digitalCapture c2pa.placed", "ai:componentOf", MADE, STD, True),
    "transcoded_ai": ("c2pa.opened c2pa.transcoded", "ai:parentOf", FULL, STD, True),
    "enhanced": ("c2pa.opened c2pa.edited:algorithmicallyEnhanced", "camera:parentOf", NOT, STD, True),
    "cropped_ai": ("c2pa.opened c2pa.cropped", "ai:parentOf", FULL, STD, True),  # a crop carries the parent
    "drawn_ai": ("c2pa.opened c2pa.drawing", "ai:parentOf", MADE, STD, True),  # people drew on it
    "untyped": ("c2pa.created", "", UNKNOWN, Basis.NONE, False),  # no type: the generator registry's
    "vendor": ("c2pa.created", "", FULL, Basis.NON_STANDARD, False),  # com.adobe.generative-ai
}
AGENT = {"softwareAgent": {"name": "Midjourney", "version": "6"}, "description": "AI Generated Image"}
VENDOR = {"label": "com.adobe.generative-ai", "data": {"description": "Adobe Firefly", "version": "1.0"}}


@pytest.fixture(scope="module")
def signed(tmp_path_factory) -> dict[str, Path]:
    d, files = tmp_path_factory.mktemp("c2pa_actions"), {}
    for name, (words, ingredient, *_) in REAL.items():
        actions = [{"action": w.split(":")[0]} | ({"digitalSourceType": IPTC + w.split(":")[1]} if ":" in w else {})
                   for w in words.split()]  # fmt: skip
        if name == "untyped":
            actions[0] |= AGENT
        parent, _, rel = ingredient.partition(":")
        ingredients = [(files[parent], rel)] if parent else []
        extra, generator = ([VENDOR] if name == "vendor" else []), ("Midjourney" if name == "untyped" else "tests")
        files[name] = _sign(MEDIA / "plain_camera.jpg", d / f"{name}.jpg", actions, ingredients, extra, generator)
    return files


def _read(path: Path) -> C2paStore:
    ctx = c2pa_x.make_context(c2pa_x.C2paSettings(trust_anchors=(str(TEST_CA),)))
    store, errors, _ = c2pa_x.read(path, MediaType("image/jpeg", "image"), ctx, c2pa_x.supported_mime_types())
    assert store.present and not errors, errors
    return store


@pytest.mark.parametrize("name", REAL)
def test_real_signed_files_read_back_and_classified_by_the_table(signed, name):
    _, _, status, basis, trusted = REAL[name]
    store = _read(signed[name])
    assert (store.validation_state == "Trusted") is trusted, (store.validation_state, store.failures)
    verdict = classify_manifest(store, store.active)
    assert verdict is not None
    assert (verdict.status, verdict.basis) == (status, basis), verdict.reason
    if name == "untyped":
        assert verdict.deferred == A.GENERATOR_REGISTRY and "AI Generated Image" in verdict.reason
    if name == "vendor":
        assert verdict.specific is False


# ---------------------------------------------------------------- marks in a manifest that declares no source type

MARKED = {  # name: (actions, generator, extra assertions, parent, expected status)
    "agent_and_description": ([{"action": "c2pa.created"} | AGENT], "Midjourney", [], False, FULL),
    "firefly_generator_only": ([{"action": "c2pa.created"}], "Adobe_Firefly", [], False, FULL),
    "description_only": ([{"action": "c2pa.created", "description": "AI Generated Image"}], "tests", [], False, FULL),
    "vendor_assertion": ([{"action": "c2pa.created"}], "tests", [VENDOR], False, FULL),
    "vendor_assertion_on_a_photo": ([{"action": "c2pa.opened"}], "tests", [VENDOR], True, MADE),
    "nothing_said": ([{"action": "c2pa.created"}], "tests", [], False, "unknown"),
}


@pytest.mark.parametrize("name", MARKED)
def test_a_manifest_without_a_source_type_is_read_by_the_generator_it_names(tmp_path, name):
    """c2pa.created with no digitalSourceType, where a registered generator names itself (claim generator, agent,
    Adobe's generative-ai assertion) or the action says 'AI Generated Image': AI, non-standard (a policy asking for
    the standard term still fails it); read unknown before. Signed with c2pa-python and the test CA."""
    from conftest import checked_scan

    actions, generator, extra, parent, status = MARKED[name]
    ingredients = [(_sign(MEDIA / "plain_camera.jpg", tmp_path / "photo.jpg", [{"action": "c2pa.created",
                    "digitalSourceType": IPTC + "digitalCapture"}]), "parentOf")] if parent else []  # fmt: skip
    path = _sign(MEDIA / "plain_camera.jpg", tmp_path / f"{name}.jpg", actions, ingredients, extra, generator)
    _, doc = checked_scan([path])
    ai = doc["results"][0]["ai"]
    assert ai["status"] == status, ai
    assert ai["basis"] == ("none" if status == "unknown" else "non_standard"), ai


OPENED = {  # name: (the opened action's types, expected status, basis)
    "standard": ({"digitalSourceType": IPTC + "trainedAlgorithmicMedia"}, FULL, "standard"),
    "standard_beside_vendor": (
        {"digitalSourceType": IPTC + "trainedAlgorithmicMedia",
         "parameters": {"com.adobe.digitalSourceType": IPTC + "compositeWithTrainedAlgorithmicMedia"}},
        FULL, "standard",
    ),
    "vendor_only": ({"parameters": {"com.adobe.digitalSourceType": IPTC + "trainedAlgorithmicMedia"}}, FULL,
                    "non_standard"),
}  # fmt: skip


@pytest.mark.parametrize("name", OPENED)
def test_a_type_on_an_opened_action_says_what_was_opened_not_an_edit(tmp_path, name):
    """Opening is not editing: c2pa.opened with a source type, the parent a plain file (no manifest of its own),
    read made_with_ai ('AI edit c2pa.opened'); the type describes the asset opened, the standard term over a
    vendor's. Signed with c2pa-python and the test CA."""
    from conftest import checked_scan

    types, status, basis = OPENED[name]
    parent = tmp_path / "parent.jpg"
    parent.write_bytes((MEDIA / "plain_camera.jpg").read_bytes())
    path = _sign(MEDIA / "plain_camera.jpg", tmp_path / f"{name}.jpg", [{"action": "c2pa.opened"} | types],
                 [(parent, "parentOf")])  # fmt: skip
    _, doc = checked_scan([path])
    ai = doc["results"][0]["ai"]
    assert (ai["status"], ai["basis"]) == (status, basis), ai
