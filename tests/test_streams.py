"""Streams: playlists parsed, fragments validated against init segments, continuity found, faults survived.

Media come from ffmpeg (an fMP4 HLS rendition) and the signed DASH pair of the third-party corpus; a real
HTTP server on loopback serves them, and injects faults (404, a truncated body, redirect loops)."""

import datetime as dt
import json
import subprocess

import pytest
from conftest import CORPUS, MEDIA, Server, run_cli

from labelcheck.extract import c2pa as c2pa_x
from labelcheck.inputs.fetch import FetchError, FetchOptions, fetch
from labelcheck.streams.check import StreamOptions, check_stream, clock
from labelcheck.streams.playlist import Rendition, parse_dash, parse_hls

PAIR = CORPUS / "c2pa-rs/sdk/tests/fixtures"
needs_pair = pytest.mark.skipif(not (PAIR / "dash1.m4s").exists(), reason="corpus absent")
CTX = c2pa_x.make_context(c2pa_x.C2paSettings())
LOOPBACK = StreamOptions(FetchOptions(timeout=5, retries=1, allow_private=True))


def ffmpeg_video(seconds: float, *output: str, inputs: tuple[str, ...] = (), realtime: bool = False) -> list[str]:
    """An ffmpeg command over a small synthetic video (lavfi testsrc2, H.264, a key frame a second), plus `inputs`
    after it and the `output` options and file."""
    source = ["-re"] if realtime else []
    source += ["-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10", *inputs, "-t", str(seconds)]
    return ["ffmpeg", "-v", "error", "-nostdin", *source, "-c:v", "libx264", "-g", "10", *output]


def hls_output(path, segment_seconds: int, segment_type: str, *options: str) -> list[str]:
    """ffmpeg output options for a VOD HLS rendition."""
    hls = ["-f", "hls", "-hls_time", str(segment_seconds), "-hls_segment_type", segment_type, *options]
    return [*hls, "-hls_playlist_type", "vod", str(path)]


def make_hls(out, seconds: int, name: str):
    """An fMP4 HLS rendition of `seconds` one-second segments, made by ffmpeg."""
    out.mkdir()
    subprocess.run(ffmpeg_video(seconds, *hls_output(out / name, 1, "fmp4")), check=True, timeout=120)
    return out


def hls(init: str | None, segments: list[str], extra: str = "", duration: float = 2.0, end: bool = True) -> str:
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", f"#EXT-X-TARGETDURATION:{int(duration)}", "#EXT-X-MEDIA-SEQUENCE:100"]
    if init:
        lines.append(f'#EXT-X-MAP:URI="{init}"')
    for n, s in enumerate(segments):
        if extra and n == 1:
            lines.append(extra)
        lines += [f"#EXTINF:{duration:.1f},", s]
    return "\n".join(lines + (["#EXT-X-ENDLIST"] if end else [])) + "\n"


def test_hls_and_dash_parsing():
    master = (
        "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360\nlow.m3u8\n"
        "#EXT-X-STREAM-INF:BANDWIDTH=3000000,RESOLUTION=1280x720\nhigh.m3u8\n"
    )
    variants = parse_hls(master, "http://h/live/master.m3u8")
    assert [(v.name, v.uri) for v in variants] == [
        ("360p@800000", "http://h/live/low.m3u8"),
        ("720p@3000000", "http://h/live/high.m3u8"),
    ]
    media = parse_hls(
        hls(
            "init.mp4",
            ["a.m4s", "b.m4s", "c.m4s"],
            '#EXT-X-DATERANGE:ID="x",START-DATE="2026-01-01T00:00:00Z",X-AI-LABEL="made-with-ai"',
        ),
        "/srv/s/index.m3u8",
    )
    assert isinstance(media, Rendition) and media.ended and media.init == "/srv/s/init.mp4"
    assert [(s.sequence, s.start) for s in media.segments] == [(100, 0.0), (101, 2.0), (102, 4.0)]
    assert ("X-AI-LABEL", "made-with-ai") in media.segments[1].dateranges
    mpd = """<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static"
      mediaPresentationDuration="PT0H0M6.0S"><Period><AdaptationSet>
      <Representation id="v1" bandwidth="500000"><SegmentTemplate timescale="1000" duration="2000" startNumber="1"
        initialization="$RepresentationID$/init.mp4" media="$RepresentationID$/seg$Number$.m4s"/></Representation>
      </AdaptationSet></Period></MPD>"""
    (rep,) = parse_dash(mpd, "http://h/dash/manifest.mpd", 100)
    assert rep.init == "http://h/dash/v1/init.mp4"
    assert [s.uri for s in rep.segments] == [f"http://h/dash/v1/seg{n}.m4s" for n in (1, 2, 3)]
    assert clock(3725) == "01:02:05"


