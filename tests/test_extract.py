"""Extractors on real files: bounded exiftool, ffprobe, and input handling."""

import json
import os
import random
import shutil
import struct
import subprocess
import time
from pathlib import Path

import pytest
from conftest import CORPUS, MEDIA, checked_scan

from labelcheck.extract import carriers, ffprobe
from labelcheck.extract import exiftool as exiftool_mod
from labelcheck.extract.exiftool import READ_ARGS, ExifToolSession
from labelcheck.extract.tags import signals_from_exiftool
from labelcheck.inputs.targets import count_items, expand
from labelcheck.model import Kind, ToolError


def test_one_exiftool_process_reads_a_batch_in_order():
    files = sorted(MEDIA.glob("xmp_*"))
    with ExifToolSession() as et:
        answers = et.read(files)
        pid = et._tool._process.pid
        again = et.read(files[:1])
        assert et._tool._process.pid == pid  # the same stay-open process
    assert len(answers) == len(files)
    for path, tags in zip(files, answers, strict=True):
        assert isinstance(tags, dict) and tags["SourceFile"].endswith(path.name)
    assert again[0]["SourceFile"] == answers[0]["SourceFile"]


def test_while_another_thread_starts_exiftool_the_other_extractors_do_not_wait_for_it():
    """A worker starts exiftool in a thread while it reads its first batch's C2PA (Scanner.start_tools): the read
    run `during` exiftool's work must not queue behind that start-up."""
    import threading

    files = sorted(MEDIA.glob("xmp_*"))[:2]
    ran_while_starting = threading.Event()
    with ExifToolSession() as et:
        answers: list[object] = []
        with et._lock:  # what the starting thread holds until Perl has answered -ver
            reader = threading.Thread(
                target=lambda: answers.extend(et.read(files, during=ran_while_starting.set)), daemon=True
            )
            reader.start()
            assert ran_while_starting.wait(10), "the other extractors waited for exiftool to start"
        reader.join(30)
    assert [a["SourceFile"] for a in answers] == [str(f) for f in files]  # type: ignore[index]


def _plain_exiftool(*args: str | Path) -> list[dict[str, object]]:
    """exiftool's answers with labelcheck's read arguments but without its configuration."""
    return json.loads(subprocess.run(["exiftool", *READ_ARGS, *map(str, args)], capture_output=True, check=True).stdout)


def _assert_read_as_plain(
    ours: object, theirs: dict[str, object], skip: set[str], groups: tuple[str, ...] = ()
) -> None:
    """Every tag of exiftool's own answer, but those in `skip` and in `groups`, is in labelcheck's with its value."""
    same = {k for k in theirs if k not in skip and not k.startswith(("ExifTool:", "System:", *groups))}
    assert isinstance(ours, dict) and {k: ours.get(k) for k in same} == {k: theirs[k] for k in same}


def _png_written_by_exiftool(tmp_path: Path, name: str, *args: str) -> Path:
    """A copy of a fixture PNG that exiftool has written `args` into."""
    png = tmp_path / name
    shutil.copy(MEDIA / "png_comfyui.png", png)
    subprocess.run(["exiftool", "-q", "-overwrite_original", *args, str(png)], check=True)
    return png


def test_exiftool_leaves_c2pa_manifests_to_c2pa_rs_and_reads_everything_else():
    signed = [MEDIA / "c2pa_conflict_xmp.jpg", MEDIA / "c2pa_composite_ai.png"]
    with ExifToolSession() as et:
        ours = et.read(signed)
    for mine, theirs in zip(ours, _plain_exiftool(*signed), strict=True):
        assert isinstance(mine, dict)
        decoded = {k for k in theirs if k.split(":")[0] in ("JUMBF", "CBOR", "JSON")}
        assert decoded  # exiftool alone decodes the manifest store ...
        assert not {k for k in mine if k.split(":")[0] in ("JUMBF", "CBOR", "JSON")}  # ... labelcheck's does not
        _assert_read_as_plain(mine, theirs, decoded, ("Jpeg2000:",))  # every other tag read as before


_LOADED = (  # which parts of exiftool a read with labelcheck's configuration loads, then whether a write still works
    "BEGIN { $Image::ExifTool::configFile = shift } use Image::ExifTool;"
    "my $et = Image::ExifTool->new; my $info = $et->ImageInfo(shift);"
    "sub tables { defined &Image::ExifTool::TagLookup::FindTagInfo ? 1 : 0 }"
    'print join(" ", ($INC{"Image/ExifTool/Writer.pl"} ? 1 : 0), tables(), $$info{"Title-de"}), "\\n";'
    '$et->SetNewValue("XMP-dc:Title-fr", "Une image"); print tables();'
)


@pytest.mark.skipif(
    subprocess.run(["perl", "-MImage::ExifTool", "-e1"], capture_output=True).returncode != 0,
    reason="exiftool's Perl library is not on perl's path",
)
def test_reads_that_need_helpers_of_exiftools_writer_leave_the_writer_and_its_tables_unloaded(tmp_path):
    """A tag in another language and an MXF file's 64-bit integers are read through helpers that exiftool keeps in
    its writer: exiftool alone loads the whole writer for them (3.8 MB) and its 10 MB of tables for finding tags by
    name. With labelcheck's configuration each helper is compiled alone, neither is loaded until something asks for
    them (a write, which then works as before), and the reads answer as plain exiftool's do."""
    png = _png_written_by_exiftool(tmp_path, "localised.png", "-PNG:Title-de=Ein Bild")
    mxf = MEDIA / "mxf_generator.mxf"
    with ExifToolSession() as et:
        ours = et.read([png, mxf])
    assert isinstance(ours[0], dict) and ours[0]["PNG:Title-de"] == "Ein Bild"
    for answer, path in zip(ours, (png, mxf), strict=True):
        _assert_read_as_plain(answer, _plain_exiftool(path)[0], set())

    def loaded(config: str, path: Path = png) -> list[str]:
        out = subprocess.run(
            ["perl", "-w", "-e", _LOADED, config, str(path)], capture_output=True, text=True, check=True
        )
        assert "redefined" not in out.stderr and "mismatch" not in out.stderr, out.stderr
        return out.stdout.split()

    # neither writer nor tables loaded, the tag read; a write loads both, quietly
    assert loaded(str(exiftool_mod.CONFIG)) == ["0", "0", "Ein", "Bild", "1"]
    assert loaded(str(exiftool_mod.CONFIG), mxf)[:2] == ["0", "0"]
    assert loaded("")[:2] == ["1", "1"]  # exiftool alone loads the writer and its tables for the same read
    assert loaded("", mxf)[:2] == ["1", "1"]


NIKON = CORPUS / "c2pa-public-testfiles/image/jpeg/nikon-20221019-building.jpeg"


