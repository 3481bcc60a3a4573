"""Live streams: poll a media playlist (HLS) or a dynamic MPD (DASH) at its target duration / minimum update period,
check each new segment once, record progress in SQLite (the watcher's database), survive playlist resets and
network errors, stop at EXT-X-ENDLIST, when the MPD turns static, or on signal."""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

import c2pa

from ..inputs.fetch import FetchError, Refused, fetch
from ..model import ItemStatus, RenditionResult, SegmentResult, Signal, StreamResult
from ..streams.check import (
    InitSegment,
    StreamOptions,
    check_segment,
    continuity,
    daterange_label,
    load_variant,
    rendition_tags,
)
from ..streams.playlist import Choice, Rendition, choose, parse_dash, parse_hls
from .log import log

SCHEMA = """
CREATE TABLE IF NOT EXISTS stream_segments (
    stream TEXT NOT NULL, sequence INTEGER NOT NULL, uri TEXT NOT NULL, start REAL NOT NULL, duration REAL NOT NULL,
    state TEXT, failures TEXT NOT NULL, label TEXT NOT NULL, label_source TEXT NOT NULL, errors TEXT NOT NULL,
    checked_at TEXT NOT NULL, aigc TEXT, PRIMARY KEY (stream, sequence)
);
"""
MAX_BACKOFF = 30.0


@dataclass
class _Progress:
    last_sequence: int | None
    offset: float  # media time of the playlist's first segment, carried across sliding windows


class StreamLog:
    """Checked segments of live streams, one row per (stream, media sequence): nothing is checked twice."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, timeout=30, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(SCHEMA)
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(stream_segments)")}
        if "aigc" not in columns:  # a database written before segments kept their AIGC payload
            self.db.execute("ALTER TABLE stream_segments ADD COLUMN aigc TEXT")

    def last(self, stream: str) -> tuple[int | None, float]:
        row = self.db.execute(
            "SELECT sequence, start + duration FROM stream_segments WHERE stream=? ORDER BY sequence DESC LIMIT 1",
            (stream,),
        ).fetchone()
        return (row[0], row[1]) if row else (None, 0.0)

    def add(self, stream: str, s: SegmentResult) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO stream_segments (stream, sequence, uri, start, duration, state, failures, label, "
            "label_source, errors, checked_at, aigc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                stream,
                s.sequence,
                s.uri,
                s.start,
                s.duration,
                s.state,
                "\n".join(s.failures),
                s.label,
                s.label_source,
                "\n".join(s.errors),
                time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                s.aigc,
            ),
        )

    def segments(self, stream: str) -> list[SegmentResult]:
        rows = self.db.execute(
            "SELECT sequence, uri, start, duration, state, failures, label, label_source, errors, aigc "
            "FROM stream_segments WHERE stream=? ORDER BY sequence",
            (stream,),
        ).fetchall()
        return [
            SegmentResult(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                tuple(x for x in r[5].split("\n") if x),
                r[6],
                r[7],
                tuple(x for x in r[8].split("\n") if x),
                aigc=r[9],
            )
            for r in rows
        ]

    def close(self) -> None:
        self.db.close()


def _followed(items: list[Choice], rendition: str) -> Choice | None:
    """The one rendition a live follow takes: the lowest bandwidth of those named `rendition`, else the best."""
    ordered = sorted(items, key=lambda i: i.bandwidth or 0)
    picked = (choose(ordered, rendition) if rendition != "all" else []) or choose(ordered, "best")
    return picked[0] if picked else None


def _media_playlist(ref: str, opts: StreamOptions) -> tuple[str, Rendition]:
    """("hls" | "dash", the rendition followed)."""
    text = fetch(ref, opts.fetch).decode("utf-8", "replace")
    if not text.lstrip().startswith("#EXTM3U"):
        rep = _followed(parse_dash(text, ref, opts.max_segments), opts.rendition)
        if rep is None:
            raise ValueError(f"{ref}: the MPD has no representation")
        return "dash", rep
    parsed = parse_hls(text, ref)
    if isinstance(parsed, Rendition):
        return "hls", parsed
    variant = _followed(parsed, opts.rendition)
    if variant is None:
        raise ValueError(f"{ref}: the master playlist lists no variant")
    media = load_variant(variant, opts)
    if media is None:
        raise FetchError(f"{variant.uri}: a master playlist where a media playlist was expected")
    return "hls", media


def follow(
    ref: str, opts: StreamOptions, ctx: c2pa.Context, store: StreamLog, stop: threading.Event, max_wait: float = 10.0
) -> StreamResult:
    """Check a live stream until it ends or `stop`; returns the timeline of every segment checked."""
    last, offset = store.last(ref)
    progress = _Progress(last, offset)
    backoff = 1.0
    init: InitSegment | None = None
    init_uri: str | None = None
    tags: tuple[Signal, ...] = ()
    from_tags = "none"
    findings: list[str] = []
    daterange: str | None = None
    kind = "dash" if ref.lower().split("?")[0].endswith(".mpd") else "hls"
    while not stop.is_set():
        try:
            kind, media = _media_playlist(ref, opts)
        except (FetchError, ValueError, SyntaxError) as exc:  # ET.ParseError is a SyntaxError
            log("stream-error", stream=ref, error=str(exc), retry_in=backoff)
            if isinstance(exc, Refused) and f"refused: {exc}" not in findings:  # e.g. a segment named x:secret.mp4
                findings.append(f"refused: {exc}")  # the stream fails, though a later poll may be followed
            stop.wait(backoff)
            backoff = min(MAX_BACKOFF, backoff * 2)
            continue
        backoff = 1.0
        if init is None or media.init != init_uri:
            init_uri, init = media.init, InitSegment.load(media.init, opts, ctx)
            tags, from_tags, problem = rendition_tags(media, init, opts)
            findings += [problem] if problem else []
        first = media.segments[0].sequence if media.segments else None
        if progress.last_sequence is not None and first is not None and first > progress.last_sequence + 1:
            findings.append(
                f"segments {progress.last_sequence + 1}–{first - 1} left the live window before they could be checked"
            )
        if (
            progress.last_sequence is not None
            and media.segments
            and media.segments[-1].sequence < progress.last_sequence
        ):
            log("stream-reset", stream=ref, from_sequence=progress.last_sequence, to=media.segments[-1].sequence)
            findings.append(
                f"playlist reset: media sequence went back from {progress.last_sequence} to "
                f"{media.segments[0].sequence}"
            )
            progress.last_sequence = media.segments[0].sequence - 1
        for seg in media.segments:
            daterange = daterange_label(seg.dateranges) or daterange
            if progress.last_sequence is not None and seg.sequence <= progress.last_sequence:
                continue
            placed = replace(seg, start=progress.offset)  # on the stream's own timeline: the window slides
            assert init is not None
            result = check_segment(placed, init, daterange, opts, ctx, from_tags)
            store.add(ref, result)
            progress.last_sequence, progress.offset = seg.sequence, placed.start + placed.duration
            log("segment", stream=ref, sequence=seg.sequence, state=result.state, label=result.label)
        if media.ended:
            break
        stop.wait(min(max_wait, max(0.2, (media.target_duration or 2.0) / 2)))
    segments = store.segments(ref)
    all_findings = tuple(findings + continuity(segments))
    status = ItemStatus.FAIL if all_findings else ItemStatus.PASS
    label = init.label if init else "none"
    rendition = RenditionResult(
        "live",
        None,
        init_uri,
        label,
        tuple(segments),
        all_findings,
        len(segments),
        init.store if init else None,
        tags,
        from_tags,
    )
    return StreamResult(ref, kind, status, (rendition,))