@needs_pair
def test_signed_fragments_validate_over_http_and_gaps_are_timed(tmp_path):
    init, frag = (PAIR / "dashinit.mp4").read_bytes(), (PAIR / "dash1.m4s").read_bytes()
    files = {"/init.mp4": init, "/f.m4s": frag, "/bad.m4s": frag[:-200] + b"\0" * 200}
    files["/main.m3u8"] = hls("init.mp4", ["f.m4s", "f.m4s", "bad.m4s", "/404/f.m4s", "f.m4s"]).encode()
    with Server(files) as srv:
        result = check_stream(srv.url + "/main.m3u8", LOOPBACK, CTX)
    (rend,) = result.renditions
    states = [s.state for s in rend.segments]
    assert states[:2] == ["Valid", "Valid"] and states[4] == "Valid"
    assert states[2] == "Invalid" and rend.segments[3].errors and "404" in rend.segments[3].errors[0]
    assert "segments 102–103 (00:00:04–00:00:08) carry no valid manifest" in rend.findings
    assert result.status.value == "fail"


@needs_pair
def test_dash_mpd_and_daterange_labels(tmp_path):
    (tmp_path / "v").mkdir()
    (tmp_path / "v" / "init.mp4").write_bytes((PAIR / "dashinit.mp4").read_bytes())
    for n in (1, 2):
        (tmp_path / "v" / f"seg{n}.m4s").write_bytes((PAIR / "dash1.m4s").read_bytes())
    (tmp_path / "m.mpd").write_text(
        '<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT4S"><Period>'
        '<AdaptationSet><Representation id="v" bandwidth="1"><SegmentTemplate timescale="1" duration="2" '
        'initialization="$RepresentationID$/init.mp4" media="$RepresentationID$/seg$Number$.m4s"/>'
        "</Representation></AdaptationSet></Period></MPD>"
    )
    result = check_stream(str(tmp_path / "m.mpd"), StreamOptions(), CTX)
    assert result.kind == "dash" and result.status.value == "pass"
    assert [s.state for s in result.renditions[0].segments] == ["Valid", "Valid"]


def test_an_unsigned_labelled_hls_stream_is_judged_like_a_file_without_c2pa(tmp_path):
    out = make_hls(tmp_path / "hls", 4, "index.m3u8")
    text = (
        (out / "index.m3u8")
        .read_text()
        .replace(
            "#EXTINF",
            '#EXT-X-DATERANGE:ID="ai",START-DATE="2026-01-01T00:00:00Z",X-AI-LABEL="trainedAlgorithmicMedia"\n#EXTINF',
            1,
        )
    )
    (out / "labelled.m3u8").write_text(text)
    result = check_stream(str(out / "labelled.m3u8"), StreamOptions(), CTX)
    (rend,) = result.renditions
    assert rend.manifest_label == "none" and all(s.state is None and not s.errors for s in rend.segments)
    assert not any("no valid manifest" in f for f in rend.findings)  # no segment is signed: no provenance to break
    assert all(s.label == "fully_ai" and s.label_source == "daterange" for s in rend.segments)


def test_faults_are_findings_not_crashes(tmp_path):
    with Server({"/p.m3u8": hls(None, [f"s{n}.ts" for n in range(3000)]).encode()}) as srv:
        capped = check_stream(
            srv.url + "/p.m3u8", StreamOptions(FetchOptions(allow_private=True, retries=0), "all", 5), CTX
        )
        assert "the playlist lists 3000 segments; the first 5 were checked" in capped.renditions[0].findings
        missing = check_stream(srv.url + "/nope.m3u8", LOOPBACK, CTX)
        assert missing.status.value == "error" and "HTTP 404" in missing.errors[0]
        with pytest.raises(FetchError, match="redirects"):
            fetch(srv.url + "/loop", FetchOptions(allow_private=True))
        with pytest.raises(FetchError, match="truncated|RemoteProtocolError|attempts"):
            fetch(srv.url + "/short/p.m3u8", FetchOptions(allow_private=True, retries=0))
        private = check_stream(srv.url + "/p.m3u8", StreamOptions(), CTX)  # private addresses not allowed
        assert private.status.value == "error" and "private address" in private.errors[0]
    garbage = tmp_path / "g.m3u8"
    garbage.write_bytes(b"<MPD><unclosed")
    assert check_stream(str(garbage), StreamOptions(), CTX).status.value == "error"


def _mpd(template: str, presentation: str = 'type="static" mediaPresentationDuration="PT12S"') -> str:
    return (
        f'<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" {presentation}><Period><AdaptationSet>'
        f'<Representation id="v" bandwidth="1">{template}</Representation></AdaptationSet></Period></MPD>'
    )


# Playlists that once escaped the parsers as ZeroDivisionError, OverflowError, MemoryError (a 1 GB padded segment
# name), TypeError or KeyError (the m3u8 package's parser and model), found by mutating playlists, or that listed
# 10,000 segments of 1e-308 s to fetch.
MALFORMED = {
    "/zero.mpd": _mpd('<SegmentTemplate timescale="0" duration="4" media="s$Number$.m4s"/>'),
    "/tiny.mpd": _mpd('<SegmentTemplate duration="1e-308" media="s$Number$.m4s"/>'),
    "/wide.mpd": _mpd('<SegmentTemplate duration="4" media="s$Number%0999999999d$.m4s"/>'),
    "/live.mpd": _mpd(
        '<SegmentTemplate duration="1e-300" media="s$Number$.m4s"/>',
        'type="dynamic" availabilityStartTime="2026-01-01T00:00:00Z"',
    ),
    "/inf.m3u8": "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=-inf\nlow.m3u8\n",
    "/range.m3u8": "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-DATERANGE\n#EXTINF:4,\ns.ts\n#EXT-X-ENDLIST\n",
}


