"""Hostile clients against the HTTP API (a real `labelcheck serve` on loopback): a body sent without the token,
malformed URLs and paths, the schema pages, the existence oracle, oversized chunked bodies, slow clients.

No request here leaves loopback: the only URLs submitted are refused before any lookup (BadHost, not http(s)) or name
an address literal (no DNS), which is refused as private before any connection."""

import json
import os
import select
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from conftest import MEDIA
from test_server import TOKEN, free_port, start_server

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def serve(base: Path, *args: str):
    """start_server with TMPDIR pointing at BASE/spool (where python-multipart spools the parts it parses)."""
    spool = base / "spool"
    spool.mkdir(parents=True)
    root = base / "root"
    root.mkdir()
    (root / "gen.png").write_bytes((MEDIA / "png_comfyui.png").read_bytes())
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TMPDIR", str(spool))
        proc, url, client = start_server(base / "reports", "--root", str(root), *args, token=TOKEN)
    return {
        "proc": proc,
        "url": url,
        "port": int(url.rsplit(":", 1)[1]),
        "client": client,
        "spool": spool,
        "root": root,
    }


def stop(server) -> None:
    server["proc"].terminate()
    assert server["proc"].wait(60) == 0
    server["client"].close()


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """The default upload limit (2 GiB): a 50 MiB body is within it."""
    server = serve(tmp_path_factory.mktemp("big"))
    yield server
    stop(server)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A 1 MiB upload limit, URL submissions on (only URLs refused before any connection are submitted)."""
    server = serve(tmp_path_factory.mktemp("small"), "--max-upload-mb", "1", "--fetch-urls")
    yield server
    stop(server)


def spooled(pid: int, spool: Path) -> set[str]:
    """The files the server process has open in the spool directory (an O_TMPFILE has no name there but shows here)."""
    found = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(spool)):
            found.add(target)
    return found


def complete(answer: bytes) -> bool:
    """An HTTP answer's head, and as much body as its Content-Length says, are in."""
    head, sep, body = answer.partition(b"\r\n\r\n")
    length = [line.split(b":")[1] for line in head.lower().split(b"\r\n") if line.startswith(b"content-length:")]
    return bool(sep) and len(body) >= int(length[0] if length else 0)


PART = b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.jpg"\r\n\r\n'  # then the file's bytes


def push(
    port: int, head: bytes, first: bytes, total: int, chunked: bool, watch: tuple[int, Path]
) -> tuple[int, bytes, set[str]]:
    """Send a request head and the body's `first` bytes, then up to `total` body bytes 64 KiB at a time (framed as
    chunks if `chunked`), reading whatever the server answers as it comes: (body bytes sent when the answer had
    arrived or the server closed, the answer, the files the server had open in the spool directory meanwhile)."""

    def framed(data: bytes) -> bytes:
        return f"{len(data):x}\r\n".encode() + data + b"\r\n" if chunked else data

    frame = framed(bytes(64 << 10))
    sent, answer, opened, writing = len(first), b"", set(), True
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(head + framed(first))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not complete(answer):
            if writing and sent >= total:
                if chunked:
                    s.sendall(b"0\r\n\r\n")  # the end of the body
                writing = False
            readable, writable, _ = select.select([s], [s] if writing else [], [], 1.0)
            if readable:
                try:
                    data = s.recv(65536)
                except ConnectionResetError:
                    break
                if not data:
                    break
                answer += data
            elif writable:
                try:
                    s.sendall(frame)
                except (BrokenPipeError, ConnectionResetError):
                    writing = False  # the server closed: read what it said
                    continue
                sent += 64 << 10
                opened |= spooled(*watch)
    return sent, answer, opened


# 1. the token is checked before the body is read


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_without_the_token_is_refused_before_it_is_read(big, chunked):
    total = 50 << 20
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}"
    head = (
        "POST /v1/checks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=b\r\n"
        f"{framing}\r\n\r\n"
    ).encode()
    pid = big["proc"].pid
    before = os.listdir(big["spool"])  # (the worker pool's pymp-* directory)
    sent, answer, opened = push(big["port"], head, PART, total, chunked, (pid, big["spool"]))
    # the 401 came while most of the body was still unsent, and nothing was spooled meanwhile
    assert (answer[:12], sent < 8 << 20, opened) == (b"HTTP/1.1 401", True, set()), (sent, answer[:200], opened)
    assert os.listdir(big["spool"]) == before
    assert big["client"].get("/readyz").status_code == 200


