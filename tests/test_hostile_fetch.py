"""Hostile input to fetching: addresses that are not public (however an IPv6 address wraps an IPv4 one), host names
no DNS name can be (an empty or over-long label, a name over 253 characters), and references from a remote
document (a playlist's segment, a redirect, a Link header) to anything but an http(s) URL.

No test here sends traffic beyond loopback: an autouse guard refuses every lookup of a name that is not faked and
every connection to an address that is not loopback (so that even code that fails these tests stays on this
machine), and the one end-to-end run of the command line sits in a network namespace of its own (`unshare -n`)."""

from __future__ import annotations

import http.server
import ipaddress
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time

import pytest
from conftest import MEDIA, ROOT, Server

from labelcheck.extract import c2pa as c2pa_x
from labelcheck.inputs import fetch as fetch_mod
from labelcheck.inputs.fetch import FetchError, FetchOptions, PrivateAddress, check_host, fetch, pinned, resolve
from labelcheck.streams.check import StreamOptions, check_stream
from labelcheck.streams.playlist import Rendition, parse_dash, parse_hls

LOOPBACK = FetchOptions(timeout=5, retries=0, allow_private=True)
CTX = c2pa_x.make_context(c2pa_x.C2paSettings())


def _loopback(host: object) -> bool:
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return host == "localhost"


@pytest.fixture(autouse=True)
def _no_traffic_beyond_loopback(monkeypatch):
    """A name that is not an address literal or localhost is never looked up, and nothing connects beyond
    loopback: a test that fakes a lookup replaces getaddrinfo itself, over this guard."""
    real_lookup, real_connect = socket.getaddrinfo, socket.socket.connect

    def lookup(host, *args, **kw):
        try:
            ipaddress.ip_address(str(host).split("%")[0])
        except ValueError:
            if host != "localhost":
                raise socket.gaierror(socket.EAI_NONAME, f"test guard: {host!r} is not looked up") from None
        return real_lookup(host, *args, **kw)

    def connect(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address[0]):
            raise OSError(f"test guard: no connection to {address[0]}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    monkeypatch.setattr(socket.socket, "connect", connect)


def _answers(*addrs: str):
    """A getaddrinfo that answers every name with `addrs` (an address literal, with itself)."""
    real = socket.getaddrinfo

    def lookup(host, port, *args, **kw):
        try:
            ipaddress.ip_address(host)
        except ValueError:
            family = {True: socket.AF_INET6, False: socket.AF_INET}
            return [(family[":" in a], socket.SOCK_STREAM, 6, "", (a, port or 0)) for a in addrs]
        return real(host, port, *args, **kw)

    return lookup


# ---------------------------------------------------------------- 2. only globally routable unicast addresses

NOT_PUBLIC = [
    "100.64.0.1",  # shared address space (RFC 6598)
    "100.100.100.200",  # a cloud metadata service in the shared address space
    "169.254.169.254",
    "127.0.0.1",
    "10.1.2.3",
    "192.168.0.1",
    "0.0.0.0",
    "224.0.0.1",  # multicast
    "240.0.0.1",
    "255.255.255.255",
    "::",
    "::1",
    "fe80::1",
    "fc00::1",
    "ff02::1",  # multicast
    "2001:db8::1",
    "2002:a9fe:a9fe::",  # 6to4 of 169.254.169.254
    "2002:6440:1::1",  # 6to4 of 100.64.0.1
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "64:ff9b::6440:1",  # NAT64 of 100.64.0.1
    "64:ff9b:1::a9fe:a9fe",  # local-use NAT64
    "::ffff:169.254.169.254",  # IPv4-mapped
    "::ffff:100.64.0.1",
    "::ffff:127.0.0.1",
    "::169.254.169.254",  # IPv4-compatible
    "::100.64.0.1",
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo: client 127.0.0.1 (the last 32 bits inverted)
    "2001:0:4136:e378:8000:63bf:569b:bffe",  # Teredo: client 169.254.64.1
]


def _url(addr: str) -> str:
    return f"http://[{addr}]/x.jpg" if ":" in addr else f"http://{addr}/x.jpg"


@pytest.mark.parametrize("addr", NOT_PUBLIC)
def test_an_address_that_is_not_globally_routable_unicast_is_refused(addr):
    """However the address is written, and whatever IPv4 address an IPv6 one embeds (6to4, NAT64, IPv4-mapped or
    -compatible, Teredo's client): the check raises PrivateAddress, before any connection."""
    with pytest.raises(PrivateAddress, match="refusing"):
        check_host(_url(addr), False)
    assert check_host(_url(addr), True) == [addr]  # --allow-private-network: any address, the embedded forms too


@pytest.mark.parametrize("addr", ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "2a00:1450::1"])
def test_a_public_address_is_allowed(addr):
    assert fetch_mod.refusal(ipaddress.ip_address(addr)) is None
    assert check_host(_url(addr), False) == [addr]


