"""Shared fixtures: the anyio backend, and the fake's drivers (domain and HTTP over ASGI).

The suite's one conftest: with no `__init__.py` files, a second `conftest` module would collide
under mypy, so fixtures that several folders use live here.

Every HTTP reply passes through `FakeServer.call`, which fails the test on a 5xx and checks the
body against the contract (`openapi.yaml`), so no test can forget to.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias
from urllib.parse import unquote

import httpx
import pytest

from contracts.findings import Finding
from contracts.spec import default_contract
from wesog_mock import Controller, MockConfig, create_app
from wesog_mock.controls.faults import FaultRule
from wesog_mock.domain.batch import BatchKind
from wesog_mock.domain.operations import Mutation, Operation, OperationFault

CONTRACT = default_contract()
Items: TypeAlias = list[tuple[str, dict[str, Any]]]
# A sentinel: "send no body at all", which is not the same as sending JSON null.
NO_BODY: Any = object()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def assert_contract(method: str, path: str, status: int, body: Any) -> None:
    """The reply is one the contract documents, with a body that fits its schema."""
    assert status < 500, (method, path, status, body)
    matched = CONTRACT.match("GET" if method == "HEAD" else method, unquote(path))
    if isinstance(matched, Finding):
        # Off the contract (no such path or method): the router's FastAPI-shaped answer.
        assert status in (404, 405), (method, path, status, body)
        assert isinstance(body, dict)
        assert set(body) == {"detail"}
        assert isinstance(body["detail"], str)
        return
    findings = CONTRACT.validate_response(matched[0], status, body)
    assert not findings, [str(f) for f in findings]


@dataclass(frozen=True, slots=True)
class Reply:
    """One HTTP answer, decoded, with the checks of the error shapes."""

    status: int
    body: Any
    headers: httpx.Headers

    def expect_422(self, *expected: tuple[str, list[str | int]]) -> None:
        """FastAPI's 422 shape, whose errors are exactly `expected` (type, loc) pairs.

        Compared in any order: within one item, the fake lists missing fields before
        mistyped ones, where pydantic would follow the fields' order."""
        assert self.status == 422, self
        body = self.body
        assert isinstance(body, dict)
        assert list(body) == ["detail"]
        assert isinstance(body["detail"], list)
        for error in body["detail"]:
            assert set(error) == {"type", "loc", "msg", "input"}, error
            assert isinstance(error["msg"], str)
            assert error["msg"]
        found = [(e["type"], e["loc"]) for e in body["detail"]]
        assert sorted(found, key=repr) == sorted(expected, key=repr), found

    def expect_detail(self, status: int, *words: str) -> str:
        """`status` with a `{"detail": str}` body that contains every one of `words`."""
        assert self.status == status, self
        assert isinstance(self.body, dict)
        assert list(self.body) == ["detail"]
        detail = self.body["detail"]
        assert isinstance(detail, str)
        for word in words:
            assert word in detail, (word, detail)
        return detail