def test_the_token_is_checked_on_every_route_but_the_probes_and_metrics(big):
    url = big["url"]
    for path in ("/healthz", "/readyz", "/metrics"):
        assert httpx.get(url + path).status_code == 200, path
    for method, path in [
        ("GET", "/"),
        ("GET", "/v1/checks"),
        ("POST", "/v1/checks"),
        ("GET", "/v1/checks/1"),
        ("GET", "/v1/checks/1/report.html"),
        ("GET", "/no/such/route"),
        ("GET", "/healthz/"),
        ("GET", "/metrics/x"),
    ]:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
            r = httpx.request(method, url + path, headers=headers)
            assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer", (method, path, headers)
            assert r.json() == {"detail": "a valid bearer token is required"}


# 4. the API's description and its pages are behind the token too


def test_the_schema_and_its_pages_need_the_token(big):
    url = big["url"]
    for path in ("/openapi.json", "/docs", "/redoc", "/docs/oauth2-redirect"):
        assert httpx.get(url + path).status_code == 401, path
        assert httpx.get(url + path, headers=AUTH).status_code == 200, path
    doc = httpx.get(url + "/openapi.json", headers=AUTH).json()
    assert doc["components"]["securitySchemes"] == {"HTTPBearer": {"type": "http", "scheme": "bearer"}}
    assert doc["paths"]["/v1/checks"]["post"]["security"] == [{"HTTPBearer": []}]
    assert "security" not in doc["paths"]["/healthz"]["get"]


# 3. malformed input is never a server error


def test_malformed_urls_are_refused_not_server_errors(small):
    c = small["client"]
    refused = {
        "http://[::1/x.jpg": 422,  # an unclosed IPv6 literal: not a URL at all
        "http://a..b.invalid/x.jpg": 422,  # an empty label
        f"http://{'a' * 64}.invalid/x.jpg": 422,  # a label over 63 characters
        "http://[::1]:99999/x.jpg": 422,  # a port out of range
        "http://[zz::1]/x.jpg": 422,
        "http:///x.jpg": 422,
        "http://a b.invalid/x.jpg": 422,
        "file:///etc/passwd": 422,
        "javascript:alert(1)": 422,
        "http://127.0.0.1/x.jpg": 403,  # an address literal: no lookup, refused as loopback
        "http://[::ffff:127.0.0.1]/x.jpg": 403,
    }
    for url, code in refused.items():
        r = c.post("/v1/checks", json={"url": url})
        assert r.status_code == code and "detail" in r.json(), (url, r.status_code, r.text)


MULTIPART = {"content-type": "multipart/form-data; boundary=b"}
JSON = {"content-type": "application/json"}