@pytest.mark.skipif(not NIKON.exists(), reason="corpus absent")
def test_camera_maker_notes_are_not_parsed_and_everything_else_is_read_as_before(tmp_path):
    """A PNG carrying a camera's EXIF (made by exiftool from a real Nikon photo): plain exiftool parses its maker
    notes (and loads the maker's tables); labelcheck's configuration reads them as one binary block."""
    png = _png_written_by_exiftool(tmp_path, "camera.png", "-tagsFromFile", str(NIKON), "-exif:all")
    with ExifToolSession() as et:
        (ours,) = et.read([png])
    by_family0 = _plain_exiftool("-G0:1", png)[0]  # "MakerNotes:Nikon:Quality", "EXIF:ExifIFD:Make", ...
    maker = {k.split(":", 1)[1] for k in by_family0 if k.startswith("MakerNotes:")}
    theirs = _plain_exiftool(png)[0]
    assert isinstance(ours, dict) and len(maker) > 50 and maker <= set(theirs)
    assert not maker & set(ours)
    assert ours["ExifIFD:MakerNotes"].startswith("(Binary data")
    _assert_read_as_plain(ours, theirs, maker)


def test_a_stalled_call_is_cut_off_the_process_restarted_and_the_batch_goes_on():
    files = sorted(MEDIA.glob("xmp_*"))[:3]
    with ExifToolSession(timeout=0.0005) as et:
        t = time.monotonic()
        answers = et.read(files)
        assert time.monotonic() - t < 10
        assert all(isinstance(a, ToolError) and "restarted" in a.message for a in answers)
        assert et.restarts == len(files)
        et.timeout = 5.0
        assert isinstance(et.read(files[:1])[0], dict)  # a fresh process answers again


@pytest.mark.skipif(not (CORPUS / "c2pa-rs/sdk/tests/fixtures/tiff_poc.tiff").exists(), reason="corpus absent")
def test_a_pathological_file_costs_at_most_its_deadline():
    slow = CORPUS / "c2pa-rs/sdk/tests/fixtures/tiff_poc.tiff"
    with ExifToolSession(timeout=1.0) as et:
        t = time.monotonic()
        answers = et.read([slow, MEDIA / "xmp_fully_ai.jpg"])
        assert time.monotonic() - t < 3.5
    assert isinstance(answers[0], ToolError) and isinstance(answers[1], dict)


def test_names_with_newlines_and_non_utf8_bytes(tmp_path):
    odd = tmp_path / "line\nbreak.jpg"
    shutil.copy(MEDIA / "xmp_fully_ai.jpg", odd)
    raw = os.path.join(os.fsencode(tmp_path), b"caf\xe9.jpg")
    shutil.copy(MEDIA / "xmp_fully_ai.jpg", raw)
    _, doc = checked_scan([tmp_path])
    assert len(doc["results"]) == 2
    assert all(r["ai"]["status"] == "fully_ai" and not r["errors"] for r in doc["results"])
    assert any("\\xe9" in r["target"] for r in doc["results"])


def test_the_number_of_items_is_known_when_every_target_is_one_item(tmp_path):
    (tmp_path / "a.jpg").write_bytes(b"x")
    (tmp_path / "d").mkdir()
    one = [tmp_path / "a.jpg", "https://example.org/b.png", tmp_path / "missing.jpg"]
    assert count_items(one) == 3 == len(list(expand(one)))
    assert count_items([*one, tmp_path / "d"]) is None  # a directory is walked
    assert count_items([tmp_path / "*.jpg"]) is None  # so is a glob
    assert count_items([]) == 0


def test_missing_and_deleted_paths_are_items_with_errors(tmp_path):
    gone = tmp_path / "gone.jpg"
    _, doc = checked_scan([gone, MEDIA / "plain_camera.jpg"])
    assert doc["results"][0]["status"] == "error" and "no such file" in doc["results"][0]["errors"][0]["message"]
    assert doc["results"][1]["status"] == "pass"


def test_a_glob_that_matches_nothing_is_an_item_error_but_one_filtered_empty_is_not(tmp_path):
    pattern = str(tmp_path / "renders" / "**" / "*.png")
    _, doc = checked_scan([pattern])
    assert [r["status"] for r in doc["results"]] == ["error"]  # a CI gate pointed at the wrong place fails
    assert "no file matches this pattern" in doc["results"][0]["errors"][0]["message"]
    (tmp_path / "renders").mkdir()
    shutil.copy(MEDIA / "png_comfyui.png", tmp_path / "renders" / "shot_proxy.png")
    assert list(expand([pattern], exclude=("*_proxy*",))) == []  # matched, then excluded on purpose


def test_directory_walk_skips_non_media_and_survives_symlink_loops(tmp_path):
    (tmp_path / "sub").mkdir()
    shutil.copy(MEDIA / "plain_camera.jpg", tmp_path / "sub" / "a.jpg")
    (tmp_path / "README.txt").write_text("not media")
    (tmp_path / "sub" / "loop").symlink_to(tmp_path)
    _, doc = checked_scan([tmp_path])
    assert [Path(r["target"]).name for r in doc["results"]] == ["a.jpg"]


def test_tag_mapping_is_by_field_not_by_file():
    tags = {
        "XMP-iptcExt:DigitalSourceType": "trainedAlgorithmicMedia",
        "ID3v2_4:UserDefinedText": ['(AIGC) {"Label": "1"}', "(mood) calm"],
        "PNG:Parameters": "x",
        "IFD0:Software": "Midjourney",
        "ID3v2_3:EncoderSettings": "Suno AI",
        "Matroska:WritingApp": "Lavf59.27.100",
        "XMP-dc:Description": "An AI-generated portrait",
        "XMP-tdm:Reservation": 1,
        "XMP-plus:DataMining": "http://ns.useplus.org/ldf/vocab/DMI-ALLOWED",
        "XMP-dcterms:Provenance": "https://example.org/m.c2pa",
        "File:FileName": "AI-generated.png",
    }
    kinds = {(s.kind, s.key) for s in signals_from_exiftool(tags)}
    assert kinds == {
        (Kind.SOURCE_TYPE, "XMP-iptcExt:DigitalSourceType"),
        (Kind.AIGC, "ID3v2_4:AIGC"),
        (Kind.GENERATOR, "PNG:Parameters"),
        (Kind.SOFTWARE, "IFD0:Software"),
        (Kind.SOFTWARE, "ID3v2_3:EncoderSettings"),
        (Kind.SOFTWARE, "Matroska:WritingApp"),
        (Kind.AI_TEXT, "XMP-dc:Description"),
        (Kind.TDM, "XMP-tdm:Reservation"),
        (Kind.DATA_MINING, "XMP-plus:DataMining"),
        (Kind.PROVENANCE_REF, "XMP-dcterms:Provenance"),
    }


