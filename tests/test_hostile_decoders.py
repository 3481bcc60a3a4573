"""Hostile input to the decoders and the provenance walk: huge pictures for the HTML thumbnails (items decoded within
a pixel budget and under a memory cap, or shown as a note), and C2PA ingredient chains deeper than labelcheck
follows or branching into each other (real files signed by c2pa-python with the test CA)."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import time
from pathlib import Path

import c2pa
import pytest
from conftest import FIXTURES, TEST_CA, checked_scan

from labelcheck.classify.classification import MAX_DEPTH, classify_manifest
from labelcheck.extract import c2pa as c2pa_x
from labelcheck.model import AiStatus, FindingStatus
from labelcheck.render import html as html_r
from labelcheck.render import thumbnails

CERTS = FIXTURES / "certs"
IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
HUGE = "7000x7000"  # 49 MP: an ffmpeg decoding it at full size holds ~220 MB for it


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True)


def _logging_wrapper(tmp: Path, name: str, real: str) -> tuple[Path, Path]:
    """An executable that records its address-space limit (ulimit -v, KiB) and arguments, then runs `real`."""
    log, wrapper = tmp / f"{name}.log", tmp / name
    wrapper.write_text(f'#!/bin/sh\necho "$(ulimit -v) $*" >> {log}\nexec {real} "$@"\n')
    wrapper.chmod(0o755)
    return wrapper, log


def _limits(log: Path) -> list[str]:
    return [line.split(" ", 1)[0] for line in log.read_text().splitlines()]


# ---------------------------------------------------------------- item 11: thumbnails of huge pictures


def test_huge_pictures_are_not_decoded_at_full_size_and_every_ffmpeg_runs_under_a_memory_cap(tmp_path):
    """A 7000x7000 PNG (no reduced decoding in PNG) gets a note instead of a thumbnail and never reaches ffmpeg; a
    7000x7000 JPEG is decoded at a fraction of its size (-lowres); a small PNG is as before. Every ffmpeg runs with
    at most thumbnails.FFMPEG_MEMORY bytes of address space, from its first instruction."""
    media = tmp_path / "media"
    media.mkdir()
    _ffmpeg("-f", "lavfi", "-i", f"testsrc2=s={HUGE}", "-frames:v", "1", str(media / "huge.png"))
    _ffmpeg("-i", str(media / "huge.png"), "-q:v", "5", str(media / "huge.jpg"))
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=s=320x240", "-frames:v", "1", str(media / "small.png"))
    rep, _ = checked_scan(sorted(media.iterdir()))
    wrapper, log = _logging_wrapper(tmp_path, "ffmpeg", "ffmpeg")
    made = {Path(t).name: uri for t, uri in thumbnails.make(rep.results, ffmpeg=str(wrapper)).items()}
    assert made["small.png"].startswith("data:image/jpeg;base64,/9j/")
    assert made["huge.jpg"].startswith("data:image/jpeg;base64,/9j/")  # a thumbnail, decoded at 1/2 size or less
    assert not made["huge.png"].startswith("data:"), "the huge PNG was decoded at full size"
    assert "7000×7000" in made["huge.png"] and "MP" in made["huge.png"]
    calls = log.read_text()
    assert "huge.png" not in calls  # never given to ffmpeg
    assert "-lowres" in calls and "-max_pixels" in calls
    limits = _limits(log)
    assert limits and all(v.isdigit() and int(v) * 1024 <= thumbnails.FFMPEG_MEMORY for v in limits), limits
    assert thumbnails.FFMPEG_MEMORY <= 1 << 30
    # The page shows the note where the thumbnail would be.
    rows = {Path(t).name: t for t in (r.evidence.target for r in rep.results)}
    page = html_r.render(rep, {rows[k]: v for k, v in made.items()})
    assert "7000×7000" in page and page.count('<img class="thumb"') == 2


def test_ffmpeg_processes_are_filled_by_the_pixels_they_decode_not_only_by_count(tmp_path):
    """A 6000x6000 JPEG is planned at 1/8 size (still twice a thumbnail's width); groups hold at most MAX_PIXELS
    decoded pixels and GROUP pictures, a picture of unknown size counting as a GROUP-th of the budget."""
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=s=6000x6000", "-frames:v", "1", "-q:v", "5", str(tmp_path / "big.jpg"))
    big = thumbnails.plan(str(tmp_path / "big.jpg"), "image/jpeg")
    assert (big.lowres, big.pixels, big.note) == (3, 750 * 750, None)
    budget = thumbnails.MAX_PIXELS
    pixels: dict[str, int | None] = {"a": budget * 3 // 4, "b": budget // 2, "c": budget // 4, "d": None}
    pixels |= {f"s{n}": 100 for n in range(12)}
    groups = thumbnails.groups(list(pixels), pixels)
    small = [f"s{n}" for n in range(12)]
    assert groups == [["a"], ["b", "c", "d", *small[:5]], small[5:]]  # a and b do not fit together; 8 at most
    cost = {t: budget // thumbnails.GROUP if v is None else v for t, v in pixels.items()}
    assert all(sum(cost[t] for t in g) <= budget and len(g) <= thumbnails.GROUP for g in groups)
    assert [t for g in groups for t in g] == list(pixels)


def _has_decoder(name: str) -> bool:
    out = subprocess.run(["ffmpeg", "-hide_banner", "-decoders"], capture_output=True, text=True, check=False).stdout
    return f" {name} " in out


@pytest.mark.skipif(not _has_decoder("librsvg"), reason="this ffmpeg has no SVG decoder")
def test_pictures_of_unknown_size_that_outgrow_the_cap_together_are_each_decoded_alone(tmp_path, monkeypatch):
    """SVGs (no header read here: their size is unknown until rendered) share an ffmpeg process; three of 6000x6000
    do not fit a 512 MiB cap together. ffmpeg then exits 0 with decoders out of memory: the pictures it did not make
    are tried again, one at a time, and all get thumbnails; no ffmpeg ran above the cap."""
    monkeypatch.setattr(thumbnails, "FFMPEG_MEMORY", 512 << 20)
    for n in range(3):
        shape = f'<circle cx="3000" cy="3000" r="{n + 1}000"/>'
        svg = f'<svg xmlns="http://www.w3.org/2000/svg" width="6000" height="6000">{shape}</svg>'
        (tmp_path / f"s{n}.svg").write_text(svg)
    rep, _ = checked_scan(sorted(tmp_path.glob("*.svg")))
    assert all(r.evidence.kind == "image" and thumbnails.dimensions(r.evidence.target) is None for r in rep.results)
    wrapper, log = _logging_wrapper(tmp_path, "ffmpeg", "ffmpeg")
    made = thumbnails.make(rep.results, ffmpeg=str(wrapper))
    assert len(made) == 3 and all(uri.startswith("data:image/jpeg;base64,/9j/") for uri in made.values())
    limits = _limits(log)
    assert len(limits) >= 2 and all(v.isdigit() and int(v) * 1024 <= 512 << 20 for v in limits), limits


def test_picture_headers_give_sizes_without_decoding(tmp_path):
    """Width and height from PNG IHDR, JPEG SOF (progressive or not), GIF, BMP, WebP (lossy and lossless) and TIFF
    headers, and HEIF's ispe; a file that is not what it says gives no size (and is then decoded alone, capped)."""
    sizes = {}
    for ext, extra in (
        ("png", ()),
        ("jpg", ()),
        ("gif", ()),
        ("bmp", ()),
        ("tif", ()),
        ("webp", ()),
        ("lossless.webp", ("-lossless", "1")),
    ):
        out = tmp_path / f"a.{ext}"
        _ffmpeg(
            "-f",
            "lavfi",
            "-i",
            "color=c=red:s=130x50,format=rgb24",
            "-vf",
            "crop=123:45:0:0",
            "-frames:v",
            "1",
            *extra,
            str(out),
        )
        sizes[ext] = thumbnails.dimensions(str(out))
    assert set(sizes.values()) == {(123, 45)}, sizes
    (tmp_path / "x.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(40))
    assert thumbnails.dimensions(str(tmp_path / "x.png")) in (None, (0, 0))
    (tmp_path / "y.jpg").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(100))
    assert thumbnails.dimensions(str(tmp_path / "y.jpg")) is None
    # A progressive JPEG keeps its coefficients at full size whatever -lowres says: by its pixels, not reduced.
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00" + bytes(9)
    for kind, name in ((0xC0, "baseline.jpg"), (0xC2, "progressive.jpg")):
        sof = bytes([0xFF, kind]) + struct.pack(">HBHHB", 17, 8, 6000, 8000, 3) + bytes(9)
        (tmp_path / name).write_bytes(b"\xff\xd8" + app0 + sof + b"\xff\xd9")
    assert thumbnails.dimensions(str(tmp_path / "progressive.jpg")) == (8000, 6000)
    base, prog = (thumbnails.plan(str(tmp_path / n), "image/jpeg") for n in ("baseline.jpg", "progressive.jpg"))
    assert (base.lowres, base.pixels, base.note) == (3, 1000 * 750, None)
    assert prog.lowres == 0 and prog.note and "48 MP" in prog.note and "progressive" in prog.note


@pytest.mark.skipif(shutil.which("heif-enc") is None, reason="libheif-examples not installed (make test installs it)")
def test_heif_convert_runs_capped_from_its_start_and_a_huge_heic_is_not_decoded(tmp_path, monkeypatch):
    """heif-convert has no reduced decoding: a HEIC whose image is larger than MAX_PIXELS gets a note and no
    heif-convert; a small one is decoded by a heif-convert whose address space is capped before it starts."""
    src = tmp_path / "src.png"
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=s=128x96", "-frames:v", "1", str(src))
    media = tmp_path / "media"
    media.mkdir()
    subprocess.run(["heif-enc", "-q", "50", str(src), "-o", str(media / "small.heic")], check=True, capture_output=True)
    data = (media / "small.heic").read_bytes()
    at = data.index(b"ispe")
    huge = data[: at + 8] + (7000).to_bytes(4, "big") * 2 + data[at + 16 :]  # the image property says 7000x7000
    (media / "huge.heic").write_bytes(huge)
    assert thumbnails.dimensions(str(media / "huge.heic")) == (7000, 7000)
    assert thumbnails.dimensions(str(media / "small.heic")) == (128, 96)
    rep, _ = checked_scan(sorted(media.iterdir()))
    wrapper, log = _logging_wrapper(tmp_path, "heif-convert", shutil.which("heif-convert") or "heif-convert")
    monkeypatch.setattr(thumbnails, "HEIF_CONVERT", str(wrapper))
    made = {Path(t).name: uri for t, uri in thumbnails.make(rep.results).items()}
    assert made["small.heic"].startswith("data:image/jpeg;base64,/9j/")
    assert "7000×7000" in made["huge.heic"]
    assert "huge.heic" not in log.read_text()
    limits = _limits(log)
    assert limits and all(v.isdigit() and int(v) * 1024 <= thumbnails.HEIF_MEMORY <= 1 << 30 for v in limits), limits


# ---------------------------------------------------------------- item 12: deep and branching C2PA chains


def _signer() -> c2pa.Signer:
    chain, key = (CERTS / "signer-chain.pem").read_bytes(), (CERTS / "signer.key").read_bytes()
    return c2pa.Signer.from_info(c2pa.C2paSignerInfo(b"es256", chain, key, None))


def _chain(out: Path, depth: int, relationships: tuple[str, ...] = ("parentOf",)) -> list[Path]:
    """level00.jpg created by AI (trainedAlgorithmicMedia), then `depth` levels, each opening the previous level
    (one ingredient per relationship, all of the same file) and editing it; every level signed by the test signer."""
    out.mkdir()
    base = out / "base.jpg"
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=s=64x48", "-frames:v", "1", str(base))
    ctx = {"builder": {"thumbnail": {"enabled": False}}}
    signer, files = _signer(), []
    verbs = {"parentOf": "c2pa.opened", "componentOf": "c2pa.placed"}
    for n in range(depth + 1):
        if n == 0:
            actions = [{"action": "c2pa.created", "digitalSourceType": IPTC + "trainedAlgorithmicMedia"}]
        else:
            actions = [
                {"action": verbs[rel], "parameters": {"ingredientIds": [f"ingredient-{i}"]}}
                for i, rel in enumerate(relationships)
            ] + [{"action": "c2pa.edited"}]
        m = {
            "claim_generator_info": [{"name": "labelcheck-tests", "version": "1"}],
            "title": f"level{n:02d}.jpg",
            "assertions": [{"label": "c2pa.actions.v2", "data": {"actions": actions}}],
        }
        cur = out / f"level{n:02d}.jpg"
        with c2pa.Builder(m, context=c2pa.Context.from_dict(ctx)) as builder:
            for i, rel in enumerate(relationships if n else ()):
                with open(files[-1], "rb") as fh:
                    ing = {"title": files[-1].name, "relationship": rel, "label": f"ingredient-{i}"}
                    builder.add_ingredient(ing, "image/jpeg", fh)
            with open(base, "rb") as s, open(cur, "w+b") as d:
                builder.sign(signer, "image/jpeg", s, d)
        files.append(cur)
    return files


@pytest.fixture(scope="module")
def deep_chain(tmp_path_factory):
    return _chain(tmp_path_factory.mktemp("deep") / "chain", 40)


def test_a_chain_deeper_than_followed_goes_to_review_as_possibly_ai_never_silently_unknown(deep_chain):
    """40 signed levels over an AI-created picture: c2pa-rs reads all 41 manifests (Trusted); labelcheck follows
    MAX_DEPTH of them. Within the limit the AI origin is found (made with AI: edited since); past it the item says
    that it was not followed further, is possibly_ai, and the default policy sends it to manual review."""
    within = deep_chain[MAX_DEPTH]
    beyond = deep_chain[40]
    rep, doc = checked_scan([within, beyond])
    by = {Path(r.evidence.target).name: r for r in rep.results}
    shallow, deep = by[within.name], by[beyond.name]
    assert deep.evidence.c2pa.validation_state == "Trusted" and len(deep.evidence.c2pa.manifests) == 41
    assert shallow.classification.status is AiStatus.MADE_WITH_AI
    c = deep.classification
    assert c.status is AiStatus.POSSIBLY_AI, c
    why = c.evidence[0].reason
    assert f"provenance chain deeper than {MAX_DEPTH}" in why and "not followed further" in why
    assert any(f"deeper than {MAX_DEPTH}" in x.message for x in c.conflicts)  # shown as a problem
    assert {f.status for f in deep.findings} == {FindingStatus.MANUAL_REVIEW}
    record = next(r for r in deep.labels if r.carrier == "c2pa" and r.kind == "ai")
    assert record.declares == "possibly_ai"


def test_a_shallow_ai_declaration_still_wins_over_a_chain_cut_below_it(tmp_path):
    """Above the cut, an AI edit says made_with_ai: the cut does not weaken it to possibly_ai."""
    from labelcheck.model import C2paAction, C2paIngredient, C2paManifest, C2paStore

    def man(label, actions, ingredient=None):
        ings = (C2paIngredient("parentOf", "p", ingredient),) if ingredient else ()
        return C2paManifest(label, "g", (), "s", None, label, tuple(actions), ings, ())

    n = MAX_DEPTH + 5
    ms = [man(f"m{i}", [C2paAction("c2pa.opened")], f"m{i + 1}") for i in range(n)]
    ms.append(man(f"m{n}", [C2paAction("c2pa.created", IPTC + "digitalCapture")]))
    ms[0] = man(
        "m0",
        [C2paAction("c2pa.opened"), C2paAction("c2pa.edited", IPTC + "compositeWithTrainedAlgorithmicMedia")],
        "m1",
    )
    store = C2paStore(True, "m0", tuple(ms), "Valid")
    v = classify_manifest(store, "m0")
    assert v is not None and v.status is AiStatus.MADE_WITH_AI
    store = C2paStore(True, "m1", tuple(ms), "Valid")
    v = classify_manifest(store, "m1")
    assert v is not None and v.status is AiStatus.POSSIBLY_AI and "not followed further" in v.reason


def test_ingredients_that_share_a_manifest_are_walked_once_not_once_per_path(tmp_path):
    """Each level holds the previous one twice (parentOf and componentOf: the same manifest): the walk costs the
    number of manifests, not 2**depth (20 levels took 21 s before, 22 took 89 s, 32 would take a day)."""
    files = _chain(tmp_path / "diamond", 20, ("parentOf", "componentOf"))
    ctx = c2pa_x.make_context(c2pa_x.C2paSettings(trust_anchors=(str(TEST_CA),)))
    with open(files[-1], "rb") as fh, c2pa.Reader("image/jpeg", fh, context=ctx) as reader:
        store = c2pa_x.store_from_json(json.loads(reader.json()), reader.get_validation_state(), True, None)
    assert store.validation_state == "Trusted" and len(store.manifests) == 21
    top = store.manifest(store.active)
    assert top is not None and len({i.active_manifest for i in top.ingredients}) == 1  # one manifest, twice
    start = time.monotonic()
    verdict = classify_manifest(store, store.active)
    assert time.monotonic() - start < 1.0
    assert verdict is not None and verdict.status is AiStatus.MADE_WITH_AI


def test_an_mp4_of_tens_of_thousands_of_boxes_is_not_given_to_c2pa_rs(tmp_path):
    """c2pa-rs 0.38 takes time quadratic in an ISO-BMFF file's top-level boxes (50,000 empty 'free' boxes: 23 s;
    100,000: 88 s, an 800 KB file), and with --workers 0 nothing bounded it. Such a file's store is not read, and
    the item says why; a fragmented MP4 (two boxes per fragment) is read as before."""
    from conftest import run_cli

    base = tmp_path / "base.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=64x64:d=2:r=25", "-c:v", "libx264", "-g", "1",
         "-movflags", "frag_keyframe+empty_moov", "-y", str(base)],
        check=True, timeout=60,
    )  # fmt: skip
    boxes = tmp_path / "boxes.mp4"
    boxes.write_bytes(base.read_bytes() + struct.pack(">I4s", 8, b"free") * 60_000)
    started = time.monotonic()
    p = run_cli("check", "--format", "json", "-j", "0", base, boxes, timeout=60)
    assert time.monotonic() - started < 20, "the run took as long as c2pa-rs would have"
    doc = json.loads(p.stdout)
    errors = {Path(r["target"]).name: " ".join(e["message"] for e in r["errors"]) for r in doc["results"]}
    assert "top-level boxes" in errors["boxes.mp4"], errors
    assert "top-level boxes" not in errors["base.mp4"], errors
