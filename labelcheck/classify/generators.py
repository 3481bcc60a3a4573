"""The generator registry (generators.yaml, schemas/generators.schema.json): which generative systems name themselves
in which field, and a matcher from (carrier, value) to the generator. No I/O beyond reading the registry once.

A carrier names a field, not a file format: exif.Software is the EXIF Software tag wherever exiftool finds it (JPEG,
TIFF, PNG eXIf, WebP, HEIF), png.<keyword> a PNG text chunk, id3.<frame> an ID3v2 frame. carrier_of() maps what
labelcheck reads to carriers:

- exiftool tags ("Group:Tag", -G1) and the signals made from them (Signal.key has the same form): IFD0, IFD1, ExifIFD,
  SubIFD, GPS, InteropIFD -> exif.<Tag>; XMP-<ns> -> xmp.<Tag>; PNG -> png.<keyword> (exiftool capitalises keywords
  and drops spaces: carriers compare without case and spaces); ID3v2_x -> id3.<frame> (EncoderSettings TSSE,
  EncodedBy TENC, Comment COMM; a TXXX frame read as "(desc) value", or a signal already keyed by desc, ->
  id3.TXXX:<desc>); ItemList, Keys, UserData, QuickTime, Track<n> -> quicktime.<Tag>; IPTC -> iptc.<Tag>;
  RIFF -> riff.<Tag>; Vorbis -> vorbis.<Tag>; Matroska -> matroska.<Tag>; MXF -> mxf.<Tag>.
- ffprobe signals ("format:encoder", "stream:0:audio:encoder", "program:1:...") -> ffprobe.<tag>.
- C2PA manifests (model.C2paManifest), for the caller to map: claim_generator -> c2pa.claim_generator; each
  generator_info entry -> c2pa.claim_generator_info; each action's software_agent -> c2pa.softwareAgent and its
  description -> c2pa.action_description; each assertion label -> c2pa.vendor_assertion.

Carrier families (_FAMILIES): one field under several names is one carrier, a mark on a member applies to all
(EXIF Software = XMP CreatorTool as MWG has it; the descriptions; the encoder tags; who encoded the file; the
comments, which ffmpeg writes into MP3 as an ID3 TXXX "comment"; ComfyUI's prompt and workflow keys in PNG, MP4,
ID3 TXXX and Vorbis comments). Where several generators match one value,
priority decides (a model named in a UI's parameters, over a UI re-using another's format, over that UI; a model
named in a software field over the app that serves it); matches() returns them all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from .. import resources

REGISTRY = Path(__file__).with_name("generators.yaml")
STATUSES = ("fully_ai", "made_with_ai", "possibly_ai")


def _key(carrier: str) -> str:
    """How carriers compare: without case and whitespace (exiftool writes `Generation time` as GenerationTime)."""
    return re.sub(r"\s+", "", carrier).lower()


_FAMILIES = tuple(
    frozenset(_key(c) for c in family)
    for family in (
        ("exif.Software", "xmp.Software", "xmp.CreatorTool", "png.Software", "riff.Software", "quicktime.Software"),
        ("exif.ImageDescription", "xmp.Description", "png.Description", "iptc.Caption-Abstract"),
        ("exif.UserComment", "xmp.UserComment"),
        ("quicktime.Encoder", "id3.TSSE", "vorbis.ENCODER", "matroska.WritingApp", "ffprobe.encoder"),
        ("id3.TENC", "quicktime.EncodedBy", "ffprobe.encoded_by"),
        ("quicktime.Comment", "id3.COMM", "id3.TXXX:comment", "vorbis.COMMENT", "ffprobe.comment"),
        ("png.prompt", "quicktime.prompt", "id3.TXXX:prompt", "vorbis.prompt", "ffprobe.prompt"),
        ("png.workflow", "quicktime.workflow", "id3.TXXX:workflow", "vorbis.workflow", "ffprobe.workflow"),
    )
)

# exiftool family-1 group prefixes (lower case) -> carrier namespace; ffprobe scopes last.
_GROUPS = tuple(
    (prefix, space)
    for space, prefixes in (
        ("exif", "ifd exififd subifd gps interopifd exif"),
        ("xmp", "xmp"),
        ("png", "png"),
        ("id3", "id3"),
        ("quicktime", "itemlist keys userdata quicktime track"),
        ("iptc", "iptc"),
        ("riff", "riff"),
        ("vorbis", "vorbis"),
        ("matroska", "matroska"),
        ("mxf", "mxf"),
        ("ffprobe", "format stream program"),
    )
    for prefix in prefixes.split()
)
_ID3_FRAMES = {"encodersettings": "TSSE", "encodedby": "TENC", "comment": "COMM", "title": "TIT2", "artist": "TPE1"}
_TXXX = re.compile(r"^\((?P<desc>[^)]{1,64})\)\s*(?P<val>.*)$", re.DOTALL)


class RegistryError(ValueError):
    """The registry does not validate: a schema error, a pattern that does not compile, a repeated id."""


@dataclass(frozen=True)
class Mark:
    carriers: tuple[str, ...]
    regex: re.Pattern[str]
    example: str
    note: str = ""
    assertion: str | None = None


@dataclass(frozen=True)
class Generator:
    id: str
    vendor: str
    product: str
    media: tuple[str, ...]
    default: str  # fully_ai | made_with_ai | possibly_ai
    marks: tuple[Mark, ...]
    sources: tuple[str, ...]
    priority: int = 0
    note: str = ""

    @property
    def carriers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c for m in self.marks for c in m.carriers))


def _regex(raw: dict[str, Any]) -> re.Pattern[str]:
    flags = 0 if raw.get("case_sensitive") else re.IGNORECASE
    if "literal" in raw:
        lit = str(raw["literal"])
        pattern = ("(?<!\\w)" if lit[:1].isalnum() else "") + re.escape(lit) + ("(?!\\w)" if lit[-1:].isalnum() else "")
    else:
        pattern = str(raw["pattern"])
    return re.compile(pattern, flags)


def _mark(gid: str, raw: dict[str, Any]) -> Mark:
    carriers = raw["carrier"] if isinstance(raw["carrier"], list) else [raw["carrier"]]
    try:
        regex = _regex(raw)
    except re.error as exc:
        raise RegistryError(f"generators.yaml: {gid}: pattern {raw.get('pattern')!r} does not compile: {exc}") from exc
    return Mark(tuple(carriers), regex, str(raw["example"]), str(raw.get("note", "")), raw.get("assertion"))


def parse(data: Any, validate: bool = True) -> tuple[Generator, ...]:
    """Build the generators of a registry document (the YAML as loaded), in document order; validated against
    its schema unless `validate` is False (the bundled file: resources.bundled)."""
    if validate and (error := resources.schema_error("generators", data)):
        raise RegistryError(f"generators.yaml: {error.lstrip('/')}")
    out: list[Generator] = []
    for raw in data["generators"]:
        gid = raw["id"]
        if any(g.id == gid for g in out):
            raise RegistryError(f"generators.yaml: id {gid!r} is listed twice")
        marks = tuple(_mark(gid, m) for m in raw["marks"])
        fields = (raw["vendor"], raw["product"], tuple(raw["media"]), raw["default"], marks, tuple(raw["sources"]))
        out.append(Generator(gid, *fields, int(raw.get("priority", 0)), str(raw.get("note", ""))))
    return tuple(out)


@cache
def load() -> tuple[Generator, ...]:
    """The registry shipped with the package (labelcheck/classify/generators.yaml); read once."""
    return parse(resources.read_yaml(REGISTRY), validate=not resources.bundled(REGISTRY))


def prepare() -> None:
    """Read the registry and build its per-carrier index now rather than at the first field matched."""
    _index()
    _registry_order()


@lru_cache(maxsize=4096)  # asked for every field of every item; files name fields freely, so bounded
def family(carrier: str) -> frozenset[str]:
    """The carriers (compared without case and spaces) that name the same field as this one."""
    k = _key(carrier)
    return next((f for f in _FAMILIES if k in f), frozenset({k}))


@cache
def _index() -> dict[str, tuple[tuple[Generator, re.Pattern[str]], ...]]:
    """Per carrier, the (generator, pattern) pairs to try, best priority first, then in registry order."""
    ranked = sorted(enumerate(load()), key=lambda ig: (-ig[1].priority, ig[0]))
    table: dict[str, list[tuple[Generator, re.Pattern[str]]]] = {}
    for _, g in ranked:
        for m in g.marks:
            for c in m.carriers:
                table.setdefault(_key(c), []).append((g, m.regex))
    return {k: tuple(v) for k, v in table.items()}


def matches(carrier: str, value: str) -> tuple[Generator, ...]:
    """Every generator with a mark on this carrier (or its family) that the value matches, best first."""
    index = _index()
    found = {g.id: g for k in family(carrier) for g, rx in index.get(k, ()) if rx.search(value)}
    if not found:  # the common case: read for every field of every item
        return ()
    order = _registry_order()
    return tuple(sorted(found.values(), key=lambda g: (-g.priority, order[g.id])))


@cache
def _registry_order() -> dict[str, int]:
    return {g.id: n for n, g in enumerate(load())}


def match(carrier: str, value: str) -> Generator | None:
    """The generator whose mark this value is, or None."""
    found = matches(carrier, value)
    return found[0] if found else None


def carrier_of(key: str, value: str = "") -> tuple[str, str] | None:
    """The carrier of an exiftool tag or a signal ("Group:Tag", or an ffprobe "scope:tag") and the value to match;
    None when the group is not one a mark can be on. An ID3 TXXX value "(desc) value" becomes id3.TXXX:desc."""
    group, _, name = key.rpartition(":")
    g = group.lower()
    space = next((ns for prefix, ns in _GROUPS if g.startswith(prefix)), None)
    if space is None or not name:
        return None
    if space == "id3":
        frame = _ID3_FRAMES.get(name.lower())
        if name.lower() == "userdefinedtext" and (m := _TXXX.match(value)):
            return f"id3.TXXX:{m.group('desc')}", m.group("val")
        return (f"id3.{frame}" if frame else f"id3.TXXX:{name}"), value
    return f"{space}.{name}", value


def named_in(key: str, value: str) -> Generator | None:
    """The generator a field read by exiftool or ffprobe ("Group:Tag" or "scope:tag") names, or None."""
    found = carrier_of(key, value)
    return match(*found) if found else None
