"""Playlists as data: HLS (the m3u8 package) and DASH MPD (SegmentTemplate with $Number$, SegmentList).

A playlist comes from the network: whatever it holds, parsing either returns or raises ValueError (SyntaxError for
XML that is not well formed), in bounded time and memory. A remote playlist's references (segments, maps,
initialization segments, variants) must be http(s) URLs: another is refused (RefusedReference, a ValueError and a
FetchError), never read from disk; a local playlist's may name local files.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TypeVar

from ..inputs.fetch import RefusedReference, resolve

_ATTR = re.compile(r'(?<![A-Z0-9-])([A-Z0-9-]+)=("[^"]*"|[^,]*)')  # a name starts where no name character precedes
_DURATION = re.compile(r"P(?:(\d+)D)?T?(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?")
_IDENT = re.compile(r"\$(RepresentationID|Number|Bandwidth|Time)(%0(\d+)d)?\$")
MIN_SEGMENT = 0.001  # seconds: a template or timeline segment shorter than this is a malformed playlist, not media
MAX_WIDTH = 32  # digits a SegmentTemplate may pad a number to ($Number%05d$); real ones use a handful


@dataclass(frozen=True)
class Segment:
    sequence: int
    uri: str
    start: float  # media time in seconds from the start of the playlist
    duration: float
    dateranges: tuple[tuple[str, str], ...] = ()  # attributes of EXT-X-DATERANGE tags before this segment


@dataclass(frozen=True)
class Rendition:
    name: str
    bandwidth: int | None
    init: str | None  # EXT-X-MAP / initialization segment
    segments: tuple[Segment, ...]
    ended: bool  # EXT-X-ENDLIST (or a static MPD)
    target_duration: float | None = None


@dataclass(frozen=True)
class Variant:
    name: str
    uri: str
    bandwidth: int | None


Choice = TypeVar("Choice", Variant, Rendition)


def choose(items: list[Choice], rendition: str) -> list[Choice]:
    """What `--rendition` selects: all, the best (highest bandwidth), or those named NAME (or NAME@bandwidth)."""
    if rendition == "all":
        return list(items)
    if rendition == "best":
        return sorted(items, key=lambda i: i.bandwidth or 0)[-1:]
    return [i for i in items if i.name == rendition or i.name.split("@")[0] == rendition]


def _dateranges(text: str) -> dict[int, list[tuple[str, str]]]:
    """EXT-X-DATERANGE attributes keyed by the index of the segment they precede."""
    out: dict[int, list[tuple[str, str]]] = {}
    index = 0
    for line in text.splitlines():
        if line.startswith("#EXT-X-DATERANGE:"):
            for key, value in _ATTR.findall(line.split(":", 1)[1]):
                out.setdefault(index, []).append((key, value.strip('"')))
        elif line and not line.startswith("#"):
            index += 1
    return out


def parse_hls(text: str, base: str) -> list[Variant] | Rendition:
    """A master playlist's variants, or a media playlist's rendition."""
    try:
        return _parse_hls(text, base)
    except RefusedReference:  # a remote playlist naming something other than an http(s) URL: said as it is
        raise
    except (ValueError, ArithmeticError, LookupError, TypeError, AttributeError) as exc:
        # the m3u8 package's parser and model raise these on malformed tags (a BANDWIDTH of -inf, an empty
        # EXT-X-MAP, an EXT-X-DATERANGE without ID)
        raise ValueError(f"malformed HLS playlist ({type(exc).__name__}: {exc})") from exc


def _parse_hls(text: str, base: str) -> list[Variant] | Rendition:
    import m3u8  # here, when a playlist is parsed: m3u8 (with urllib, ssl) costs ~20 ms

    pl = m3u8.loads(text)
    if pl.is_variant:
        out = []
        for n, p in enumerate(pl.playlists):
            info = p.stream_info
            name = f"{info.resolution[1]}p" if info.resolution else f"variant{n}"
            out.append(
                Variant(
                    name=f"{name}@{info.bandwidth}" if info.bandwidth else name,
                    uri=resolve(base, p.uri),
                    bandwidth=info.bandwidth,
                )
            )
        return out
    ranges = _dateranges(text)
    init = None
    if pl.segment_map:
        first = pl.segment_map[0] if isinstance(pl.segment_map, list) else pl.segment_map
        init = resolve(base, first.uri) if first is not None and first.uri else None
    segs, t = [], 0.0
    for n, s in enumerate(pl.segments):
        if s.init_section is not None and s.init_section.uri and init is None:
            init = resolve(base, s.init_section.uri)
        duration = _finite(s.duration or 0.0, "EXTINF duration")
        segs.append(Segment((pl.media_sequence or 0) + n, resolve(base, s.uri), t, duration, tuple(ranges.get(n, ()))))
        t += duration
    return Rendition("main", None, init, tuple(segs), bool(pl.is_endlist), pl.target_duration)


def _finite(value: object, what: str, positive: bool = False) -> float:
    """A number from the playlist, refused (ValueError) when it is not finite, or not above zero when it must be."""
    number = float(value)  # type: ignore[arg-type]
    if not math.isfinite(number) or number < 0 or (positive and number == 0):
        raise ValueError(f"{what} {value!r} is not a {'positive' if positive else 'finite, non-negative'} number")
    return number


def _count(span: float, step: float, most: int, whole: bool = False) -> int:
    """How many steps of `step` cover `span` (`whole`: fit in it), but at most `most`: a tiny step cannot make the
    count overflow."""
    n = span / step
    return most if n >= most else (math.floor(n) if whole else math.ceil(n))


def _seconds(iso: str | None) -> float:
    m = _DURATION.fullmatch(iso or "")
    if not m:
        return 0.0
    d, h, mi, s = (float(x) if x else 0.0 for x in m.groups())
    return d * 86400 + h * 3600 + mi * 60 + s


def _ns(tag: str) -> str:
    return tag.split("}", 1)[0] + "}" if tag.startswith("{") else ""


def fill_template(pattern: str, values: dict[str, object]) -> str:
    """A SegmentTemplate URL with its identifiers ($Number$, $Number%05d$, $Time$, ...) replaced; `$$` is `$`."""

    def one(m: re.Match[str]) -> str:
        value = values.get(m.group(1))
        if value is None:
            return m.group(0)
        if m.group(3) and int(m.group(3)) > MAX_WIDTH:
            raise ValueError(f"SegmentTemplate identifier {m.group(0)[:40]} pads to more than {MAX_WIDTH} digits")
        return str(value).zfill(int(m.group(3))) if m.group(3) else str(value)

    return _IDENT.sub(one, pattern).replace("$$", "$")


def _epoch(iso: str | None) -> float | None:
    if not iso:
        return None
    try:
        return dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _live_numbers(root: ET.Element, tmpl_dur: float, start_no: int, now: float) -> range:
    """Segment numbers available now in a dynamic MPD without a timeline: complete segments since
    availabilityStartTime, within the time-shift buffer."""
    ast = _epoch(root.get("availabilityStartTime"))
    if ast is None or tmpl_dur <= 0 or now <= ast:
        return range(0)
    complete = _count(now - ast, tmpl_dur, 1 << 62, whole=True)
    depth = _seconds(root.get("timeShiftBufferDepth")) or 60.0
    first = max(0, complete - _count(depth, tmpl_dur, 1 << 62, whole=True))
    return range(start_no + first, start_no + complete)


def _not_too_short(seconds: float) -> None:
    """A segment duration (0: none given) that would make a playlist list thousands of segments per second."""
    if 0 < seconds < MIN_SEGMENT:
        raise ValueError(f"segment duration {seconds:.3g} s is shorter than {MIN_SEGMENT * 1000:g} ms")


def _timeline(
    entries: list[ET.Element], timescale: float, end: float | None, most: int, live: bool
) -> Iterator[tuple[int, int]]:
    """Start and duration (timescale units) of at most `most` segments of a SegmentTimeline: each <S t= d= r=/>
    is 1 + r segments; r="-1" repeats up to the next S's t, or else up to `end`: the presentation's end (a last
    partial segment counts) or, live, now (only complete segments are available)."""
    t, n = 0, 0
    for i, s in enumerate(entries):
        t, d, r = int(s.get("t", t)), int(s.get("d", "0")), int(s.get("r", "0"))
        if d <= 0:
            continue
        _not_too_short(d / timescale)
        if r < 0:
            later = entries[i + 1].get("t") if i + 1 < len(entries) else None
            stop = int(later) if later is not None else end
            r = _count(stop - t, d, most, whole=live and later is None) - 1 if stop is not None and stop > t else 0
        for _ in range(min(r + 1, most - n)):
            yield t, d
            t += d
            n += 1


def parse_dash(text: str, base: str, max_segments: int, now: float | None = None) -> list[Rendition]:
    """Each Representation of an MPD as a rendition (SegmentTemplate with $Number$/$Time$ and an optional
    SegmentTimeline, or SegmentList). A dynamic (live) MPD lists what is available `now`; it has ended when it
    turns static, and is refreshed every minimumUpdatePeriod."""
    root = ET.fromstring(text)
    ns = _ns(root.tag)
    total = _seconds(root.get("mediaPresentationDuration"))
    dynamic = root.get("type", "static") == "dynamic"
    refresh = _seconds(root.get("minimumUpdatePeriod")) or None
    clock = time.time() if now is None else now
    out: list[Rendition] = []
    for aset in root.iter(f"{ns}AdaptationSet"):
        for rep in aset.iter(f"{ns}Representation"):
            tmpl = rep.find(f"{ns}SegmentTemplate")
            if tmpl is None:
                tmpl = aset.find(f"{ns}SegmentTemplate")
            rid = rep.get("id", f"rep{len(out)}")
            raw_bw = rep.get("bandwidth") or ""
            bw = int(raw_bw) if raw_bw.isdigit() else None

            def fill(
                pattern: str, number: int | None = None, t: int | None = None, rid: str = rid, bw: int | None = bw
            ) -> str:
                return fill_template(
                    pattern, {"RepresentationID": rid, "Bandwidth": bw or 0, "Number": number, "Time": t}
                )

            segs: list[Segment] = []
            init = None
            if tmpl is not None:
                timescale = _finite(tmpl.get("timescale", "1"), "timescale", positive=True)
                dur = _finite(tmpl.get("duration", "0"), "duration") / timescale
                _not_too_short(dur)
                start_no = int(tmpl.get("startNumber", "1"))
                if tmpl.get("initialization"):
                    init = resolve(base, fill(tmpl.get("initialization", "")))
                timeline = tmpl.find(f"{ns}SegmentTimeline")
                if timeline is not None:  # explicit times, media named by $Time$ or $Number$
                    ast = _epoch(root.get("availabilityStartTime"))
                    end = (clock - ast if dynamic and ast is not None else total) * timescale or None
                    for t, d in _timeline(timeline.findall(f"{ns}S"), timescale, end, max_segments, dynamic):
                        number = start_no + len(segs)
                        media = fill(tmpl.get("media", ""), number, t)
                        segs.append(Segment(number, resolve(base, media), t / timescale, d / timescale))
                elif dynamic:
                    numbers = _live_numbers(root, dur, start_no, clock)
                    for number in numbers[-max_segments:]:
                        media = fill(tmpl.get("media", ""), number)
                        segs.append(Segment(number, resolve(base, media), (number - start_no) * dur, dur))
                else:
                    count = _count(total, dur, max_segments) if dur and total else 0
                    for n in range(min(count, max_segments)):
                        media = fill(tmpl.get("media", ""), start_no + n)
                        segs.append(Segment(start_no + n, resolve(base, media), n * dur, dur))
            else:
                slist = rep.find(f"{ns}SegmentList")
                if slist is not None:
                    timescale = _finite(slist.get("timescale", "1"), "timescale", positive=True)
                    dur = _finite(slist.get("duration", "0"), "duration") / timescale
                    ini = slist.find(f"{ns}Initialization")
                    if ini is not None and ini.get("sourceURL"):
                        init = resolve(base, ini.get("sourceURL", ""))
                    for n, su in enumerate(slist.findall(f"{ns}SegmentURL")[:max_segments]):
                        segs.append(Segment(n + 1, resolve(base, su.get("media", "")), n * dur, dur))
            out.append(Rendition(rid, bw, init, tuple(segs), not dynamic, refresh))
    return out
