"""The HTTP API (FastAPI): submit a file, a path or a URL, fetch reports, list results, health, metrics, a dashboard.

Submissions go into the watcher's SQLite queue; the watcher (running in this process) checks them with
its worker pool, exactly as it checks hot-folder items.
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, File, HTTPException, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from fastapi.security import HTTPBearer
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from ... import __version__
from ...inputs.fetch import FetchError, PrivateAddress, check_host
from ...inputs.media import is_playlist
from ...inputs.targets import is_remote
from ..state import State
from ..watch import Watcher
from .guard import BodyLimit, TokenGuard
from .pages import CONTENT_TYPE, dashboard_page, metrics_registry, prometheus

MAX_ID = 2**63 - 1  # SQLite INTEGER
ItemId = Annotated[int, PathParam(ge=1, le=MAX_ID)]


@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8765
    token: str | None = None
    roots: tuple[Path, ...] = ()  # directories path submissions may point into
    max_upload: int = 2 << 30  # bytes (an upload, or a submitted URL's body)
    uploads: Path | None = None  # default REPORTS/uploads
    fetch_urls: bool = False  # URL submissions: the workers fetch what a client names (off: 403)
    allow_private_network: bool = False  # submitted URLs may name loopback and private hosts
    header_timeout: float = 10.0  # seconds for a request's head (line and headers) to arrive, then disconnected
    keep_alive: int = 5  # seconds a kept-alive connection may stay idle between requests
    max_connections: int = 500  # open connections (or requests in hand) beyond which requests are answered 503

    def check(self) -> None:
        """Refuse to serve beyond loopback without a token."""
        if not is_loopback(self.host) and not self.token:
            raise ValueError(
                f"refusing to listen on {self.host} without --token (a bearer token is required "
                "whenever labelcheck serve binds beyond loopback)"
            )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Submission(BaseModel):
    path: str | None = Field(
        None, description="A file inside one of the configured roots", min_length=1, max_length=4096
    )
    url: str | None = Field(
        None, description="An http(s) URL of a media item: fetched and checked by a worker", max_length=4096
    )


class Submitted(BaseModel):
    id: int
    state: str
    status_url: str


class ItemView(BaseModel):
    id: int
    path: str
    size: int
    state: str
    status: str | None
    attempts: int
    created_at: str
    updated_at: str
    report_url: str | None = None
    report_html_url: str | None = None
    source_url: str | None = None  # the URL a submitted item was fetched from


class Page(BaseModel):
    items: list[ItemView]
    limit: int
    offset: int
    next_offset: int | None


def _view(row: dict[str, Any]) -> ItemView:
    done = row["state"] == "done"
    return ItemView(
        id=row["id"],
        path=row["path"],
        size=row["size"],
        state=row["state"],
        status=row["status"],
        attempts=row["attempts"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        report_url=f"/v1/checks/{row['id']}" if done else None,
        report_html_url=f"/v1/checks/{row['id']}/report.html" if done else None,
        source_url=row["source"],
    )


def create_app(config: ServerConfig, watcher: Watcher) -> FastAPI:
    reports = watcher.opts.reports
    uploads = config.uploads or reports / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    local = threading.local()

    def state() -> State:  # one SQLite connection per server thread (WAL: readers never block the checker)
        if not hasattr(local, "state"):
            local.state = State(watcher.opts.state_file, watcher.opts.max_attempts)
        return local.state

    app = FastAPI(
        title="labelcheck",
        version=__version__,
        description="Checks that media carries the AI label that applies to it, and that it is intact.",
    )
    # The token is checked by TokenGuard, from the request's head, before any body is read; this dependency only
    # describes it in the OpenAPI document (it never refuses anything itself).
    guarded = [Depends(HTTPBearer(auto_error=False))] if config.token else []
    registry = metrics_registry(state, watcher)  # read at each scrape, in the thread that serves it
    app.add_middleware(BodyLimit, limit=config.max_upload + 64 * 1024)  # multipart framing on top of the file
    app.add_middleware(TokenGuard, token=config.token)  # outermost: no limit is told to a client without the token

    def _row(item_id: int) -> dict[str, Any]:
        row = state().row(item_id)
        if row is None:
            raise HTTPException(404, f"no check {item_id}")
        return row

    def _queue(path: Path) -> Submitted:
        st = path.stat()
        return _queued(str(path), st.st_size, st.st_mtime_ns)

    def _queued(name: str, size: int, mtime_ns: int, source: str | None = None) -> Submitted:
        state().enqueue(name, size, mtime_ns, source)
        row = state().version(name, size, mtime_ns)
        return Submitted(id=row["id"], state=row["state"], status_url=f"/v1/checks/{row['id']}")

    @app.post(
        "/v1/checks",
        status_code=202,
        response_model=Submitted,
        dependencies=guarded,
        summary="Submit a file (multipart field `file`), a path inside a configured root (JSON `path`) or the URL of "
        "a media item (JSON `url`, with --fetch-urls), which the worker checking it fetches",
    )
    async def submit(request: Request, file: Annotated[UploadFile | None, File()] = None) -> Submitted:
        if file is not None:
            dest = _upload_path(uploads, file.filename or "")
            written = 0
            try:
                with open(dest, "wb") as fh:
                    while chunk := await file.read(1 << 20):
                        written += len(chunk)
                        if written > config.max_upload:
                            raise HTTPException(413, f"upload larger than {config.max_upload} bytes")
                        fh.write(chunk)
            except BaseException:
                dest.unlink(missing_ok=True)
                raise
            return _queue(dest)
        try:
            body = Submission.model_validate(await request.json())
            if (body.path is None) == (body.url is None):
                raise ValueError("give either `path` or `url`")
        except Exception as exc:  # noqa: BLE001 - any malformed body is the client's error
            raise HTTPException(
                422, f'send a multipart `file` or JSON {{"path": ...}} or {{"url": ...}}: {exc}'
            ) from exc
        if body.url is not None:  # the worker that checks it fetches it, as `check` does with a URL
            refused = await run_in_threadpool(_url_refused, body.url, config)  # a DNS lookup
            if refused is not None:
                raise refused
            return _queued(body.url, 0, time.time_ns(), body.url)  # each submission a version of its own
        assert body.path is not None
        return _queue(confine(body.path, config.roots))

    @app.get("/v1/checks", response_model=Page, dependencies=guarded, summary="List checks, newest first")
    def list_checks(
        status: Annotated[str | None, Query(pattern="^(pass|fail|error|queued|checking|done|failed)$")] = None,
        since: Annotated[str | None, Query(max_length=40)] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        offset: Annotated[int, Query(ge=0, le=2**31)] = 0,
    ) -> Page:
        rows = state().page(status, since, limit + 1, offset)
        more = len(rows) > limit
        return Page(
            items=[_view(r) for r in rows[:limit]],
            limit=limit,
            offset=offset,
            next_offset=offset + limit if more else None,
        )

    @app.get("/v1/checks/{item_id}", dependencies=guarded, summary="The report JSON (or the state while queued)")
    def get_check(item_id: ItemId) -> Any:
        row = _row(item_id)
        if row["state"] == "done" and row["report"] and Path(row["report"]).exists():
            return json.loads(Path(row["report"]).read_text(encoding="utf-8"))
        return _view(row).model_dump()

    @app.get("/v1/checks/{item_id}/report.html", response_class=HTMLResponse, dependencies=guarded)
    def get_check_html(item_id: ItemId) -> Any:
        row = _row(item_id)
        page = Path(row["report"]).with_suffix(".html") if row["report"] else None
        if row["state"] != "done" or page is None or not page.exists():
            raise HTTPException(404, f"check {item_id} has no report yet ({row['state']})")
        return FileResponse(page, media_type="text/html")

    @app.get("/healthz", response_class=PlainTextResponse)
    def healthz() -> str:
        return "ok\n"

    @app.get("/readyz", response_class=PlainTextResponse)
    def readyz() -> str:
        if watcher.crashed:
            raise HTTPException(503, f"the checker stopped: {watcher.crashed}")
        if not watcher.ready.is_set():
            raise HTTPException(503, "the checker is starting")
        state().counts()
        return "ready\n"

    @app.get("/metrics", response_class=PlainTextResponse)
    def metrics() -> Response:
        return Response(prometheus(registry), media_type=CONTENT_TYPE)

    @app.get("/", response_class=HTMLResponse, dependencies=guarded)
    def dashboard(
        status: Annotated[str | None, Query(pattern="^(pass|fail|error|queued|checking|done|failed)$")] = None,
        policy: Annotated[str | None, Query(max_length=100)] = None,
    ) -> str:
        return dashboard_page(state(), watcher, status, policy)

    return app


def _upload_path(uploads: Path, name: str) -> Path:
    """A new file in the uploads directory, named after the client's name for it (its last part, no NUL)."""
    name = Path(name).name.replace("\x00", "")[-200:] or "upload"
    return uploads / f"{secrets.token_hex(8)}-{name}"


