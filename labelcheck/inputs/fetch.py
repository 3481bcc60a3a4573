"""Fetch playlist and segment bytes from HTTP(S) or local files: timeouts, size limits, retries, public addresses
only (unless private ones are allowed), redirects followed and checked hop by hop, valid host names only."""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import re
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlparse, urlsplit

from .. import __version__
from .targets import is_remote


class FetchError(Exception):
    """A playlist, segment or item that could not be fetched; the message says why."""

    final = False  # True: refused by a rule or by the server, which another attempt would not change

    def __init__(self, message: str, wait: float = 0.0) -> None:
        super().__init__(message)
        self.wait = wait  # seconds the server asked for before another attempt (Retry-After)


class Refused(FetchError):
    """Refused by a rule before anything was sent: another attempt would not change it."""

    final = True


class PrivateAddress(Refused):
    """A host that resolves to an address that is not a globally routable unicast one."""


class BadHost(Refused):
    """A URL whose host no DNS name or address can be (an empty or over-long label, a name over 253 characters, a
    character no host name holds), or that is not a URL at all: refused before any lookup."""


class RefusedReference(Refused, ValueError):
    """A remote document's reference (a playlist's segment, map or variant, a redirect, a Link header) to something
    other than an http(s) URL: never read from disk. A ValueError too, as any fault a parsed playlist holds."""


class TooLarge(FetchError):
    final = True


class ClientError(FetchError):
    """An HTTP 4xx answer."""

    final = True


@dataclass(frozen=True)
class FetchOptions:
    timeout: float = 10.0  # seconds for each network operation (connect, each read)
    max_seconds: float = 600.0  # for a whole response: a server that sends a byte now and then cannot hold it open
    max_bytes: int = 256 << 20
    retries: int = 2
    max_redirects: int = 5
    allow_private: bool = False  # any address allowed; else only globally routable unicast ones (see refusal)


def resolve(base: str, ref: str) -> str:
    """A playlist's reference to a segment, made absolute against the playlist's own location. A remote playlist's
    reference must make an http(s) URL (RefusedReference otherwise: `x:secret.mp4` or `file:///...` is never read
    from this machine's disk); a local playlist's may name local files."""
    if is_remote(ref) or (not is_remote(base) and Path(ref).is_absolute()):
        return ref
    if is_remote(base):
        return remote_reference(base, ref)
    return str(Path(base).parent / ref)


def remote_reference(base: str, ref: str, what: str = "reference") -> str:
    """`ref`, made in a document served from the URL `base`, as an absolute http(s) URL, or RefusedReference."""
    try:
        url = urljoin(base, ref)
    except ValueError as exc:  # e.g. an unclosed [IPv6 literal
        raise RefusedReference(f"{base}: refusing the {what} {ref[:200]!r}: {exc}") from exc
    if not _http(url):
        raise RefusedReference(
            f"{base}: refusing the {what} {ref[:200]!r}: a remote document may only reference http(s) URLs"
        )
    return url


def _http(url: str) -> bool:
    """An http(s) URL (False for what is not even a URL)."""
    try:
        return is_remote(url)
    except ValueError:
        return False


MAX_NAME = 253  # characters of a DNS name, in ASCII, without its final dot (RFC 1035)
_LABEL = re.compile(r"[a-z0-9_-]{1,63}", re.ASCII | re.IGNORECASE)  # ASCII (IDNA) labels; `_` as DNS has them
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: the IPv4 address in the last 32 bits
NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215: where the IPv4 address sits is the operator's


