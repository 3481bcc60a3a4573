"""The hostile requests of the HTTP fuzz, each with the answer it must get: URL submissions naming non-public addresses
in every spelling (all refused with a 4xx and none fetched), redirects from the public stand-in to non-public
addresses (accepted, never followed), path submissions outside the roots, and oversized or unauthenticated bodies
(413, and 401 before any of the body is read), sent over raw sockets so that what the server does before the body
arrives can be seen."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from .netns import PUBLIC


def url_cases(port: int) -> list[str]:
    """Non-public addresses in every form a URL can spell them, all to be refused. `port`: the canary's free port."""
    p = port
    return [
        f"http://127.0.0.1:{p}/a.jpg",
        "http://127.0.0.1/a.jpg",
        "http://127.0.0.1./a.jpg",
        "http://127.1/a.jpg",
        "http://127.0.1/a.jpg",
        "http://0.0.0.0/a.jpg",
        "http://0/a.jpg",
        f"http://localhost:{p}/a.jpg",
        "http://localhost./a.jpg",
        "http://LOCALHOST/a.jpg",
        "http://vm/a.jpg",  # /etc/hosts names on this machine that resolve to loopback, when present
        "http://runsc/a.jpg",
        "http://10.0.0.1/a.jpg",
        f"http://10.0.0.1:{p}/a.jpg",
        "http://172.16.0.1/a.jpg",
        "http://192.168.0.1/a.jpg",
        "http://100.64.0.1/a.jpg",
        "http://198.18.0.1/a.jpg",
        "http://169.254.169.254/latest/meta-data/a.jpg",
        "http://[::1]/a.jpg",
        f"http://[::1]:{p}/a.jpg",
        "http://[::]/a.jpg",
        "http://[::ffff:127.0.0.1]/a.jpg",
        "http://[::ffff:7f00:1]/a.jpg",
        "http://[::ffff:169.254.169.254]/a.jpg",
        "http://[::127.0.0.1]/a.jpg",
        "http://[0:0:0:0:0:ffff:127.0.0.1]/a.jpg",
        "http://[2002:a9fe:a9fe::]/a.jpg",
        "http://[2002:7f00:1::]/a.jpg",
        "http://[64:ff9b::a9fe:a9fe]/a.jpg",
        "http://[64:ff9b::7f00:1]/a.jpg",
        "http://[64:ff9b:1::a9fe:a9fe]/a.jpg",
        "http://[2001:0:a9fe:a9fe::80ff:fffe]/a.jpg",  # Teredo (server 169.254.169.254, client 127.0.0.1)
        "http://[2001::a9fe:a9fe:0:0:80ff:fffe]/a.jpg",
        "http://[fc00::1]/a.jpg",
        "http://[fd00::1]/a.jpg",
        "http://[fe80::1]/a.jpg",
        "http://[fe80::1%25lo]/a.jpg",
        "http://[ff02::1]/a.jpg",
        "http://2130706433/a.jpg",
        f"http://2130706433:{p}/a.jpg",
        "http://0177.0.0.1/a.jpg",
        "http://0177.1/a.jpg",
        "http://017700000001/a.jpg",
        "http://0x7f.0.0.1/a.jpg",
        "http://0x7f000001/a.jpg",
        "http://0x7f.1/a.jpg",
        "http://2852039166/a.jpg",  # 169.254.169.254
        "http://0xa9fea9fe/a.jpg",
        "http://0251.0376.0251.0376/a.jpg",
        "http://0xa9.0xfe.0xa9.0xfe/a.jpg",
        "http://167772161/a.jpg",  # 10.0.0.1
        "http://%31%32%37.0.0.1/a.jpg",
        "http://127%2e0%2e0%2e1/a.jpg",
        "http://127\u30020\u30020\u30021/a.jpg",  # ideographic full stops (IDNA maps them to '.')
        "http://\uff11\uff12\uff17.0.0.1/a.jpg",  # fullwidth digits
        "http://\u2460\u2461\u2466.0.0.1/a.jpg",  # circled digits
        "http://a..b/a.jpg",
        "http://127.0.0.1../a.jpg",
        "http://./a.jpg",
        "http://[::1/a.jpg",
        "http://[::1:80/a.jpg",
        "http://[127.0.0.1]/a.jpg",
        "http://[::1]]/a.jpg",
        f"http://{PUBLIC}@127.0.0.1/a.jpg",
        f"http://user:pw@127.0.0.1:{p}/a.jpg",
        f"http://127.0.0.1#@{PUBLIC}/a.jpg",
        f"http://127.0.0.1?@{PUBLIC}/a.jpg",
        f"http://127.0.0.1/@{PUBLIC}/a.jpg",
        "http:/127.0.0.1/a.jpg",
        "http:\\\\127.0.0.1\\a.jpg",
        "HTTP://127.0.0.1/a.jpg",
        "//127.0.0.1/a.jpg",
        " http://127.0.0.1/a.jpg",
        "http://127.0.0.1/a.jpg\r\nX-Injected: 1",
        "http://127.0.0.1:99999/a.jpg",
        "http://127.0.0.1:-1/a.jpg",
        f"https://127.0.0.1:{p}/a.jpg",
        "file:///etc/passwd",
        f"gopher://127.0.0.1:{p}/_a.jpg",
        "ftp://127.0.0.1/a.jpg",
        "data:image/jpeg;base64,/9j/2Q==",
        "javascript:alert(1)",
    ]