def test_a_malformed_playlist_is_that_streams_error_and_the_run_goes_on():
    no_map = "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MAP:\n#EXTINF:4,\ns.ts\n#EXT-X-ENDLIST\n"  # AttributeError
    files = {k: v.encode() for k, v in MALFORMED.items()} | {"/map.m3u8": no_map.encode(), "/s.ts": b"not ts"}
    with Server(files) as srv:
        urls = [srv.url + name for name in MALFORMED]
        args = [*urls, srv.url + "/map.m3u8", str(MEDIA / "plain_camera.jpg"), "--allow-private-network"]
        p = run_cli("check", *args, "--format", "json")
    assert p.returncode in (1, 5), p.stderr  # failed or could not be checked, never an internal error (70)
    doc = json.loads(p.stdout)
    *malformed, no_init = doc["streams"]
    assert [st["target"] for st in malformed] == urls
    for st in malformed:
        assert st["status"] == "error" and st["errors"][0].startswith("playlist not readable"), st
        assert "could not parse" not in st["errors"][0]  # each is a known malformation, not an unforeseen fault
    (rendition,) = no_init["renditions"]  # an empty EXT-X-MAP: no init segment, the segment still checked
    assert no_init["errors"] == [] and len(rendition["segments"]) == 1
    assert [r["status"] for r in doc["results"]] == ["pass"]


def test_a_segment_timeline_entry_repeated_with_r_minus_1_runs_to_the_next_entry_or_the_end():
    timeline = '<S t="0" d="2" r="-1"/><S t="10" d="5" r="-1"/>'
    tmpl = f'<SegmentTemplate media="s$Time$.m4s"><SegmentTimeline>{timeline}</SegmentTimeline></SegmentTemplate>'
    (vod,) = parse_dash(_mpd(tmpl, 'type="static" mediaPresentationDuration="PT22S"'), "/m/x.mpd", 100)
    assert [(s.start, s.duration) for s in vod.segments] == [
        (0, 2),
        (2, 2),
        (4, 2),
        (6, 2),
        (8, 2),
        (10, 5),
        (15, 5),
        (20, 5),
    ]
    live = 'type="dynamic" availabilityStartTime="2026-01-01T00:00:00Z"'
    now = dt.datetime(2026, 1, 1, 0, 0, 24, tzinfo=dt.UTC).timestamp()  # 24 s in: 10-15 and 15-20 are complete
    (rend,) = parse_dash(_mpd(tmpl, live), "/m/x.mpd", 100, now=now)
    assert [s.start for s in rend.segments] == [0, 2, 4, 6, 8, 10, 15]
    (capped,) = parse_dash(_mpd(tmpl, 'type="static" mediaPresentationDuration="P9999D"'), "/m/x.mpd", 3)
    assert len(capped.segments) == 3


SAMPLES = (
    "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360\nlow/i.m3u8\n"
    '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="en",URI="en.m3u8"\n',
    '#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:10\n#EXT-X-MAP:URI="init.mp4",BYTERANGE="720@0"\n'
    '#EXT-X-DATERANGE:ID="a",START-DATE="2026-01-01T00:00:00Z",DURATION=8,X-AI-LABEL="fully_ai"\n'
    "#EXTINF:4.0,\ns10.m4s\n#EXT-X-BYTERANGE:1000@0\n#EXTINF:4.0,t\ns11.m4s\n#EXT-X-ENDLIST\n",
    _mpd('<SegmentTemplate timescale="1000" duration="4000" startNumber="1" media="$RepresentationID$/$Number%05d$"/>'),
    _mpd(
        '<SegmentTemplate timescale="48000" media="a/$Time$.m4s"><SegmentTimeline><S t="0" d="192000" r="2"/>'
        '<S d="96000" r="-1"/></SegmentTimeline></SegmentTemplate>',
        'type="dynamic" availabilityStartTime="2026-01-01T00:00:00Z" timeShiftBufferDepth="PT30S"',
    ),
    _mpd('<SegmentList timescale="10" duration="40"><Initialization sourceURL="i.mp4"/><SegmentURL media="1.m4s"/>'),
)
ODD_VALUES = ("0", "-1", "1e308", "1e-308", "nan", "inf", "-inf", "9" * 30, "", "x", "%0999999999d", "P1Y", "T")


