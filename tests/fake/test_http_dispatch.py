"""`ApiDispatch`: which way a request takes through the app.

The contract's routes go straight to their handlers; every other request (the admin API,
`/openapi.yaml`, an unknown path or method, an app mounted under a `root_path`, the lifespan)
goes to Starlette's stack. The same handlers answer either way, so these tests watch the
fallback (`ApiDispatch.app`) to see which way a request went.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wesog_mock.http.dispatch import ApiDispatch
from wesog_mock.http.middleware import ControlsMiddleware

if TYPE_CHECKING:
    from conftest import FakeServer

pytestmark = pytest.mark.anyio

SRC = "https://example.com/1.jpg"
Seen = tuple[str, str | None, str | None]


class Fallback:
    """Starlette's stack behind the dispatch, noting (type, method, path) of what reaches it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.seen: list[Seen] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.seen.append((scope["type"], scope.get("method"), scope.get("path")))
        await self.app(scope, receive, send)


def watch_fallback(fake: FakeServer) -> Fallback:
    """Build the fake's stack with its dispatch's fallback watched, and serve with it."""
    stack = fake.app.build_middleware_stack()
    assert isinstance(stack, ControlsMiddleware)
    dispatch = stack.app
    assert isinstance(dispatch, ApiDispatch)
    fallback = Fallback(dispatch.app)
    dispatch.app = fallback
    fake.app.middleware_stack = stack
    return fallback


# Every (method, path) route of the contract, with a request its handler answers, and the status.
CONTRACT_REQUESTS: list[tuple[str, str, object, int]] = [
    ("POST", "/imgs", [{"id": "a", "src": SRC}], 202),
    ("PUT", "/imgs", [{"id": "a", "src": SRC}], 202),
    ("PATCH", "/imgs", [{"id": "a", "title": "T"}], 202),
    ("DELETE", "/imgs", [{"id": "a"}], 202),
    ("POST", "/imgs/b", {"src": SRC}, 202),
    ("PUT", "/imgs/b", {"src": SRC}, 202),
    ("PATCH", "/imgs/b", {"title": "T"}, 202),
    ("DELETE", "/imgs/b", None, 202),
    ("GET", "/imgs/b", None, 404),  # no such image: the handler's 404, not the router's
    ("HEAD", "/imgs/b", None, 404),
    ("GET", "/ops", None, 200),
    ("HEAD", "/ops", None, 200),
    ("GET", "/ops/1", None, 200),
    ("HEAD", "/ops/1", None, 200),
    ("DELETE", "/ops/1", None, 409),
]


async def test_every_contract_route_is_answered_past_starlettes_router(
    fake: FakeServer,
) -> None:
    fallback = watch_fallback(fake)
    answered = []
    for method, path, body, _ in CONTRACT_REQUESTS:
        reply = await (fake.call(method, path) if body is None
                       else fake.call(method, path, body=body))
        answered.append(reply.status)
    assert answered == [status for *_, status in CONTRACT_REQUESTS]
    assert fallback.seen == []
    # The handler's own 404 names the image, as it does through Starlette.
    reply = await fake.call("GET", "/imgs/b")
    assert "b" in reply.expect_detail(404)
    assert reply.body != {"detail": "Not Found"}


async def test_an_id_spelled_like_the_route_template_is_an_id(fake: FakeServer) -> None:
    fallback = watch_fallback(fake)
    reply = await fake.call("POST", "/imgs/{image_id}", body={"src": SRC})
    assert reply.status == 202
    fake.controller.settle()
    assert list(fake.controller.images("k1")) == ["{image_id}"]
    reply = await fake.call("GET", "/imgs/{image_id}")
    assert (reply.status, reply.body["image_id"]) == (200, "{image_id}")
    assert fallback.seen == []


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/openapi.yaml", 200),
    ("GET", "/_mock/health", 200),
    ("GET", "/nowhere", 404),
    ("GET", "/imgs/", 404),  # an empty id: Starlette's `str` parameter takes one character or more
    ("GET", "/imgs/a/b", 404),  # an id has no `/`
    ("GET", "/ops/", 404),
    ("GET", "/imgs", 405),  # a contract path with a method its route does not take
    ("POST", "/ops", 405),
    ("PUT", "/ops/1", 405),
])
async def test_every_other_request_goes_to_starlettes_stack(
    fake: FakeServer, method: str, path: str, status: int
) -> None:
    fallback = watch_fallback(fake)
    response = await fake.client.request(method, path, headers={"API-Key": "k1"})
    assert response.status_code == status
    assert fallback.seen == [("http", method, path)]
    if status == 405:
        assert "allow" in response.headers


@pytest.mark.parametrize("url", ["/api/ops", "/ops"])
async def test_an_app_mounted_under_a_root_path_is_routed_by_starlette(
    fake: FakeServer, url: str
) -> None:
    # Starlette's router takes the root path off the path (or finds it not there); the
    # dispatch leaves that to it, even for a path that looks like the contract's.
    fallback = watch_fallback(fake)
    transport = httpx.ASGITransport(app=fake.app, root_path="/api")
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get(url, headers={"API-Key": "k1"})
    assert (response.status_code, response.json()) == (200, [])
    assert fallback.seen == [("http", "GET", url)]


async def test_the_lifespan_goes_to_starlettes_stack(fake: FakeServer) -> None:
    fallback = watch_fallback(fake)
    incoming: list[Message] = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    await fake.app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete",
                                         "lifespan.shutdown.complete"]
    assert fallback.seen == [("lifespan", None, None)]
