from labelcheck.inputs import media


def test_magic_bytes_decide_the_type():
    cases = {
        b"\xff\xd8\xff\xe0": "image/jpeg",
        b"\x89PNG\r\n\x1a\n": "image/png",
        b"GIF89a": "image/gif",
        b"RIFF\x00\x00\x00\x00WEBPVP8 ": "image/webp",
        b"RIFF\x00\x00\x00\x00WAVEfmt ": "audio/wav",
        b"ID3\x03\x00": "audio/mpeg",
        b"\x00\x00\x00\x18ftypheic": "image/heic",
        b"\x00\x00\x00\x18ftypisom": "video/mp4",
        b"\x00\x00\x00\x18ftypM4A ": "audio/mp4",
        b"\x00\x00\x00\x18styp": "video/iso.segment",
        b"%PDF-1.7": "application/pdf",
        b"II*\x00": "image/tiff",
        b"\x1a\x45\xdf\xa3\x00webm": "video/webm",
        b"<?xml version='1.0'?><svg ": "image/svg+xml",
        bytes.fromhex("060e2b34020501010d01020101020400"): "application/mxf",  # header partition pack
        b"\x00\x00\x01\xba\x44": "video/mpeg",  # MPEG program stream
        b"\x0e\xbf\x46\x22" + (b"\x47" + bytes(191)) * 3: "video/mp2t",  # M2TS: a timestamp before each packet
        b"FORM\x00\x00\x67\x8aAIFFCOMM": "audio/x-aiff",
        b"caff\x00\x01\x00\x00desc": "audio/x-caf",
        b"riff\x2e\x91\xcf\x11\xa5\xd6\x28\xdb": "audio/x-w64",
        b"\x00\x00\x00\x0cjP  \r\n\x87\n\x00\x00\x00\x14ftypjp2 ": "image/jp2",
        b"OggS\x00\x02" + bytes(22) + b"\x80theora": "video/ogg",
    }
    for head, mime in cases.items():
        assert media.detect("x.bin", head).mime == mime, head


def test_content_beats_the_name_and_the_name_is_a_fallback():
    assert media.detect("photo.jpg", b"\x89PNG\r\n\x1a\n").mime == "image/png"
    assert media.detect("clip.mkv", b"not magic at all").kind == "video"
    assert media.detect("notes.txt", b"hello").kind == "other"


def test_mislabelled_names_are_noted():
    png = media.detect("a.jpg", b"\x89PNG\r\n\x1a\n")
    assert "image/png" in media.name_mismatch("a.jpg", png)
    assert media.name_mismatch("a.png", png) is None
    assert media.name_mismatch("a.weird", png) is None


def test_kinds():
    assert media.detect("a", b"ID3").is_av
    assert not media.detect("a", b"\xff\xd8\xff").is_av
    assert media.detect("master.mxf", b"\x00run-in").kind == "video"  # an MXF with a run-in: by its name
