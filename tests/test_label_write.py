"""labelcheck/label/write.py: labelled copies of real media (made by ffmpeg, heif-enc, Pillow), written by exiftool
(and ffmpeg for MP3), read back by labelcheck itself and judged by the built-in policies."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from labelcheck.api import EvidenceOptions, scan
from labelcheck.label.write import (
    CONFIG,
    PLUS,
    TERMS,
    CannotCarry,
    LabelRequest,
    WriteError,
    Written,
    places,
    write,
    write_sidecar,
)
from labelcheck.model import Result
from labelcheck.policy import load as policy
from labelcheck.policy.judge import Judge

pytestmark = pytest.mark.skipif(
    not (shutil.which("exiftool") and shutil.which("ffmpeg")), reason="exiftool and ffmpeg are needed"
)

AS_OF = dt.date(2026, 9, 1)
NO_PIXELS = EvidenceOptions(read_pixels=False)  # cn-gb45438's explicit label is a visible label: not written here
FF = ("ffmpeg", "-y", "-nostdin", "-hide_banner", "-loglevel", "error")
STILL = ("-f", "lavfi", "-i", "testsrc2=size=96x64:rate=1", "-frames:v", "1")
MOVIE = ("-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10", "-f", "lavfi", "-i", "sine=frequency=440", "-t", "1")
H264 = ("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "32k")
TONE = ("-f", "lavfi", "-i", "sine=frequency=330:sample_rate=8000", "-t", "0.5")
MIMES = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "gif": "image/gif",
    "tiff": "image/tiff",
    "heic": "image/heic",
    "avif": "image/avif",
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "m4a": "audio/mp4",
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "pdf": "application/pdf",
}
ALL = ("iptc", "tc260", "plus")
CARRIERS = {"pdf": ("iptc", "plus")}  # labelcheck reads no TC260 label in a PDF
STATUSES = ("fully_ai", "made_with_ai")
TRAINING_POLICY = """id: test-training
title: every work states its training terms
rules:
  - id: training
    check: training-reservation
    level: error
    options: {applies_to: all}
"""


def _make(ext: str, out: Path) -> bool:
    """A plain file of the type, if the tools here can make one."""
    args = {
        "jpg": (*STILL,),
        "png": (*STILL,),
        "webp": (*STILL, "-c:v", "libwebp"),
        "gif": (*STILL,),
        "tiff": (*STILL,),
        "avif": (*STILL, "-c:v", "libaom-av1", "-still-picture", "1"),
        "mp4": (*MOVIE, *H264),
        "mov": (*MOVIE, *H264, "-f", "mov"),
        "m4a": (*TONE, "-c:a", "aac", "-f", "ipod"),
        "wav": (*TONE, "-c:a", "pcm_s16le"),
        "mp3": (*TONE, "-c:a", "libmp3lame"),
    }
    if ext == "pdf":
        Image.new("RGB", (48, 32), (200, 30, 30)).save(out)
        return True
    if ext == "heic":
        png = out.with_suffix(".png")
        if not shutil.which("heif-enc") or not _make("png", png):
            return False
        return subprocess.run(["heif-enc", "-o", str(out), str(png)], capture_output=True, check=False).returncode == 0
    return subprocess.run([*FF, *args[ext], str(out)], capture_output=True, check=False).returncode == 0


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _exiftool(path: Path, *tags: str) -> str:
    """What exiftool reads, without labelcheck's configuration (the TDMRep names need it: -config comes first)."""
    config = ["-config", str(CONFIG)] if any(t.startswith("-XMP-tdm:") for t in tags) else []
    args = ["exiftool", *config, "-s3", "-n", *tags, str(path)]
    p = subprocess.run(args, capture_output=True, text=True, check=True)
    return p.stdout.strip()


def _results(paths: list[Path], judge: Judge) -> dict[Path, Result]:
    report = scan(paths, options=NO_PIXELS, judge=judge)
    return {Path(r.evidence.target): r for r in report.results}


def _finding(result: Result, policy_id: str, rule: str) -> str:
    return next(f.status.value for f in result.findings if f.policy == policy_id and f.rule == rule)


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("plain")
    made = {ext: d / f"plain.{ext}" for ext in MIMES}
    return {ext: p for ext, p in made.items() if _make(ext, p)}