def test_ffprobe_reads_container_tags_and_fails_cleanly():
    probe = ffprobe.probe(MEDIA / "mp4_aigc.mp4")
    assert isinstance(probe, dict) and "AIGC" in probe["format"]["tags"]
    bad = ffprobe.probe(MEDIA / "bad_garbage.mp4")
    assert isinstance(bad, ToolError) and bad.source == "ffprobe"
    slow = ffprobe.probe(MEDIA / "plain_video.mp4", timeout=0.0001)
    assert isinstance(slow, ToolError) and "no answer" in slow.message


def test_ffprobe_runs_only_where_it_adds_something(fixture_results):
    assert not any(s["source"] == "ffprobe" for s in fixture_results["plain_camera.jpg"]["signals"])  # a still
    assert not any(s["source"] == "ffprobe" for s in fixture_results["plain_video.mp4"]["signals"])
    # Matroska: exiftool reads its Tags (with -ee also those after the Clusters); ffprobe only when asked.
    mkv = fixture_results["mkv_aigc.mkv"]["signals"]
    assert any(s["key"] == "Matroska:Aigc" for s in mkv) and not any(s["source"] == "ffprobe" for s in mkv)
    _, doc = checked_scan([MEDIA / "plain_video.mp4", MEDIA / "mkv_aigc.mkv"], ffprobe_mode="always")
    assert all(any(s["key"].endswith(":codec") for s in r["signals"]) for r in doc["results"])
    assert any(s["key"] == "format:AIGC" for s in doc["results"][1]["signals"])


def test_ffprobe_reads_containers_exiftool_does_not(tmp_path):
    ts = tmp_path / "clip.ts"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10", "-t", "1", "-c:v", "libx264"]
        + ["-metadata", "service_provider=AI-generated news desk", "-f", "mpegts", str(ts)],
        check=True,
    )
    _, doc = checked_scan([ts])
    signals = doc["results"][0]["signals"]
    assert any(s["source"] == "ffprobe" and s["key"].endswith(":codec") for s in signals)
    assert any(s["source"] == "ffprobe" and "AI-generated" in s["value"] for s in signals)


def test_an_unforeseen_fault_in_one_item_is_contained(monkeypatch):
    from labelcheck.extract import c2pa as c2pa_x

    real = c2pa_x.read

    def faulty(path, *args):
        if path.name == "xmp_capture.jpg":
            raise RuntimeError("simulated defect in labelcheck")
        return real(path, *args)

    monkeypatch.setattr(c2pa_x, "read", faulty)
    _, doc = checked_scan([MEDIA / "xmp_fully_ai.jpg", MEDIA / "xmp_capture.jpg", MEDIA / "xmp_bare_term.webp"])
    assert [r["status"] for r in doc["results"]] == ["pass", "error", "pass"]
    assert doc["results"][1]["errors"][0]["source"] == "internal"
    assert "simulated defect" in doc["results"][1]["errors"][0]["message"]


def test_a_classification_fault_becomes_an_item_error():
    from labelcheck.model import C2paStore, Evidence, Signal
    from labelcheck.policy.judge import Judge

    judge = Judge.of()

    ev = Evidence(
        "/x.jpg", "image/jpeg", "image", 1, None, C2paStore(False), (Signal("xmp", Kind.AI_TEXT, "k", None),), ()
    )  # a malformed signal
    r = judge(ev)
    assert r.status.value == "error" and r.evidence.errors[-1].source == "internal"


def test_packet_scanning_finds_xmp_across_chunk_boundaries(tmp_path):
    from labelcheck.extract import xmppacket

    packet = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'
    blob = b"\0" * (xmppacket.CHUNK - 20) + packet + b"junk" + packet
    f = tmp_path / "blob.bin"
    f.write_bytes(blob)
    assert xmppacket.find_packets(f) == [packet, packet]
    assert xmppacket.find_packets(f, max_scan=1024) == []


def _tiff_with_xmp(tmp_path):
    """A real TIFF (ffmpeg) with an IPTC digital source type in its XMP (exiftool)."""
    f = tmp_path / "labelled.tiff"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=c=red:s=16x16", "-frames:v", "1", str(f)], check=True
    )
    subprocess.run(
        [
            "exiftool",
            "-q",
            "-overwrite_original",
            "-XMP-iptcExt:DigitalSourceType=http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
            str(f),
        ],
        check=True,
    )
    return f


def test_when_exiftool_times_out_the_xmp_packet_is_still_read(tmp_path):
    f = _tiff_with_xmp(tmp_path)
    _, doc = checked_scan([f], exiftool_short_timeout=0.001)  # TIFF gets the short deadline; packets the normal one
    r = doc["results"][0]
    assert r["errors"][0]["source"] == "exiftool" and "no answer" in r["errors"][0]["message"]
    assert any(s["location"].startswith("xmp packet scan") for s in r["signals"])
    assert r["ai"]["status"] == "fully_ai"


def test_a_file_exiftool_dies_on_is_reported_as_such_its_xmp_still_read_and_the_batch_goes_on(tmp_path):
    """A JPEG whose JUMBF segment (APP11) carries sequence number 0xFFFFFFFF: exiftool 12.x extends a Perl array to
    that index and exits with "Out of memory!" (a malicious or corrupt C2PA segment)."""
    f = tmp_path / "labelled.jpg"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=c=red:s=16x16", "-frames:v", "1", str(f)])
    dst = "-XMP-iptcExt:DigitalSourceType=http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
    subprocess.run(["exiftool", "-q", "-overwrite_original", dst, str(f)], check=True)
    box = struct.pack(">I", 16) + b"jumb" + struct.pack(">I", 8) + b"jumd"
    body = b"JP" + struct.pack(">HI", 1, 0xFFFFFFFF) + box
    bad = tmp_path / "bad-jumbf.jpg"
    data = f.read_bytes()
    bad.write_bytes(data[:2] + b"\xff\xeb" + struct.pack(">H", 2 + len(body)) + body + data[2:])
    plain = subprocess.run(["exiftool", "-j", str(bad)], capture_output=True, timeout=60)
    if plain.returncode == 0:
        pytest.skip(f"this exiftool survives the segment: {plain.stderr[:200]!r}")
    results = {r["target"]: r for r in checked_scan([bad, f])[1]["results"]}
    r = results[str(bad)]
    (err,) = [e for e in r["errors"] if e["source"] == "exiftool"]
    assert "exited while reading this file" in err["message"] and "no answer" not in err["message"]
    assert any(s["location"].startswith("xmp packet scan") for s in r["signals"])
    assert r["ai"]["status"] == "fully_ai"
    after = results[str(f)]  # the next file of the batch, read by the restarted process
    assert not after["errors"] and after["ai"]["status"] == "fully_ai"