def host_name(url: str) -> str:
    """The host of `url` as it is looked up and named in requests: an IP address, or a DNS name in ASCII (IDNA);
    BadHost, before any lookup, when it can be neither (getaddrinfo and httpx would fail on it in their own ways)."""
    try:
        parts = urlsplit(url)
        host, _ = parts.hostname, parts.port  # a port out of range raises ValueError
    except ValueError as exc:
        raise BadHost(f"{url[:300]}: not a valid URL ({exc})") from exc
    if not host:
        raise BadHost(f"{url[:300]}: the URL names no host")
    with contextlib.suppress(ValueError):
        ipaddress.ip_address(host)
        return host
    name = host.removesuffix(".")  # a fully qualified name's final dot
    if len(name) > MAX_NAME:  # IDNA never shortens a name
        raise BadHost(f"{url[:300]}: the host name is longer than {MAX_NAME} characters")
    try:
        ascii_name = name.encode("idna").decode("ascii")
    except UnicodeError as exc:  # an empty label, one over 63 characters, a character IDNA prohibits
        raise BadHost(f"{url[:300]}: {host[:260]!r} is not a valid host name ({exc})") from exc
    if len(ascii_name) > MAX_NAME or not all(_LABEL.fullmatch(label) for label in ascii_name.split(".")):
        raise BadHost(f"{url[:300]}: {host[:260]!r} is not a valid host name")
    return ascii_name + host[len(name) :]


def _embedded(ip: ipaddress.IPv6Address) -> Iterator[tuple[str, ipaddress.IPv4Address]]:
    """The IPv4 addresses an IPv6 address carries, which a relay or a translator would send to, by form."""
    n, low = int(ip), ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF)
    if ip.ipv4_mapped is not None:
        yield "IPv4-mapped", ip.ipv4_mapped
    if n >> 32 == 0 and n > 1:  # ::a.b.c.d, but not :: nor ::1
        yield "IPv4-compatible", low
    if n >> 32 == 0xFFFF_0000:
        yield "IPv4-translated", low
    if ip.sixtofour is not None:
        yield "6to4", ip.sixtofour
    if ip.teredo is not None:  # (server, client), the client's address already un-inverted
        yield "Teredo client", ip.teredo[1]
        yield "Teredo server", ip.teredo[0]
    if ip in NAT64:
        yield "NAT64", low


def _not_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """What makes an address, taken on its own, other than a globally routable unicast one (None: nothing)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip in NAT64_LOCAL:
        return "a local-use NAT64 address"
    for flag, what in (
        (ip.is_unspecified, "unspecified"),
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link-local"),
        (ip.is_multicast, "multicast"),
        (ip.is_private, "private"),
        (ip.is_reserved, "reserved"),
        (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local, "site-local"),
        (not ip.is_global, "not globally routable"),
    ):
        if flag:
            return what
    return None


def refusal(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why labelcheck may not connect to `ip` (None: it may): only globally routable unicast addresses are fetched
    from, and an IPv6 address only when every IPv4 address it embeds (6to4, NAT64, IPv4-mapped or -compatible,
    Teredo) is one too."""
    if isinstance(ip, ipaddress.IPv6Address):
        for form, v4 in _embedded(ipaddress.IPv6Address(int(ip))):  # without a %scope
            why = _not_public(v4)
            if why:
                return f"the {form} form of {v4}, {why}"
    return _not_public(ip)


def check_host(url: str, allow_private: bool) -> list[str]:
    """The addresses to connect to for `url`'s host, once its name is valid and every address it resolves to is
    allowed (`allow_private`: any address). Raises BadHost, PrivateAddress or FetchError."""
    host = host_name(url)
    try:
        # in the resolver's order of preference (RFC 6724: no IPv6 first on a host without IPv6 routes)
        addrs = list(dict.fromkeys(str(info[4][0]) for info in socket.getaddrinfo(host, None)))
    except (OSError, UnicodeError, ValueError) as exc:  # socket.gaierror is an OSError
        raise FetchError(f"{url}: host not found ({exc})") from exc
    for addr in addrs:
        why = None if allow_private else refusal(ipaddress.ip_address(addr))
        if why:
            raise PrivateAddress(
                f"{url}: refusing a private address ({addr} is {why}); allow it with --allow-private-network"
            )
    if not addrs:
        raise FetchError(f"{url}: host not found")
    return addrs