def test_mutated_playlists_parse_or_raise_value_or_syntax_errors_quickly():
    """Lines dropped, repeated or cut, numbers and quoted values swapped for odd ones: parsing returns or raises
    what check_stream reports as "playlist not readable", within a bounded time (no huge segment names)."""
    import random
    import re
    import time

    rng = random.Random(20261123)
    for n in range(5000):
        lines = SAMPLES[n % len(SAMPLES)].replace("><", ">\n<").split("\n")
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(lines))
            spots = list(re.finditer(r'\d+(?:\.\d+)?|"[^"]*"', lines[i]))
            op = rng.randrange(4)
            if op == 0 and len(lines) > 1:
                del lines[i]
            elif op == 1:
                lines.insert(i, rng.choice(lines))
            elif op == 2 and spots:
                m = rng.choice(spots)
                lines[i] = lines[i][: m.start()] + rng.choice(ODD_VALUES) + lines[i][m.end() :]
            else:
                lines[i] = lines[i][: rng.randrange(len(lines[i]) + 1)]
        text, t = "\n".join(lines), time.monotonic()
        try:
            if text.startswith("#"):
                parse_hls(text, "http://h/p.m3u8")
            else:
                parse_dash(text, "http://h/p.mpd", 1000, now=1.8e9)
        except (ValueError, SyntaxError):
            pass
        assert time.monotonic() - t < 2, text


def test_cli_checks_a_stream(tmp_path):
    import json

    (tmp_path / "a.m3u8").write_text(hls(None, []))
    p = run_cli("check", str(tmp_path / "a.m3u8"))
    doc = json.loads(p.stdout)
    assert doc["streams"][0]["kind"] == "hls" and p.returncode == 0


def test_live_playlist_is_followed_to_the_end_once(tmp_path):
    import threading
    import time

    from labelcheck.service.live import StreamLog, follow

    out = make_hls(tmp_path / "hls", 6, "vod.m3u8")
    vod = (out / "vod.m3u8").read_text().splitlines()
    header = [x for x in vod if x.startswith(("#EXTM3U", "#EXT-X-VERSION", "#EXT-X-TARGETDURATION", "#EXT-X-MAP"))]
    pairs = [(vod[i], vod[i + 1]) for i in range(len(vod)) if vod[i].startswith("#EXTINF")]
    files = {f"/{p.name}": p.read_bytes() for p in out.iterdir() if p.suffix in (".mp4", ".m4s")}
    files["/live.m3u8"] = b""  # not there yet: the first polls fail and are retried

    def publish(n: int, end: bool = False) -> None:
        body = header + [x for pair in pairs[:n] for x in pair] + (["#EXT-X-ENDLIST"] if end else [])
        files["/live.m3u8"] = ("\n".join(body) + "\n").encode()

    store = StreamLog(tmp_path / "state.sqlite")
    with Server(files) as srv:
        files.pop("/live.m3u8")

        def grow():
            time.sleep(0.5)
            for n in range(1, len(pairs) + 1):
                publish(n)
                time.sleep(0.3)
            publish(len(pairs), end=True)

        t = threading.Thread(target=grow)
        t.start()
        stop = threading.Event()
        result = follow(srv.url + "/live.m3u8", LOOPBACK, CTX, store, stop, max_wait=0.3)
        t.join()
        assert [s.sequence for s in result.renditions[0].segments] == list(range(len(pairs)))
        starts = [s.start for s in result.renditions[0].segments]
        assert starts == sorted(starts) and starts[-1] > 0
        again = follow(srv.url + "/live.m3u8", LOOPBACK, CTX, store, threading.Event())  # a restart
    assert len(again.renditions[0].segments) == len(pairs)  # nothing checked twice
    assert again.renditions[0].findings == ()  # unsigned and unlabelled: nothing breaks, as for a plain file
    store.close()


@needs_pair
def test_cli_watch_stream_writes_a_timeline_report(tmp_path):
    import json

    from labelcheck.render import document as report_mod

    (tmp_path / "init.mp4").write_bytes((PAIR / "dashinit.mp4").read_bytes())
    (tmp_path / "f.m4s").write_bytes((PAIR / "dash1.m4s").read_bytes())
    (tmp_path / "live.m3u8").write_text(hls("init.mp4", ["f.m4s", "f.m4s"]))
    p = run_cli("watch", "--stream", str(tmp_path / "live.m3u8"), "--reports", str(tmp_path / "r"))
    assert p.returncode == 0, p.stderr
    doc = json.loads((tmp_path / "r" / "stream-report.json").read_text())
    report_mod.validate(doc)
    assert [s["state"] for s in doc["streams"][0]["renditions"][0]["segments"]] == ["Valid", "Valid"]


def _emsg_with_id3(description: str, value: str, version: int = 0) -> bytes:
    import struct

    def syncsafe(n: int) -> bytes:
        return bytes([(n >> 21) & 0x7F, (n >> 14) & 0x7F, (n >> 7) & 0x7F, n & 0x7F])

    body = b"\x03" + description.encode() + b"\x00" + value.encode()
    frame = b"TXXX" + syncsafe(len(body)) + b"\x00\x00" + body
    tag = b"ID3\x04\x00\x00" + syncsafe(len(frame)) + frame
    scheme = b"https://aomedia.org/emsg/ID3\x00" + b"\x00"
    if version == 0:
        payload = b"\x00\x00\x00\x00" + scheme + struct.pack(">IIII", 90000, 0, 0, 1) + tag
    else:
        payload = b"\x01\x00\x00\x00" + struct.pack(">IQII", 90000, 0, 0, 1) + scheme + tag
    return struct.pack(">I4s", 8 + len(payload), b"emsg") + payload