def test_a_tiff_with_thousands_of_directories_is_not_given_to_exiftool(tmp_path):
    from labelcheck.extract.costly import MAX_DIRECTORIES, costly_structure

    plain = _tiff_with_xmp(tmp_path)
    assert costly_structure(plain, "image/tiff") is None
    # The same image with a chain of empty directories appended after IFD0 (the shape of a known DoS file).
    data = bytearray(plain.read_bytes())
    bo = "<" if data[:2] == b"II" else ">"
    ifd0 = struct.unpack(bo + "I", data[4:8])[0]
    count = struct.unpack(bo + "H", data[ifd0 : ifd0 + 2])[0]
    link = ifd0 + 2 + 12 * count
    chain_start = len(data)
    for _ in range(MAX_DIRECTORIES + 10):
        here = len(data)
        data += struct.pack(bo + "H", 0) + struct.pack(bo + "I", here + 6)
    data[-4:] = struct.pack(bo + "I", 0)
    data[link : link + 4] = struct.pack(bo + "I", chain_start)
    chained = tmp_path / "chained.tiff"
    chained.write_bytes(bytes(data))
    assert "directories" in (costly_structure(chained, "image/tiff") or "")
    _, doc = checked_scan([chained])
    r = doc["results"][0]
    assert not r["errors"] and any("directories" in n for n in r["notes"])
    assert r["ai"]["status"] == "fully_ai"  # the XMP label is still read, by packet scanning


@pytest.mark.skipif(not (CORPUS / "c2pa-rs/sdk/tests/fixtures/basic-signed.pdf").exists(), reason="corpus absent")
def test_an_aes256_pdf_is_read_by_packet_scanning_without_exiftool():
    from labelcheck.extract.costly import costly_structure

    pdf = CORPUS / "c2pa-rs/sdk/tests/fixtures/basic-signed.pdf"
    assert "AES-256" in (costly_structure(pdf, "application/pdf") or "")
    for other in ("c2pa-rs/sdk/tests/fixtures/basic.pdf", "exiftool/t/images/PDF.pdf"):
        assert costly_structure(CORPUS / other, "application/pdf") is None
    _, doc = checked_scan([pdf])
    r = doc["results"][0]
    assert not [e for e in r["errors"] if e["source"] == "exiftool"]
    assert any("AES-256" in n for n in r["notes"])
    assert any(s["location"].startswith("xmp packet scan") for s in r["signals"])


def test_a_fifo_in_a_walked_directory_is_reported_not_opened(tmp_path):
    os.mkfifo(tmp_path / "stream.mp4")
    shutil.copy(MEDIA / "xmp_fully_ai.jpg", tmp_path / "a.jpg")
    _, doc = checked_scan([tmp_path])  # would hang forever if the FIFO were opened
    by_name = {Path(r["target"]).name: r for r in doc["results"]}
    assert "not a regular file" in by_name["stream.mp4"]["errors"][0]["message"]
    assert by_name["a.jpg"]["status"] == "pass"


def test_a_c2pa_failure_without_a_reason_does_not_claim_a_manifest_store(tmp_path):
    """c2pa-rs fails on an .mp4 of zeros without saying why: nothing says a store is there. A store that is there
    but broken still counts as present."""
    zeros = tmp_path / "zeros.mp4"
    zeros.write_bytes(bytes(1 << 16))
    broken = next(CORPUS.rglob("no_alg.jpg"), None) if CORPUS.exists() else None  # unknown signature algorithm
    _, doc = checked_scan([zeros, *([broken] if broken else [])])
    first = doc["results"][0]
    assert first["status"] == "error" and first["c2pa"]["present"] is False
    assert any(e["source"] == "c2pa" and "without giving a reason" in e["message"] for e in first["errors"])
    if broken:
        assert doc["results"][1]["c2pa"]["present"] is True


def test_broadcast_containers_c2pa_defines_no_embedding_for_are_walked_and_pass_with_a_note(tmp_path):
    """MXF, M2TS, MPEG program streams and AIFF made by ffmpeg: found by a directory walk (by content, whatever
    their names), read by exiftool and ffprobe without error, and C2PA's silence on them is a note, not an error."""
    ff = ("ffmpeg", "-v", "error", "-y")
    video = ("-f", "lavfi", "-i", "testsrc2=size=96x64:rate=25", "-t", "0.4", "-c:v", "mpeg2video")
    for fmt, name in (("mxf", "master.mxf"), ("mpegts", "clip.m2ts"), ("vob", "disc.vob"), ("mpeg", "clip.mpg")):
        extra = ("-mpegts_m2ts_mode", "1") if name.endswith("m2ts") else ()
        subprocess.run([*ff, *video, *extra, "-f", fmt, str(tmp_path / name)], check=True)
    audio = ("-f", "lavfi", "-i", "sine", "-t", "0.3")
    subprocess.run([*ff, *audio, "-f", "aiff", str(tmp_path / "dub.aiff")], check=True)
    (tmp_path / "disc.vob").rename(tmp_path / "disc.bin")  # the content decides, not the name
    _, doc = checked_scan([tmp_path])
    by_name = {Path(r["target"]).name: r for r in doc["results"]}
    assert set(by_name) == {"master.mxf", "clip.m2ts", "disc.bin", "clip.mpg", "dub.aiff"}
    for name, r in by_name.items():
        assert r["kind"] in ("video", "audio") and r["status"] == "pass" and r["errors"] == [], name
        assert any("C2PA defines no embedding" in n for n in r["notes"]), name


def _ogg_crc(page: bytes) -> int:
    """Ogg's page checksum (RFC 3533: CRC-32, polynomial 0x04c11db7, not reflected, over the page with a zero CRC)."""
    crc = 0
    for byte in page:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7 if crc & 0x80000000 else crc << 1) & 0xFFFFFFFF
    return crc


def _ogg_bos_page(serial: int, packet: bytes) -> bytes:
    """A beginning-of-stream page holding one packet (shorter than 255 bytes)."""
    head = b"OggS\x00\x02" + bytes(8) + serial.to_bytes(4, "little") + bytes(8) + bytes([1, len(packet)])
    page = head + packet
    return page[:22] + _ogg_crc(page).to_bytes(4, "little") + page[26:]


