"""Helpers for the tests of the fake's controls: an in-process fake and a live uvicorn server.

Not a conftest: tests/fake has one already, and two `conftest` modules without packages would
clash for mypy. Each test module declares the two small fixtures it needs.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import Any

import httpx
import uvicorn
from starlette.types import ASGIApp, Message, Receive

from wesog_mock import Controller, MockConfig, create_app

SRC = "https://example.com/1.jpg"
Headers = list[tuple[bytes, bytes]]
JSON_POST: Headers = [(b"api-key", b"k1"), (b"content-type", b"application/json")]


def image(image_id: str, **fields: Any) -> dict[str, Any]:
    return {"id": image_id, "src": SRC, **fields}


def asgi_scope(method: str, path: str, headers: Headers, query: bytes = b"") -> dict[str, Any]:
    """An HTTP scope as a server hands it to the app."""
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
            "query_string": query, "root_path": "", "client": ("127.0.0.1", 1),
            "server": ("fake", 80), "headers": headers}


def asgi_script(messages: Sequence[Message]) -> Receive:
    """A server's `receive` that has these messages and no more (reading on is a bug)."""
    parts = iter(messages)

    async def receive() -> Message:
        part = next(parts, None)
        assert part is not None, "read past the client's last message"
        return part

    return receive


async def post_imgs(app: ASGIApp, messages: Sequence[Message], *, query: bytes = b"",
                    headers: Headers = JSON_POST) -> list[Message]:
    """`POST /imgs` straight through `app`, its body in `messages`; what the app sent."""
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await app(asgi_scope("POST", "/imgs", headers, query), asgi_script(messages), send)
    return sent


class Fake:
    """One fake (virtual clock unless told otherwise) with an ASGI client bound to it."""

    def __init__(self, **settings: Any) -> None:
        settings.setdefault("clock", "virtual")
        self.app = create_app(MockConfig(**settings))
        self.controller: Controller = self.app.state.controller
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://fake"
        )

    async def __aenter__(self) -> Fake:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.client.aclose()

    async def wesog(
        self, method: str, path: str, *, key: str | None = "k1", **options: Any
    ) -> httpx.Response:
        """A request to the Wesog API, as tenant `key` (None sends no API-Key)."""
        headers = dict(options.pop("headers", {}))
        if key is not None:
            headers["API-Key"] = key
        return await self.client.request(method, path, headers=headers, **options)

    async def admin(self, method: str, path: str, **options: Any) -> httpx.Response:
        """A request to the admin API (`path` under `/_mock/`)."""
        return await self.client.request(method, "/_mock" + path, **options)

    async def add(self, *images: dict[str, Any], key: str = "k1", **params: Any) -> Any:
        """POST /imgs; returns the decoded answer (the operation, with `op_id`)."""
        response = await self.wesog("POST", "/imgs", key=key, json=list(images), params=params)
        assert response.status_code in (200, 202), response.text
        return response.json()


@contextmanager
def serve_in_thread(app: ASGIApp) -> Iterator[str]:
    """Run `app` under uvicorn (h11) in a thread on a free port; yields its base URL.

    The pattern of httpx's own test suite. Startup is awaited by polling `started` with a
    bounded wait, never a sleep."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, http="h11", lifespan="off", log_config=None,
        log_level="warning", access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    tick = threading.Event()
    try:
        for _ in range(1000):
            if server.started or not thread.is_alive():
                break
            tick.wait(0.01)
        assert server.started, "uvicorn did not start"
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
