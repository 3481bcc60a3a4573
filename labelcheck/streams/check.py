"""Check a stream: each rendition's init segment manifest, each media fragment validated against it, the labels
carried by the playlist, and the continuity of all that along the timeline."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

import c2pa

from .. import vocab
from ..classify import manifest_declares
from ..extract import c2pa as c2pa_x
from ..model import (
    C2paStore,
    Evidence,
    ItemStatus,
    Kind,
    RenditionResult,
    SegmentResult,
    Signal,
    StreamResult,
    ToolError,
)
from ..scan import Judge
from .fetch import FetchError, FetchOptions, fetch
from .playlist import Rendition, Segment, Variant, choose, parse_dash, parse_hls
from .timed import segment_label

VALID = ("Valid", "Trusted")


@dataclass(frozen=True)
class StreamOptions:
    fetch: FetchOptions = field(default_factory=FetchOptions)
    rendition: str = "all"  # all | best | a rendition name
    max_segments: int = 10_000


def clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def daterange_label(attrs: tuple[tuple[str, str], ...]) -> str | None:
    for key, value in attrs:
        if not key.startswith("X-") or "AI" not in key.upper():
            continue
        label = vocab.stream_label(value)
        if label is not None:
            return label
    return None


def _fragment(init: bytes, data: bytes, ctx: c2pa.Context) -> tuple[str | None, tuple[str, ...]]:
    """Validate one media fragment against its init segment's manifest."""
    with c2pa.Reader("video/mp4", io.BytesIO(init), context=ctx) as reader:
        with reader.with_fragment("video/mp4", io.BytesIO(init), io.BytesIO(data)) as frag:
            doc = json.loads(frag.json())
            store = c2pa_x.store_from_json(doc, frag.get_validation_state(), True, None)
            return store.validation_state, store.failures


def _init_manifest(init: bytes, ctx: c2pa.Context) -> tuple[C2paStore | None, str]:
    """(the init segment's manifest store, or None when it has none; what it declares)."""
    try:
        reader = c2pa.Reader.try_create("video/mp4", io.BytesIO(init), context=ctx)
    except c2pa.C2paError:
        return C2paStore(present=True), "none"  # a manifest that cannot be read: its fragments will say why
    if reader is None:
        return None, "none"
    with reader:
        store = c2pa_x.store_from_json(json.loads(reader.json()), reader.get_validation_state(), True, None)
    return store, manifest_declares(store)[0]


def _runs(
    items: list[SegmentResult], bad: Callable[[SegmentResult], bool]
) -> Iterator[tuple[SegmentResult, SegmentResult]]:
    """(first, last) of each run of consecutive segments for which `bad` holds."""
    start: SegmentResult | None = None
    prev: SegmentResult | None = None
    for s in items:
        if bad(s):
            start = start or s
        elif start is not None and prev is not None:
            yield start, prev
            start = None
        prev = s
    if start is not None and prev is not None:
        yield start, prev


def continuity(segments: list[SegmentResult]) -> list[str]:
    """Where along the timeline the provenance or the label breaks."""
    out = []
    for first, last in _runs(segments, lambda s: s.state not in VALID):
        span = f"{first.sequence}" if first is last else f"{first.sequence}–{last.sequence}"
        out.append(
            f"segment{'s' if first is not last else ''} {span} ({clock(first.start)}–"
            f"{clock(last.start + last.duration)}) carr{'y' if first is not last else 'ies'} no valid manifest"
        )
    for a, b in zip(segments, segments[1:], strict=False):
        if a.label != b.label:
            out.append(f"label changes from {a.label} to {b.label} at {clock(b.start)} (segment {b.sequence})")
    return out


@dataclass
class InitSegment:
    """A rendition's init segment and what its manifest declares (fetched once, reused for every fragment)."""

    data: bytes | None
    label: str
    problem: str | None = None
    store: C2paStore | None = None

    @classmethod
    def load(cls, uri: str | None, opts: StreamOptions, ctx: c2pa.Context) -> InitSegment:
        if not uri:
            return cls(None, "none")
        try:
            data = fetch(uri, opts.fetch)
        except FetchError as exc:
            return cls(None, "none", f"init segment not fetched: {exc}")
        store, label = _init_manifest(data, ctx)
        return cls(data, label, None, store)


def check_segment(
    seg: Segment, init: InitSegment, daterange: str | None, opts: StreamOptions, ctx: c2pa.Context
) -> SegmentResult:
    """One media segment: fetched, validated against the init segment's manifest, labelled."""
    errors: tuple[str, ...] = ()
    state: str | None = None
    failures: tuple[str, ...] = ()
    timed: str | None = None
    try:
        data = fetch(seg.uri, opts.fetch)
        timed = segment_label(data)
        if init.data is not None and init.store is not None:  # no manifest: nothing to validate, not an error
            state, failures = _fragment(init.data, data, ctx)
    except FetchError as exc:
        errors = (str(exc),)
    except c2pa.C2paError as exc:
        errors = (f"fragment not readable against its init segment: {exc}",)
    label, source = "none", ""
    if state in VALID and init.label != "none":
        label, source = init.label, "c2pa"
    elif timed is not None:
        label, source = timed, "id3"
    elif daterange is not None:
        label, source = daterange, "daterange"
    return SegmentResult(seg.sequence, seg.uri, seg.start, seg.duration, state, failures, label, source, errors)


