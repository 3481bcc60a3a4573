"""The metadata labels of `labelcheck label`: a labelled copy of a media file, written by a real exiftool process.

Every label is written where labelcheck's reader (extract/exiftool.py, extract/tags.py) finds it, in XMP:
  iptc    Iptc4xmpExt:DigitalSourceType = the IPTC term (trainedAlgorithmicMedia / compositeWithTrainedAlgorithmicMedia)
  tc260   TC260:AIGC = the GB 45438-2025 JSON object (Label "1": content that AI generated, wholly or in part)
  plus    plus:DataMining = a PLUS code (with plus:OtherConstraints naming the policy when constrained)
  tdmrep  tdm:reservation = 1 / 0 (with tdm:policy when constrained), the W3C TDMRep binding in XMP
exiftool writes the XMP into the file itself (JPEG APP1, PNG iTXt, WebP/GIF/TIFF/HEIF/PDF XMP, the MP4/MOV uuid box).
It cannot write MP3 or WAV: for them exiftool makes the XMP packet (merged with the file's own), and it is placed as
an ID3v2 PRIV frame owned "XMP" (by ffmpeg, the audio copied as it is) or as a RIFF _PMX chunk (here, chunk by
chunk); in MP3 the TC260 label is an ID3 TXXX frame "AIGC", as the TC260 practice guides and the fixtures write it.
Each copy is written to a hidden name beside the destination, read back by exiftool, and only then linked into
place: a failure leaves no destination behind, and the source is only ever read.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import struct
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from ..classify.vocab import CARRIER_FORMATS, CARRIER_NAMES
from . import tool

CONFIG = Path(__file__).with_name("exiftool_write.config")
EXIFTOOL = ("exiftool", "-config", str(CONFIG), "-q")
FFMPEG = ("ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-n")

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
TERMS = {"fully_ai": IPTC + "trainedAlgorithmicMedia", "made_with_ai": IPTC + "compositeWithTrainedAlgorithmicMedia"}
PLUS = "http://ns.useplus.org/ldf/vocab/"
PLUS_CODES = {
    "not_allowed": "DMI-PROHIBITED-AIMLTRAINING",
    "allowed": "DMI-ALLOWED",
    "constrained": "DMI-PROHIBITED-SEECONSTRAINT",
}
TDM_RESERVATION = {"not_allowed": "1", "constrained": "1", "allowed": "0"}
CARRIERS = ("iptc", "tc260", "plus", "tdmrep")
TRAINING_CARRIERS = ("plus", "tdmrep")
_URL = re.compile(r"https?://\S+")

MP3, WAV = "audio/mpeg", "audio/wav"
# The formats exiftool writes XMP into (its -listwf, and tried: tests/test_label_write.py): those that hold the IPTC
# term (vocab.CARRIER_FORMATS) but JPEG XL (no test file could be made) and SVG; MP3 and WAV are placed by hand.
DIRECT = CARRIER_FORMATS["iptc"] - {"image/jxl", "image/svg+xml", MP3, WAV}
WRITABLE = DIRECT | {MP3, WAV}
PMX = b"_PMX"  # the RIFF chunk of an XMP packet (XMP Specification Part 3)
RIFF_MAX = 0xFFFFFFFF
COPY_BYTES = 1 << 20
# ffmpeg copies every stream (the cover picture too) and tag; -bitexact: no encoder tag of its own
MP3_COPY = ("-map", "0", "-c", "copy", "-map_metadata", "0", "-fflags", "+bitexact", "-id3v2_version", "3")


@dataclass(frozen=True)
class LabelRequest:
    status: str  # "fully_ai" | "made_with_ai"
    carriers: tuple[str, ...]  # any of "iptc", "tc260", "plus" (training in IPTC PLUS DataMining), "tdmrep"
    producer: str = ""  # TC260 ContentProducer
    produce_id: str = ""  # TC260 ProduceID
    propagator: str = ""  # TC260 ContentPropagator (platforms)
    propagate_id: str = ""  # TC260 PropagateID
    training: str | None = None  # "not_allowed" | "allowed" | "constrained" (None: write no reservation)
    training_policy: str = ""  # a URL for constrained / TDMRep tdm-policy

    def __post_init__(self) -> None:
        if self.status not in TERMS:
            raise ValueError(f"status {self.status!r}: one of {', '.join(TERMS)}")
        unknown = [c for c in self.carriers if c not in CARRIERS]
        if unknown or not self.carriers:
            raise ValueError(f"carriers {list(self.carriers)}: one or more of {', '.join(CARRIERS)}")
        if self.training is not None and self.training not in PLUS_CODES:
            raise ValueError(f"training {self.training!r}: one of {', '.join(PLUS_CODES)}")
        training_carriers = [c for c in self.carriers if c in TRAINING_CARRIERS]
        if training_carriers and self.training is None:
            raise ValueError(f"{'/'.join(training_carriers)} holds a training reservation, and none was given")
        if training_carriers and self.training == "constrained" and not _URL.fullmatch(self.training_policy):
            raise ValueError(f"constrained training needs the policy's http(s) URL, not {self.training_policy!r}")

    def aigc(self) -> str:
        """The TC260 AIGC JSON object (GB 45438-2025 Annex): Label "1", AI-generated or synthesised content."""
        fields = {
            "Label": "1",
            "ContentProducer": self.producer,
            "ProduceID": self.produce_id,
            "ReservedCode1": "",
            "ContentPropagator": self.propagator,
            "PropagateID": self.propagate_id,
            "ReservedCode2": "",
        }
        return json.dumps(fields, ensure_ascii=False)


@dataclass(frozen=True)
class Written:
    carrier: str  # iptc | tc260 | plus | tdmrep
    place: str  # the exiftool tag written, e.g. "XMP-iptcExt:DigitalSourceType", "ID3:UserDefinedText"...
    value: str


class WriteError(Exception):
    """The labelled copy could not be made (a tool failed, timed out, or the source is not what it says)."""


class CannotCarry(WriteError):
    """The format cannot hold a carrier asked for: the message names what would (a sidecar .xmp)."""


# ---------------------------------------------------------------- the plan (pure)


def _xmp_fields(carrier: str, req: LabelRequest) -> list[Written]:
    if carrier == "iptc":
        return [Written(carrier, "XMP-iptcExt:DigitalSourceType", TERMS[req.status])]
    if carrier == "tc260":
        return [Written(carrier, "XMP-TC260:AIGC", req.aigc())]
    assert req.training is not None  # LabelRequest: a training carrier comes with a reservation
    if carrier == "plus":
        out = [Written(carrier, "XMP-plus:DataMining", PLUS + PLUS_CODES[req.training])]
        extra = ("XMP-plus:OtherConstraints", req.training_policy)
    else:
        out = [Written(carrier, "XMP-tdm:Reservation", TDM_RESERVATION[req.training])]
        extra = ("XMP-tdm:Policy", req.training_policy)
    return out + ([Written(carrier, *extra)] if req.training == "constrained" else [])


def _fields(mime: str, req: LabelRequest) -> tuple[Written, ...]:
    if mime not in WRITABLE:
        raise CannotCarry(
            f"labelcheck cannot write metadata into {mime or 'this format'} (exiftool cannot write it): write the "
            "labels to an XMP sidecar (NAME.xmp) beside the file instead; it describes the file but does not travel "
            "with it"
        )
    out: list[Written] = []
    for carrier in dict.fromkeys(req.carriers):
        if carrier in CARRIER_FORMATS and mime not in CARRIER_FORMATS[carrier]:
            raise CannotCarry(
                f"{mime} has no place that labelcheck reads {CARRIER_NAMES.get(carrier, carrier)} from: an XMP "
                "sidecar (NAME.xmp) beside the file could hold it, but a sidecar does not travel with the file"
            )
        if carrier == "tc260" and mime == MP3:
            out.append(Written(carrier, "ID3:UserDefinedText", req.aigc()))  # TXXX "AIGC"
        elif carrier in TRAINING_CARRIERS and req.training is None:
            continue
        else:
            out += _xmp_fields(carrier, req)
    return tuple(out)


def places(mime: str, req: LabelRequest) -> tuple[tuple[str, str], ...]:
    """The (carrier, place) plan for a media type, without writing (--dry-run); CannotCarry for a format exiftool
    cannot write or that has no place for a carrier asked for."""
    return tuple((w.carrier, w.place) for w in _fields(mime, req))


# ---------------------------------------------------------------- running the tools


def _run(args: list[str], deadline: float, what: str) -> bytes:
    if tuple(args[: len(EXIFTOOL)]) == EXIFTOOL:  # the stay-open process (tool.py): no new Perl per command
        try:
            return tool.exiftool([a for a in args[len(EXIFTOOL) :] if a != "-q"] + ["-q"], str(CONFIG), deadline)
        except tool.ToolFailed as exc:
            raise WriteError(f"{what} failed: {exc}") from exc
    left = deadline - time.monotonic()
    if left <= 0:
        raise WriteError(f"{what}: the time allowed ran out before it started")
    try:
        done = subprocess.run(args, capture_output=True, timeout=left, stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired as exc:
        raise WriteError(f"{what} did not finish within the time allowed: stopped") from exc
    except OSError as exc:
        raise WriteError(f"{what} could not be run: {exc}") from exc
    if done.returncode != 0:
        said = " ".join(done.stderr.decode("utf-8", "replace").split())[:300]
        raise WriteError(f"{what} failed: {said or f'exit status {done.returncode}'}")
    return done.stdout


def _assignments(fields: tuple[Written, ...]) -> list[str]:
    return [f"-{w.place}={w.value}" for w in fields]


def _path(p: Path) -> str:
    """An absolute name: exiftool and ffmpeg never read a name starting with "-" as an option."""
    return os.path.abspath(p)


def _packet(old: bytes, fields: tuple[Written, ...], deadline: float) -> bytes:
    """An XMP packet holding `fields`, made by exiftool from the file's own packet (`old`, empty: a new one)."""
    with tempfile.TemporaryDirectory(prefix="labelcheck-xmp-") as d:
        new, base = Path(d) / "new.xmp", Path(d) / "old.xmp"
        args = [*EXIFTOOL, *_assignments(fields), "-o", str(new)]
        if old.strip():
            base.write_bytes(old)
            args.append(str(base))
        _run(args, deadline, "exiftool (XMP packet)")
        return new.read_bytes()


