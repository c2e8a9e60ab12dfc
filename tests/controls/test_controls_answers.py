"""The error answers the fake renders itself, word for word: a failure of its own (500), a
client gone mid-body (400, journaled), and the admin API's refusals (422, 404, 409)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from controls_support import JSON_POST, Fake, image, post_imgs
from starlette.requests import Request

from wesog_mock import Controller, MockConfig, create_app
from wesog_mock.domain.config import ConfigError
from wesog_mock.domain.engine import AlreadyStarted, NotFound
from wesog_mock.http.answers import ADMIN_HANDLERS, AdminProblem, json_bytes, refuse

pytestmark = pytest.mark.anyio


@pytest.fixture
async def fake() -> AsyncIterator[Fake]:
    async with Fake() as made:
        yield made


def _broken(*args: object, **kwargs: object) -> Any:
    raise RuntimeError("a bug of the fake")


@pytest.mark.parametrize(
    ("method", "path", "broken"), [("GET", "/ops", "operations"),
                                   ("GET", "/_mock/state?tenant=k1", "state")],
)
async def test_a_failure_of_the_fake_is_a_bare_500(
    monkeypatch: pytest.MonkeyPatch, method: str, path: str, broken: str
) -> None:
    app = create_app(MockConfig(clock="virtual"))
    controller: Controller = app.state.controller
    monkeypatch.setattr(controller, broken, _broken)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://fake") as client:
        answer = await client.request(method, path, headers={"API-Key": "k1"})
    assert (answer.status_code, answer.json()) == (500, {"detail": "Internal Server Error"})
    assert answer.headers["content-type"] == "application/json"


async def test_a_client_gone_mid_body_is_journaled_as_a_400(fake: Fake) -> None:
    sent = await post_imgs(
        fake.app, [{"type": "http.request", "body": b'[{"id": "a", ', "more_body": True},
                   {"type": "http.disconnect"}],
        headers=[*JSON_POST, (b"content-length", b"100")])
    assert sent[0]["status"] == 400
    assert sent[1]["body"] == (
        b'{"detail":"The client disconnected before it had sent the whole body."}')
    [entry] = fake.controller.journal.entries
    assert (entry.status, entry.body_checked, entry.body_bytes) == (400, False, 100)
    assert fake.controller.operations("k1") == []


_BODY = b'[{"id": "a", "src": "https://example.com/1.jpg"}]'


@pytest.mark.parametrize("messages", [
    # ASGI lets a message leave out `body` (b"") and `more_body` (False): a split body with
    # an empty first message, and one split in two whose last message names no `more_body`.
    [{"type": "http.request", "more_body": True},
     {"type": "http.request", "body": _BODY[:9], "more_body": True},
     {"type": "http.request", "body": _BODY[9:]}],
    [{"type": "http.request", "body": _BODY[:20], "more_body": True},
     {"type": "http.request", "body": _BODY[20:]}],
], ids=["empty-first", "two-parts"])
async def test_a_body_in_asgi_messages_is_read_whole(
    fake: Fake, messages: list[dict[str, Any]]
) -> None:
    # Past the body a server only reports the client leaving: reading on is a bug.
    sent = await post_imgs(fake.app, messages, query=b"wait=true")
    assert sent[0]["status"] == 200
    assert fake.controller.images("k1")["a"]["src"] == "https://example.com/1.jpg"
    # The journal saw the same body, whole, and judged it.
    [entry] = fake.controller.journal.entries
    assert (entry.body_bytes, entry.body_checked, entry.findings) == (len(_BODY), True, ())


async def test_a_refused_setting_is_a_422_naming_it(fake: Fake) -> None:
    answer = await fake.admin("PATCH", "/config", json={"item_ms": -1})
    assert answer.status_code == 422
    with pytest.raises(ConfigError) as expected:
        fake.controller.configure(item_ms=-1)
    assert answer.json() == {"detail": str(expected.value), "field": "item_ms"}
    assert "item_ms" in answer.json()["detail"]


async def test_releasing_an_unknown_operation_is_a_404_naming_it(fake: Fake) -> None:
    answer = await fake.admin("POST", "/faults/release", params={"tenant": "k1", "op_id": "9"})
    assert answer.status_code == 404
    assert answer.json() == {"detail": "Operation 9 not found.", "field": "op_id"}


async def test_a_real_clock_that_cannot_move_is_a_409_naming_the_clock() -> None:
    async with Fake(clock="real") as fake:
        answer = await fake.admin("POST", "/settle")
        assert answer.status_code == 409
        assert answer.json() == {"field": "clock", "detail": (
            "the clock is real and cannot settle; create the fake with clock='virtual' "
            "(wesog-mock serve --clock virtual) to move it")}


async def test_the_domain_errors_carry_what_they_are_about(fake: Fake) -> None:
    assert (AlreadyStarted(7).op_id, NotFound("operation", 7).what) == (7, "operation")
    fake.controller.configure(item_ms=10)
    op_id = (await fake.add(image("a")))["op_id"]
    answer = await fake.wesog("DELETE", f"/ops/{op_id}")
    assert answer.status_code == 409
    assert answer.json() == {"detail": str(AlreadyStarted(op_id))}


def test_json_the_fast_encoder_refuses_is_written_compact_utf8_by_the_standard_library() -> None:
    # orjson refuses an integer past 64 bits and a key that is not a string.
    assert json_bytes({"n": 2**70, "s": "café", "l": [1, None]}) == (
        '{"n":1180591620717411303424,"s":"café","l":[1,null]}'.encode())
    assert json_bytes({1: "é"}) == '{"1":"é"}'.encode()
    assert json_bytes({"s": "café"}) == '{"s":"café"}'.encode()  # orjson's bytes: the same


def test_the_typed_errors_read_as_what_they_answer() -> None:
    # What a traceback or a log shows of one that escapes its handler.
    assert str(refuse(413, "too big")) == "(413, {'detail': 'too big'})"
    assert str(AdminProblem(422, "tenant", "Give the tenant's API key")) == (
        "Give the tenant's API key")


@pytest.mark.parametrize(("error", "field"), [
    (NotFound("operation", 3), "op_id"), (NotFound("image", "a"), "image_id"),
])
async def test_the_admin_apis_404_names_the_field_of_what_was_not_found(
    error: NotFound, field: str
) -> None:
    request = Request({"type": "http", "method": "POST", "path": "/_mock/x", "headers": []})
    answer = await ADMIN_HANDLERS[NotFound](request, error)
    assert answer.status_code == 404
    assert json.loads(bytes(answer.body)) == {"detail": str(error), "field": field}
