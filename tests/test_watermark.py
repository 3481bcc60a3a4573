"""Invisible watermarks (labelcheck.extract.watermark): Stable Diffusion's DWT-DCT marks read from still images.

Pictures are marked the way SD's pipelines mark them (bench/watermark_eval.py: the `invisible-watermark` package's
encoder when it is importable, otherwise its numpy port, bit-exact for 8-bit pixels and checked against the package
below when both are there)."""

from __future__ import annotations

import importlib.util
import json
import struct
import sys
import time
import types
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from labelcheck.extract import watermark as wm

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("watermark_eval", ROOT / "bench" / "watermark_eval.py")
assert _spec is not None and _spec.loader is not None
ev = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ev)

PIPELINES = list(ev.PIPELINES.items())  # (label, (mark, embed))


def _save(rgb: np.ndarray, path: Path, fmt: str = "PNG", **options: object) -> Path:
    if fmt == "PNG":
        options.setdefault("compress_level", 1)
    Image.fromarray(rgb).save(path, fmt, **options)
    return path


@pytest.fixture(scope="module")
def bases() -> dict[str, np.ndarray]:
    """Generation-size pictures: photo-like 1/f texture, and pictures with large flat areas (the hard case)."""
    return {
        "texture 512": ev.texture(512, 512, 1),
        "scene 512": ev.scene(512, 512, 2),
        "scene 1024": ev.scene(1024, 1024, 5),
        "texture 768x1344": ev.texture(1344, 768, 3),
    }


def test_the_registry_holds_the_published_messages():
    sd1, sdxl = wm.MARKS
    assert (sd1.name, len(sd1.bits)) == ("sd1", 136)
    assert list(sd1.bits) == np.unpackbits(np.frombuffer(b"StableDiffusionV1", dtype=np.uint8)).tolist()
    assert (sdxl.name, len(sdxl.bits)) == ("sdxl", 48)
    assert int("".join(map(str, sdxl.bits)), 2) == 0xB3EC907BB19E
    assert sd1.max_wrong == 34 and sdxl.max_wrong == 6


@pytest.mark.parametrize("label,pipeline", PIPELINES, ids=[label for label, _ in PIPELINES])
def test_marked_pictures_saved_losslessly_are_found_and_jpeg_copies_are_not(tmp_path, bases, label, pipeline):
    mark, embed = pipeline
    for name, rgb in bases.items():
        marked = embed(rgb)
        reading = wm.read_watermarks(_save(marked, tmp_path / "marked.png"))
        assert reading.reason is None and reading.found == (mark,), (name, reading.marks)
        closest = {m.mark: m for m in reading.marks}[mark]
        assert closest.wrong_bits <= 2 and not closest.constant and len(closest.decoded) == closest.length

        lossless = wm.read_watermarks(_save(marked, tmp_path / "marked.webp", "WEBP", lossless=True, method=0))
        assert lossless.found == (mark,)

        jpeg = wm.read_watermarks(_save(marked, tmp_path / "marked.jpg", "JPEG", quality=75))
        assert jpeg.reason is None and jpeg.found == (), (name, jpeg.marks)
        assert all(m.wrong_bits > m.threshold for m in jpeg.marks)


def test_sdxl_as_diffusers_applies_it_needs_its_own_colour_model(bases):
    """diffusers hands an RGB float array to an encoder that reads BGR: the 8-bit BGR reading (Stability's own
    detect.py) misses that mark, the float RGB-as-BGR one finds it."""
    marked = ev.mark_sdxl_diffusers(bases["texture 512"])
    expected = np.array(wm.MARKS[1].bits, dtype=bool)
    wrong = {
        model.name: min(
            int((bits != expected).sum()) for bits in wm.reads(wm.votes(wm.block_bits(marked, model), 48)).values()
        )
        for model in (wm.U8_BGR, wm.FLOAT_RGB)
    }
    assert wrong[wm.FLOAT_RGB.name] <= 2 and wrong[wm.U8_BGR.name] > 12, wrong
    reading = {m.mark: m for m in wm.decode_rgb(marked)}["sdxl"]
    assert reading.found and reading.read.startswith("diffusers")


def test_unmarked_pictures_are_not_found():
    pictures: list[tuple[str, np.ndarray]] = []
    for seed, (height, width) in enumerate([(512, 512), (1024, 1024), (720, 1280), (600, 800)]):
        for kind, rgb in (
            ("texture", ev.texture(height, width, 50 + seed, beta=1.5 + 0.3 * seed)),
            ("scene", ev.scene(height, width, 50 + seed)),
            ("gradient", ev.gradient(height, width, 50 + seed)),
            ("noise", np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)),
        ):
            pictures.append((f"{kind} {width}x{height}", rgb))
            pictures.append((f"{kind} {width}x{height} q90", ev.reencode(rgb, "JPEG", quality=90)))
    corpus = [(f"corpus {name}", rgb) for name, rgb in ev.corpus_stills(10)]  # absent on some machines
    found = []
    for name, rgb in pictures + corpus:
        for reading in wm.decode_rgb(rgb):
            assert reading.constant or reading.wrong_bits > reading.threshold + 4, (name, reading)
            if reading.found:
                found.append(name)
    assert found == []