def ambiguous_urls(port: int) -> list[str]:
    """URLs that parsers read differently: by RFC 3986 their host is the public stand-in (the rest is user
    information), by the WHATWG URL standard ('\\' is '/' in http URLs) some name loopback. Either answer is
    acceptable, refused or checked, provided the host checked is the host fetched: the listeners show any fetch of a
    non-public address."""
    p = port
    return [
        f"http://127.0.0.1\\@{PUBLIC}:{p}/ok.jpg",
        f"http://127.0.0.1:{p}\\@{PUBLIC}:{p}/ok.jpg",
        f"http://127.0.0.1%23@{PUBLIC}:{p}/ok.jpg",
        f"http://127.0.0.1%2f@{PUBLIC}:{p}/ok.jpg",
        f"http://[::1]@{PUBLIC}:{p}/ok.jpg",
        f"http://localhost:{p}@{PUBLIC}:{p}/ok.jpg",
        f"http://{PUBLIC}:{p}\\@127.0.0.1:{p}/ok.jpg",
        f"http://{PUBLIC}:{p}/ok.jpg#@127.0.0.1:{p}/",
        f"http://{PUBLIC}:{p}\t/ok.jpg",
        f"http://{PUBLIC}:{p}/ok.jpg\r\nHost: 127.0.0.1",
    ]


def redirect_targets(port: int) -> list[str]:
    """Where the public stand-in's /r/N.jpg redirects: non-public addresses, none of which may be fetched."""
    p = port
    return [
        f"http://127.0.0.1:{p}/r.jpg",
        f"http://[::1]:{p}/r.jpg",
        f"http://localhost:{p}/r.jpg",
        "http://169.254.169.254/latest/meta-data/r.jpg",
        f"http://2130706433:{p}/r.jpg",
        f"http://[::ffff:127.0.0.1]:{p}/r.jpg",
        "http://[64:ff9b::a9fe:a9fe]/r.jpg",
        f"http://10.0.0.1:{p}/r.jpg",
        f"http://{PUBLIC}:{p}/r/0.jpg",  # public to public, then to loopback: a chain
        "file:///etc/passwd",
    ]


@dataclass
class Raw:
    status: int | None  # None: no answer within the wait
    seconds: float
    body_sent: int
    error: str = ""


def raw_exchange(port: int, head: bytes, chunks: Iterable[bytes] = (), wait: float = 5.0, pace: float = 0.0) -> Raw:
    """Send a request over a raw socket while a reader waits for the answer (it is caught even when the server
    answers, and closes, before the body is all sent). `chunks` are sent after the head, `pace` seconds apart."""
    got = bytearray()
    answered = threading.Event()
    t0 = time.monotonic()
    when: list[float] = []
    s = socket.create_connection(("127.0.0.1", port), timeout=wait)

    def read() -> None:
        try:
            while b"\r\n\r\n" not in got:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got.extend(chunk)
        except OSError:
            pass
        when.append(time.monotonic() - t0)
        answered.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    sent, error = 0, ""
    try:
        s.sendall(head)
        for chunk in chunks:
            if answered.is_set():
                break
            s.sendall(chunk)
            sent += len(chunk)
            if pace:
                time.sleep(pace)
    except OSError as exc:
        error = f"{type(exc).__name__}: {exc}"
    answered.wait(wait)
    status = None
    if got.startswith(b"HTTP/"):
        try:
            status = int(got.split(b" ", 2)[1])
        except (IndexError, ValueError):
            status = None
    s.close()
    return Raw(status, when[0] if when else time.monotonic() - t0, sent, error)


def head(path: str, headers: dict[str, str], method: str = "POST") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def multipart(name: str, data: bytes, boundary: str = "fuzzboundary1234") -> tuple[str, bytes]:
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return f"multipart/form-data; boundary={boundary}", body


def chunked(body: bytes, size: int = 64 * 1024) -> list[bytes]:
    return [
        f"{len(body[i : i + size]):x}\r\n".encode() + body[i : i + size] + b"\r\n" for i in range(0, len(body), size)
    ]


@dataclass
class BodyCase:
    name: str
    expect: int
    run: Callable[[], Raw]
    within: float = 5.0  # seconds the answer must come in