def test_ogg_jpeg_xl_and_cr3_without_a_manifest_pass_and_a_possible_manifest_is_not_passed_over(tmp_path):
    """c2pa-rs reads no Ogg and fails on a bare JPEG XL codestream: files made by ffmpeg in these formats were items
    that could not be checked (exit 5). Their structure says there is no manifest: a note. An Ogg file with a
    logical bitstream of no known codec (where C2PA 2.3 puts a manifest) is still reported as not verifiable."""
    ff = ("ffmpeg", "-v", "error", "-y")
    audio, video = ("-f", "lavfi", "-i", "sine", "-t", "0.3"), ("-f", "lavfi", "-i", "testsrc2=size=96x64:rate=10")
    subprocess.run([*ff, *audio, "-c:a", "libvorbis", str(tmp_path / "voice.ogg")], check=True)
    subprocess.run([*ff, *audio, "-c:a", "libopus", str(tmp_path / "voice.opus")], check=True)
    subprocess.run([*ff, *video, *audio, "-t", "0.3", "-c:v", "libtheora", str(tmp_path / "clip.ogv")], check=True)
    subprocess.run([*ff, *video, "-frames:v", "1", str(tmp_path / "still.jxl")], check=True)
    for src, name in (("plain_video.mp4", "raw.cr3"), ("c2pa_fully_ai.mp4", "signed.cr3")):  # ISO BMFF, brand "crx "
        data = (MEDIA / src).read_bytes()
        at = data.index(b"ftyp") + 4
        (tmp_path / name).write_bytes(data[:at] + b"crx " + data[at + 4 :])
    vorbis = (tmp_path / "voice.ogg").read_bytes()
    odd = tmp_path / "odd.ogg"  # a stream of no known codec before the Vorbis stream's pages
    odd.write_bytes(_ogg_bos_page(0x4332, b"\x00c2pa manifest follows") + vorbis)
    _, doc = checked_scan([tmp_path])
    by_name = {Path(r["target"]).name: r for r in doc["results"]}
    assert by_name["still.jxl"]["notes"] == ["a bare JPEG XL codestream has no boxes to carry a C2PA manifest"]
    assert by_name["clip.ogv"]["media_type"] == "video/ogg" and by_name["voice.opus"]["media_type"] == "audio/ogg"
    assert "(Theora, Vorbis)" in by_name["clip.ogv"]["notes"][0] and "(Opus)" in by_name["voice.opus"]["notes"][0]
    for name in ("voice.ogg", "voice.opus", "clip.ogv", "still.jxl"):
        r = by_name[name]
        assert r["status"] == "pass" and r["errors"] == [] and r["c2pa"]["present"] is False, name
    assert by_name["raw.cr3"]["notes"] == ["no C2PA manifest: this ISO BMFF file has no C2PA uuid box"]
    assert by_name["signed.cr3"]["status"] == "error"  # a C2PA uuid box c2pa-rs will not read in a CR3
    assert carriers.ogg_streams(odd.read_bytes()) == ["?", "Vorbis"]
    assert by_name["odd.ogg"]["status"] == "error"
    assert any("no known codec" in e["message"] for e in by_name["odd.ogg"]["errors"])


def test_formats_without_a_c2pa_embedding_or_unknown_to_exiftool_are_checked_not_errors(tmp_path):
    """Post-production and legacy formats made by ffmpeg were items that could not be checked (exit 5): C2PA
    defines no embedding for DPX, OpenEXR, BMP, FLV or ASF, and exiftool does not know ADTS AAC, AC-3 or MPEG
    audio layer II. Now: a note for each, ffprobe reads what exiftool cannot, and a TC260 label in a WMA's or an
    FLV's tags is found and counts."""
    ff = ("ffmpeg", "-v", "error", "-y")
    frame = ("-f", "lavfi", "-i", "testsrc2=size=96x64", "-frames:v", "1")
    for name in ("scan.dpx", "plate.exr", "still.bmp"):
        subprocess.run([*ff, *frame, str(tmp_path / name)], check=True)
    audio = ("-f", "lavfi", "-i", "sine=sample_rate=48000", "-t", "0.3")
    for name in ("dub.aac", "dub.ac3", "dub.mp2", "stem.caf", "stem.w64"):
        subprocess.run([*ff, *audio, str(tmp_path / name)], check=True)
    aigc = ("-metadata", 'AIGC={"Label":"1","ContentProducer":"x","ProduceID":"p1"}')
    subprocess.run([*ff, *audio, *aigc, str(tmp_path / "voice.wma")], check=True)
    video = ("-f", "lavfi", "-i", "testsrc2=size=96x64:rate=10", "-t", "0.3")
    subprocess.run([*ff, *video, *aigc, str(tmp_path / "clip.flv")], check=True)
    junk = tmp_path / "junk"
    junk.mkdir()
    for name in ("noise.aac", "noise.dpx"):  # random bytes: still items that could not be checked
        (junk / name).write_bytes(random.Random(name).randbytes(4096))
    _, doc = checked_scan([tmp_path])
    by_name = {Path(r["target"]).name: r for r in doc["results"]}
    for name in ("noise.aac", "noise.dpx"):
        noise = by_name.pop(name)
        assert noise["status"] == "error" and any(e["source"] == "exiftool" for e in noise["errors"]), name
        if name.endswith(".aac"):  # ffprobe, forced by the name, reads noise as AAC without a sample rate
            assert any(e["source"] == "ffprobe" for e in noise["errors"]), noise["errors"]
    assert len(by_name) == 10  # the walk finds CAF and Wave64 by their content
    for name, r in by_name.items():
        assert r["status"] == "pass" and r["errors"] == [], (name, r["errors"])
    for name in ("scan.dpx", "plate.exr", "still.bmp", "dub.aac", "dub.ac3", "voice.wma", "clip.flv"):
        assert any("C2PA defines no embedding" in n for n in by_name[name]["notes"]), name
    for name in ("dub.aac", "dub.ac3", "dub.mp2", "stem.caf", "stem.w64"):
        assert any("exiftool does not know this format" in n for n in by_name[name]["notes"]), name
    for name in ("voice.wma", "clip.flv"):
        assert by_name[name]["ai"]["status"] == "fully_ai" and by_name[name]["ai"]["basis"] == "standard", name


def test_generator_names_in_the_software_fields_of_iptc_exif_and_broadcast_wav(tmp_path):
    """Software named where each format names it: IPTC OriginatingProgram and EXIF ProcessingSoftware (written by
    exiftool), a Broadcast WAV's bext Originator and CodingHistory (written by ffmpeg). A non-AI tool says nothing."""
    ff = ("ffmpeg", "-v", "error", "-y")
    for name in ("gen.jpg", "camera.jpg"):
        subprocess.run(
            [*ff, "-f", "lavfi", "-i", "color=c=red:s=32x32", "-frames:v", "1", str(tmp_path / name)], check=True
        )
    write = ("exiftool", "-q", "-overwrite_original")
    generated = ("-IPTC:OriginatingProgram=Midjourney", "-EXIF:ProcessingSoftware=Stable Diffusion XL")
    subprocess.run([*write, *generated, str(tmp_path / "gen.jpg")], check=True)
    subprocess.run([*write, "-IPTC:OriginatingProgram=Capture One", str(tmp_path / "camera.jpg")], check=True)
    bext = ["-write_bext", "1", "-metadata", "originator=ElevenLabs"]
    bext += ["-metadata", "coding_history=A=PCM,F=44100,W=16,M=mono,T=ElevenLabs Multilingual v2"]
    subprocess.run([*ff, "-f", "lavfi", "-i", "sine", "-t", "0.3", *bext, str(tmp_path / "dub.wav")], check=True)
    _, doc = checked_scan([tmp_path / "gen.jpg", tmp_path / "dub.wav", tmp_path / "camera.jpg"])
    gen, dub, camera = doc["results"]
    assert {e["location"] for e in gen["ai"]["evidence"]} == {"IPTC:OriginatingProgram", "IFD0:ProcessingSoftware"}
    assert {e["location"] for e in dub["ai"]["evidence"]} == {"RIFF:Originator", "RIFF:CodingHistory"}
    assert [r["ai"]["status"] for r in (gen, dub)] == ["fully_ai", "fully_ai"]
    assert all(r["ai"]["basis"] == "non_standard" and r["status"] == "fail" for r in (gen, dub))
    assert camera["ai"]["status"] == "unknown" and any(s["key"] == "IPTC:OriginatingProgram" for s in camera["signals"])