def test_the_check_covers_every_address_a_name_resolves_to(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", _answers("93.184.216.34", "2002:a9fe:a9fe::"))
    with pytest.raises(PrivateAddress, match=r"2002:a9fe:a9fe::.*169\.254\.169\.254"):
        check_host("http://cdn.example/x.jpg", False)
    monkeypatch.setattr(socket, "getaddrinfo", _answers("100.64.0.1", "93.184.216.34"))
    with pytest.raises(PrivateAddress, match=r"100\.64\.0\.1"):
        fetch("http://cdn.example/x.jpg", FetchOptions(retries=2))  # refused at once, never retried


class _Redirector:
    """A server on loopback whose every answer is a 302 to `location`."""

    def __init__(self, location: str) -> None:
        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                self.send_response(302)
                self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_every_redirect_is_followed_by_labelcheck_and_checked_again(monkeypatch):
    """Loopback passes for public here (the server is on loopback): the first hop is fetched; the redirect to a name
    that resolves to the shared address space is checked like the first URL, and refused before any connection."""
    real = fetch_mod.refusal
    monkeypatch.setattr(fetch_mod, "refusal", lambda ip: None if ip.is_loopback else real(ip))
    sent: list[list[str]] = []
    real_send = fetch_mod._send
    monkeypatch.setattr(fetch_mod, "_send", lambda c, url, addrs, t: sent.append(addrs) or real_send(c, url, addrs, t))
    monkeypatch.setattr(socket, "getaddrinfo", _answers("100.64.0.1"))
    with _Redirector("http://metadata.example/latest/") as srv:
        with pytest.raises(PrivateAddress, match=r"100\.64\.0\.1"):
            fetch(srv.url + "/a.jpg", FetchOptions(retries=0))
    assert sent == [["127.0.0.1"]]  # the second hop was never sent
    assert fetch_mod._client("example.org").follow_redirects is False  # httpx follows none on its own


# ---------------------------------------------------------------- 3. host names no DNS name can be

BAD_HOSTS = [
    "http://a..b.invalid/x.jpg",  # an empty label
    "http://.invalid/x.jpg",
    "http://a.invalid../x.jpg",
    f"http://{'a' * 64}.invalid/x.jpg",  # a label of 64 characters
    "http://" + ".".join(["a" * 63] * 3 + ["a" * 62]) + "/x.jpg",  # 254 characters
    "http://" + ".".join(["a" * 63] * 40) + "/x.jpg",
    "http://exa mple.invalid/x.jpg",
    "http://a\x00b.invalid/x.jpg",
    "http://[::1/x.jpg",  # not a URL at all
    "http://example.invalid:99999/x.jpg",  # a port out of range
    "http://:80/x.jpg",  # no host
]


@pytest.mark.parametrize("url", BAD_HOSTS)
def test_a_host_no_dns_name_can_be_is_refused_before_any_lookup(url, monkeypatch):
    """A named, expected error (a FetchError, which the server's URL submission answers with 422; not a
    PrivateAddress, which it answers with 403), whether or not private addresses are allowed, never retried."""
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: pytest.fail(f"looked up {a[0]!r}"))
    for allow in (False, True):
        with pytest.raises(FetchError) as info:
            check_host(url, allow)
        assert type(info.value).__name__ == "BadHost" and not isinstance(info.value, PrivateAddress)
        assert "host" in str(info.value) or "URL" in str(info.value)
    started = time.monotonic()
    with pytest.raises(FetchError) as info:
        fetch(url, FetchOptions(retries=3, allow_private=True))
    assert time.monotonic() - started < 0.5 and "attempts" not in str(info.value)


def test_host_names_at_the_limits_are_looked_up_in_ascii(monkeypatch):
    asked: list[str] = []

    def lookup(host, *a, **k):
        asked.append(host)
        return _answers("93.184.216.34")(host, *a, **k)

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    longest = ".".join(["a" * 63] * 3 + ["a" * 61])  # 253 characters
    for host in (longest, "a" * 63 + ".example", "example.org.", "Bücher.example", "under_score.example"):
        assert check_host(f"https://{host}/x.jpg", False) == ["93.184.216.34"]
    assert asked[-2:] == ["xn--bcher-kva.example", "under_score.example"]
    # the request names the host in ASCII too (an IDN in a Host header is not sendable)
    assert pinned("https://bücher.example/a", "93.184.216.34")[1:] == (
        {"Host": "xn--bcher-kva.example"},
        {"sni_hostname": "xn--bcher-kva.example"},
    )