@pytest.fixture(scope="module")
def labelled(plain: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    """Every format, both statuses: the IPTC term, the TC260 label and a PLUS reservation (not_allowed)."""
    d = tmp_path_factory.mktemp("labelled")
    out = {}
    for (ext, src), status in ((e, s) for e in plain.items() for s in STATUSES):
        req = LabelRequest(status, CARRIERS.get(ext, ALL), "PRODUCER-0001", f"gen-{ext}", training="not_allowed")
        before = _sha(src)
        dst = d / f"{status}.{ext}"
        assert {(w.carrier, w.place) for w in write(src, dst, MIMES[ext], req)} == set(places(MIMES[ext], req))
        assert _sha(src) == before, "the source is never modified"
        out[(ext, status)] = dst
    assert sorted(p.name for p in d.iterdir()) == sorted(p.name for p in out.values()), "no temporary file is left"
    return out


@pytest.fixture(scope="module")
def eu(labelled: dict[tuple[str, str], Path]) -> dict[Path, Result]:
    return _results(list(labelled.values()), Judge.of((policy.load("eu-ai-act-art50"),), as_of=AS_OF))


@pytest.fixture(scope="module")
def cn(labelled: dict[tuple[str, str], Path], tmp_path_factory: pytest.TempPathFactory) -> dict[Path, Result]:
    training = tmp_path_factory.mktemp("policy") / "training.yaml"
    training.write_text(TRAINING_POLICY, encoding="utf-8")
    judge = Judge.of((policy.load("cn-gb45438"), policy.load(str(training))), as_of=AS_OF)
    return _results(list(labelled.values()), judge)


CASES = [(ext, status) for ext in MIMES for status in STATUSES]


def _case(labelled: dict[tuple[str, str], Path], ext: str, status: str) -> Path:
    if (ext, status) not in labelled:
        pytest.skip(f"the tools here cannot make a .{ext} file")
    return labelled[(ext, status)]


@pytest.mark.parametrize("ext,status", CASES)
def test_labelcheck_reads_the_asked_status_and_the_eu_policy_passes(labelled, eu, ext, status):
    result = eu[_case(labelled, ext, status)]
    assert result.evidence.media_type == MIMES[ext]
    assert (result.classification.status.value, result.classification.basis.value) == (status, "standard")
    assert result.classification.specific
    assert result.status.value == "pass", [(f.rule, f.status.value, f.message) for f in result.findings]
    assert _finding(result, "eu-ai-act-art50", "art50-2-machine-readable-mark") == "pass"


@pytest.mark.parametrize("ext,status", CASES)
def test_the_implicit_label_and_the_training_reservation_pass(labelled, cn, ext, status):
    result = cn[_case(labelled, ext, status)]
    if "tc260" in CARRIERS.get(ext, ALL):
        assert _finding(result, "cn-gb45438", "implicit-label") == "pass"
        assert _finding(result, "cn-gb45438", "implicit-label-valid") == "pass"
    assert _finding(result, "test-training", "training") == "pass"
    assert result.classification.training.value == "not_allowed"


@pytest.mark.parametrize("ext,status", CASES)
def test_exiftool_itself_reads_the_iptc_term(labelled, ext, status):
    path = _case(labelled, ext, status)
    assert _exiftool(path, "-XMP-iptcExt:DigitalSourceType") == TERMS[status]
    assert _exiftool(path, "-XMP-plus:DataMining") == PLUS + "DMI-PROHIBITED-AIMLTRAINING"


@pytest.mark.parametrize("ext", ["jpg", "png", "mp4", "wav", "mp3", "heic"])
def test_each_carrier_alone(plain, tmp_path, ext):
    if ext not in plain:
        pytest.skip(f"the tools here cannot make a .{ext} file")
    mime, src = MIMES[ext], plain[ext]
    requests = {
        "iptc": LabelRequest("made_with_ai", ("iptc",)),
        "tc260": LabelRequest("fully_ai", ("tc260",), "PRODUCER-0001", "gen-1", "PLATFORM-7", "post-7"),
        "plus": LabelRequest("fully_ai", ("plus",), training="constrained", training_policy="https://r.example/p"),
        "tdmrep": LabelRequest("fully_ai", ("tdmrep",), training="not_allowed"),
    }
    outs = {}
    for carrier, req in requests.items():
        outs[carrier] = tmp_path / f"{carrier}.{ext}"
        assert {w.carrier for w in write(src, outs[carrier], mime, req)} == {carrier}
    training = tmp_path / "training.yaml"
    training.write_text(TRAINING_POLICY, encoding="utf-8")
    judge = Judge.of((policy.load("cn-gb45438"), policy.load(str(training))), as_of=AS_OF)
    got = _results(list(outs.values()), judge)
    iptc, tc260, plus, tdm = (got[outs[c]] for c in requests)
    assert (iptc.classification.status.value, iptc.classification.basis.value) == ("made_with_ai", "standard")
    assert (tc260.classification.status.value, tc260.classification.basis.value) == ("fully_ai", "standard")
    assert _finding(tc260, "cn-gb45438", "implicit-label") == "pass"
    assert [r.declares for r in plus.labels] == ["constrained"]
    assert _finding(plus, "test-training", "training") == "pass"
    assert [(r.carrier, r.declares) for r in tdm.labels] == [("tdmrep", "not_allowed")]
    assert _finding(tdm, "test-training", "training") == "pass"


def test_places_per_format():
    req = LabelRequest("fully_ai", ("iptc", "tc260", "plus"), "P", "I", training="not_allowed")
    xmp = (("iptc", "XMP-iptcExt:DigitalSourceType"), ("tc260", "XMP-TC260:AIGC"), ("plus", "XMP-plus:DataMining"))
    for mime in set(MIMES.values()) - {"audio/mpeg", "application/pdf"}:
        assert places(mime, req) == xmp, mime
    assert places("audio/mpeg", req) == (xmp[0], ("tc260", "ID3:UserDefinedText"), xmp[2])
    constrained = LabelRequest(
        "made_with_ai", ("tdmrep", "plus"), training="constrained", training_policy="https://x.y/"
    )
    assert places("image/png", constrained) == (
        ("tdmrep", "XMP-tdm:Reservation"),
        ("tdmrep", "XMP-tdm:Policy"),
        ("plus", "XMP-plus:DataMining"),
        ("plus", "XMP-plus:OtherConstraints"),
    )
    assert places("application/pdf", LabelRequest("fully_ai", ("iptc",))) == (xmp[0],)


@pytest.mark.parametrize("mime", ["video/x-matroska", "image/svg+xml", "audio/flac", "application/octet-stream", ""])
def test_a_format_exiftool_cannot_write_names_the_sidecar(tmp_path, mime):
    src = tmp_path / "item.bin"
    src.write_bytes(b"\x1a\x45\xdf\xa3 not really")
    req = LabelRequest("fully_ai", ("iptc",))
    for attempt in (lambda: places(mime, req), lambda: write(src, tmp_path / "out.bin", mime, req)):
        with pytest.raises(CannotCarry, match=r"sidecar \(NAME\.xmp\)"):
            attempt()
    assert not (tmp_path / "out.bin").exists()


def test_a_carrier_the_format_has_no_place_for(plain, tmp_path):
    req = LabelRequest("fully_ai", ("iptc", "tc260"), "P", "I")
    with pytest.raises(CannotCarry, match="TC260.*sidecar"):
        places("application/pdf", req)
    with pytest.raises(CannotCarry):
        write(plain["pdf"], tmp_path / "out.pdf", "application/pdf", req)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("mime", ["image/jpeg", "video/mp4", "audio/wav", "audio/mpeg"])
def test_a_source_that_is_not_media_leaves_nothing(tmp_path, mime):
    src = tmp_path / "notes.txt"
    src.write_text("not a picture, a movie or a sound\n" * 10)
    before = _sha(src)
    with pytest.raises(WriteError):
        write(src, tmp_path / "out", mime, LabelRequest("fully_ai", ("iptc", "tc260"), "P", "I"))
    assert sorted(os.listdir(tmp_path)) == ["notes.txt"] and _sha(src) == before


def test_a_read_only_directory_leaves_nothing(plain, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    if os.access(ro, os.W_OK):  # root writes anywhere: /proc takes no new file from anyone
        ro = Path("/proc")
    try:
        for ext in ("jpg", "wav", "mp3"):
            with pytest.raises(WriteError):
                write(plain[ext], ro / f"out.{ext}", MIMES[ext], LabelRequest("fully_ai", ("iptc",)))
            assert not (ro / f"out.{ext}").exists() and not list(ro.glob(f".out.{ext}.*"))
    finally:
        (tmp_path / "ro").chmod(0o755)


@pytest.mark.parametrize("ext", ["jpg", "wav", "mp3"])
def test_failures_leave_no_destination(plain, tmp_path, ext):
    req = LabelRequest("fully_ai", ("iptc",))
    with pytest.raises(WriteError):
        write(plain[ext], tmp_path / "missing-dir" / f"out.{ext}", MIMES[ext], req)
    with pytest.raises(WriteError, match="time"):
        write(plain[ext], tmp_path / f"late.{ext}", MIMES[ext], req, timeout=0.001)
    existing = tmp_path / f"there.{ext}"
    existing.write_bytes(b"keep me")
    with pytest.raises(FileExistsError):
        write(plain[ext], existing, MIMES[ext], req)
    assert existing.read_bytes() == b"keep me"
    assert os.listdir(tmp_path) == [existing.name]


@pytest.mark.parametrize("ext", ["wav", "mp3", "jpg"])
def test_labelling_again_replaces_the_term_and_keeps_the_other_labels(plain, tmp_path, ext):
    once, twice = tmp_path / f"once.{ext}", tmp_path / f"twice.{ext}"
    write(plain[ext], once, MIMES[ext], LabelRequest("fully_ai", ("iptc", "tdmrep"), training="allowed"))
    write(once, twice, MIMES[ext], LabelRequest("made_with_ai", ("iptc",)))
    assert _exiftool(twice, "-XMP-iptcExt:DigitalSourceType") == TERMS["made_with_ai"]
    assert _exiftool(twice, "-XMP-tdm:Reservation") == "0"
    if ext == "wav":
        assert _riff_ids(twice).count(b"_PMX") == 1


def _riff_ids(path: Path) -> list[bytes]:
    data, pos, ids = path.read_bytes(), 12, []
    while pos + 8 <= len(data):
        size = struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        ids.append(data[pos : pos + 4])
        pos += 8 + size + (size & 1)
    assert pos in (len(data), len(data) + 1)
    return ids


def _audio_md5(path: Path) -> str:
    args = [*FF, "-i", str(path), "-map", "0:a", "-c", "copy", "-f", "md5", "-"]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def test_the_sound_is_copied_as_it_is(plain, tmp_path):
    odd = tmp_path / "odd.wav"  # a chunk of odd length after the audio, as BWF tools append them
    data = plain["wav"].read_bytes()
    body = data[8:] + b"note" + struct.pack("<I", 3) + b"abc\0"
    odd.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    for src, ext in ((odd, "wav"), (plain["mp3"], "mp3")):
        out = tmp_path / f"out.{ext}"
        write(src, out, MIMES[ext], LabelRequest("fully_ai", ("iptc", "tc260"), "P", "I"))
        assert _audio_md5(out) == _audio_md5(src)
    assert _riff_ids(tmp_path / "out.wav") == [*_riff_ids(odd), b"_PMX"]
    assert (tmp_path / "out.wav").read_bytes().find(b"note\x03\x00\x00\x00abc\x00") > 0


def test_a_sidecar_holds_the_labels_beside_a_format_that_cannot(tmp_path):
    mkv = tmp_path / "clip.mkv"
    assert _make("mp4", tmp_path / "clip.mp4")
    subprocess.run([*FF, "-i", str(tmp_path / "clip.mp4"), "-c", "copy", str(mkv)], check=True)
    req = LabelRequest("fully_ai", ("iptc", "tc260", "plus"), "P", "I", training="not_allowed")
    sidecar = tmp_path / "clip.xmp"
    written = write_sidecar(mkv, sidecar, req)
    assert [w.place for w in written] == ["XMP-iptcExt:DigitalSourceType", "XMP-TC260:AIGC", "XMP-plus:DataMining"]
    assert all(isinstance(w, Written) for w in written)
    assert _exiftool(sidecar, "-XMP-iptcExt:DigitalSourceType") == TERMS["fully_ai"]
    result = scan([mkv], options=NO_PIXELS).results[0]
    assert result.classification.status.value == "fully_ai"  # read from the sidecar: evidence, not the file's label
    assert result.classification.basis.value == "non_standard"
    with pytest.raises(FileExistsError):
        write_sidecar(mkv, sidecar, req)
    with pytest.raises(ValueError, match="NAME.xmp"):
        write_sidecar(mkv, tmp_path / "clip.txt", req)


@pytest.mark.parametrize(
    "kw,match",
    [
        ({"status": "ai"}, "status"),
        ({"carriers": ("c2pa",)}, "carriers"),
        ({"carriers": ()}, "carriers"),
        ({"carriers": ("plus",)}, "training reservation"),
        ({"carriers": ("tdmrep",), "training": "maybe"}, "training"),
        ({"carriers": ("tdmrep",), "training": "constrained"}, "URL"),
    ],
)
def test_a_request_that_cannot_be_written_is_refused(kw, match):
    with pytest.raises(ValueError, match=match):
        LabelRequest(**{"status": "fully_ai", "carriers": ("iptc",), **kw})


def test_the_aigc_json_carries_the_producer_and_propagator():
    req = LabelRequest("made_with_ai", ("tc260",), "生产者", "id-1", "平台", "post-1")
    assert req.aigc() == (
        '{"Label": "1", "ContentProducer": "生产者", "ProduceID": "id-1", "ReservedCode1": "", '
        '"ContentPropagator": "平台", "PropagateID": "post-1", "ReservedCode2": ""}'
    )