def _url_refused(url: str, config: ServerConfig) -> HTTPException | None:
    """What is wrong with a submitted URL before it is queued (refused now, not reported later): submissions of URLs
    turned off, not an http(s) URL, a playlist, or a host that does not resolve or resolves to a private address."""
    if not config.fetch_urls:
        return HTTPException(403, "URL submissions are disabled (the server was not started with --fetch-urls)")
    try:
        remote = is_remote(url)
    except ValueError as exc:  # e.g. an unclosed [IPv6 literal: not a URL at all
        return HTTPException(422, f"`url` is not a valid URL ({exc})")
    if not remote:
        return HTTPException(422, "`url` must be an http(s) URL")
    if is_playlist(url):
        return HTTPException(422, "HLS and DASH playlists are streams: `labelcheck check URL` or `watch --stream URL`")
    try:
        check_host(url, config.allow_private_network)
    except FetchError as exc:
        return HTTPException(403 if isinstance(exc, PrivateAddress) else 422, f"not queued: {exc}")
    return None


OUTSIDE = "path is outside the configured roots"


def confine(raw: str, roots: tuple[Path, ...]) -> Path:
    """A submitted path, only if it resolves (symlinks followed) inside a configured root and is a readable file.

    Outside the roots, what exists is no client's business: a missing path, an existing file, a directory, a link
    that leads out all get the same 403 and the same words, decided before anything is asked of the path itself.
    Inside them, the client may know what is there, and is told what is wrong (404 missing, 400 not a file, 403 not
    readable by the server) rather than having an item queued that can only fail."""
    if not roots:
        raise HTTPException(403, "path submissions are disabled (no --root configured)")
    if "\x00" in raw or ".." in Path(raw).parts:
        raise HTTPException(400, "path must not contain '..' or NUL")
    try:
        os.fsencode(raw)
        where = Path(raw).resolve()  # not strict: symlinks followed as far as they lead, whether the end exists or not
    except (OSError, RuntimeError, ValueError):  # a symbolic link loop; a name the file system cannot encode
        where = None
    inside = [r.resolve() for r in roots]
    if where is None or not any(where.is_relative_to(r) for r in inside):
        raise HTTPException(403, OUTSIDE)
    try:
        path = where.resolve(strict=True)
    except PermissionError as exc:  # a directory on the way the server may not enter
        raise HTTPException(403, f"{raw} cannot be read by the server") from exc
    except (OSError, RuntimeError) as exc:
        raise HTTPException(404, f"no such file: {raw}") from exc
    if not any(path.is_relative_to(r) for r in inside):  # changed since (a link replaced): still nothing to tell
        raise HTTPException(403, OUTSIDE)
    if not path.is_file():
        raise HTTPException(400, "not a regular file")
    if not os.access(path, os.R_OK):
        raise HTTPException(403, f"{raw} cannot be read by the server")
    return path