# ---------------------------------------------------------------- 7. a remote document references http(s) only


@pytest.fixture
def secret(tmp_path, monkeypatch):
    """A local file named like a URL with an odd scheme, in the working directory."""
    monkeypatch.chdir(tmp_path)
    for name in ("x:secret.mp4", "https:secret.mp4", "x:init.mp4"):
        (tmp_path / name).write_bytes((MEDIA / "c2pa_fully_ai.mp4").read_bytes())
    return tmp_path


@pytest.mark.parametrize("ref", ["x:secret.mp4", "https:secret.mp4", "file:///etc/passwd", "data:,secret"])
def test_a_remote_playlists_reference_must_be_an_http_url(ref):
    assert resolve("http://h/a/p.m3u8", "s.ts") == "http://h/a/s.ts"
    assert resolve("http://h/a/p.m3u8", "//cdn.example/s.ts") == "http://cdn.example/s.ts"
    assert resolve("/media/p.m3u8", "x:secret.mp4") == "/media/x:secret.mp4"  # a local playlist's: a local file
    with pytest.raises(FetchError, match="http"):
        resolve("http://h/p.m3u8", ref)
    segment = f"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n{ref}\n#EXT-X-ENDLIST\n"
    mapped = f'#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MAP:URI="{ref}"\n#EXTINF:2,\ns.mp4\n#EXT-X-ENDLIST\n'
    master = f"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000\n{ref}\n"
    for text in (segment, mapped, master):
        with pytest.raises(FetchError, match="http"):  # a FetchError, and a ValueError as every parse error is
            parse_hls(text, "http://h/p.m3u8")
        with pytest.raises(ValueError):
            parse_hls(text, "http://h/p.m3u8")
    mpd = (
        '<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT4S"><Period>'
        '<AdaptationSet><Representation id="v" bandwidth="1"><SegmentTemplate timescale="1" duration="2" '
        f'initialization="{ref}" media="s$Number$.mp4"/></Representation></AdaptationSet></Period></MPD>'
    )
    listed = mpd.replace(f'initialization="{ref}" ', "").replace('media="s$Number$.mp4"', f'media="{ref}"')
    for text in (mpd, listed):
        with pytest.raises(FetchError, match="http"):
            parse_dash(text, "http://h/p.mpd", 10)


def test_a_local_playlist_still_references_local_files(secret):
    playlist = secret / "p.m3u8"
    playlist.write_text("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nx:secret.mp4\n#EXT-X-ENDLIST\n")
    parsed = parse_hls(playlist.read_text(), str(playlist))
    assert isinstance(parsed, Rendition) and parsed.segments[0].uri == str(secret / "x:secret.mp4")
    dash = parse_dash(
        '<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT2S"><Period>'
        '<AdaptationSet><Representation id="v"><SegmentTemplate timescale="1" duration="2" '
        'initialization="x:init.mp4" media="x:secret.mp4"/></Representation></AdaptationSet></Period></MPD>',
        str(secret / "p.mpd"),
        10,
    )
    assert dash[0].init == str(secret / "x:init.mp4") and dash[0].segments[0].uri == str(secret / "x:secret.mp4")


def test_a_remote_playlist_naming_a_local_file_is_refused_and_the_file_never_read(secret):
    files = {
        "/p.m3u8": b"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nok.mp4\n#EXTINF:2,\nx:secret.mp4\n#EXT-X-ENDLIST\n",
        "/master.m3u8": b"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000\np.m3u8\n",
        "/p.mpd": (
            '<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT2S"><Period>'
            '<AdaptationSet><Representation id="v"><SegmentTemplate timescale="1" duration="2" '
            'initialization="x:init.mp4" media="s$Number$.mp4"/></Representation></AdaptationSet></Period></MPD>'
        ).encode(),
        "/ok.mp4": (MEDIA / "c2pa_fully_ai.mp4").read_bytes(),
    }
    with Server(files) as srv:
        for path in ("/p.m3u8", "/master.m3u8", "/p.mpd"):
            st = check_stream(srv.url + path, StreamOptions(LOOPBACK), CTX)
            assert st.status.value == "error" and not st.renditions, (path, st)
            assert "x:" in st.errors[0] and "http(s)" in st.errors[0], st.errors


