"""The plumbing of the mutants: an ASGI app around the unchanged fake that hands each request
to `handle` as a `Req` and sends back the `Ans` it returns (see `wesog_mutants`)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl, urlencode

from wesog_mock import MockConfig, create_app
from wesog_mock.domain.engine import Engine

__all__ = ["Ans", "Mutant", "Req", "fake", "ops_in", "with_engine"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_TRUE = {"1", "true", "t", "yes", "y", "on"}


def fake() -> Any:
    """The unbroken fake, on a virtual clock: the suite's tests then never sleep."""
    return create_app(MockConfig(clock="virtual"))


def with_engine(engine: type[Engine], config: MockConfig | None = None) -> Any:
    """A fake (virtual clock) whose engine is patched into `engine`, a subclass of `Engine`.

    The controller keeps its engine private and builds it itself; a mutant is the one place
    that reaches in. The class of the engine already built is swapped, state and all, so the
    subclass needs no constructor of its own."""
    app = create_app(config or MockConfig(clock="virtual"))
    built = app.state.controller._engine
    if not isinstance(built, Engine) or not issubclass(engine, type(built)):
        raise TypeError(f"{engine.__name__} does not extend the fake's {type(built).__name__}")
    built.__class__ = engine
    return app


@dataclass
class Req:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes

    def flag(self, name: str) -> bool:
        values = [v for k, v in self.query if k == name]
        return bool(values) and values[-1].lower() in _TRUE

    def with_flag(self, name: str, value: bool) -> Req:
        query = [(k, v) for k, v in self.query if k != name] + [(name, str(value).lower())]
        return replace(self, query=query)

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def is_mutation(self) -> bool:
        return self.path.startswith("/imgs") and self.method != "GET"


@dataclass
class Ans:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def with_json(self, document: Any, status: int | None = None) -> Ans:
        return Ans(self.status if status is None else status, self.headers,
                   json.dumps(document).encode())


def ops_in(document: Any) -> list[dict[str, Any]]:
    """The operation objects in an answer body (one, or a list of them)."""
    if isinstance(document, dict) and "method" in document and "num_total" in document:
        return [document]
    if isinstance(document, list):
        return [op for op in document if isinstance(op, dict) and "num_total" in op]
    return []


@dataclass
class Mutant:
    """Forwards every request to the fake; subclasses rewrite on the way in or out."""

    app: Any = field(default_factory=fake)

    def __post_init__(self) -> None:
        """Subclasses with state of their own set it up here."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_mock"):
            await self.app(scope, receive, send)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        query = parse_qsl(scope["query_string"].decode(), keep_blank_values=True)
        answer = await self.handle(Req(scope["method"], scope["path"], query, headers, body))
        answer_headers = [(k, v) for k, v in answer.headers if k.lower() != b"content-length"]
        answer_headers.append((b"content-length", str(len(answer.body)).encode()))
        await send({"type": "http.response.start", "status": answer.status,
                    "headers": answer_headers})
        await send({"type": "http.response.body", "body": answer.body})

    async def handle(self, req: Req) -> Ans:
        return self.rewrite(req, await self.forward(req))

    def rewrite(self, req: Req, ans: Ans) -> Ans:
        document = ans.json()
        ops = ops_in(document)
        if ops:
            for op in ops:
                self.rewrite_op(req, op)
            return ans.with_json(document)
        return ans

    def rewrite_op(self, req: Req, op: dict[str, Any]) -> None:
        """Change one operation object in place (every answer that shows one)."""

    async def forward(self, req: Req) -> Ans:
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": req.method, "scheme": "http", "path": req.path,
            "raw_path": req.path.encode(), "root_path": "",
            "query_string": urlencode(req.query).encode(),
            "headers": [(k.encode(), v.encode()) for k, v in req.headers.items()
                        if k != "content-length"]
            + [(b"content-length", str(len(req.body)).encode())],
            "server": ("testserver", 80), "client": ("testclient", 50000),
        }
        sent = False
        start: Message = {}
        chunks: list[bytes] = []

        async def receive() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": req.body, "more_body": False}
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return Ans(start["status"], list(start.get("headers", [])), b"".join(chunks))