def body_cases(port: int, token: str, limit: int) -> list[BodyCase]:
    """Oversized and unauthenticated bodies. `limit`: the server's upload limit in bytes."""
    auth = {"Authorization": f"Bearer {token}"}
    big = b"\0" * (2 * limit + 128 * 1024)
    ctype, upload = multipart("big.jpg", big)
    small_ctype, small = multipart("small.jpg", b"\xff\xd8" + b"\0" * (limit // 2))
    json_big = json.dumps({"path": "x" * (2 * limit)}).encode()
    pieces = [upload[i : i + 256 * 1024] for i in range(0, len(upload), 256 * 1024)]

    def send(h: dict[str, str], chunks: list[bytes], wait: float = 10.0, pace: float = 0.0) -> Callable[[], Raw]:
        return lambda: raw_exchange(port, head("/v1/checks", h), chunks, wait, pace)

    return [
        BodyCase(
            "oversized upload with the token (Content-Length) -> 413",
            413,
            send({**auth, "Content-Type": ctype, "Content-Length": str(len(upload))}, pieces),
        ),
        BodyCase(
            "oversized upload with the token (chunked) -> 413",
            413,
            send({**auth, "Content-Type": ctype, "Transfer-Encoding": "chunked"}, chunked(upload) + [b"0\r\n\r\n"]),
            30.0,
        ),
        BodyCase(
            "oversized JSON body with the token (Content-Length) -> 413",
            413,
            send({**auth, "Content-Type": "application/json", "Content-Length": str(len(json_big))}, [json_big]),
        ),
        BodyCase(
            "oversized JSON body with the token (chunked) -> 413",
            413,
            send(
                {**auth, "Content-Type": "application/json", "Transfer-Encoding": "chunked"},
                chunked(json_big) + [b"0\r\n\r\n"],
            ),
            30.0,
        ),
        BodyCase(
            "oversized upload without a token, body not sent -> 401 at once",
            401,
            send({"Content-Type": ctype, "Content-Length": str(len(upload))}, [], wait=6.0),
        ),
        BodyCase(
            "upload under the limit without a token, body not sent -> 401 at once",
            401,
            send({"Content-Type": small_ctype, "Content-Length": str(len(small))}, [], wait=6.0),
        ),
        BodyCase(
            "upload without a token, chunked, body trickled -> 401 at once",
            401,
            send({"Content-Type": small_ctype, "Transfer-Encoding": "chunked"}, chunked(small, 4096)[:40], 6.0, 0.2),
        ),
        BodyCase(
            "upload with a wrong token, body not sent -> 401 at once",
            401,
            send(
                {"Authorization": "Bearer wrong", "Content-Type": small_ctype, "Content-Length": str(len(small))},
                [],
                wait=6.0,
            ),
        ),
        BodyCase(
            "JSON body without a token, body not sent -> 401 at once",
            401,
            send({"Content-Type": "application/json", "Content-Length": "100"}, [], wait=6.0),
        ),
    ]


def path_cases(root: Path) -> list[tuple[str, dict[str, str], tuple[int, ...]]]:
    """(name, JSON body, acceptable statuses). `root` is the server's --root, holding ok.jpg, a link to /etc/passwd
    (link-out) and a link to /etc (dir-link)."""
    return [
        ("a file inside the root -> 202", {"path": str(root / "ok.jpg")}, (202,)),
        ("/etc/passwd -> 403", {"path": "/etc/passwd"}, (403,)),
        ("a file outside the roots that does not exist -> 403 (no oracle)", {"path": "/etc/no-such-file-fuzz"}, (403,)),
        ("a directory outside the roots -> 403", {"path": "/etc"}, (403,)),
        ("'..' inside the root -> 400", {"path": f"{root}/../{root.name}/ok.jpg"}, (400,)),
        ("'..' out of the root -> 400", {"path": f"{root}/../../etc/passwd"}, (400, 403)),
        ("a link in the root to /etc/passwd -> 403", {"path": str(root / "link-out")}, (403,)),
        ("a file through a link in the root to /etc -> 403", {"path": str(root / "dir-link" / "passwd")}, (403,)),
        ("the root itself (a directory) -> 400", {"path": str(root)}, (400,)),
        ("a missing file inside the root -> 404", {"path": str(root / "missing.jpg")}, (404,)),
        ("NUL in the path -> 400", {"path": str(root / "ok.jpg") + "\0"}, (400,)),
        ("a relative path -> 403/404", {"path": "ok.jpg"}, (403, 404)),
        ("/proc/self/environ -> 403", {"path": "/proc/self/environ"}, (403,)),
        ("both path and url -> 422", {"path": str(root / "ok.jpg"), "url": f"http://{PUBLIC}/ok.jpg"}, (422,)),
    ]