def test_emsg_id3_labels_in_fragments(tmp_path):
    from labelcheck.streams.timed import emsg_messages, segment_label

    seg = _emsg_with_id3("X-AI-LABEL", "made-with-ai") + b"\x00\x00\x00\x08moof"
    assert emsg_messages(seg)[0][0] == "https://aomedia.org/emsg/ID3"
    assert segment_label(seg) == "made_with_ai"
    assert segment_label(_emsg_with_id3("AIGC", '{"Label": "1"}', version=1)) == "ai"
    assert segment_label(_emsg_with_id3("X-AI-LABEL", "trainedAlgorithmicMedia")) == "fully_ai"
    assert segment_label(b"\x00\x00\x10\x00emsg" + b"\x00" * 20) is None  # a truncated box is ignored
    assert segment_label(_emsg_with_id3("Title", "Evening news")) is None
    # In a stream: the fragment's emsg label is reported with its source.
    (tmp_path / "f0.m4s").write_bytes(seg)
    (tmp_path / "p.m3u8").write_text(hls(None, ["f0.m4s"]))
    (rend,) = check_stream(str(tmp_path / "p.m3u8"), StreamOptions(), CTX).renditions
    assert (rend.segments[0].label, rend.segments[0].label_source) == ("made_with_ai", "id3")


def test_a_plain_video_file_is_captured_into_fragments_and_checked(tmp_path):
    import json

    from conftest import MEDIA

    p = run_cli("watch", "--stream", str(MEDIA / "c2pa_fully_ai.mp4"), "--segment", "0.5", "--reports", str(tmp_path))
    # remuxing drops the file's manifest: the fragments carry none, and the stream is judged like a plain file
    assert p.returncode == 0, p.stderr
    rend = json.loads((tmp_path / "stream-report.json").read_text())["streams"][0]["renditions"][0]
    assert rend["segments"] and all(s["state"] is None for s in rend["segments"])
    assert not rend["findings"]
    no_segment = run_cli(
        "watch", "--stream", str(MEDIA / "c2pa_fully_ai.mp4"), "--reports", str(tmp_path / "x"), timeout=60
    )
    assert no_segment.returncode == 2 and "--segment" in no_segment.stderr


def test_dash_segment_timeline_and_a_slow_server():
    import time

    mpd = """<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static"><Period><AdaptationSet>
      <Representation id="a" bandwidth="1"><SegmentTemplate timescale="90000" initialization="init.mp4"
      media="seg-$Time$.m4s"><SegmentTimeline><S t="0" d="180000" r="2"/><S d="90000"/></SegmentTimeline>
      </SegmentTemplate></Representation></AdaptationSet></Period></MPD>"""
    (rep,) = parse_dash(mpd, "/m/x.mpd", 100)
    assert [(s.uri, s.start, s.duration) for s in rep.segments] == [
        ("/m/seg-0.m4s", 0.0, 2.0),
        ("/m/seg-180000.m4s", 2.0, 2.0),
        ("/m/seg-360000.m4s", 4.0, 2.0),
        ("/m/seg-540000.m4s", 6.0, 1.0),
    ]

    files = {"/p.m3u8": hls(None, ["/slow/s.m4s"]).encode(), "/slow/s.m4s": b"x"}
    with Server(files) as srv:
        handler = srv.httpd.RequestHandlerClass
        original = handler.do_GET

        def slow_get(self):
            if self.path.startswith("/slow"):
                time.sleep(3)
            return original(self)

        handler.do_GET = slow_get
        t = time.monotonic()
        result = check_stream(
            srv.url + "/p.m3u8", StreamOptions(FetchOptions(timeout=0.5, retries=0, allow_private=True)), CTX
        )
        assert time.monotonic() - t < 10  # bounded by the timeout, not by the server
    (seg,) = result.renditions[0].segments
    assert seg.errors and "Timeout" in seg.errors[0]


def test_streams_in_csv_sarif_and_the_schema(tmp_path):
    import csv
    import io
    import json

    from labelcheck.model import Report
    from labelcheck.render import csv as csv_r
    from labelcheck.render import document as report_mod
    from labelcheck.render import github as github_r
    from labelcheck.render import sarif as sarif_r

    out = make_hls(tmp_path / "hls", 2, "index.m3u8")
    first, *rest = (out / "index.m3u8").read_text().split("#EXTINF")
    label = '#EXT-X-DATERANGE:ID="{0}",START-DATE="2026-01-01T00:00:0{1}Z",X-AI-LABEL="{2}"\n'
    parts = [label.format("a", 0, "trainedAlgorithmicMedia"), label.format("b", 2, "digitalCapture")]
    (out / "labelled.m3u8").write_text(first + "".join(p + "#EXTINF" + r for p, r in zip(parts, rest, strict=True)))
    stream = check_stream(str(out / "labelled.m3u8"), StreamOptions(), CTX)  # its label changes midway
    rep = Report("0", "0", None, "2026-11-22T00:00:00+00:00", (), (), "2026-11-22", "error", (stream,))
    report_mod.validate(report_mod.to_dict(rep))
    rows = list(csv.DictReader(io.StringIO(csv_r.render(rep))))
    assert rows[0]["media_type"] == "stream/hls" and "label changes" in rows[0]["failed_rules"], rows
    sarif = json.loads(sarif_r.render(rep))
    assert sarif["runs"][0]["results"][0]["ruleId"] == "stream/continuity"
    annotations = github_r.render(rep).splitlines()
    assert "title=stream/continuity::" in annotations[0] and "label changes" in annotations[0]
    assert report_mod.exit_code(rep) == report_mod.EXIT_NONCOMPLIANT


