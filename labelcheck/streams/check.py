"""Check a stream: each rendition's init segment manifest, each media fragment validated against it, the labels
carried by the playlist, and the continuity of all that along the timeline."""

from __future__ import annotations

import io
import itertools
import json
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import c2pa

from ..classify import vocab
from ..classify.classification import classify, manifest_declares
from ..extract import c2pa as c2pa_x
from ..extract import ffprobe as ffprobe_x
from ..extract.tags import signals_from_ffprobe
from ..inputs.fetch import FetchError, FetchOptions, fetch
from ..model import (
    AiStatus,
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
from ..policy.judge import Judge
from ..policy.load import fails
from .playlist import Rendition, Segment, Variant, choose, parse_dash, parse_hls
from .timed import aigc_payload, label_of, segment_frames

VALID = ("Valid", "Trusted")


@dataclass(frozen=True)
class StreamOptions:
    fetch: FetchOptions = field(default_factory=FetchOptions)
    rendition: str = "all"  # all | best | a rendition name
    max_segments: int = 10_000
    ffprobe: str = "ffprobe"  # the command that reads container tags (labelcheck --ffprobe)
    # what fetches a playlist or a segment (None: inputs/fetch.py with `fetch`); `sample` passes its polite fetcher,
    # so that a sampled stream's requests obey robots.txt and the host's pace and are kept as evidence
    getter: Callable[[str], bytes] | None = field(default=None, compare=False)

    def get(self, ref: str) -> bytes:
        return self.getter(ref) if self.getter is not None else fetch(ref, self.fetch)


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


def _runs(items: list[SegmentResult], bad: Callable[[SegmentResult], bool]) -> Iterator[list[SegmentResult]]:
    """Each run of consecutive segments for which `bad` holds."""
    for is_bad, run in itertools.groupby(items, key=bad):
        if is_bad:
            yield list(run)


def _span(run: list[SegmentResult]) -> str:
    """A run of segments on the timeline: `segment 7 (00:00:14–00:00:16)`, `segments 3–5 (00:00:06–00:00:12)`."""
    first, last = run[0], run[-1]
    which = f"segment {first.sequence}" if len(run) == 1 else f"segments {first.sequence}–{last.sequence}"
    return f"{which} ({clock(first.start)}–{clock(last.start + last.duration)})"


def continuity(segments: list[SegmentResult]) -> list[str]:
    """Where along the timeline the provenance or the label breaks. A stream with no provenance anywhere (no
    segment carries a manifest) has none to break: it is judged like a file without C2PA, by the policies."""
    signed = any(s.state is not None for s in segments)
    out = [
        f"{_span(run)} carr{'ies' if len(run) == 1 else 'y'} no valid manifest"
        for run in (_runs(segments, lambda s: s.state not in VALID) if signed else ())
    ]
    for a, b in zip(segments, segments[1:], strict=False):
        if a.label != b.label:
            out.append(f"label changes from {a.label} to {b.label} at {clock(b.start)} (segment {b.sequence})")
    return out


def container_tags(data: bytes, ffprobe: str = "ffprobe") -> tuple[tuple[Signal, ...], str | None]:
    """The container and stream tags of one segment's bytes (ffprobe on a temporary file): (signals, problem)."""
    with tempfile.TemporaryDirectory(prefix="labelcheck-seg-") as d:
        path = Path(d) / "segment"
        path.write_bytes(data)
        answer = ffprobe_x.probe(path, timeout=20.0, cmd=ffprobe)
    if isinstance(answer, ToolError):
        return (), f"container tags not read: {answer.message}"
    tags = [sig for sig in signals_from_ffprobe(answer) if sig.kind is not Kind.CONTAINER]  # labels, not codecs
    return tuple(tags), None


def tags_label(signals: tuple[Signal, ...], mime: str) -> str:
    """The AI status container tags declare on their own ("none" when they declare nothing)."""
    if not signals:
        return "none"
    status = classify(Evidence("tags", mime, "video", 0, None, C2paStore(present=False), signals, ())).status
    return "none" if status is AiStatus.UNKNOWN else status.value


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
            data = opts.get(uri)
        except FetchError as exc:
            return cls(None, "none", f"init segment not fetched: {exc}")
        store, label = _init_manifest(data, ctx)
        return cls(data, label, None, store)


def check_segment(
    seg: Segment,
    init: InitSegment,
    daterange: str | None,
    opts: StreamOptions,
    ctx: c2pa.Context,
    tags: str = "none",
) -> SegmentResult:
    """One media segment: fetched, validated against the init segment's manifest, labelled."""
    errors: tuple[str, ...] = ()
    state: str | None = None
    failures: tuple[str, ...] = ()
    timed: str | None = None
    aigc: str | None = None
    try:
        data = opts.get(seg.uri)
        frames = segment_frames(data)
        timed, aigc = label_of(frames), aigc_payload(frames)
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
    elif tags != "none":
        label, source = tags, "tags"
    return SegmentResult(
        seg.sequence, seg.uri, seg.start, seg.duration, state, failures, label, source, errors, aigc=aigc
    )


def rendition_tags(r: Rendition, init: InitSegment, opts: StreamOptions) -> tuple[tuple[Signal, ...], str, str | None]:
    """(container/stream tags, the label they declare, a problem reading them) of the init segment (fMP4), else of
    the first media segment (MPEG-TS, whose every segment repeats its tables; later segments are not probed: a
    process per segment would cost ~0.1 s each)."""
    data = init.data
    if data is None and r.segments:
        try:
            data = opts.get(r.segments[0].uri)
        except FetchError:
            return (), "none", None  # the segment's own check reports the failure
    tags, problem = container_tags(data, opts.ffprobe) if data else ((), None)
    return tags, tags_label(tags, segment_mime(bool(r.init))), problem


def _check_rendition(r: Rendition, opts: StreamOptions, ctx: c2pa.Context) -> RenditionResult:
    init = InitSegment.load(r.init, opts, ctx)
    findings: list[str] = [init.problem] if init.problem else []
    tags, from_tags, problem = rendition_tags(r, init, opts)
    findings += [problem] if problem else []
    label = init.label
    results: list[SegmentResult] = []
    current_range: str | None = None
    for seg in r.segments[: opts.max_segments]:
        current_range = daterange_label(seg.dateranges) or current_range
        results.append(check_segment(seg, init, current_range, opts, ctx, from_tags))
    if len(r.segments) > opts.max_segments:
        findings.append(f"the playlist lists {len(r.segments)} segments; the first {opts.max_segments} were checked")
    findings += continuity(results)
    return RenditionResult(
        r.name,
        r.bandwidth,
        r.init,
        label,
        tuple(results),
        tuple(findings),
        len(r.segments),
        init.store,
        tags,
        from_tags,
    )


def _renditions(ref: str, opts: StreamOptions) -> tuple[str, list[Rendition]]:
    text = opts.get(ref).decode("utf-8", "replace")
    if text.lstrip().startswith("#EXTM3U"):
        parsed = parse_hls(text, ref)
        if isinstance(parsed, Rendition):
            return "hls", [parsed]
        loaded = (load_variant(v, opts) for v in choose(parsed, opts.rendition))
        return "hls", [r for r in loaded if r is not None]
    return "dash", choose(parse_dash(text, ref, opts.max_segments + 1), opts.rendition)


def load_variant(v: Variant, opts: StreamOptions) -> Rendition | None:
    """A master playlist's variant as a rendition (None when it is itself a master playlist)."""
    media = parse_hls(opts.get(v.uri).decode("utf-8", "replace"), v.uri)
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
    except Exception as exc:  # noqa: BLE001 - an unforeseen fault on a served playlist: this stream's error only
        why = f"playlist not readable: labelcheck could not parse it: {type(exc).__name__}: {exc}"
        return StreamResult(ref, kind, ItemStatus.ERROR, (), (why,))
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


def segment_mime(fragmented: bool) -> str:
    """What the segments are (fMP4 with an init segment, else MPEG-TS): that decides which carriers they can hold."""
    return "video/mp4" if fragmented else "video/mp2t"


def _mime(st: StreamResult) -> str:
    return segment_mime(any(r.init for r in st.renditions))


def _own_signals(seg: SegmentResult) -> tuple[Signal, ...]:
    """What a segment's own carriers say: the label ID3 timed metadata or a DATERANGE names (`none` names no AI),
    and a TC260 AIGC label in its ID3, judged (and schema-checked) like one in a file."""
    out: tuple[Signal, ...] = ()
    if seg.label_source in ("id3", "daterange") and seg.label != "none":
        out += (Signal("stream", Kind.STREAM_LABEL, f"{seg.label_source} label", seg.label, seg.label_source),)
    if seg.aigc is not None:
        out += (Signal("id3", Kind.AIGC, "TXXX:AIGC", seg.aigc, "id3 timed metadata"),)
    return out


def stream_evidence(st: StreamResult) -> Evidence:
    """The stream as one item: its first rendition's manifest, with the integrity its fragments showed (Invalid
    when any fragment failed), its container tags, and what its segments' own carriers said along the timeline."""
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
    carried = {signal for r in st.renditions for s in r.segments for signal in _own_signals(s)}
    labels = sorted(carried, key=lambda g: (g.location, g.value))
    signals = tuple(labels) + (rend.tags if rend else ())
    errors = tuple(ToolError("input", e) for e in st.errors)
    return Evidence(st.target, _mime(st), "video", 0, None, store, signals, errors)


def segment_evidence(st: StreamResult, rend: RenditionResult, seg: SegmentResult) -> Evidence:
    """One segment as an item: the rendition's manifest with this fragment's validation, the label the segment
    carries in its own carriers, and the rendition's container tags."""
    store = C2paStore(present=False)
    if rend.manifest is not None and seg.state is not None:
        store = replace(rend.manifest, validation_state=seg.state, failures=seg.failures or rend.manifest.failures)
    own = _own_signals(seg)
    errors = tuple(ToolError("input", e) for e in seg.errors)
    target = f"{st.target}#{rend.name}/{seg.sequence}"
    return Evidence(target, _mime(st), "video", 0, None, store, own + rend.tags, errors)


def _judge_segments(st: StreamResult, rend: RenditionResult, judge: Judge) -> RenditionResult:
    """The policies applied to each segment; runs of segments failing the same rules become continuity findings."""
    segments = []
    for seg in rend.segments:
        result = judge(segment_evidence(st, rend, seg))
        failed = tuple(f"{f.policy}/{f.rule}" for f in result.findings if fails(f, judge.fail_on))
        segments.append(replace(seg, status=result.status.value, failed_rules=failed))
    findings = list(rend.findings)
    for run in _runs(segments, lambda s: bool(s.failed_rules)):
        rules = sorted({r for s in run for r in s.failed_rules})
        findings.append(f"{_span(run)} fail{'s' if len(run) == 1 else ''} {', '.join(rules)}")
    return replace(rend, segments=tuple(segments), findings=tuple(findings))


def judge_stream(st: StreamResult, judge: Judge) -> StreamResult:
    """The policies applied to the stream as a whole and to each segment; the stream fails on a failed rule or a
    continuity break."""
    result = judge(stream_evidence(st))
    renditions = tuple(_judge_segments(st, r, judge) for r in st.renditions)
    status = st.status
    segment_failed = any(s.failed_rules for r in renditions for s in r.segments)
    if status is not ItemStatus.ERROR and (result.status is ItemStatus.FAIL or segment_failed):
        status = ItemStatus.FAIL
    return replace(st, result=result, status=status, renditions=renditions)