def test_no_route_answers_a_malformed_request_with_a_server_error(small):
    c, root = small["client"], small["root"]
    posts = [
        {"content": json.dumps({"path": "\ud800"}), "headers": JSON},
        {"content": json.dumps({"path": "\udcff"}), "headers": JSON},
        {"content": json.dumps({"path": "/etc/\udcff"}), "headers": JSON},
        {"content": json.dumps({"url": "http://a..b.invalid/\ud800.jpg"}), "headers": JSON},
        {"content": json.dumps({"url": "http://\udcff.invalid/x.jpg"}), "headers": JSON},
        {"json": {"path": str(root / ("x" * 300))}},
        {"json": {"path": str(root / "gen.png" / "x")}},
        {"json": {"path": "/" + "a/" * 2000}},
        {"json": {"path": "~"}},
        {"json": {"path": 7}},
        {"json": {"url": 7}},
        {"json": {"url": None, "path": None}},
        {"json": ["path"]},
        {"json": "x"},
        {"content": b"\xff\xfe", "headers": JSON},
        {"content": b'{"path": "/etc/' + b"\xff" + b'"}', "headers": JSON},
        {"content": b"--b\r\nbroken", "headers": {"content-type": "multipart/form-data; boundary=b"}},
        {"content": b"x", "headers": {"content-type": "multipart/form-data"}},
        {"content": b"x", "headers": {"content-type": "multipart/form-data; boundary="}},
        {"content": b"x", "headers": {"content-type": "text/plain"}},
        {"files": {"file": ("", b"abc")}},
        {"files": {"file": ("../../../etc/x.jpg", b"abc")}},
        {"files": {"file": ("a\x00b.jpg", b"abc")}},
        {"content": PART.replace(b"x.jpg", b"\xff\xfe.jpg") + b"abc\r\n--b--\r\n", "headers": MULTIPART},
        {"content": PART.replace(b"x.jpg", b"\xed\xa0\x80.jpg") + b"abc\r\n--b--\r\n", "headers": MULTIPART},
        {"content": PART + b"abc", "headers": MULTIPART},  # never closed
        {"files": {"file": ("x" * 5000 + ".jpg", b"abc")}},
        {"files": {"nope": ("x.jpg", b"abc")}},
        {"data": {"file": "not a file"}},
    ]
    for kw in posts:
        r = c.post("/v1/checks", **kw)
        assert r.status_code < 500, (kw, r.status_code, r.text)
    gets = [
        "/v1/checks?since=%00",
        "/v1/checks?since=%ff%fe",
        "/v1/checks?since=" + "9" * 40,
        "/v1/checks?offset=99999999999999999999",
        "/v1/checks?limit=-1",
        "/v1/checks?status=%ff",
        "/v1/checks/0",
        "/v1/checks/-1",
        "/v1/checks/9223372036854775808",
        "/v1/checks/1e3",
        "/v1/checks/%ff",
        "/v1/checks/99999/report.html",
        "/?policy=%00%ff",
        "/?status=%ff",
        "/%ff",
    ]
    for path in gets:
        r = c.get(path)
        assert r.status_code < 500, (path, r.status_code, r.text)
    for raw in (b"GET /v1/checks/\xff HTTP/1.1", b"GET /v1/checks?since=\xff\xfe HTTP/1.1", b"GET /%zz HTTP/1.1"):
        with socket.create_connection(("127.0.0.1", small["port"])) as s:
            s.sendall(raw + f"\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n".encode())
            answer = b"".join(iter(lambda: s.recv(65536), b""))
        assert answer.startswith(b"HTTP/1.1 ") and not answer.startswith(b"HTTP/1.1 5"), (raw, answer[:300])


# 5. outside the roots, a missing path and a forbidden one get the same answer


def test_outside_the_roots_a_missing_path_is_answered_as_a_forbidden_one(small, tmp_path):
    c, root = small["client"], small["root"]
    (root / "link-out").symlink_to("/etc/hostname")
    (root / "link-missing").symlink_to("/etc/no-such-file-here")
    (root / "loop").symlink_to(root / "loop")
    outside = [
        "/etc/hostname",  # exists
        "/etc/no-such-file-here",  # does not
        "/etc",  # a directory
        "/no-such-dir/x",
        "/root/.ssh/id_rsa",
        str(root / "link-out"),
        str(root / "link-missing"),
        str(root.parent / "gen.png"),
    ]
    answers = {}
    for p in outside:
        r = c.post("/v1/checks", json={"path": p})
        answers[p] = (r.status_code, r.text)
    assert set(answers.values()) == {(403, '{"detail":"path is outside the configured roots"}')}, answers
    # inside the roots, existence is no secret: what is wrong with the path is said
    r = c.post("/v1/checks", json={"path": str(root / "missing.png")})
    assert r.status_code == 404 and "no such file" in r.json()["detail"]
    assert c.post("/v1/checks", json={"path": str(root)}).status_code == 400  # not a regular file
    assert c.post("/v1/checks", json={"path": str(root / "loop")}).status_code == 403  # cannot be resolved: refused
    assert c.post("/v1/checks", json={"path": str(root / "gen.png")}).status_code == 202


CONFINE = """
import json, sys
from pathlib import Path
from fastapi import HTTPException
from labelcheck.service.server.app import confine
out = []
for raw in sys.argv[2:]:
    try:
        out.append([202, str(confine(raw, (Path(sys.argv[1]),)))])
    except HTTPException as exc:
        out.append([exc.status_code, exc.detail])
print(json.dumps(out))
"""