@pytest.mark.parametrize("value", [0, 255, 128])
def test_constant_pictures_are_rejected(tmp_path, value):
    reading = wm.read_watermarks(_save(np.full((512, 512, 3), value, dtype=np.uint8), tmp_path / "flat.png"))
    assert reading.reason is None and reading.found == ()
    assert all(m.constant and not m.found and set(m.decoded) == {m.decoded[0]} for m in reading.marks)


def _png(width: int, height: int, depth: int, colour: int, row: bytes, palette: bytes = b"") -> bytes:
    """A PNG whose every row is `row` (filter byte added), compressed cheaply: the deflate stream of 1000 rows is
    made once, fully flushed (so byte-aligned and self-contained) and repeated."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    lines = b"\0" + row
    batch, repeats = (1000, height // 1000) if height % 1000 == 0 else (1, height)
    compressor = zlib.compressobj(9)
    block = compressor.compress(lines * batch) + compressor.flush(zlib.Z_FULL_FLUSH)
    adler = 1
    for _ in range(repeats):
        adler = zlib.adler32(lines * batch, adler)
    stream = block + block[2:] * (repeats - 1) + b"\x03\x00" + struct.pack(">I", adler)  # final empty block
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    extra = chunk(b"PLTE", palette) if palette else b""
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + extra + chunk(b"IDAT", stream) + chunk(b"IEND", b"")


def test_a_decompression_bomb_gets_a_reason_not_a_crash_or_a_hang(tmp_path):
    bomb = tmp_path / "bomb.png"  # 50000 x 50000 red pixels (1-bit palette): 2.5 gigapixels in ~300 KB
    bomb.write_bytes(_png(50000, 50000, 1, 3, bytes(6250), palette=b"\xff\x00\x00"))
    assert bomb.stat().st_size < 1 << 20
    start = time.perf_counter()
    reading = wm.read_watermarks(bomb)
    assert time.perf_counter() - start < 2
    assert reading.marks == () and reading.reason and "bomb" in reading.reason.lower()

    big = tmp_path / "big.png"  # over labelcheck's own bound, under Pillow's
    big.write_bytes(_png(7000, 7000, 1, 3, bytes(875), palette=b"\x00\x80\xff"))
    reading = wm.read_watermarks(big)
    assert reading.marks == () and reading.reason and str(wm.MAX_PIXELS) in reading.reason
    assert (reading.width, reading.height) == (7000, 7000)


def test_odd_formats_do_not_crash(tmp_path, bases):
    marked = ev.mark_sd1(bases["texture 512"])
    image = Image.fromarray(marked)
    files = {}
    image.convert("P", palette=Image.Palette.ADAPTIVE).save(files.setdefault("palette", tmp_path / "p.png"))
    rgba = image.copy()
    rgba.putalpha(200)
    rgba.save(files.setdefault("rgba", tmp_path / "rgba.png"))
    words = (marked.astype(">u2") * 257).tobytes()  # 16-bit RGB: the high bytes are the marked picture
    rows = b"".join(b"\0" + words[i * 512 * 6 : (i + 1) * 512 * 6] for i in range(512))
    header = struct.pack(">IIBBBBB", 512, 512, 16, 2, 0, 0, 0)
    files["rgb16"] = tmp_path / "rgb16.png"
    files["rgb16"].write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + b"".join(
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
            for kind, data in ((b"IHDR", header), (b"IDAT", zlib.compress(rows)), (b"IEND", b""))
        )
    )
    Image.fromarray((marked[..., 0].astype(np.uint16) * 257)).save(files.setdefault("grey16", tmp_path / "g16.png"))
    image.convert("CMYK").save(files.setdefault("cmyk", tmp_path / "cmyk.jpg"), "JPEG", quality=90)
    frames = [image, Image.fromarray(255 - marked)]
    frames[0].save(files.setdefault("gif", tmp_path / "anim.gif"), save_all=True, append_images=frames[1:])
    image.save(files.setdefault("tiff", tmp_path / "p.tif"))
    image.save(files.setdefault("bmp", tmp_path / "p.bmp"))
    files["truncated"] = tmp_path / "truncated.png"
    files["truncated"].write_bytes(files["rgba"].read_bytes()[:5000])
    files["garbage"] = tmp_path / "garbage.png"
    files["garbage"].write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    files["empty"] = tmp_path / "empty.jpg"
    files["empty"].write_bytes(b"")
    files["tiny"] = _save(marked[:64, :64], tmp_path / "tiny.png")
    readings = {name: wm.read_watermarks(path) for name, path in files.items()}
    for name, reading in readings.items():
        assert isinstance(reading, wm.WatermarkReading), name
        json.dumps(reading.as_dict())
    for name in ("rgba", "rgb16", "tiff", "bmp"):  # lossless copies of the marked picture
        assert readings[name].found == ("sd1",), (name, readings[name])
    for name in ("grey16", "truncated", "garbage", "empty", "tiny"):
        assert readings[name].reason and readings[name].marks == (), name
    assert "greyscale" in (readings["grey16"].reason or "")
    assert readings["gif"].reason is None and readings["palette"].reason is None and readings["cmyk"].reason is None


def test_big_pictures_are_decoded_in_stripes_the_same_as_whole(monkeypatch):
    rgb = ev.texture(1000, 904, 9)  # neither a multiple of the stripe nor of 8 at the edges
    whole = {model: wm.block_bits(rgb, model) for model in (wm.U8_BGR, wm.FLOAT_RGB)}
    monkeypatch.setattr(wm, "STRIPE_ROWS", 64)
    for model, bits in whole.items():
        assert np.array_equal(wm.block_bits(rgb, model), bits)
    assert len(whole[wm.U8_BGR]) == (1000 // 8) * (904 // 8)


def test_a_1024_square_picture_reads_well_under_a_second(tmp_path):
    path = _save(ev.texture(1024, 1024, 4), tmp_path / "p.png")
    wm.read_watermarks(path)
    start = time.perf_counter()
    reading = wm.read_watermarks(path)
    assert time.perf_counter() - start < 0.5
    assert reading.note == wm.NOTE and "missing one means nothing" in reading.note


def test_readings_are_frozen_and_serialise(bases):
    reading = wm.WatermarkReading(width=1, height=1, marks=wm.decode_rgb(bases["texture 512"]))
    with pytest.raises(AttributeError):
        reading.width = 2  # type: ignore[misc]
    data = json.loads(json.dumps(reading.as_dict()))
    assert data["found"] == [] and {m["mark"] for m in data["marks"]} == {"sd1", "sdxl"}
    assert data["note"] == wm.NOTE


# --- against the reference implementations, where they are installed (not in CI: the package needs torch) ---


def _package():
    if importlib.util.find_spec("cv2") is None or ev.real_encoder() is None:
        pytest.skip("invisible-watermark and opencv are not installed")
    import cv2

    stub = "torch" not in sys.modules
    if stub:
        sys.modules["torch"] = types.ModuleType("torch")
    try:
        from imwatermark import WatermarkDecoder
    finally:
        if stub:
            sys.modules.pop("torch", None)
    return cv2, WatermarkDecoder


def test_the_decoder_reads_bit_for_bit_what_the_package_reads(bases):
    cv2, decoder = _package()
    for rgb in (bases["texture 512"], ev.mark_sd1(bases["scene 512"]), ev.mark_sdxl_sgm(bases["texture 768x1344"])):
        bgr = np.ascontiguousarray(rgb[..., ::-1])
        for length in (136, 48):
            theirs = np.array(decoder("bits", length).decode(bgr, "dwtDct"), dtype=bool)
            ours = wm.votes(wm.block_bits(rgb, wm.U8_BGR), length) * 255 > 127
            assert np.array_equal(theirs, ours)
    colours = np.random.default_rng(0).integers(0, 256, (1000, 1000, 3), dtype=np.uint8)
    assert np.array_equal(cv2.cvtColor(colours, cv2.COLOR_BGR2YUV)[..., 1], wm._u_plane(colours[..., ::-1], wm.U8_BGR))


def test_the_numpy_port_encodes_as_the_package_does(bases):
    _package()
    rgb = bases["scene 512"]
    assert np.array_equal(ev.mark_sd1(rgb, real=True), ev.mark_sd1(rgb, real=False))  # 8-bit: bit for bit
    for embed in (ev.mark_sdxl_diffusers, ev.mark_sdxl_sgm):
        # float32: OpenCV's colour conversion and numpy's differ in the last bits, which turns a few near-ties of
        # a flat block's largest coefficient to another coefficient: a few blocks differ, both read the mark
        theirs, ours = embed(rgb, real=True), embed(rgb, real=False)
        assert (np.abs(theirs.astype(int) - ours) > 1).mean() < 0.005
        assert wm.decode_rgb(theirs)[1].found and wm.decode_rgb(ours)[1].found


def test_the_haar_approximation_is_pywavelets_bit_for_bit():
    pywt = pytest.importorskip("pywt")
    rng = np.random.default_rng(3)
    for plane in (rng.integers(0, 256, (64, 96), dtype=np.uint8), rng.normal(0, 80, (96, 64)).astype(np.float32)):
        ca, details = pywt.dwt2(plane, "haar")
        assert np.array_equal(wm.haar_approximation(plane), ca)
        ours = ev.dwt2(plane)
        assert all(np.array_equal(a, b) for a, b in zip(ours[1], details, strict=True))
        swapped = (details[1], details[0], details[2])
        assert np.array_equal(ev.idwt2(ca, swapped), pywt.idwt2((ca, swapped), "haar"))
