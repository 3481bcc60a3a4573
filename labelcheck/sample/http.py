"""The polite fetcher: every request of a sample goes through it, and it is polite by construction.

- robots.txt is read first on every host (a request of its own, recorded) and obeyed for every request, media
  included, with labelcheck's own token (USER_AGENT_TOKEN) by protego: Disallow, Allow, wildcards, Crawl-delay. A
  robots.txt that answers 4xx allows everything; one that cannot be read (5xx, a network error) disallows everything
  for the run, as Google and RFC 9309 §2.3.1.3 (server errors: complete disallow) have it.
- One rate per host: requests to a host are at least 1/rate seconds apart (default 1 a second), or the host's
  Crawl-delay when it is longer. Hosts are independent: threads fetching different hosts do not wait for each other.
- 429 and 503 are backed off: the Retry-After (seconds or an HTTP date, at most MAX_RETRY_AFTER) or an exponential
  pause, and the host's own pace halves for the rest of the run.
- A User-Agent that names labelcheck and the operator's contact; Accept-Encoding identity (the bytes stored are the
  bytes sent); byte and time caps per response; the private-network refusal of `check` (inputs/fetch.py: every
  address a name resolves to must be public, and the request goes to the address checked); redirects followed hop by
  hop, each hop checked as the first URL was and recorded as its own exchange.

Every request and response is handed to `record` as an Exchange (types.py), its body kept in `store` by SHA-256.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import hashlib
import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .. import __version__
from ..inputs import fetch as net
from .state import FetchState
from .types import Exchange

USER_AGENT_TOKEN = "labelcheck"  # the product token robots.txt groups are matched against
MAX_RETRY_AFTER = 120.0  # seconds of a Retry-After that are honoured; longer: the URL is given up for this run
ROBOTS_MAX = 500 * 1024  # bytes of robots.txt read (Google reads 500 KiB)


@dataclass(frozen=True)
class Politeness:
    contact: str = ""  # the operator's contact (an e-mail address or a URL), sent in the User-Agent
    rate: float = 1.0  # requests per second per host, at most
    timeout: float = 10.0  # seconds for each network operation
    max_seconds: float = 60.0  # for a whole response
    max_bytes: int = 256 << 20  # a medium's body
    max_page_bytes: int = 8 << 20  # a page's, a sitemap's or a feed's body
    retries: int = 2  # further attempts after a 429, a 503, a 5xx or a network error
    max_redirects: int = 5
    allow_private: bool = False  # loopback and private addresses only when asked (--allow-private-network)

    @property
    def user_agent(self) -> str:
        contact = f"; {self.contact}" if self.contact else ""
        return f"{USER_AGENT_TOKEN}/{__version__} (AI-label sampling{contact})"


class Disallowed(Exception):
    """robots.txt does not allow the URL: nothing was sent."""


@dataclass
class _Host:
    robots: Any = None  # protego.Protego, or None while not read
    blocked: str = ""  # why every URL of the host is refused (robots.txt unreadable)
    delay: float = 1.0  # seconds between two requests to it
    next_at: float = 0.0  # monotonic time before which no request is sent to it
    lock: threading.Lock = field(default_factory=threading.Lock)  # one request at a time to one host
    requests: int = 0


def origin(url: str) -> str:
    """scheme://host[:port] of a URL (robots.txt and the rate are per origin)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _retry_after(value: str) -> float | None:
    """Seconds a Retry-After asks for (delay-seconds or an HTTP date); None when it says nothing usable."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    with contextlib.suppress(TypeError, ValueError, IndexError):
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, (when - dt.datetime.now(dt.timezone.utc)).total_seconds())
    return None


class PoliteFetcher:
    """Fetches for one sample run (thread-safe): robots.txt, the per-host pace, back-off, caps and recording."""

    def __init__(
        self, politeness: Politeness, store: Path, record: Callable[[Exchange], None], state: FetchState | None = None
    ) -> None:
        self.p = politeness
        self.state = state  # what an earlier run of this sample fetched (--resume): taken from there, not sent
        self.store = store
        self.record = record
        self._hosts: dict[str, _Host] = {}
        self._lock = threading.Lock()
        self.refused: list[str] = []  # URLs robots.txt did not allow (never sent)
        self._robots: dict[str, bytes] = {}  # origin -> its robots.txt as fetched
        store.mkdir(parents=True, exist_ok=True)

    # ---------------------------------------------------------------- robots.txt and the pace

    def _host(self, url: str) -> _Host:
        key = origin(url)
        with self._lock:
            host = self._hosts.setdefault(key, _Host(delay=1.0 / self.p.rate))
        if host.robots is None and not host.blocked:
            with host.lock:
                if host.robots is None and not host.blocked:
                    self._read_robots(key, host)
        return host

    def _read_robots(self, key: str, host: _Host) -> None:
        from protego import Protego

        final = self._exchange(f"{key}/robots.txt", "robots", host, self.p.max_page_bytes)[0][-1]
        if final.status is not None and 200 <= final.status < 300 and final.body_path:
            body = Path(final.body_path).read_bytes()[:ROBOTS_MAX]
            with self._lock:
                self._robots[key] = body
            host.robots = Protego.parse(body.decode("utf-8", "replace"))
            delay = host.robots.crawl_delay(USER_AGENT_TOKEN)
            if delay:
                host.delay = max(host.delay, min(float(delay), 60.0))
        elif final.status is not None and 400 <= final.status < 500:
            host.robots = Protego.parse("")  # no robots.txt: everything is allowed
        else:
            host.blocked = f"robots.txt could not be read ({final.error or f'HTTP {final.status}'}): nothing fetched"

    def allowed(self, url: str) -> bool:
        host = self._host(url)
        return not host.blocked and bool(host.robots.can_fetch(url, USER_AGENT_TOKEN))

    def blocked(self, url: str) -> str:
        """Why every URL of the host is refused for the run ("" when it is not)."""
        with self._lock:
            host = self._hosts.get(origin(url))
        return host.blocked if host is not None else ""

    def robots_txt(self, url: str) -> bytes | None:
        """The host's robots.txt as fetched (None when it had none); tdm.py reads it for the AI crawlers."""
        self._host(url)
        with self._lock:
            return self._robots.get(origin(url))

    def _wait(self, host: _Host) -> None:
        pause = host.next_at - time.monotonic()
        if pause > 0:
            time.sleep(pause)

    # ---------------------------------------------------------------- fetching

    def get(self, url: str, purpose: str, follow_off_host: bool = True) -> Exchange:
        """The final exchange for `url` (after redirects; every hop recorded). Raises Disallowed when robots.txt
        does not allow the URL (or a redirect's target): nothing is sent then."""
        limit = self.p.max_bytes if purpose == "media" else self.p.max_page_bytes
        for _ in range(self.p.max_redirects + 1):
            if not self.allowed(url):
                self.refused.append(url)
                why = self.blocked(url) or f"robots.txt does not allow {USER_AGENT_TOKEN} to fetch it"
                raise Disallowed(f"{url}: {why}")
            host = self._host(url)
            with host.lock:  # the lock of one host at a time: a redirect to another host is taken after
                done, nxt = self._exchange(url, purpose, host, limit)
            if nxt is None:
                return done[-1]
            if not follow_off_host:
                why = "redirect off the allowed hosts: not followed"
                return Exchange(nxt, _now(), (), error=why, purpose=purpose)
            url = nxt
        return Exchange(url, _now(), (), error=f"more than {self.p.max_redirects} redirects", purpose=purpose)

    def _exchange(self, url: str, purpose: str, host: _Host, limit: int) -> tuple[list[Exchange], str | None]:
        """One URL's exchanges on one host (redirect hops within it, retries), the caller holding the host's lock;
        and the URL on another origin a redirect leads to, if any."""
        out: list[Exchange] = []
        attempt = 0
        while True:
            ex = self.state.get(url) if self.state is not None else None
            if ex is None:
                self._wait(host)
                ex = self._once(url, purpose, limit)
                host.requests += 1
                host.next_at = time.monotonic() + host.delay
                if self.state is not None:
                    self.state.put(ex)
            self.record(ex)
            out.append(ex)
            said = {k.lower(): v for k, v in ex.response_headers}
            if ex.status in (301, 302, 303, 307, 308) and "location" in said:
                if len(out) > self.p.max_redirects:
                    return out, None
                try:
                    nxt = net.remote_reference(url, said["location"], "redirect to")
                except net.RefusedReference as exc:
                    out.append(Exchange(said["location"], _now(), (), error=str(exc), purpose=purpose))
                    return out, None
                if origin(nxt) != origin(url) and purpose != "robots":
                    return out, nxt
                url = nxt
                continue
            retry = ex.status in (429, 503) or (ex.status is not None and ex.status >= 500)
            retry = retry or (ex.status is None and not ex.error.startswith("refused"))
            if not retry or attempt >= self.p.retries:
                return out, None
            attempt += 1
            asked = _retry_after(said.get("retry-after", ""))
            if asked is not None and asked > MAX_RETRY_AFTER:
                return out, None
            if ex.status in (429, 503):
                host.delay = min(host.delay * 2, 60.0)  # the host asked for less: halve the pace for the run
            host.next_at = time.monotonic() + max(asked or 0.0, min(30.0, 2.0**attempt), host.delay)

    def _once(self, url: str, purpose: str, limit: int) -> Exchange:
        """One request, its response recorded with the body stored; never raises for what the network does."""
        import httpx

        started = _now()
        headers = {"User-Agent": self.p.user_agent, "Accept-Encoding": "identity", "Accept": "*/*"}
        sent = tuple(headers.items())
        try:
            addrs = net.check_host(url, self.p.allow_private)
        except net.Refused as exc:
            return Exchange(url, started, sent, error=f"refused: {exc}", purpose=purpose)
        except net.FetchError as exc:
            return Exchange(url, started, sent, error=str(exc), purpose=purpose)
        client = _client(net.host_name(url))
        for n, addr in enumerate(addrs):
            target, host_header, extensions = net.pinned(url, addr)
            request = client.build_request("GET", target, headers={**headers, **host_header}, extensions=extensions,
                                           timeout=self.p.timeout)  # fmt: skip
            try:
                with contextlib.closing(client.send(request, stream=True)) as r:
                    return self._received(url, started, sent, addr, r, limit, purpose)
            except httpx.ConnectError as exc:
                if n == len(addrs) - 1:
                    return Exchange(url, started, sent, address=addr, error=f"cannot connect: {exc}", purpose=purpose)
            except (httpx.HTTPError, httpx.InvalidURL) as exc:
                return Exchange(url, started, sent, address=addr, error=f"{type(exc).__name__}: {exc}", purpose=purpose)
        return Exchange(url, started, sent, error="no address", purpose=purpose)  # pragma: no cover

    def _received(
        self, url: str, started: str, sent: tuple[tuple[str, str], ...], addr: str, r: Any, limit: int, purpose: str
    ) -> Exchange:
        # as received, but a Transfer-Encoding (the body is stored de-chunked) kept under pywb's X-Archive-Orig- name
        got = tuple(
            ("X-Archive-Orig-" + k if k.lower() == "transfer-encoding" else k, v) for k, v in r.headers.multi_items()
        )
        base = Exchange(url, started, sent, r.status_code, r.reason_phrase, got, address=addr,
                        http_version=r.http_version, purpose=purpose)  # fmt: skip
        declared = r.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            return replace(base, error=f"larger than {limit} bytes (Content-Length {declared}): not read")
        digest, size, until = hashlib.sha256(), 0, time.monotonic() + self.p.max_seconds
        fd, tmp = tempfile.mkstemp(dir=self.store, prefix=".part-")
        error = ""
        with os.fdopen(fd, "wb") as fh:
            try:
                for chunk in r.iter_raw():  # as sent: Accept-Encoding identity asked for no encoding
                    size += len(chunk)
                    if size > limit:
                        error = f"larger than {limit} bytes: cut"
                        break
                    if time.monotonic() > until:
                        error = f"still arriving after {self.p.max_seconds:g} s: cut"
                        break
                    digest.update(chunk)
                    fh.write(chunk)
            except Exception as exc:  # noqa: BLE001 - a reset or a time-out mid-body: what arrived is kept
                error = f"{type(exc).__name__} while reading the body: {exc}"
        path = self.store / digest.hexdigest()
        os.replace(tmp, path)
        return replace(base, body_path=str(path), body_size=min(size, limit), body_sha256=digest.hexdigest(),
                     error=error)  # fmt: skip

    def hosts(self) -> dict[str, int]:
        """Requests sent per origin."""
        with self._lock:
            return {k: h.requests for k, h in self._hosts.items()}


