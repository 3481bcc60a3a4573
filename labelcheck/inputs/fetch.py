"""Fetch playlist and segment bytes from HTTP(S) or local files: timeouts, size limits, retries, no private hosts."""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlparse

from .. import __version__
from .targets import is_remote


class FetchError(Exception):
    """A playlist, segment or item that could not be fetched; the message says why."""

    final = False  # True: refused by a rule or by the server, which another attempt would not change

    def __init__(self, message: str, wait: float = 0.0) -> None:
        super().__init__(message)
        self.wait = wait  # seconds the server asked for before another attempt (Retry-After)


class PrivateAddress(FetchError):
    final = True


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
    allow_private: bool = False  # loopback, private and link-local hosts are refused unless allowed


def resolve(base: str, ref: str) -> str:
    """A playlist's reference to a segment, made absolute against the playlist's own location."""
    if is_remote(ref) or (not is_remote(base) and Path(ref).is_absolute()):
        return ref
    if is_remote(base):
        return urljoin(base, ref)
    return str(Path(base).parent / ref)


def check_host(url: str, allow_private: bool) -> list[str]:
    """The addresses to connect to for `url`'s host, once every address it resolves to is allowed."""
    host = urlparse(url).hostname or ""
    try:
        # in the resolver's order of preference (RFC 6724: no IPv6 first on a host without IPv6 routes)
        addrs = list(dict.fromkeys(str(info[4][0]) for info in socket.getaddrinfo(host, None)))
    except socket.gaierror as exc:
        raise FetchError(f"{url}: host not found ({exc})") from exc
    for addr in addrs:
        ip = ipaddress.ip_address(addr.split("%")[0])
        if not allow_private and (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved):
            raise PrivateAddress(f"{url}: refusing a private address ({addr}); allow it with --allow-private-network")
    if not addrs:
        raise FetchError(f"{url}: host not found")
    return addrs


def _pinned(url: str, addr: str) -> tuple[str, dict[str, str], dict[str, str]]:
    """The request for `url` sent to the address already checked (a second DNS answer, which could name a private
    host, is never asked for): the URL with that address, the Host header and the TLS server name of the host."""
    parts = urlparse(url)
    host = parts.hostname or ""
    literal = f"[{addr}]" if ":" in addr else addr
    port = f":{parts.port}" if parts.port else ""
    target = parts._replace(netloc=literal + port).geturl()
    return target, {"Host": (f"[{host}]" if ":" in host else host) + port}, {"sni_hostname": host}


def fetch(ref: str, opts: FetchOptions) -> bytes:
    """The bytes behind `ref`, or FetchError; never more than max_bytes, never longer than the timeouts."""
    if not is_remote(ref):
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


@functools.cache
def _tls_context() -> Any:  # an ssl.SSLContext (ssl imported when something is fetched)
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
        follow_redirects=False, headers={"User-Agent": USER_AGENT}, verify=_tls_context()
    )
    clients[host] = client
    while len(clients) > MAX_CLIENTS:
        clients.popitem(last=False)[1].close()
    return client


def _send(client: Any, url: str, addrs: list[str], timeout: float) -> Any:
    """The streamed response for `url` from the first of its checked addresses that accepts a connection."""
    import httpx

    for n, addr in enumerate(addrs):
        target, headers, extensions = _pinned(url, addr)
        request = client.build_request("GET", target, headers=headers, extensions=extensions, timeout=timeout)
        try:
            return client.send(request, stream=True)
        except httpx.ConnectError:
            if n == len(addrs) - 1:
                raise
    raise AssertionError("no address")  # pragma: no cover - check_host never returns none


def _get(url: str, opts: FetchOptions, write: Callable[[bytes], object]) -> Response:
    import httpx

    for _ in range(opts.max_redirects + 1):
        addrs = check_host(url, opts.allow_private)
        try:
            with contextlib.closing(_send(_client(urlparse(url).hostname or ""), url, addrs, opts.timeout)) as r:
                if r.is_redirect:
                    url = urljoin(url, r.headers.get("location", ""))
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
        except httpx.HTTPError as exc:
            raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from exc
    raise FetchError(f"{url}: more than {opts.max_redirects} redirects")
