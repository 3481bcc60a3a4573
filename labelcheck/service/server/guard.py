"""What stands between a client and the API: the bearer token and the body limit, checked in the ASGI layer (from the
request's head, before any of its body is read), and a deadline for each request's head in the HTTP protocol."""

from __future__ import annotations

import asyncio
import hmac
import json
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

OPEN_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})  # answered without the token (docs/security.md)


class TokenGuard:
    """ASGI middleware: with a token set, a request for anything but the open paths (the health probes and the
    metrics) that does not carry `Authorization: Bearer TOKEN` is answered 401 from its head alone. Its body is never
    read: nothing of an upload is received by the application, parsed or spooled to disk, and a connection whose
    request has a body is closed after the answer, so that the rest of the body is not read either. A FastAPI
    dependency could not do this: it runs once the form has been parsed, that is once the upload is on disk."""

    def __init__(self, app: Any, token: str | None, open_paths: frozenset[str] = OPEN_PATHS) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode() if token is not None else None
        self.open_paths = open_paths

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if self.expected is None or scope["type"] not in ("http", "websocket") or scope["path"] in self.open_paths:
            await self.app(scope, receive, send)
            return
        given = [value for name, value in scope.get("headers") or () if name == b"authorization"]
        if len(given) == 1 and hmac.compare_digest(given[0], self.expected):
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})  # before accepting: an HTTP 403
        else:
            await answer(send, 401, "a valid bearer token is required", [(b"www-authenticate", b"Bearer")], scope)


class BodyLimit:
    """ASGI middleware: a request body over the limit is refused with 413 as soon as it is seen, before any more of it
    is read or spooled: at once when its Content-Length says so, else (a chunked body) when the bytes received pass
    the limit. From then on the application reads a disconnect, and whatever it makes of the cut body (a multipart
    parser's 400, a JSON body's 422) is dropped: the answer is 413, and the connection is closed after it."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send, scope)
            return
        seen, refused, started = 0, False, False

        async def counted() -> dict[str, Any]:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message: dict[str, Any] = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                refused = True
                if not started:  # (no route answers before it has read the body)
                    await self._refuse(send, scope)
                return {"type": "http.disconnect"}
            return message

        async def sending(message: dict[str, Any]) -> None:
            nonlocal started
            if refused:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, sending)
        except Exception:
            if not refused:  # what the application raised over the cut body: the 413 has been sent
                raise

    async def _refuse(self, send: Any, scope: dict[str, Any]) -> None:
        await answer(send, 413, f"request body larger than {self.limit} bytes", [], scope)


def _has_body(scope: dict[str, Any]) -> bool:
    headers = dict(scope.get("headers") or [])
    return b"transfer-encoding" in headers or headers.get(b"content-length", b"0") not in (b"0", b"")


async def answer(
    send: Any, status: int, detail: str, headers: list[tuple[bytes, bytes]], scope: dict[str, Any]
) -> None:
    """A JSON error `{"detail": ...}`, as FastAPI's own; `Connection: close` when the request has a body, which is
    then not read (uvicorn closes the connection once the answer is sent)."""
    body = json.dumps({"detail": detail}).encode()
    extra = [(b"connection", b"close")] if _has_body(scope) else []
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
                *extra,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class HeadDeadline(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request's head (request line and headers): `head_timeout`
    seconds from the connection's start, or from the end of the previous answer on a kept-alive connection. A client
    that has not sent a whole head by then is disconnected. uvicorn itself waits for ever for a connection's first
    byte, and once a byte has come, for the rest of the head (its keep-alive timeout stops at the first byte), so a
    client sending a byte now and then held a connection as long as it liked. The wait for a request's body and the
    time its handling takes are not bounded here (the body limit, and limit_concurrency, bound what they hold)."""

    head_timeout = 10.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # type: ignore[override]
        super().connection_made(transport)  # type: ignore[arg-type]
        self._head_timer: asyncio.TimerHandle | None = None
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._arm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        """Start the clock when waiting for a head (from IDLE, h11 goes to SEND_BODY or DONE once a head is in); stop
        it once the head is in."""
        if self.conn.their_state is not h11.IDLE or self.transport.is_closing():
            self._disarm()
        elif self._head_timer is None:
            self._head_timer = self.loop.call_later(self.head_timeout, self._expire)

    def _disarm(self) -> None:
        if getattr(self, "_head_timer", None) is not None:
            self._head_timer.cancel()  # type: ignore[union-attr]
            self._head_timer = None

    def _expire(self) -> None:
        self._head_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()


def head_deadline(seconds: float) -> type[HeadDeadline]:
    """The protocol class to give uvicorn.Config(http=...), with that deadline for each request's head."""
    return type("HeadDeadline", (HeadDeadline,), {"head_timeout": seconds})