def test_header_and_playlist_attribute_parsing_is_linear_in_what_a_server_sends():
    """A server chooses its header and playlist text: 16 KB made of any two of the characters the grammars care
    about are split in well under a second (backtracking regular expressions took 3-4 s on some, or hung)."""
    from labelcheck.classify import httpfields
    from labelcheck.classify.vocab import ai_disclosure
    from labelcheck.streams.playlist import _ATTR

    assert ai_disclosure('mode=ai-originated, model="a, b;c", provider="Open\\"AI";q=1, MODE=x, z') == {
        "mode": "ai-originated",
        "model": "a, b;c",
        "provider": 'Open"AI',
        "z": "",
    }
    slowest = 0.0
    for a in '<>";,= a1\\':
        for b in '<>";,= a1\\':
            text, t = (a + b) * 8000, time.monotonic()
            httpfields.members(text)
            _ATTR.findall(text.upper())
            slowest = max(slowest, time.monotonic() - t)
    assert slowest < 1.0


def test_link_headers_name_c2pa_manifests_by_rel_resolved_against_the_served_url():
    """RFC 8288 link-values: several per header and several headers, rel with several values, quoted parameters
    holding commas and semicolons; relative URIs resolve against the URL the item was finally served from."""
    from labelcheck.extract.http import manifest_links, signals
    from labelcheck.inputs.fetch import Response

    response = Response(
        "https://cdn.example.org/media/photo.jpg",
        (
            ("link", '<https://example.org/me>; rel="author", <m/photo.c2pa>; rel="alternate c2pa-manifest"'),
            ("content-type", "image/jpeg"),
            ("link", '</x.c2pa>; title="a, b; c"; rel=C2PA-Manifest, <https://other.example/y.c2pa>; rel="preload"'),
            ("tdm-reservation", " 1 "),
        ),
    )
    assert manifest_links(response) == ["https://cdn.example.org/media/m/photo.c2pa", "https://cdn.example.org/x.c2pa"]
    assert [(s.kind.value, s.key, s.value) for s in signals(response)] == [
        ("tdm", "tdm-reservation", "1"),
        ("provenance_ref", 'Link rel="c2pa-manifest"', "https://cdn.example.org/media/m/photo.c2pa"),
        ("provenance_ref", 'Link rel="c2pa-manifest"', "https://cdn.example.org/x.c2pa"),
    ]


def test_a_source_type_in_any_carrier_and_case_is_a_specific_label(tmp_path):
    """exiftool names a Vorbis comment or a Matroska tag `Digitalsourcetype`, ffprobe `DIGITALSOURCETYPE`: a source
    type there still says which of the two labels applies. It was read as fully_ai but not specific (the check
    looked for `DigitalSourceType` in the reason), so a policy asking for a specific label failed such files."""
    dst = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
    for name in ("dub.flac", "dub.opus", "dub.mkv", "dub.mp3", "dub.m4a"):
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=duration=0.3", "-metadata"]
            + [f"DigitalSourceType={dst}", "-movflags", "use_metadata_tags", str(tmp_path / name)],
            check=True,
        )
    _, doc = checked_scan([tmp_path])
    assert len(doc["results"]) == 5
    for r in doc["results"]:
        ai = r["ai"]
        assert (ai["status"], ai["basis"], ai["specific"]) == ("made_with_ai", "standard", True), r["target"]


def test_an_xmp_sidecar_is_evidence_but_not_the_files_label(tmp_path):
    """A label kept in an XMP sidecar (NAME.xmp or NAME.EXT.xmp, as photo and editing tools write it; Premiere for
    an MXF master) was not read: an AI master labelled only there read `unknown` and passed every gate. Now the
    sidecar's label decides the AI status as non-standard evidence, with a note, and never counts as the file's own
    label: a policy asking for a machine-readable label fails and says where the label is. A sidecar that
    contradicts the file's own label is a conflict; one that is not XMP, or too large, is a note."""
    dst = "-XMP-iptcExt:DigitalSourceType=http://cv.iptc.org/newscodes/digitalsourcetype/"
    ff = ("ffmpeg", "-v", "error", "-y")
    subprocess.run(
        [*ff, "-f", "lavfi", "-i", "color=red:size=32x32", "-frames:v", "1", str(tmp_path / "a.jpg")], check=True
    )
    for name in ("labelled.jpg", "broken.jpg", "huge.jpg"):
        shutil.copyfile(tmp_path / "a.jpg", tmp_path / name)
    subprocess.run(
        [
            *ff,
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=96x64:rate=25",
            "-t",
            "0.4",
            "-c:v",
            "mpeg2video",
            str(tmp_path / "master.mxf"),
        ],
        check=True,
    )
    tool = ("exiftool", "-q")
    subprocess.run(
        [*tool, "-o", str(tmp_path / "a.xmp"), f"{dst}trainedAlgorithmicMedia", str(tmp_path / "a.jpg")], check=True
    )
    subprocess.run(
        [*tool, "-o", str(tmp_path / "master.mxf.xmp"), f"{dst}compositeSynthetic", str(tmp_path / "a.jpg")], check=True
    )
    subprocess.run(
        [*tool, "-overwrite_original", f"{dst}compositeWithTrainedAlgorithmicMedia", str(tmp_path / "labelled.jpg")],
        check=True,
    )
    subprocess.run(
        [*tool, "-o", str(tmp_path / "labelled.xmp"), f"{dst}digitalCapture", str(tmp_path / "a.jpg")], check=True
    )
    (tmp_path / "broken.xmp").write_bytes(b'<?xpacket begin=""?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF')
    shutil.copyfile(tmp_path / "a.jpg", tmp_path / "image.jpg")
    shutil.copyfile(tmp_path / "a.jpg", tmp_path / "image.xmp")  # an image named as a sidecar
    subprocess.run(["truncate", "-s", str((16 << 20) + 1), str(tmp_path / "huge.xmp")], check=True)
    _, doc = checked_scan([tmp_path])
    by_name = {Path(r["target"]).name: r for r in doc["results"]}
    assert sorted(by_name) == ["a.jpg", "broken.jpg", "huge.jpg", "image.jpg", "labelled.jpg", "master.mxf"]
    for name, status in (("a.jpg", "fully_ai"), ("master.mxf", "made_with_ai")):
        r = by_name[name]
        assert (r["ai"]["status"], r["ai"]["basis"], r["ai"]["specific"]) == (status, "non_standard", False), name
        assert r["ai"]["evidence"][0]["source"] == "xmp-sidecar" and r["labels"] == [], name
        assert any("XMP sidecar" in n and "do not travel" in n for n in r["notes"]), name
        assert r["status"] == "fail", name
    both = by_name["labelled.jpg"]
    assert (both["ai"]["status"], both["ai"]["basis"]) == ("made_with_ai", "standard")
    assert [c["other"]["source"] for c in both["conflicts"]] == ["xmp-sidecar"]
    cases = (("broken.jpg", "could not be read: XMP format error"), ("huge.jpg", "larger than 16 MB"))
    for name, words in (*cases, ("image.jpg", "is not XMP (exiftool reads it as JPEG)")):
        r = by_name[name]
        assert r["ai"]["status"] == "unknown" and r["errors"] == [], name
        assert any(f"XMP sidecar {Path(name).stem}.xmp" in n and words in n for n in r["notes"]), (name, r["notes"])


