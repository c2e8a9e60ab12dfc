"""The controls on the wire: request faults and the journal, as one pure ASGI middleware.

It makes each request's `RequestContext` (the headers read once) and leaves it in the scope
under one key for the route, which adds what it decoded; the journal records it at the end.

It wraps the whole app, outside Starlette's own error middleware, so that the journal sees the
500s that one renders and a dropped connection reaches the server's own `send`. The admin API
(`/_mock/...`) passes straight through: it is neither journaled nor subject to faults.

A dropped connection has no ASGI message: an app that answers nothing gets a 500 from the
server. So a `drop` fault does what it can where it runs:
- under uvicorn, it closes the connection's transport, which uvicorn's request cycle holds and
  the `send` it gives the app is bound to (so in its h11 and httptools protocols alike; the
  fake is served on httptools, `wesog_mock.http.protocol`), then waits for uvicorn to report
  the disconnect, so uvicorn neither answers nor logs anything: the client sees a connection
  closed with no response (httpx: `RemoteProtocolError`, "Server disconnected without sending
  a response");
- anywhere else (httpx's `ASGITransport`, Starlette's `TestClient`), it raises
  `ConnectionDropped`, a subclass of `httpx.RemoteProtocolError`, which those transports pass on
  to the client, so in-process a client's `except httpx.TransportError` handles it as it
  would a real drop. A server with no such transport would answer 500 instead.
"""

from __future__ import annotations

import inspect
import json
from time import perf_counter
from typing import Any

import anyio
import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wesog_mock.controls.context import RequestContext
from wesog_mock.controls.controller import Controller
from wesog_mock.controls.faults import FaultRule

__all__ = ["ADMIN_PREFIX", "CONTEXT_KEY", "ConnectionDropped", "ControlsMiddleware",
           "request_context"]

ADMIN_PREFIX = "/_mock/"
_DROP_WAIT_S = 5.0


class ConnectionDropped(httpx.RemoteProtocolError):
    """A `drop` fault closed the connection without an answer (in-process transports)."""


CONTEXT_KEY = "wesog_mock.context"  # the one note the middleware leaves in the scope


def request_context(scope: Scope) -> RequestContext:
    """The context the controls middleware made for this request."""
    context: RequestContext = scope[CONTEXT_KEY]
    return context


def _new_context(scope: Scope, at_ms: float) -> RequestContext:
    """The request's context, its headers read once: API key, Content-Type, Content-Length."""
    key = content_type = encoding = None
    length: int | None = None
    chunked = False
    for name, value in scope["headers"]:
        name = name.lower()
        if name == b"api-key" and key is None:
            key = value.decode("latin-1").strip() or None
        elif name == b"content-type" and content_type is None:
            content_type = value.decode("latin-1")
        elif name == b"content-encoding" and encoding is None:
            encoding = value.decode("latin-1").strip().lower()
        elif name == b"content-length" and length is None and value.isdigit():
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
    return RequestContext(
        at_ms=at_ms, method=scope["method"], path=scope["path"],
        query_string=scope["query_string"], api_key=key, content_type=content_type,
        content_encoding=encoding, declared_length=length, chunked=chunked,
    )


async def _wall_sleep(seconds: float) -> None:
    """The latency fault's delay: wall time, not the fake's clock (a client's timeouts are)."""
    await anyio.sleep(seconds)


class ControlsMiddleware:
    """Fires request faults before the app runs, and journals every request as it ends."""

    def __init__(self, app: ASGIApp, controller: Controller) -> None:
        self.app = app
        self.controller = controller

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        controller = self.controller
        started = perf_counter()
        context = scope[CONTEXT_KEY] = _new_context(scope, controller.now_ms())
        limit = controller.config.max_body_bytes
        recorded = False
        faults = controller.faults
        fault = context.fault = (
            faults.for_request(context.method, context.path, context.api_key)
            if faults.has_request_faults else None
        )

        def record() -> None:
            nonlocal recorded
            recorded = True
            context.latency_ms = (perf_counter() - started) * 1000.0
            context.body_complete = context.body_complete and context.body_bytes <= limit
            controller.journal.record(context)

        async def journal_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                body = message.get("body", b"")
                if body:
                    context.body_bytes += len(body)
                    if context.body_bytes <= limit:  # past it the app refuses: keep no more
                        context.chunks.append(body)
                if not message.get("more_body", False):
                    context.body_complete = True
            return message

        async def journal_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                context.status = message["status"]
            elif (
                message["type"] == "http.response.body"
                and not message.get("more_body")
                and not recorded
            ):
                # Recorded before the answer's last bytes leave: a client that has its answer
                # (a test in another thread, over a socket) always finds the entry there.
                record()
            await send(message)

        try:
            if fault is None:
                await self.app(scope, journal_receive, journal_send)
            elif fault.kind == "latency":
                await _wall_sleep((fault.latency_ms or 0.0) / 1000.0)
                await self.app(scope, journal_receive, journal_send)
            elif fault.kind == "status":
                # Read the body, so the journal can judge it.
                while not context.body_complete and context.body_bytes <= limit:
                    if (await journal_receive())["type"] == "http.disconnect":
                        break
                await _answer_status(fault, journal_send)
            else:
                context.dropped = True
                record()  # before the client can see the connection close
                await _drop(receive, send)
        finally:
            if not recorded:  # the app raised, or the request was cancelled
                record()


async def _answer_status(fault: FaultRule, send: Send) -> None:
    body = json.dumps({"detail": fault.detail()}, separators=(",", ":")).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    if fault.retry_after_s is not None:
        headers.append((b"retry-after", b"%d" % fault.retry_after_s))
    await send({"type": "http.response.start", "status": fault.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _drop(receive: Receive, send: Send) -> None:
    # uvicorn's `send` is a bound method of its request cycle, which holds the transport. The
    # reach-in is deliberate and contained: ASGI itself has no way to drop a connection.
    # Past any wrapper that declares what it wraps (functools' `__wrapped__` convention).
    send = inspect.unwrap(send)
    transport: Any = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None or not callable(getattr(transport, "close", None)):
        raise ConnectionDropped("Server disconnected without sending a response.")
    transport.close()
    # The server learns of the close on its next turn and then reports http.disconnect; until it
    # has, returning would make it answer 500 (to a closed connection) and log an error.
    with anyio.move_on_after(_DROP_WAIT_S):
        while (await receive())["type"] != "http.disconnect":
            pass
