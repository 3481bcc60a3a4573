"""Never a false AI verdict on a file with no AI signal: 'AI' inside other words, camera and software names, a
caption that mentions AI as a subject. Each field is written by exiftool into an ffmpeg-made JPEG, MP4 or MP3."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import checked_scan

CASES = {  # name: (extension, exiftool arguments)
    "camera_software": ("jpg", ["-Make=Canon", "-Model=Canon EOS R5", "-Software=Firmware Version 1.8.1"]),
    "editor": ("jpg", ["-Software=Adobe Photoshop 25.0 (Windows)", "-XMP-xmp:CreatorTool=Adobe Lightroom Classic"]),
    "open_source_tools": ("jpg", ["-Software=GIMP 2.10.36", "-XMP-xmp:CreatorTool=darktable 4.6.1"]),
    "ai_inside_words": ("jpg", ["-XMP-dc:Title=MAIN STREET", "-XMP-dc:Subject=Thailand", "-XMP-dc:Subject=RAID",
                                "-IPTC:Caption-Abstract=He SAID it was PAID for"]),
    "ai_as_a_subject": ("jpg", ["-XMP-dc:Description=A talk about AI at the photography conference",
                                "-IPTC:Keywords=artificial intelligence", "-IPTC:Keywords=conference"]),
    "photographer_on_ai": ("jpg", ["-XMP-dc:Description=Portrait of an AI researcher in her lab",
                                   "-XMP-photoshop:Credit=Photo: Jane Doe"]),
    "flux_and_sora_words": ("jpg", ["-XMP-dc:Description=Flux capacitor repair shop",
                                    "-XMP-dc:Creator=Sora Aoi", "-Artist=Wan Chai studio"]),
    "video_tools": ("mp4", ["-XMP-xmp:CreatorTool=DaVinci Resolve", "-Encoder=Lavf60.16.100"]),
    "audio_tools": ("mp3", []),  # ffmpeg writes the ID3 frames (SOURCES): exiftool does not write ID3
}  # fmt: skip
SOURCES = {
    "jpg": ["-f", "lavfi", "-i", "testsrc2=s=64x64", "-frames:v", "1"],
    "mp4": ["-f", "lavfi", "-i", "testsrc2=s=64x64:d=0.2", "-pix_fmt", "yuv420p"],
    "mp3": ["-f", "lavfi", "-i", "sine=d=0.2", "-metadata", "comment=Recorded live in Kraków",
            "-metadata", "encoded_by=LAME 3.100", "-metadata", "title=SAID and DONE"],
}


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> dict[str, Path]:
    d, out = tmp_path_factory.mktemp("no_false_ai"), {}
    for name, (ext, args) in CASES.items():
        path = d / f"{name}.{ext}"
        subprocess.run(["ffmpeg", "-v", "error", "-y", *SOURCES[ext], str(path)], check=True, timeout=60)
        if args:
            subprocess.run(["exiftool", "-q", "-overwrite_original", *args, str(path)], check=True, timeout=60)
        out[name] = path
    return out


@pytest.mark.parametrize("name", CASES)
def test_no_ai_verdict_without_an_ai_signal(written, name):
    _, doc = checked_scan([written[name]])
    (r,) = doc["results"]
    assert r["ai"]["status"] in ("unknown", "not_ai"), (name, r["ai"], r["signals"])
    assert r["status"] == "pass", (name, r["findings"])