def pinned(url: str, addr: str) -> tuple[str, dict[str, str], dict[str, str]]:
    """The request for `url` sent to the address already checked (a second DNS answer, which could name a private
    host, is never asked for): the URL with that address, the Host header and the TLS server name of the host (in
    ASCII: an internationalised name as IDNA)."""
    parts = urlparse(url)
    host = host_name(url)
    literal = f"[{addr}]" if ":" in addr else addr
    port = f":{parts.port}" if parts.port else ""
    target = parts._replace(netloc=literal + port).geturl()
    return target, {"Host": (f"[{host}]" if ":" in host else host) + port}, {"sni_hostname": host}


def fetch(ref: str, opts: FetchOptions) -> bytes:
    """The bytes behind `ref`, or FetchError; never more than max_bytes, never longer than the timeouts."""
    try:
        local = not is_remote(ref)
    except ValueError as exc:  # http://[::1/x: no URL, and no path either
        raise BadHost(f"{ref[:300]}: not a valid URL ({exc})") from exc
    if local:
        try:
            with open(ref, "rb") as fh:
                data = fh.read(opts.max_bytes + 1)
        except OSError as exc:
            raise FetchError(f"{ref}: {exc.strerror or exc}") from exc
        if len(data) > opts.max_bytes:
            raise TooLarge(f"{ref}: larger than {opts.max_bytes} bytes")
        return data
    chunks: list[bytes] = []
    _retrying(ref, opts, lambda: chunks.clear(), chunks.append)
    return b"".join(chunks)


@dataclass(frozen=True)
class Response:
    """What came with a fetched body: the URL it was finally served from (after redirects) and its headers."""

    url: str
    headers: tuple[tuple[str, str], ...]  # (lower-case name, value), in the order sent; a repeated name repeats


def download(url: str, dest: Path, opts: FetchOptions) -> Response:
    """The bytes behind `url` written to `dest` as they arrive (never held in memory), with fetch()'s limits."""
    with open(dest, "wb") as fh:

        def restart() -> None:
            fh.seek(0)
            fh.truncate()

        return _retrying(url, opts, restart, fh.write)


def _retrying(url: str, opts: FetchOptions, restart: Callable[[], None], write: Callable[[bytes], object]) -> Response:
    last: Exception | None = None
    pause = 0.0
    for attempt in range(opts.retries + 1):
        time.sleep(pause)
        restart()
        try:
            return _get(url, opts, write)
        except FetchError as exc:
            if exc.final:
                raise
            last = exc
            pause = max(min(2.0, 0.2 * 2**attempt), exc.wait)
    raise FetchError(f"{last} (after {opts.retries + 1} attempts)")


RETRY_STATUS = frozenset({408, 429})  # client errors that say "not now" rather than "never"
MAX_RETRY_AFTER = 30.0  # seconds of a server's Retry-After that are honoured (the item's time limit bounds it too)
MAX_EXPANSION = 100  # a compressed response may not decode to more than this many times its size ...
BOMB_FLOOR = 64 << 20  # ... once past this many bytes
USER_AGENT = f"labelcheck/{__version__} (AI-label checker)"  # a regulator's fetches say what they are
_CLIENTS = threading.local()  # per thread: host name -> its httpx.Client (kept connections, one TLS set-up)
MAX_CLIENTS = 8
LOCATION = "x-labelcheck-location"  # where a redirect's Location is kept out of httpx's sight


def _hide_location(response: Any) -> None:
    """A response hook: a redirect's Location, moved where httpx does not look, so that httpx never parses it nor
    builds the next request itself; _get checks it and follows it as it does the first URL."""
    if response.is_redirect:
        response.headers[LOCATION] = response.headers.pop("location")


