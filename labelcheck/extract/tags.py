"""Map exiftool's and ffprobe's tag dictionaries to labelling signals: which field, which kind; no verdicts."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ..classify import generators, vocab
from ..model import Kind, Signal

# Tag names (lower case, group ignored) -> kind. Matched against exiftool's names and ID3/QuickTime/Matroska keys.
FIELD_KINDS: dict[str, Kind] = {
    "digitalsourcetype": Kind.SOURCE_TYPE,
    "digitalsourcefiletype": Kind.SOURCE_TYPE,
    "aisystemused": Kind.AI_SYSTEM,
    "aisystemversionused": Kind.AI_SYSTEM,
    "aipromptinformation": Kind.AI_SYSTEM,
    "aipromptwritername": Kind.AI_SYSTEM,
    "aigc": Kind.AIGC,
    "datamining": Kind.DATA_MINING,
    "provenance": Kind.PROVENANCE_REF,
    "software": Kind.SOFTWARE,
    "creatortool": Kind.SOFTWARE,
    "encoder": Kind.SOFTWARE,
    "encodedby": Kind.SOFTWARE,
    "encodersettings": Kind.SOFTWARE,  # ID3 TSSE: the software that encoded the audio
    "writingapp": Kind.SOFTWARE,  # Matroska: the application that wrote the file
    "originatingprogram": Kind.SOFTWARE,  # IPTC IIM 2:65
    "processingsoftware": Kind.SOFTWARE,  # EXIF 0x000b
    "originator": Kind.SOFTWARE,  # Broadcast WAV bext: who or what made the audio (a voice service, a DAW)
    "codinghistory": Kind.SOFTWARE,  # Broadcast WAV bext: the processing chain, each step's tool after T=
    "applicationname": Kind.SOFTWARE,  # MXF Identification set (exiftool): the product that wrote the file
    "productname": Kind.SOFTWARE,  # the same set as ffprobe names it (product_name)
    "source": Kind.SOFTWARE,
}

# TDMRep tags live in the tdm namespace; their names are generic (Reservation, Policy).
TDM_GROUPS = ("xmp-tdm", "xmp-tdmrep")

# Text chunks written by image generators (PNG tEXt/iTXt/zTXt keywords, lower case).
GENERATOR_CHUNKS = frozenset(
    {
        "parameters",
        "prompt",
        "workflow",
        "invokeai_metadata",
        "invokeai_graph",
        "sd-metadata",
        "sd_metadata",
        "dream",
        "generation_data",
        "negative_prompt",
        "fooocus_scheme",
        "comfyui",
    }
)
TEXT_CHUNK_GROUPS = ("png", "png-text", "png-itxt", "png-ztxt")
# A track's own name (MP4 `Track2Name`, Matroska `TrackName`): where a dubbed audio track says "AI-generated voice".
_TRACK_NAME = re.compile(r"track\d*name")

# Free-text fields that may carry a disclosure sentence.
TEXT_FIELDS = frozenset(
    {
        "credit",
        "description",
        "imagedescription",
        "usercomment",
        "comment",
        "title",
        "caption-abstract",
        "headline",
        "subject",
        "keywords",
        "userdefinedtext",
        "disclaimer",
        "warning",
        "synopsis",
        "longdescription",  # MP4 ldes (ffmpeg writes `synopsis` there)
        "summary",  # Matroska
        "subtitle",  # ID3 TIT3
        "lyrics",
        "annotation",  # AIFF ANNO chunk (ffmpeg writes a comment there)
        "alttextaccessibility",  # IPTC 2021 alt text: where "AI-generated image of ..." is often written
        "extdescraccessibility",
        "xptitle",  # Windows Explorer's title, comment, subject and keywords (EXIF XP* tags)
        "xpcomment",
        "xpsubject",
        "xpkeywords",
    }
)

_MAX_VALUE = 4096


def _text(value: Any) -> str:
    if isinstance(value, (dict, list)):
        import json

        return json.dumps(value, ensure_ascii=False, sort_keys=True)[:_MAX_VALUE]
    return str(value)[:_MAX_VALUE]


def _source_of(group: str) -> str:
    g = group.lower()
    for prefix, name in (
        ("xmp", "xmp"),
        ("png", "png"),
        ("id3", "id3"),
        ("riff", "riff"),
        ("matroska", "matroska"),
        ("ifd", "exif"),
        ("exif", "exif"),
        ("iptc", "iptc"),
        ("quicktime", "quicktime"),
        ("itemlist", "quicktime"),
        ("keys", "quicktime"),
        ("userdata", "quicktime"),
        ("vorbis", "vorbis"),
        ("pdf", "pdf"),
        ("photoshop", "iptc"),
    ):
        if g.startswith(prefix):
            return name
    return g or "metadata"


def _split(key: str) -> tuple[str, str]:
    group, _, name = key.rpartition(":")
    return group, name


def _user_defined(name: str, value: str) -> tuple[str, str]:
    """ID3 TXXX / QuickTime freeform values may come as '(AIGC) {...}': the description is the real key."""
    m = re.match(r"^\((?P<desc>[^)]{1,64})\)\s*(?P<val>.*)$", value, re.DOTALL)
    if name.lower() == "userdefinedtext" and m:
        return m.group("desc"), m.group("val")
    return name, value


def _expand(tags: dict[str, Any]) -> Iterable[tuple[str, str, Any]]:
    for key, value in tags.items():
        group, name = _split(key)
        lname = name.lower()
        if isinstance(value, list) and lname in ("userdefinedtext", "keywords", "subject"):
            values = value
        elif FIELD_KINDS.get(lname) is Kind.SOURCE_TYPE:  # a single URI, but tools that merge metadata write a list
            values = value if isinstance(value, list) else [v.strip() for v in str(value).split(",") if v.strip()]
            values = values or [value]  # an empty one is still reported (a malformed label)
        else:
            values = [value]
        for v in values:
            yield group, name, v


def signals_from_exiftool(tags: dict[str, Any]) -> list[Signal]:
    """Every labelling-relevant field in exiftool's `-G1 -j -n` output, as signals."""
    out: list[Signal] = []
    for group, name, value in _expand(tags):
        if group.lower() in ("file", "system", "exiftool", "sourcefile", ""):
            continue
        text = _text(value)
        name, text = _user_defined(name, text)
        lname = name.lower()
        source = _source_of(group)
        kind = FIELD_KINDS.get(lname)
        if (
            lname in ("reservation", "policy")
            and group.lower() in TDM_GROUPS
            or lname.startswith("tdm")
            and lname[3:] in ("reservation", "policy")
        ):
            kind = Kind.TDM
        elif (
            group.lower().startswith(TEXT_CHUNK_GROUPS)
            and lname in GENERATOR_CHUNKS
            or lname in ("usercomment", "comment", "parameters", "description", "imagedescription")
            and vocab.SD_PARAMETERS.search(text)
        ):
            kind = Kind.GENERATOR
        elif kind is Kind.SOFTWARE and lname == "source" and not group.lower().startswith("png"):
            kind = None
        free_text = lname in TEXT_FIELDS or source == "png" or _TRACK_NAME.fullmatch(lname)
        if kind is None and free_text and vocab.AI_PHRASES.search(text):
            kind = Kind.AI_TEXT  # words in a caption, even where a generator writes them
        if kind is None and generators.named_in(f"{group}:{name}", text):  # a registered generator's own field
            kind = Kind.GENERATOR
        if kind is Kind.PROVENANCE_REF and not group.lower().startswith("xmp-dcterms"):
            kind = None
        if kind is not None:
            out.append(Signal(source, kind, f"{group}:{name}", text, group))
    return out


