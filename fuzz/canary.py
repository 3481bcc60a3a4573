"""Listeners that count what the server under test fetches, inside the fuzz's network namespace.

One dual-stack listener per port (80, 443, 8080 and a free port) on every address of `lo`: the non-public addresses
the hostile cases name, loopback, and the public stand-in (netns.PUBLIC). A connection to any address but the public
stand-in is a non-public address fetched. The stand-in answers like a public media host: /ok.jpg is a real JPEG, and
/r/N.jpg redirects to the N-th of `redirects` (non-public targets that must not be followed), anything else is 404.
The non-public addresses answer with CANARY, a JPEG of its own, so that a report whose digest is CANARY's also shows
a fetch of one."""

from __future__ import annotations

import hashlib
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

from .netns import PUBLIC

# a minimal JPEG (SOI, a comment, EOI) that no fixture is
CANARY = b"\xff\xd8\xff\xfe\x00\x18labelcheck-fuzz-canary\xff\xd9"
CANARY_SHA256 = hashlib.sha256(CANARY).hexdigest()


@dataclass(frozen=True)
class Hit:
    local: str  # the address connected to (IPv4-mapped addresses unmapped)
    port: int
    peer: str
    request: str  # the request line, if one came

    @property
    def public(self) -> bool:
        return self.local == PUBLIC


def _unmap(addr: str) -> str:
    return addr[7:] if addr.startswith("::ffff:") and "." in addr else addr


class Canary:
    def __init__(self, ok_jpeg: Path, redirects: list[str]) -> None:
        self.ok = ok_jpeg.read_bytes()
        self.redirects = redirects
        self.hits: list[Hit] = []
        self.lock = threading.Lock()
        self.socks: list[socket.socket] = []
        self.port = 0  # the free port, known once started

    def start(self, ports: tuple[int, ...] = (80, 443, 8080, 0)) -> None:
        for port in ports:
            s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("::", port))
            s.listen(64)
            if port == 0:
                self.port = s.getsockname()[1]
            self.socks.append(s)
            threading.Thread(target=self._accept, args=(s,), daemon=True, name=f"canary-{port}").start()

    def stop(self) -> None:
        for s in self.socks:
            s.close()

    def non_public(self) -> list[Hit]:
        with self.lock:
            return [h for h in self.hits if not h.public]

    def public(self) -> list[Hit]:
        with self.lock:
            return [h for h in self.hits if h.public]

    def _accept(self, s: socket.socket) -> None:
        while True:
            try:
                conn, peer = s.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn, peer), daemon=True).start()

    def _serve(self, conn: socket.socket, peer: tuple[str, ...]) -> None:
        local, port = conn.getsockname()[:2]
        conn.settimeout(5)
        data = b""
        try:
            while b"\r\n\r\n" not in data and len(data) < 65536:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
        except OSError:
            pass
        line = data.split(b"\r\n", 1)[0].decode("latin-1")
        hit = Hit(_unmap(local), port, _unmap(peer[0]), line)
        with self.lock:
            self.hits.append(hit)
        try:
            conn.sendall(self._answer(hit))
        except OSError:
            pass
        finally:
            conn.close()

    def _answer(self, hit: Hit) -> bytes:
        parts = hit.request.split(" ")
        path = parts[1] if len(parts) > 1 else "/"
        if hit.public and path == "/ok.jpg":
            return _response(200, self.ok, "image/jpeg")
        if hit.public and path.startswith("/r/") and path.endswith(".jpg"):
            n = path[3:-4]
            if n.isdigit() and int(n) < len(self.redirects):
                return _response(302, b"", "text/plain", {"Location": self.redirects[int(n)]})
        if hit.public:
            return _response(404, b"not found", "text/plain")
        return _response(200, CANARY, "image/jpeg")


def _response(status: int, body: bytes, ctype: str, extra: dict[str, str] | None = None) -> bytes:
    reason = {200: "OK", 302: "Found", 404: "Not Found"}.get(status, "X")
    head = [f"HTTP/1.1 {status} {reason}", f"Content-Type: {ctype}", f"Content-Length: {len(body)}"]
    head.append("Connection: close")
    head += [f"{k}: {v}" for k, v in (extra or {}).items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body
