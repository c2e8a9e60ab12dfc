"""The controls middleware on the wire: a request's headers, read once into its
`RequestContext`, and what the journal makes of them; the entry recorded as the answer's last
part leaves; a status fault that reads the body first; a drop where no transport can close."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
from controls_support import Fake, Headers, asgi_scope, asgi_script, image, post_imgs
from starlette.types import Message, Receive, Scope, Send

from wesog_mock import Controller, JournalEntry, MockConfig
from wesog_mock.controls.context import RequestContext
from wesog_mock.http import middleware
from wesog_mock.http.middleware import (
    ConnectionDropped,
    ControlsMiddleware,
    _drop,
    _new_context,
)

pytestmark = pytest.mark.anyio



@pytest.fixture
async def fake() -> AsyncIterator[Fake]:
    async with Fake() as made:
        yield made


def _context(**fields: Any) -> RequestContext:
    """The context of `POST /imgs?wait=true` at 12.5 ms, with `fields` read from its headers."""
    expected = {"api_key": None, "content_type": None, "content_encoding": None,
                "declared_length": None, "chunked": False, **fields}
    return RequestContext(at_ms=12.5, method="POST", path="/imgs", query_string=b"wait=true",
                          **expected)


@pytest.mark.parametrize(("headers", "fields"), [
    ([], {}),
    ([(b"host", b"fake"), (b"x-count", b"7"), (b"accept", b"*/*")], {}),
    (  # any case of the names; of two of one header, the first counts
        [(b"Host", b"fake"), (b"API-Key", b"  k1 "), (b"api-key", b"k2"),
         (b"Content-Type", b"application/json"), (b"content-type", b"text/plain"),
         (b"Content-Encoding", b" GZip "), (b"content-encoding", b"br"),
         (b"Content-Length", b"12"), (b"CONTENT-LENGTH", b"99"), (b"X-Count", b"7")],
        {"api_key": "k1", "content_type": "application/json", "content_encoding": "gzip",
         "declared_length": 12},
    ),
    ([(b"api-key", b"   ")], {}),  # a key of spaces is no key
    ([(b"content-length", b"-1")], {}),  # not a number of bytes
    ([(b"content-length", b"1e3"), (b"x-count", b"7")], {}),
    ([(b"Transfer-Encoding", b"gzip, Chunked"), (b"x-other", b"1")], {"chunked": True}),
    ([(b"transfer-encoding", b"chunked")], {"chunked": True}),
    ([(b"transfer-encoding", b"gzip")], {}),
])
def test_the_context_reads_the_headers_it_names(
    headers: Headers, fields: dict[str, Any]
) -> None:
    scope = {"type": "http", "method": "POST", "path": "/imgs", "query_string": b"wait=true",
             "headers": headers}
    context = _new_context(scope, 12.5)
    assert context == _context(**fields)
    assert context.chunked is fields.get("chunked", False)


async def test_a_chunked_body_the_fake_did_not_read_is_not_judged(fake: Fake) -> None:
    # GET has no body, so the route reads none: with no Content-Length and no chunked
    # encoding there is none to judge; a chunked one might have had something in it.
    await fake.wesog("GET", "/ops")
    await fake.wesog("GET", "/ops", headers={"Transfer-Encoding": "chunked"})
    plain, chunked = fake.controller.journal.entries
    assert (plain.body_checked, plain.body_bytes) == (True, 0)
    assert (chunked.body_checked, chunked.body_bytes) == (False, 0)


def _codes(entry: JournalEntry) -> list[tuple[str, str, str]]:
    return [(f.severity, f.code, f.location) for f in entry.findings]


async def test_a_body_of_exactly_the_limit_is_judged() -> None:
    body = json.dumps([image("a", titel="typo")]).encode()
    async with Fake(max_body_bytes=len(body)) as fake:
        response = await fake.wesog(
            "POST", "/imgs", content=body, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 202
        [entry] = fake.controller.journal.entries
    assert (entry.body_checked, entry.body_bytes) == (True, len(body))
    assert _codes(entry) == [("warning", "unknown_field", "body[0].titel")]


async def test_the_latency_is_the_wall_time_in_milliseconds(
    fake: Fake, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticks = iter([10.0, 10.25])  # perf_counter when the request comes, and when it is answered
    monkeypatch.setattr(middleware, "perf_counter", lambda: next(ticks))
    await fake.wesog("GET", "/ops")
    [entry] = fake.controller.journal.entries
    assert entry.latency_ms == 250.0


async def test_the_entry_is_recorded_as_the_answers_last_part_is_sent(fake: Fake) -> None:
    # So a client that has its answer (over a socket, in another thread) finds the entry.
    journal = fake.controller.journal
    seen: list[tuple[str, int]] = []

    async def send(message: Message) -> None:
        seen.append((message["type"], len(journal)))

    await fake.app(asgi_scope("GET", "/ops", [(b"api-key", b"k1")]),
                   asgi_script([{"type": "http.request"}]), send)
    assert seen == [("http.response.start", 0), ("http.response.body", 1)]


async def test_a_streamed_answer_is_recorded_once_as_its_last_part_is_sent() -> None:
    controller = Controller(MockConfig(clock="virtual"))

    async def streamed(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"[", "more_body": True})
        await send({"type": "http.response.body", "body": b"]"})

    seen: list[tuple[str, int]] = []

    async def send(message: Message) -> None:
        seen.append((message["type"], len(controller.journal)))

    app = ControlsMiddleware(streamed, controller)
    await app(asgi_scope("GET", "/ops", [(b"api-key", b"k1")]), asgi_script([]), send)
    assert seen == [("http.response.start", 0), ("http.response.body", 0),
                    ("http.response.body", 1)]
    [entry] = controller.journal.entries
    assert (entry.status, entry.path) == (200, "/ops")


async def test_a_status_fault_reads_a_streamed_body_of_exactly_the_limit_whole() -> None:
    body = json.dumps([image("a", titel="typo")]).encode()
    async with Fake(max_body_bytes=len(body)) as fake:
        fake.controller.faults.add("status", status=503, path="/imgs")
        # The whole body in the first message, then an empty last one.
        sent = await post_imgs(fake.app, [{"type": "http.request", "body": body, "more_body": True},
                                       {"type": "http.request", "body": b"", "more_body": False}])
        assert sent[0]["status"] == 503
        [entry] = fake.controller.journal.entries
    # Judged from the bytes the fault read (no route decoded them).
    assert (entry.status, entry.body_checked, entry.body_bytes) == (503, True, len(body))
    assert ("warning", "unknown_field", "body[0].titel") in _codes(entry)


async def test_a_status_fault_answers_a_client_gone_mid_body_without_reading_on(
    fake: Fake,
) -> None:
    fake.controller.faults.add("status", status=503, path="/imgs")
    sent = await post_imgs(fake.app, [{"type": "http.request", "body": b"[", "more_body": True},
                                   {"type": "http.disconnect"}])
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[0]["status"] == 503
    [entry] = fake.controller.journal.entries
    assert (entry.status, entry.body_checked, entry.body_bytes) == (503, False, 1)
    assert fake.controller.operations("k1") == []


class _Transport:
    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True


class _Cycle:
    """A server's request cycle: its `send` is bound to it, and it holds `transport`."""

    def __init__(self, transport: object) -> None:
        self.transport = transport

    async def send(self, message: Message) -> None:
        raise AssertionError(f"a drop sends nothing: {message}")


async def _never() -> Message:
    await anyio.sleep_forever()
    raise AssertionError("unreachable")


@pytest.mark.parametrize("transport", [None, object()])
async def test_a_drop_with_no_transport_that_closes_raises(transport: object) -> None:
    # Some other server's `transport`, or none: what an in-process transport passes on.
    with pytest.raises(ConnectionDropped):
        await _drop(_never, _Cycle(transport).send)


async def test_a_drop_closes_the_transport_and_waits_for_the_disconnect() -> None:
    transport = _Transport()
    incoming: list[Message] = [{"type": "http.request", "body": b""}, {"type": "http.disconnect"}]

    async def receive() -> Message:
        return incoming.pop(0)

    with anyio.fail_after(5):
        await _drop(receive, _Cycle(transport).send)
    assert transport.closed
    assert incoming == []


async def test_a_drop_waits_for_the_disconnect_a_bounded_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A server that never reports the disconnect: the drop gives up after its wait (none here).
    monkeypatch.setattr(middleware, "_DROP_WAIT_S", 0.0)
    transport = _Transport()
    with anyio.fail_after(5):
        await _drop(_never, _Cycle(transport).send)
    assert transport.closed