@needs_pair
def test_policies_apply_to_the_stream_as_a_whole(tmp_path):
    import json

    (tmp_path / "init.mp4").write_bytes((PAIR / "dashinit.mp4").read_bytes())
    (tmp_path / "f.m4s").write_bytes((PAIR / "dash1.m4s").read_bytes())
    labelled = '#EXT-X-DATERANGE:ID="ai",START-DATE="2026-01-01T00:00:00Z",X-AI-LABEL="fully-ai-generated"'
    (tmp_path / "s.m3u8").write_text(hls("init.mp4", ["f.m4s", "f.m4s"], labelled))
    p = run_cli("check", str(tmp_path / "s.m3u8"), "-p", "eu-ai-act-art50", "--as-of", "2026-12-15")
    assert p.returncode == 1, p.stderr
    stream = json.loads(p.stdout)["streams"][0]
    assert stream["ai"]["status"] == "fully_ai" and stream["ai"]["basis"] == "non_standard"
    mark = next(f for f in stream["findings"] if f["rule"] == "art50-2-machine-readable-mark")
    assert mark["status"] == "fail" and "without a standard" in mark["message"]  # a DATERANGE is no standard label
    integrity = next(f for f in stream["findings"] if f["rule"] == "cop-1-1-signed-metadata-intact")
    assert integrity["status"] == "pass" and "Valid" in integrity["message"]  # the fragments validated


def _id3_metadata_ts(labels: list[tuple[float, str, str]]) -> bytes:
    """An MPEG-TS holding only a timed-ID3 metadata stream (PAT, PMT with stream_type 0x15 and the ID3 metadata
    descriptor, one PES per label): the input ffmpeg muxes beside the video. Each ID3 tag is wrapped in the 5-byte
    metadata access-unit cell header that ffmpeg's demuxer removes."""
    import struct

    def crc32_mpeg(data: bytes) -> int:
        crc = 0xFFFFFFFF
        for byte in data:
            crc ^= byte << 24
            for _ in range(8):
                crc = ((crc << 1) ^ 0x04C11DB7) & 0xFFFFFFFF if crc & 0x80000000 else (crc << 1) & 0xFFFFFFFF
        return crc

    def section(table_id: int, body: bytes) -> bytes:
        sec = bytes([table_id]) + struct.pack(">HH", 0xB000 | (len(body) + 9), 1) + b"\xc1\x00\x00" + body
        return b"\x00" + sec + struct.pack(">I", crc32_mpeg(sec))

    counters: dict[int, int] = {}

    def packets(pid: int, payload: bytes) -> bytes:
        out, first = b"", True
        while payload or first:
            chunk, payload = payload[:184], payload[184:]
            cc = counters.get(pid, 0)
            counters[pid] = cc + 1
            flags = (0x4000 if first else 0) | pid
            if len(chunk) < 184:  # stuffing in an adaptation field
                pad = 184 - len(chunk)
                chunk = (b"\x00" if pad == 1 else bytes([pad - 1, 0]) + b"\xff" * (pad - 2)) + chunk
                out += struct.pack(">BHB", 0x47, flags, 0x30 | (cc & 0xF)) + chunk
            else:
                out += struct.pack(">BHB", 0x47, flags, 0x10 | (cc & 0xF)) + chunk
            first = False
        return out

    def syncsafe(n: int) -> bytes:
        return bytes([(n >> 21) & 0x7F, (n >> 14) & 0x7F, (n >> 7) & 0x7F, n & 0x7F])

    def pts(seconds: float) -> bytes:
        v = int(seconds * 90000)
        return bytes(
            [
                0x21 | ((v >> 29) & 0x0E),
                (v >> 22) & 0xFF,
                ((v >> 14) & 0xFE) | 1,
                (v >> 7) & 0xFF,
                ((v << 1) & 0xFE) | 1,
            ]
        )

    pat = section(0x00, struct.pack(">HH", 1, 0xE000 | 0x1000))
    metadata_descriptor = b"\x26\x0d\xff\xff" + b"ID3 " + b"\xff" + b"ID3 " + b"\x00\x0f"
    es = b"\x15" + struct.pack(">HH", 0xE000 | 0x100, 0xF000 | len(metadata_descriptor)) + metadata_descriptor
    pmt = section(0x02, struct.pack(">HH", 0xE000 | 0x1FFF, 0xF000) + es)
    ts = b""
    for at, description, value in labels:
        body = b"\x03" + description.encode() + b"\x00" + value.encode()
        frame = b"TXXX" + syncsafe(len(body)) + b"\x00\x00" + body
        tag = b"ID3\x04\x00\x00" + syncsafe(len(frame)) + frame
        cell = b"\x00\x00\xdf" + struct.pack(">H", len(tag)) + tag
        pes = b"\x00\x00\x01\xbd" + struct.pack(">H", 8 + len(cell)) + b"\x84\x80\x05" + pts(at + 1.4) + cell
        ts += packets(0, pat) + packets(0x1000, pmt) + packets(0x100, pes)
    return ts