def _check_rendition(r: Rendition, opts: StreamOptions, ctx: c2pa.Context) -> RenditionResult:
    init = InitSegment.load(r.init, opts, ctx)
    findings: list[str] = [init.problem] if init.problem else []
    label = init.label
    results: list[SegmentResult] = []
    current_range: str | None = None
    for seg in r.segments[: opts.max_segments]:
        current_range = daterange_label(seg.dateranges) or current_range
        results.append(check_segment(seg, init, current_range, opts, ctx))
    if len(r.segments) > opts.max_segments:
        findings.append(f"the playlist lists {len(r.segments)} segments; the first {opts.max_segments} were checked")
    findings += continuity(results)
    return RenditionResult(
        r.name, r.bandwidth, r.init, label, tuple(results), tuple(findings), len(r.segments), init.store
    )


def _renditions(ref: str, opts: StreamOptions) -> tuple[str, list[Rendition]]:
    text = fetch(ref, opts.fetch).decode("utf-8", "replace")
    if text.lstrip().startswith("#EXTM3U"):
        parsed = parse_hls(text, ref)
        if isinstance(parsed, Rendition):
            return "hls", [parsed]
        loaded = (load_variant(v, opts) for v in choose(parsed, opts.rendition))
        return "hls", [r for r in loaded if r is not None]
    return "dash", choose(parse_dash(text, ref, opts.max_segments + 1), opts.rendition)


def load_variant(v: Variant, opts: StreamOptions) -> Rendition | None:
    """A master playlist's variant as a rendition (None when it is itself a master playlist)."""
    media = parse_hls(fetch(v.uri, opts.fetch).decode("utf-8", "replace"), v.uri)
    if not isinstance(media, Rendition):
        return None
    return Rendition(v.name, v.bandwidth, media.init, media.segments, media.ended, media.target_duration)


def check_stream(ref: str, opts: StreamOptions, ctx: c2pa.Context) -> StreamResult:
    """The stream's timeline; a playlist that cannot be read is an error result, never an exception."""
    kind = "dash" if ref.lower().split("?")[0].endswith(".mpd") else "hls"
    try:
        kind, renditions = _renditions(ref, opts)
    except (FetchError, ValueError, SyntaxError) as exc:  # ET.ParseError is a SyntaxError
        return StreamResult(ref, kind, ItemStatus.ERROR, (), (f"playlist not readable: {exc}",))
    if not renditions:
        return StreamResult(ref, kind, ItemStatus.ERROR, (), ("no rendition matched",))
    results = tuple(_check_rendition(r, opts, ctx) for r in renditions)
    segs = [s for r in results for s in r.segments]
    if segs and all(s.errors for s in segs):
        status = ItemStatus.ERROR
    elif any(r.findings for r in results):
        status = ItemStatus.FAIL
    else:
        status = ItemStatus.PASS
    return StreamResult(ref, kind, status, results)


def stream_evidence(st: StreamResult) -> Evidence:
    """The stream as one item: its first rendition's manifest, with the integrity its fragments showed (Invalid
    when any fragment failed), and the labels its own carriers named along the timeline."""
    rend = st.renditions[0] if st.renditions else None
    store = C2paStore(present=False)
    if rend is not None and rend.manifest is not None:
        states = [s.state for s in rend.segments if s.state is not None]
        state = "Invalid" if "Invalid" in states or not states else min(states, key=("Trusted", "Valid").index)
        failures = tuple(sorted({f for s in rend.segments for f in s.failures}))
        store = replace(
            rend.manifest,
            validation_state=state if states else rend.manifest.validation_state,
            failures=failures or rend.manifest.failures,
        )
    labels = sorted(
        {(s.label_source, s.label) for r in st.renditions for s in r.segments if s.label_source in ("id3", "daterange")}
    )
    signals = tuple(Signal("stream", Kind.STREAM_LABEL, f"{src} label", label, src) for src, label in labels)
    errors = tuple(ToolError("input", e) for e in st.errors)
    # What the segments are (fMP4 with an init segment, else MPEG-TS): that decides which carriers they can hold.
    mime = "video/mp4" if any(r.init for r in st.renditions) else "video/mp2t"
    return Evidence(st.target, mime, "video", 0, None, store, signals, errors)


def judge_stream(st: StreamResult, judge: Judge) -> StreamResult:
    """The policies applied to the stream as a whole; the stream fails on a failed rule or a continuity break."""
    result = judge(stream_evidence(st))
    status = st.status
    if status is not ItemStatus.ERROR and result.status is ItemStatus.FAIL:
        status = ItemStatus.FAIL
    return replace(st, result=result, status=status)