@functools.cache
def tls_context() -> Any:  # an ssl.SSLContext (ssl imported when something is fetched)
    """One TLS context (certifi's CA bundle, as httpx's default) for every client: building it is what a client's
    ~34 ms of CPU was; sharing it makes a client for a new host cost ~1.5 ms."""
    import ssl

    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def _client(host: str) -> Any:
    """A client kept for one host name: connections are reused between its fetches (segments of a stream, the items
    of a sample from one CDN). One host per client, because requests go to pinned addresses: a connection verified
    for one name never carries another's."""
    import httpx  # imported when something is fetched, not when the package is

    clients: OrderedDict[str, Any] = getattr(_CLIENTS, "by_host", None) or OrderedDict()
    _CLIENTS.by_host = clients
    client = clients.pop(host, None) or httpx.Client(
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT},
        verify=tls_context(),
        event_hooks={"response": [_hide_location]},
    )
    clients[host] = client
    while len(clients) > MAX_CLIENTS:
        clients.popitem(last=False)[1].close()
    return client


def _send(client: Any, url: str, addrs: list[str], timeout: float) -> Any:
    """The streamed response for `url` from the first of its checked addresses that accepts a connection."""
    import httpx

    for n, addr in enumerate(addrs):
        target, headers, extensions = pinned(url, addr)
        request = client.build_request("GET", target, headers=headers, extensions=extensions, timeout=timeout)
        try:
            return client.send(request, stream=True)
        except httpx.ConnectError:
            if n == len(addrs) - 1:
                raise
    raise AssertionError("no address")  # pragma: no cover - check_host never returns none


def _get(url: str, opts: FetchOptions, write: Callable[[bytes], object]) -> Response:
    import httpx

    for _ in range(opts.max_redirects + 1):  # redirects are followed here, each checked as the first URL was
        if not _http(url):  # a Link header's manifest: download() is asked for whatever the header named
            raise RefusedReference(f"{url[:300]}: refusing to fetch it: only http(s) URLs are fetched")
        addrs = check_host(url, opts.allow_private)
        try:
            with contextlib.closing(_send(_client(host_name(url)), url, addrs, opts.timeout)) as r:
                if httpx.codes.is_redirect(r.status_code) and LOCATION in r.headers:
                    url = remote_reference(url, r.headers[LOCATION], "redirect to")
                    continue
                if r.status_code >= 400:  # a server error, a timeout or "too many requests" may pass on a retry
                    if r.status_code < 500 and r.status_code not in RETRY_STATUS:
                        raise ClientError(f"{url}: HTTP {r.status_code}")
                    after = r.headers.get("retry-after", "").strip()  # seconds (an HTTP date is not waited for)
                    wait = min(float(after), MAX_RETRY_AFTER) if after.isdigit() else 0.0
                    raise FetchError(f"{url}: HTTP {r.status_code}", wait)
                declared = r.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > opts.max_bytes:
                    raise TooLarge(f"{url}: larger than {opts.max_bytes} bytes")
                size, until = 0, time.monotonic() + opts.max_seconds
                for chunk in r.iter_bytes():  # decoded, when the server compressed it (Content-Encoding)
                    if time.monotonic() > until:
                        raise FetchError(f"{url}: still arriving after {opts.max_seconds:g} s")
                    size += len(chunk)
                    if size > opts.max_bytes:
                        raise TooLarge(f"{url}: larger than {opts.max_bytes} bytes")
                    if size > BOMB_FLOOR and size > MAX_EXPANSION * r.num_bytes_downloaded:
                        raise TooLarge(f"{url}: expands more than {MAX_EXPANSION}-fold (a compression bomb?)")
                    write(chunk)
                if declared and declared.isdigit() and r.num_bytes_downloaded != int(declared):  # bytes on the wire
                    raise FetchError(f"{url}: truncated ({r.num_bytes_downloaded} of {declared} bytes)")
                return Response(url, tuple((k.lower(), v) for k, v in r.headers.multi_items()))
        except (httpx.HTTPError, httpx.InvalidURL) as exc:  # InvalidURL: a path httpx will not send (a control)
            raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from exc
    raise FetchError(f"{url}: more than {opts.max_redirects} redirects")