def _read_back(path: Path, fields: tuple[Written, ...], deadline: float) -> None:
    """exiftool reads every field back from the written copy, with the value written."""
    asked = [f"-{p}" for p in dict.fromkeys(w.place for w in fields)]
    out = _run([*EXIFTOOL, "-j", "-n", "-G1", "-a", *asked, _path(path)], deadline, "exiftool (reading back)")
    try:
        tags: dict[str, Any] = json.loads(out)[0]
    except (ValueError, IndexError, KeyError) as exc:
        raise WriteError(f"exiftool (reading back) gave no answer: {exc}") from exc
    for w in fields:
        if w.value not in _values(tags, w.place):
            raise WriteError(f"{w.place} did not read back as written ({w.value[:80]})")


def _values(tags: dict[str, Any], place: str) -> set[str]:
    group, _, name = place.partition(":")
    found: set[str] = set()
    for key, value in tags.items():
        g, _, n = key.rpartition(":")
        if n.lower() == name.lower() and g.lower().startswith(group.lower()):
            for v in value if isinstance(value, list) else [value]:
                found.add(str(v).removeprefix("(AIGC) ") if name == "UserDefinedText" else str(v))
    return found


# ---------------------------------------------------------------- the formats


def _direct(src: Path, tmp: Path, fields: tuple[Written, ...], deadline: float) -> None:
    _run([*EXIFTOOL, *_assignments(fields), "-o", _path(tmp), _path(src)], deadline, "exiftool")