def test_inside_the_roots_an_unreadable_file_is_refused_not_queued(tmp_path):
    """confine() in a process no permission bit is waived for (as root: without CAP_DAC_OVERRIDE/READ_SEARCH)."""
    root = tmp_path / "root"
    (root / "closed").mkdir(parents=True)
    for name in ("ok.png", "secret.png", "closed/inner.png"):
        (root / name).write_bytes(b"x")
    (root / "secret.png").chmod(0)
    (root / "closed").chmod(0)
    drop = []
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: no permission bit can stop this process")
        drop = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"]
    paths = [root / "ok.png", root / "secret.png", root / "closed" / "inner.png", root / "missing.png"]
    try:
        p = subprocess.run(
            [*drop, sys.executable, "-c", CONFINE, str(root), *map(str, paths)],
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        (root / "closed").chmod(0o755)
    assert p.returncode == 0, p.stderr
    got = json.loads(p.stdout)
    assert got[0] == [202, str(root / "ok.png")]
    assert got[1][0] == 403 and "cannot be read by the server" in got[1][1]
    assert got[2][0] == 403 and "cannot be read by the server" in got[2][1]
    assert got[3][0] == 404 and "no such file" in got[3][1]


# 6. every oversized body is 413, chunked or not; slow clients are let go


@pytest.mark.parametrize("kind", ["multipart", "json"])
def test_an_oversized_chunked_body_is_413(small, kind):
    ctype = "multipart/form-data; boundary=b" if kind == "multipart" else "application/json"
    head = (
        f"POST /v1/checks HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: {ctype}\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode()
    first = PART if kind == "multipart" else b'{"path": "'
    sent, answer, _ = push(small["port"], head, first, 50 << 20, True, (small["proc"].pid, small["spool"]))
    assert answer.startswith(b"HTTP/1.1 413"), answer[:300]
    assert b"larger than" in answer
    assert sent < 16 << 20  # refused as the limit was passed, not once the whole body was in
    assert small["client"].get("/readyz").status_code == 200


def test_an_oversized_declared_body_is_413_at_once(small):
    head = (
        f"POST /v1/checks HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {50 << 20}\r\n\r\n"
    ).encode()
    sent, answer, _ = push(small["port"], head, b"", 50 << 20, False, (small["proc"].pid, small["spool"]))
    assert answer.startswith(b"HTTP/1.1 413") and sent < 16 << 20, (sent, answer[:300])


def ok_app():
    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"3")]})
        await send({"type": "http.response.body", "body": b"ok\n"})

    return app


@pytest.fixture
def timed_server():
    """uvicorn as `labelcheck serve` configures it (run.uvicorn_config), in a thread, with short timeouts."""
    import uvicorn

    from labelcheck.service.server.app import ServerConfig
    from labelcheck.service.server.run import uvicorn_config

    conf = ServerConfig(port=free_port(), header_timeout=1.0, keep_alive=1)
    server = uvicorn.Server(uvicorn_config(ok_app(), conf))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    yield conf.port
    server.should_exit = True
    thread.join(10)


def held(port: int, drip: bytes, every: float, limit: float = 10.0) -> tuple[float, int]:
    """Seconds a client that sends `drip` one byte each `every` seconds keeps its connection, and bytes it sent."""
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.settimeout(every)
        start, sent = time.monotonic(), 0
        while time.monotonic() - start < limit:
            try:
                if sent < len(drip):
                    s.send(drip[sent : sent + 1])
                    sent += 1
                if s.recv(1024) == b"":
                    break
            except TimeoutError:
                continue
            except OSError:
                break
        return time.monotonic() - start, sent


def test_a_slow_request_head_is_cut_off(timed_server):
    seconds, sent = held(timed_server, b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 1000, 0.1)
    assert 0.9 < seconds < 2.5 and sent < 30, (seconds, sent)


def test_an_idle_connection_is_closed(timed_server):
    seconds, _ = held(timed_server, b"", 0.1)
    assert 0.9 < seconds < 2.5, seconds


def test_a_kept_alive_connection_serves_requests_then_times_out(timed_server):
    with socket.create_connection(("127.0.0.1", timed_server)) as s:
        s.settimeout(5)
        for _ in range(3):
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            got = b""
            while not got.endswith(b"ok\n"):
                got += s.recv(1024) or pytest.fail(f"closed after {got!r}")
            answered = time.monotonic()
            time.sleep(0.3)  # within the keep-alive timeout
        s.sendall(b"GET / HTTP/1.1\r\n")  # a head begun, never finished: the clock runs from the last answer
        assert s.recv(1024) == b""
        assert 0.9 < time.monotonic() - answered < 2.5