def signals_from_ffprobe(probe: dict[str, Any]) -> list[Signal]:
    """Container, program (MPEG-TS service) and stream tags from ffprobe, plus codec facts."""
    out: list[Signal] = []
    fmt = probe.get("format") or {}
    scopes = [("format", fmt.get("tags") or {})]
    scopes += [(f"program:{p.get('program_id')}", p.get("tags") or {}) for p in probe.get("programs") or []]
    for s in probe.get("streams") or []:
        scopes.append((f"stream:{s.get('index')}:{s.get('codec_type')}", s.get("tags") or {}))
        out.append(
            Signal(
                "ffprobe",
                Kind.CONTAINER,
                f"stream:{s.get('index')}:codec",
                f"{s.get('codec_type')}/{s.get('codec_name')}",
                f"stream:{s.get('index')}",
            )
        )
    for scope, tags in scopes:
        for key, value in tags.items():
            name = str(key).split(":")[-1]  # QuickTime freeform keys arrive as e.g. com.apple.iTunes:AIGC
            lname = name.lower().replace("-", "").replace("_", "")
            text = _text(value)
            kind = FIELD_KINDS.get(lname)
            if kind is Kind.SOFTWARE and lname == "source":
                kind = None
            if kind is None and (vocab.SD_PARAMETERS.search(text) or generators.named_in(f"{scope}:{key}", text)):
                kind = Kind.GENERATOR
            if kind is None and vocab.AI_PHRASES.search(text):
                kind = Kind.AI_TEXT
            if lname in ("tdmreservation", "tdmpolicy"):
                kind = Kind.TDM
            if kind is not None:
                out.append(Signal("ffprobe", kind, f"{scope}:{key}", text, scope))
    return out