def test_a_live_playlist_naming_a_local_file_is_a_finding_and_the_file_never_read(secret):
    from labelcheck.service.live import StreamLog, follow

    files = {"/live.m3u8": b"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nx:secret.mp4\n#EXT-X-ENDLIST\n"}
    store = StreamLog(secret / "state.sqlite")
    stop = threading.Event()
    timer = threading.Timer(1.5, stop.set)
    with Server(files) as srv:
        timer.start()
        result = follow(srv.url + "/live.m3u8", StreamOptions(LOOPBACK), CTX, store, stop, max_wait=0.2)
        timer.cancel()
    store.close()
    (rendition,) = result.renditions
    assert rendition.segments == () and result.status.value == "fail"
    assert any("x:secret.mp4" in f and "http(s)" in f for f in rendition.findings), rendition.findings


@pytest.mark.parametrize("location", ["x:secret.mp4", "file:///etc/passwd", "https:secret.mp4"])
def test_a_redirect_to_anything_but_an_http_url_is_refused(location, secret):
    with _Redirector(location) as srv, pytest.raises(FetchError, match="http\\(s\\)") as info:
        fetch(srv.url + "/seg.mp4", LOOPBACK)
    assert "host not found" not in str(info.value)


def test_a_link_header_naming_a_local_file_is_refused(secret):
    from labelcheck.extract.http import fetch_item
    from labelcheck.inputs.targets import Remote

    files = {"/a.jpg": (MEDIA / "plain_camera.jpg").read_bytes()}
    headers = {"/a.jpg": [("Link", '<x:secret.mp4>; rel="c2pa-manifest"')]}
    (secret / "tmp").mkdir()
    with Server(files, headers=headers) as srv:
        item = fetch_item(Remote(srv.url + "/a.jpg"), secret / "tmp", 0, LOOPBACK, True)
    assert item.linked_manifest is None
    assert any("x:secret.mp4" in e.message and "http(s)" in e.message for e in item.errors), item.errors


# ---------------------------------------------------------------- the command line, in a network of its own

needs_netns = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip"), reason="needs root, unshare, ip"
)


@needs_netns
def test_cli_refuses_non_public_addresses_before_connecting():
    """In a network namespace with only loopback up: a connection attempt would fail as unreachable; the items
    say they were refused by the address check instead."""
    urls = ["http://100.64.0.1/x.jpg", "http://[2002:a9fe:a9fe::]/x.jpg", "http://[64:ff9b::6440:1]/x.jpg"]
    script = 'ip link set lo up && exec "$0" -m labelcheck check --format json -j 0 "$@"'
    p = subprocess.run(
        ["unshare", "-n", "sh", "-c", script, sys.executable, *urls],
        capture_output=True, text=True, timeout=120, cwd=ROOT, check=False,
    )  # fmt: skip
    doc = json.loads(p.stdout)
    got = {r["target"]: " ".join(e["message"] for e in r["errors"]) for r in doc["results"]}
    assert set(got) == set(urls), p.stderr
    for url, message in got.items():
        assert "refusing a private address" in message, (url, message)
        assert "unreachable" not in message and "ConnectError" not in message, message


@needs_netns
def test_cli_reports_a_malformed_url_as_the_items_error_not_an_internal_one():
    """`http://[::1/x.jpg` (an unclosed IPv6 bracket) stopped the whole run with exit 70; a malformed host name was
    looked up. Each is now one item's error, named, and the run goes on (exit 5)."""
    urls = ["http://[::1/x.jpg", "http://a..b.invalid/x.jpg", f"http://{'a' * 64}.example/x.jpg"]
    script = 'ip link set lo up && exec "$0" -m labelcheck check --format json -j 0 "$@"'
    p = subprocess.run(
        ["unshare", "-n", "sh", "-c", script, sys.executable, *urls, str(MEDIA / "xmp_fully_ai.jpg")],
        capture_output=True, text=True, timeout=120, cwd=ROOT, check=False,
    )  # fmt: skip
    assert p.returncode == 5, p.stderr
    doc = json.loads(p.stdout)
    errors = {r["target"]: " ".join(e["message"] for e in r["errors"]) for r in doc["results"]}
    assert len(errors) == 4
    for url in urls:
        assert "not fetched" in errors[url] and "could not extract" not in errors[url], errors[url]
    assert "Traceback" not in p.stderr and "internal error" not in p.stderr