CAPTIONS = {
    # the union's two labels, as people write them in a caption
    "Fully AI-generated": "fully_ai",
    "Made with AI-generated work": "made_with_ai",
    "Contains AI-generated elements": "made_with_ai",
    "Partially AI-generated": "made_with_ai",
    "AI-assisted retouching": "made_with_ai",
    "Edited with Google AI": "made_with_ai",
    "Generated by AI": "fully_ai",
    "Made with Google AI": "fully_ai",
    # a creator's denial is a claim of not_ai, never a label of AI
    "Not AI-generated": "not_ai",
    "Human-made, not AI-generated": "not_ai",
    "No AI was used": "not_ai",
    "Painted without AI": "not_ai",
    "Not AI-generated; background edited with AI": "made_with_ai",
    # a dub or translation of a performance, as C2PA's c2pa.dubbed with an AI source type
    "AI-generated voice (dubbed)": "made_with_ai",
    "Dubbed with AI": "made_with_ai",
    "Voiced by AI": "fully_ai",
    # a synthetic or cloned voice, as voice services and dubbing houses caption it
    "Voice synthesized with AI": "fully_ai",
    "AI-synthesised narration": "fully_ai",
    "Voice cloned with AI": "fully_ai",
    "Narration not synthesized by AI": "not_ai",
    # the EU's other languages (the AI Act applies in all of them)
    "KI-generiert": "fully_ai",
    "Teilweise KI-generiert": "made_with_ai",
    "Nicht KI-generiert": "not_ai",
    "Image générée par l'IA": "fully_ai",
    "Pas générée par IA": "not_ai",
    "Imagen generada por IA": "fully_ai",
    "Immagine generata dall'IA": "fully_ai",
    "AI-gegenereerd": "fully_ai",
}


def test_disclosure_captions_say_which_label_and_a_denial_is_not_a_label(tmp_path):
    """Captions were read as fully_ai whenever they named AI generation: "Not AI-generated" on a human artist's
    work failed the default policy as unlabelled AI content, and "Made with AI-generated work" (the union's own
    label) read fully_ai. Now a denied phrase is a not_ai claim and a partial one is made_with_ai (both
    non-standard), on real files captioned by exiftool."""
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=red:size=16x16", "-frames:v", "1"]
        + [str(tmp_path / "base.jpg")],
        check=True,
    )
    for n, caption in enumerate(CAPTIONS):
        shutil.copyfile(tmp_path / "base.jpg", tmp_path / f"{n:02d}.jpg")
        subprocess.run(
            ["exiftool", "-q", "-overwrite_original", f"-XMP-dc:Description={caption}"]
            + [str(tmp_path / f"{n:02d}.jpg")],
            check=True,
        )
    (tmp_path / "base.jpg").unlink()
    _, doc = checked_scan([tmp_path])
    got = {int(Path(r["target"]).stem): r for r in doc["results"]}
    for n, (caption, status) in enumerate(CAPTIONS.items()):
        assert (got[n]["ai"]["status"], got[n]["ai"]["basis"]) == (status, "non_standard"), caption
        assert got[n]["status"] == ("pass" if status == "not_ai" else "fail"), caption


def test_a_source_type_field_holding_two_values_is_read_value_by_value(tmp_path):
    """IPTC's DigitalSourceType takes one URI, but tools that merge metadata write a list (exiftool then reads
    "A, B"). That read as one unrecognised value: `unknown`, and the item passed. Now each value counts: the one
    saying more AI involvement decides, and the two are a conflict."""
    iptc = "http://cv.iptc.org/newscodes/digitalsourcetype/"
    packet = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/">'
        f"<Iptc4xmpExt:DigitalSourceType><rdf:Bag><rdf:li>{iptc}digitalCapture</rdf:li>"
        f"<rdf:li>{iptc}compositeWithTrainedAlgorithmicMedia</rdf:li></rdf:Bag></Iptc4xmpExt:DigitalSourceType>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    (tmp_path / "merged.xmp").write_text(packet)
    image = tmp_path / "merged.jpg"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=red:size=16x16", "-frames:v", "1", str(image)], check=True
    )
    subprocess.run(
        ["exiftool", "-q", "-overwrite_original", "-tagsFromFile", str(tmp_path / "merged.xmp")]
        + ["-xmp:all", str(image)],
        check=True,
    )
    (tmp_path / "merged.xmp").unlink()  # not a sidecar here: the packet is in the file
    _, doc = checked_scan([image])
    (r,) = doc["results"]
    assert (r["ai"]["status"], r["ai"]["basis"], r["ai"]["specific"]) == ("made_with_ai", "standard", True)
    (conflict,) = r["conflicts"]
    assert "digitalCapture" in conflict["message"] and "holds both" in conflict["message"]
    subprocess.run(
        ["exiftool", "-q", "-overwrite_original", "-XMP-iptcExt:DigitalSourceType= ", str(image)], check=True
    )
    _, doc = checked_scan([image])  # an empty value is not split away: it is still a label that does not conform
    ((label,),) = [[x for x in r["labels"] if x["carrier"] == "iptc"] for r in doc["results"]]
    assert not label["conforms"] and doc["results"][0]["ai"]["status"] == "unknown"