_LOCAL = threading.local()
MAX_CLIENTS = 16


def _client(host: str) -> Any:
    """This thread's httpx client for one host name: requests go to checked addresses, so a connection verified for
    one name must never carry another's (inputs/fetch.py keeps clients the same way)."""
    import httpx

    clients: dict[str, Any] = getattr(_LOCAL, "clients", None) or {}
    _LOCAL.clients = clients
    client = clients.pop(host, None) or httpx.Client(follow_redirects=False, verify=net.tls_context(), trust_env=False)
    clients[host] = client  # the most recent last
    while len(clients) > MAX_CLIENTS:
        clients.pop(next(iter(clients))).close()
    return client


def body(ex: Exchange, limit: int = 64 << 20) -> bytes:
    """An exchange's body as content (decoded when the server sent it gzip- or deflate-encoded anyway), at most
    `limit` bytes."""
    if not ex.body_path:
        return b""
    raw = Path(ex.body_path).read_bytes()
    coding = {k.lower(): v for k, v in ex.response_headers}.get("content-encoding", "").strip().lower()
    if coding in ("gzip", "x-gzip", "deflate"):
        import zlib

        with contextlib.suppress(zlib.error):
            d = zlib.decompressobj(47 if coding != "deflate" else 15)
            return d.decompress(raw, limit)
    return raw[:limit]