def make_ts_hls_with_id3(out, labels: list[tuple[float, str, str]], seconds: int = 6):
    """An MPEG-TS HLS rendition (two-second segments) made by ffmpeg, carrying ID3 timed metadata."""
    out.mkdir()
    (out / "id3.ts").write_bytes(_id3_metadata_ts(labels))
    streams = ["-map", "0:v", "-map", "1:d", "-c:d", "copy"]
    output = hls_output(out / "ts.m3u8", 2, "mpegts")
    command = ffmpeg_video(seconds, *streams, *output, inputs=("-i", str(out / "id3.ts")))
    subprocess.run(command, check=True, timeout=120)
    return out


def test_id3_timed_metadata_in_mpeg_ts_segments(tmp_path):
    from labelcheck.streams.timed import is_transport_stream, segment_label, ts_id3_tags

    out = make_ts_hls_with_id3(
        tmp_path / "ts",
        [(0.0, "X-AI-LABEL", "none"), (2.0, "X-AI-LABEL", "fully-ai-generated"), (4.0, "AIGC", '{"Label": "1"}')],
    )
    seg0 = (out / "ts0.ts").read_bytes()
    assert is_transport_stream(seg0) and ts_id3_tags(seg0)[0].startswith(b"ID3")
    assert segment_label(seg0[: 188 * 3]) is None  # cut before the metadata PES: no label, no crash
    assert segment_label(b"\x47" + b"\x00" * 400) is None  # garbage with a sync byte
    files = {f"/{p.name}": p.read_bytes() for p in out.iterdir()}
    with Server(files) as srv:
        st = check_stream(srv.url + "/ts.m3u8", LOOPBACK, CTX)
    (rend,) = st.renditions
    assert [(s.label, s.label_source) for s in rend.segments] == [("none", "id3"), ("fully_ai", "id3"), ("ai", "id3")]
    assert "label changes from none to fully_ai at 00:00:02 (segment 1)" in rend.findings


def test_live_dash_from_a_real_ffmpeg_encoder_is_followed_until_it_turns_static(tmp_path):
    """ffmpeg encodes in real time (-re) into a dynamic MPD refreshed every second; the follower polls it over
    HTTP, checks each new segment once, and stops when ffmpeg rewrites the MPD as static."""
    import threading

    from labelcheck.service.live import StreamLog, follow

    out = tmp_path / "live"
    out.mkdir()
    dash = ["-f", "dash", "-seg_duration", "1", "-use_timeline", "1", "-use_template", "1", "-window_size", "10"]
    encoder = subprocess.Popen(ffmpeg_video(5, *dash, "-remove_at_exit", "0", str(out / "live.mpd"), realtime=True))
    store = StreamLog(tmp_path / "state.sqlite")
    try:
        with Server({}, root=out) as srv:
            result = follow(srv.url + "/live.mpd", LOOPBACK, CTX, store, threading.Event(), max_wait=0.5)
    finally:
        encoder.wait(timeout=60)
        store.close()
    assert result.kind == "dash"
    (rend,) = result.renditions
    assert [s.sequence for s in rend.segments] == [1, 2, 3, 4, 5]  # every segment once, in order
    assert all(not s.errors for s in rend.segments)
    assert rend.findings == ()  # unsigned and unlabelled: judged like a plain file, nothing breaks


def test_dynamic_mpd_without_a_timeline_lists_what_is_available_now():
    mpd = """<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="dynamic" availabilityStartTime="2026-11-22T10:00:00Z"
     minimumUpdatePeriod="PT2S" timeShiftBufferDepth="PT10S"><Period start="PT0S"><AdaptationSet>
  <Representation id="v" bandwidth="1000"><SegmentTemplate media="v-$Number%04d$.m4s" initialization="v-init.mp4"
    duration="2" timescale="1" startNumber="7"/></Representation></AdaptationSet></Period></MPD>"""
    import datetime as dt

    now = dt.datetime(2026, 11, 22, 10, 1, 1, tzinfo=dt.UTC).timestamp()  # 61 s in: 30 complete segments
    (rend,) = parse_dash(mpd, "http://h/live.mpd", 100, now=now)
    assert not rend.ended and rend.target_duration == 2.0
    assert [s.sequence for s in rend.segments] == list(range(7 + 25, 7 + 30))  # the last 10 s of the buffer
    assert rend.segments[-1].uri == "http://h/v-0036.m4s"


def _judged(st, policy_id: str):
    from labelcheck.policy import load as policy
    from labelcheck.policy.judge import Judge
    from labelcheck.streams.check import judge_stream

    return judge_stream(st, Judge.of((policy.load(policy_id),)))