def _mp3(src: Path, tmp: Path, fields: tuple[Written, ...], deadline: float) -> None:
    """ID3v2: the XMP packet as a PRIV frame owned "XMP" (where exiftool reads it), TC260 as TXXX "AIGC"; ffmpeg
    copies the audio frames and every other tag."""
    xmp = tuple(w for w in fields if w.place.startswith("XMP-"))
    meta: list[str] = []
    if xmp:
        old = _run([*EXIFTOOL, "-b", "-XMP", _path(src)], deadline, "exiftool (the file's XMP)")
        packet = _packet(old, xmp, deadline).decode("utf-8").replace("\\", "\\x5c")  # ffmpeg unescapes \xNN
        meta += ["-metadata", f"id3v2_priv.XMP={packet}"]
    for w in fields:
        if w.place == "ID3:UserDefinedText":
            meta += ["-metadata", f"AIGC={w.value}"]
    args = [*FFMPEG, "-i", "file:" + _path(src), *MP3_COPY, *meta, "-f", "mp3", "file:" + _path(tmp)]
    _run(args, deadline, "ffmpeg (ID3 tag)")


def _chunks(fh: BinaryIO, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(id, offset of the data, size) of each top-level chunk of a RIFF WAVE file."""
    pos = 12
    while pos + 8 <= end:
        fh.seek(pos)
        head = fh.read(8)
        size = struct.unpack("<I", head[4:])[0]
        if pos + 8 + size > end:
            raise WriteError(f"malformed RIFF: chunk {head[:4]!r} at {pos} runs past the end of the file")
        yield head[:4], pos + 8, size
        pos += 8 + size + (size & 1)


def _riff_layout(fh: BinaryIO) -> list[tuple[bytes, int, int]]:
    head = fh.read(12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise WriteError("not a RIFF WAVE file")
    size = os.fstat(fh.fileno()).st_size
    declared = 8 + struct.unpack("<I", head[4:8])[0]
    return list(_chunks(fh, declared if 12 <= declared <= size else size))


def _copy(fh: BinaryIO, out: BinaryIO, offset: int, size: int) -> None:
    fh.seek(offset)
    while size > 0:
        block = fh.read(min(size, COPY_BYTES))
        if not block:
            raise WriteError("the file ended while it was copied")
        out.write(block)
        size -= len(block)


def _wav(src: Path, tmp: Path, fields: tuple[Written, ...], deadline: float) -> None:
    """RIFF WAVE: every chunk copied as it is, but the XMP packet (_PMX), written again with the labels added."""
    with open(src, "rb") as fh:
        layout = _riff_layout(fh)
        old = next((_read(fh, off, n) for cid, off, n in layout if cid == PMX), b"")  # a second one is dropped
        packet = _packet(old, fields, deadline)
        kept = [c for c in layout if c[0] != PMX]
        total = 4 + sum(8 + n + (n & 1) for _, _, n in kept) + 8 + len(packet) + (len(packet) & 1)
        if total > RIFF_MAX:
            raise CannotCarry("the WAV file is too large for another RIFF chunk: write an XMP sidecar (NAME.xmp)")
        with open(tmp, "xb") as out:
            out.write(b"RIFF" + struct.pack("<I", total) + b"WAVE")
            for cid, off, n in kept:
                out.write(cid + struct.pack("<I", n))
                _copy(fh, out, off, n)
                out.write(b"\0" * (n & 1))
            out.write(PMX + struct.pack("<I", len(packet)) + packet + b"\0" * (len(packet) & 1))


def _read(fh: BinaryIO, offset: int, size: int) -> bytes:
    fh.seek(offset)
    return fh.read(size)


# ---------------------------------------------------------------- the copy


def _temp_beside(dst: Path) -> Path:
    """A hidden name beside `dst` (the same file system, so that linking it into place is atomic); an unknown
    extension, so that exiftool writes the source's own format."""
    return dst.with_name(f".{dst.name[:80]}.{secrets.token_hex(6)}.part")


def _publish(tmp: Path, dst: Path) -> None:
    """`tmp` becomes `dst` whole, and never over a file that appeared meanwhile (a hard link where the file system
    has them; os.replace where it has not)."""
    try:
        os.link(tmp, dst)
    except FileExistsError:
        raise WriteError(f"{dst} appeared while the labelled copy was written: not overwritten") from None
    except OSError:
        if dst.exists():
            raise WriteError(f"{dst} appeared while the labelled copy was written: not overwritten") from None
        os.replace(tmp, dst)
        return
    tmp.unlink()


def _make(
    dst: Path, fields: tuple[Written, ...], deadline: float, writer: Callable[[Path], None]
) -> tuple[Written, ...]:
    if dst.exists():
        raise FileExistsError(f"{dst} exists: a labelled copy never overwrites a file")
    if not dst.parent.is_dir():  # exiftool would make it; nothing here does
        raise WriteError(f"{dst.parent} is not a directory")
    tmp = _temp_beside(dst)
    try:
        writer(tmp)
        _read_back(tmp, fields, deadline)
        _publish(tmp, dst)
    except OSError as exc:
        raise WriteError(f"the labelled copy could not be written: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return fields


def write(src: Path, dst: Path, mime: str, req: LabelRequest, timeout: float = 60.0) -> tuple[Written, ...]:
    """A labelled copy of `src` at `dst` (which must not exist); `src` is only read. Raises CannotCarry (nothing
    written) when the format cannot hold a carrier asked for, WriteError when the copy could not be made."""
    fields = _fields(mime, req)
    deadline = time.monotonic() + timeout
    if not src.is_file():
        raise WriteError(f"{src} is not a file")
    by_format = {MP3: _mp3, WAV: _wav}.get(mime, _direct)
    return _make(dst, fields, deadline, lambda tmp: by_format(src, tmp, fields, deadline))


def write_sidecar(src: Path, dst: Path, req: LabelRequest, timeout: float = 60.0) -> tuple[Written, ...]:
    """An XMP sidecar (dst = NAME.xmp or NAME.EXT.xmp beside src) holding the same labels in XMP, for formats that
    cannot carry them. labelcheck reads it as the file's description, not as its label (it does not travel)."""
    if dst.suffix.lower() != ".xmp":
        raise ValueError(f"an XMP sidecar is named NAME.xmp, not {dst.name}")
    if not src.is_file():
        raise WriteError(f"{src} is not a file")
    carriers = [c for c in dict.fromkeys(req.carriers) if c not in TRAINING_CARRIERS or req.training]
    fields = tuple(w for c in carriers for w in _xmp_fields(c, req))
    deadline = time.monotonic() + timeout

    def packet(tmp: Path) -> None:
        with open(tmp, "xb") as out:
            out.write(_packet(b"", fields, deadline))

    return _make(dst, fields, deadline, packet)