class FakeServer:
    """One fake app, an ASGI client bound to it, and its controller."""

    def __init__(self, config: MockConfig) -> None:
        self.app = create_app(config)
        self.controller: Controller = self.app.state.controller
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://test"
        )

    async def call(
        self,
        method: str,
        path: str,
        *,
        key: str | None = "k1",
        params: Mapping[str, str | list[str]] | None = None,
        body: Any = NO_BODY,
        content: bytes | AsyncIterable[bytes] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """Send one request; the answer must be documented and schema-valid, never a 5xx."""
        sent = dict(headers or {})
        if key is not None:
            sent["API-Key"] = key
        if body is not NO_BODY:
            content = json.dumps(body).encode()
            sent.setdefault("Content-Type", "application/json")
        response = await self.client.request(
            method, path, params=params, content=content, headers=sent
        )
        if method == "HEAD":
            assert response.status_code < 500
            assert response.content == b""
            return Reply(response.status_code, None, response.headers)
        if response.headers["content-type"].startswith("application/yaml"):
            return Reply(response.status_code, response.text, response.headers)
        assert response.headers["content-type"] == "application/json"
        decoded = response.json()
        assert_contract(method, path, response.status_code, decoded)
        return Reply(response.status_code, decoded, response.headers)

    async def ops(self, key: str = "k1") -> list[dict[str, Any]]:
        """`GET /ops` for `key`."""
        reply = await self.call("GET", "/ops", key=key)
        assert reply.status == 200
        result: list[dict[str, Any]] = reply.body
        return result

    async def op(self, op_id: int, key: str = "k1") -> dict[str, Any]:
        """`GET /ops/{op_id}`, which must exist."""
        reply = await self.call("GET", f"/ops/{op_id}", key=key)
        assert reply.status == 200, reply
        result: dict[str, Any] = reply.body
        return result

    def state(self) -> dict[str, Any]:
        """Every tenant's images and operations, to show that a request changed nothing."""
        controller = self.controller
        return {key: (controller.images(key), controller.operations(key))
                for key in controller.tenants()}

    async def aclose(self) -> None:
        await self.client.aclose()


MakeFake: TypeAlias = Callable[..., FakeServer]


@pytest.fixture
async def make_fake() -> AsyncIterator[MakeFake]:
    """A factory of fakes: `make_fake(item_ms=10)` (virtual clock unless told otherwise)."""
    made: list[FakeServer] = []

    def make(**settings: Any) -> FakeServer:
        settings.setdefault("clock", "virtual")
        server = FakeServer(MockConfig(**settings))
        made.append(server)
        return server

    yield make
    for server in made:
        await server.aclose()


@pytest.fixture
def fake(make_fake: MakeFake) -> FakeServer:
    """A fake on a virtual clock with zero delays."""
    return make_fake()


class Domain:
    """Drives a Controller and its Engine directly, with no HTTP in between."""

    def __init__(self, config: MockConfig) -> None:
        self.controller = Controller(config)

    def submit(
        self,
        kind: BatchKind,
        items: Items,
        *,
        tenant: str = "t1",
        strict: bool = False,
        urgent: bool = False,
        wait: bool = False,
        lang: str = "en",
        fault: OperationFault | None = None,
    ) -> Operation:
        mutation = Mutation(tenant=tenant, kind=kind, items=items, wait=wait, urgent=urgent,
                            strict=strict, lang=lang)
        return self.controller.submit(mutation, None if fault is None else FaultRule(kind=fault))

    def run(self, kind: BatchKind, items: Items, **options: Any) -> dict[str, Any]:
        """Submit, let the queue settle, and return the finished operation's view."""
        op = self.submit(kind, items, **options)
        self.controller.settle()
        view = self.view(op)
        assert view["is_finished"] is True
        return view

    def view(self, op: Operation, *, with_id: bool = True) -> dict[str, Any]:
        return self.controller.view(op, with_id=with_id)

    def images(self, tenant: str = "t1") -> dict[str, dict[str, Any]]:
        """Stored images by id, each with only its non-null fields."""
        return {
            image_id: {k: v for k, v in image.items() if v is not None and k != "image_id"}
            for image_id, image in self.controller.images(tenant).items()
        }

    def seed(self, images: Iterable[Mapping[str, Any]], tenant: str = "t1") -> None:
        self.controller.seed(tenant, images)


MakeDomain: TypeAlias = Callable[..., Domain]


@pytest.fixture
def make_domain() -> MakeDomain:
    """A factory of domain drivers: `make_domain(item_ms=10)` (virtual clock by default)."""

    def make(**settings: Any) -> Domain:
        settings.setdefault("clock", "virtual")
        return Domain(MockConfig(**settings))

    return make


@pytest.fixture
def domain(make_domain: MakeDomain) -> Domain:
    """A domain driver on a virtual clock with zero delays."""
    return make_domain()