def test_policies_apply_per_segment_and_failing_runs_are_placed_on_the_timeline(tmp_path):
    full = '{"Label": "1", "ContentProducer": "001191110102MA01TEST0001", "ProduceID": "live-0001"}'
    out = make_ts_hls_with_id3(
        tmp_path / "ts",
        [(0.0, "X-AI-LABEL", "none"), (2.0, "X-AI-LABEL", "fully-ai-generated"), (4.0, "AIGC", full)],
    )
    st = _judged(check_stream(str(out / "ts.m3u8"), StreamOptions(), CTX), "cn-gb45438")
    (rend,) = st.renditions
    # Segment 0 names no AI: nothing to label. Segment 1 is AI content without the implicit label; segment 2
    # carries a complete TC260 AIGC label in its ID3 timed metadata.
    assert [(s.status, s.failed_rules) for s in rend.segments] == [
        ("pass", ()),
        ("fail", ("cn-gb45438/implicit-label",)),
        ("pass", ()),
    ]
    assert "segment 1 (00:00:02–00:00:04) fails cn-gb45438/implicit-label" in rend.findings
    assert st.status.value == "fail"
    # The stream as a whole sees the AIGC label its segments carry, as each segment does.
    assert st.result is not None and [r.carrier for r in st.result.labels if r.carrier == "tc260"] == ["tc260"]


def test_container_tags_of_the_init_segment_label_the_stream(tmp_path):
    out = tmp_path / "tagged"
    out.mkdir()
    aigc = '{"Label": "1", "ContentProducer": "001191110102MA01TEST0001", "ProduceID": "vod-7"}'
    keep_tags = ("-hls_segment_options", "movflags=+use_metadata_tags")
    output = hls_output(out / "p.m3u8", 1, "fmp4", *keep_tags)
    subprocess.run(ffmpeg_video(2, "-metadata", f"AIGC={aigc}", *output), check=True, timeout=120)
    st = _judged(check_stream(str(out / "p.m3u8"), StreamOptions(), CTX), "cn-gb45438")
    (rend,) = st.renditions
    assert rend.tags_label == "fully_ai" and any(t.key == "format:AIGC" for t in rend.tags)
    assert [(s.label, s.label_source) for s in rend.segments] == [("fully_ai", "tags")] * 2
    assert all(s.status == "pass" for s in rend.segments)  # the implicit label is in the container
    assert st.result is not None and st.result.classification.status.value == "fully_ai"

    # the configured ffprobe is the one that reads them (a wrapper that logs, then runs the real ffprobe)
    log = tmp_path / "probed.log"
    wrapper = tmp_path / "my-ffprobe"
    wrapper.write_text(f'#!/bin/sh\necho "$@" >> {log}\nexec ffprobe "$@"\n')
    wrapper.chmod(0o755)
    again = check_stream(str(out / "p.m3u8"), StreamOptions(ffprobe=str(wrapper)), CTX)
    assert again.renditions[0].tags_label == "fully_ai" and "-show_format" in log.read_text()


@needs_pair
def test_a_live_follow_judges_like_the_same_stream_checked_as_vod(tmp_path):
    """The followed stream keeps its init segment's manifest and each segment's AIGC payload (in SQLite): judged
    after the follow, it reads exactly as the VOD check of the same playlist."""
    import threading

    from labelcheck.service.live import StreamLog, follow

    (tmp_path / "init.mp4").write_bytes((PAIR / "dashinit.mp4").read_bytes())
    aigc = '{"Label": "1", "ContentProducer": "001191110102MA01TEST0001", "ProduceID": "x"}'
    (tmp_path / "f.m4s").write_bytes(_emsg_with_id3("AIGC", aigc) + (PAIR / "dash1.m4s").read_bytes())
    (tmp_path / "p.m3u8").write_text(hls("init.mp4", ["f.m4s", "f.m4s"]))
    vod = _judged(check_stream(str(tmp_path / "p.m3u8"), StreamOptions(), CTX), "cn-gb45438")
    store = StreamLog(tmp_path / "state.sqlite")
    live = _judged(follow(str(tmp_path / "p.m3u8"), StreamOptions(), CTX, store, threading.Event()), "cn-gb45438")
    store.close()
    assert live.result is not None and vod.result is not None
    assert live.result.evidence.c2pa.present and live.result.evidence.c2pa == vod.result.evidence.c2pa
    pick = [(s.state, s.label, s.aigc, s.status, s.failed_rules) for s in live.renditions[0].segments]
    assert pick == [(s.state, s.label, s.aigc, s.status, s.failed_rules) for s in vod.renditions[0].segments]
    assert all(s.aigc == aigc for s in live.renditions[0].segments)


def test_a_plain_stream_with_no_ai_signal_passes_and_counts_once_as_a_plain_file_does(tmp_path):
    """A plain ffmpeg HLS stream (no manifest, no label) failed ('segments 0-3 carry no valid manifest') where a
    plain file passes; it is judged like one now, and the summary counts it once, not once per segment."""
    import json

    from conftest import MEDIA, run_cli

    out = make_hls(tmp_path / "hls", 4, "index.m3u8")
    p = run_cli("check", "--format", "json", str(out / "index.m3u8"), str(MEDIA / "plain_camera.jpg"))
    doc = json.loads(p.stdout)
    assert p.returncode == 0, p.stderr
    assert [s["status"] for s in doc["streams"]] == ["pass"] and doc["streams"][0]["renditions"][0]["findings"] == []
    assert (doc["summary"]["total"], doc["summary"]["pass"]) == (2, 2)