def test_disclosures_in_alt_text_and_windows_fields_are_read(tmp_path):
    """IPTC's accessibility alt text ("AI-generated image of ..."), Windows Explorer's XP* fields, an MP4's long
    description, an MP3's subtitle, a Matroska summary and an AIFF annotation were not among the free-text fields read
    for disclosures:
    such files read `unknown`."""
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=red:size=16x16", "-frames:v", "1"]
        + [str(tmp_path / "base.jpg")],
        check=True,
    )
    fields = ("XMP-iptcCore:AltTextAccessibility", "XMP-iptcCore:ExtDescrAccessibility", "EXIF:XPComment")
    for n, field in enumerate(fields):
        shutil.copyfile(tmp_path / "base.jpg", tmp_path / f"{n}.jpg")
        subprocess.run(
            [
                "exiftool",
                "-q",
                "-overwrite_original",
                f"-{field}=AI-generated image of a cat",
                str(tmp_path / f"{n}.jpg"),
            ],
            check=True,
        )
    (tmp_path / "base.jpg").unlink()
    audio = ("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=duration=0.3", "-metadata")
    tagged = (("synopsis", "m4a"), ("TIT3", "mp3"), ("SUMMARY", "mkv"), ("comment", "aiff"))  # AIFF: its ANNO chunk
    for n, (key, ext) in enumerate(tagged, start=len(fields)):
        subprocess.run([*audio, f"{key}=AI-generated voice", str(tmp_path / f"{n}.{ext}")], check=True)
    _, doc = checked_scan([tmp_path])
    got = {int(Path(r["target"]).stem): r["ai"] for r in doc["results"]}
    assert [(got[n]["status"], got[n]["basis"]) for n in range(7)] == [("fully_ai", "non_standard")] * 7


def test_a_plus_data_mining_reservation_in_its_https_spelling_is_still_read(tmp_path):
    """A PLUS DataMining value written with https (as digital source types often are) stated no training use at
    all: `unspecified`, so a creator's reservation went unread. Now it reads not_allowed, and the label is still
    reported as not conforming (only the http spelling is in the vocabulary)."""
    image = tmp_path / "reserved.jpg"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=red:size=16x16", "-frames:v", "1", str(image)], check=True
    )
    value = "https://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-AIMLTRAINING"
    config = MEDIA.parent / "exiftool.config"  # the PLUS DataMining tag, which exiftool 12.57 does not define
    subprocess.run(
        ["exiftool", "-config", str(config), "-q", "-overwrite_original", f"-XMP-plus:DataMining={value}"]
        + [str(image)],
        check=True,
    )
    _, doc = checked_scan([image])
    (r,) = doc["results"]
    assert r["training"]["status"] == "not_allowed"
    (label,) = [x for x in r["labels"] if x["carrier"] == "plus"]
    assert label["declares"] == "not_allowed" and not label["conforms"]


def test_a_tracks_own_name_is_read_for_disclosures(tmp_path):
    """A dubbing house names the dubbed audio track, not the file: "AI-generated voice (dubbed)" as an MP4 track's
    name or a Matroska TrackName was not read, so the programme read `unknown`."""
    clip = ("-f", "lavfi", "-i", "testsrc2=size=64x64:duration=0.5", "-f", "lavfi", "-i", "sine=duration=0.5")
    for name in ("dub.mp4", "dub.mkv"):
        subprocess.run(
            [
                "ffmpeg",
                "-v",
                "error",
                *clip,
                "-metadata:s:a:0",
                "title=AI-generated voice (dubbed)",
                str(tmp_path / name),
            ],
            check=True,
        )
    _, doc = checked_scan([tmp_path])
    for r in doc["results"]:
        assert (r["ai"]["status"], r["ai"]["basis"]) == ("made_with_ai", "non_standard"), r["target"]
        assert "Track" in r["ai"]["evidence"][0]["location"], r["target"]


_A1111 = "a lighthouse at dusk\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 42, "
_A1111 += "Size: 512x512, "
_COMFY_IMG2IMG = {
    "10": {"class_type": "LoadImage", "inputs": {"image": "photo.png"}},
    "12": {"class_type": "VAEEncode", "inputs": {"pixels": ["10", 0], "vae": ["4", 2]}},
    "3": {"class_type": "KSampler", "inputs": {"denoise": 0.87, "latent_image": ["12", 0]}},
}
# what generated the picture, as each generator writes its parameters -> the label that applies
GENERATIONS = {
    "a1111_inpaint.png": (
        "Parameters",
        _A1111 + "Denoising strength: 0.75, Mask blur: 4, Inpaint area: Only masked, Masked area padding: 32",
        "made_with_ai",
    ),
    "a1111_img2img.png": ("Parameters", _A1111 + "Denoising strength: 0.45, Version: v1.7.0", "fully_ai"),
    "a1111_hires_fix.png": (
        "Parameters",
        _A1111 + "Denoising strength: 0.7, Hires upscale: 2, Hires upscaler: Latent",
        "fully_ai",
    ),
    "a1111_inpaint.jpg": ("UserComment", _A1111 + "Denoising strength: 0.6, Mask blur: 8", "made_with_ai"),
    "comfyui_img2img.png": ("Prompt", json.dumps(_COMFY_IMG2IMG), "fully_ai"),
    "comfyui_inpaint.png": (
        "Prompt",
        json.dumps(
            {
                **_COMFY_IMG2IMG,
                "12": {
                    "class_type": "VAEEncodeForInpaint",
                    "inputs": {"pixels": ["10", 0], "mask": ["10", 1], "grow_mask_by": 6},
                },
            }
        ),
        "made_with_ai",
    ),
    "comfyui_outpaint.png": (
        "Prompt",
        json.dumps(
            {**_COMFY_IMG2IMG, "11": {"class_type": "ImagePadForOutpaint", "inputs": {"image": ["10", 0], "left": 256}}}
        ),
        "made_with_ai",
    ),
    "invokeai_inpaint.png": (
        "InvokeAIMetadata",
        json.dumps({"generation_mode": "sdxl_inpaint", "steps": 30}),
        "made_with_ai",
    ),
}


def test_inpainting_reads_made_with_ai_and_a_whole_regenerated_picture_fully_ai(tmp_path):
    """Generator parameters read fully_ai whatever was generated, so a photo with one inpainted region was to be
    labelled "fully AI-generated". A mask or outpainting in the parameters (A1111, ComfyUI, InvokeAI) now reads
    made_with_ai, as C2PA records generative fill; img2img and a hires-fix pass regenerate the whole picture and stay
    fully_ai (C2PA: created, the input image an inputTo ingredient). Real files written by exiftool."""
    for ext in ("png", "jpg"):
        subprocess.run(
            ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=blue:size=16x16", "-frames:v", "1"]
            + [str(tmp_path / f"base.{ext}")],
            check=True,
        )
    config = str(MEDIA.parent / "exiftool.config")
    for name, (tag, value, _) in GENERATIONS.items():
        shutil.copyfile(tmp_path / f"base{Path(name).suffix}", tmp_path / name)
        subprocess.run(
            ["exiftool", "-config", config, "-q", "-overwrite_original", f"-{tag}={value}", str(tmp_path / name)],
            check=True,
        )
    for ext in ("png", "jpg"):
        (tmp_path / f"base.{ext}").unlink()
    _, doc = checked_scan([tmp_path])
    got = {Path(r["target"]).name: r["ai"] for r in doc["results"]}
    assert {name: (got[name]["status"], got[name]["basis"]) for name in GENERATIONS} == {
        name: (status, "non_standard") for name, (_, _, status) in GENERATIONS.items()
    }
    assert any("inpainting or outpainting" in d["reason"] for d in got["comfyui_inpaint.png"]["evidence"])
