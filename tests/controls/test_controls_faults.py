"""Fault rules: every kind, how rules match and count, seeded chance, and no state corrupted."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest
from controls_support import Fake, image

import wesog_mock.http.middleware
from wesog_mock import ConnectionDropped, FaultError, FaultRule

pytestmark = pytest.mark.anyio



@pytest.fixture
async def fake() -> AsyncIterator[Fake]:
    async with Fake() as made:
        yield made


def _snapshot(fake: Fake) -> Any:
    controller = fake.controller
    return {key: (controller.images(key), controller.operations(key)) for key in ("k1", "k2")}


# -- request faults ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "detail"),
    [(500, "Internal Server Error"), (502, "Bad Gateway"), (503, "Service Unavailable"),
     (504, "Gateway Timeout")],
)
async def test_a_status_fault_answers_in_fastapi_shape_and_changes_nothing(
    fake: Fake, status: int, detail: str
) -> None:
    await fake.add(image("a"))
    before = _snapshot(fake)
    fake.controller.faults.add("status", status=status, times=1)
    response = await fake.wesog("DELETE", "/imgs", json=[{"id": "a"}], params={"wait": "true"})
    assert response.status_code == status
    assert response.json() == {"detail": detail}
    assert "retry-after" not in response.headers
    assert _snapshot(fake) == before  # the route never ran
    again = await fake.wesog("DELETE", "/imgs", json=[{"id": "a"}], params={"wait": "true"})
    assert again.status_code == 200  # times=1: it fired once
    assert fake.controller.images("k1") == {}


async def test_a_429_carries_retry_after(fake: Fake) -> None:
    fake.controller.faults.add("status", status=429, retry_after_s=7, message="Slow down.")
    response = await fake.wesog("GET", "/ops")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    assert response.json() == {"detail": "Slow down."}
    default = fake.controller.faults.add("status", status=429, method="POST")
    assert default.retry_after_s == 1  # a 429 always says when


async def test_a_503_may_carry_retry_after(fake: Fake) -> None:
    fake.controller.faults.add("status", retry_after_s=2)
    response = await fake.wesog("GET", "/ops")
    assert (response.status_code, response.headers["retry-after"]) == (503, "2")


async def test_a_latency_fault_delays_the_answer_in_wall_time(
    fake: Fake, monkeypatch: pytest.MonkeyPatch
) -> None:
    delays: list[float] = []

    async def record(seconds: float) -> None:
        delays.append(seconds)

    # No test sleeps: the delay is recorded instead.
    monkeypatch.setattr(wesog_mock.http.middleware, "_wall_sleep", record)
    fake.controller.faults.add("latency", latency_ms=1500, path="/ops*", times=2)
    before = fake.controller.now_ms()
    assert (await fake.wesog("GET", "/ops")).status_code == 200
    assert (await fake.add(image("a")))["op_id"] == 1
    assert (await fake.wesog("GET", "/ops/1")).status_code == 200
    assert delays == [1.5, 1.5]
    assert fake.controller.now_ms() == before  # the virtual clock did not move
    [rule] = fake.controller.faults.list()
    assert (rule.fired, rule.remaining, rule.exhausted) == (2, 0, True)


async def test_a_drop_fault_raises_in_the_asgi_client_and_changes_nothing(fake: Fake) -> None:
    fake.controller.faults.add("drop", method="POST", path="/imgs", times=1)
    with pytest.raises(httpx.RemoteProtocolError) as raised:
        await fake.add(image("a"))
    assert isinstance(raised.value, ConnectionDropped)
    assert raised.value.request.url.path == "/imgs"
    assert _snapshot(fake) == {"k1": ({}, []), "k2": ({}, [])}
    [entry] = fake.controller.journal.entries
    assert (entry.status, entry.dropped, entry.fault_kind) == (None, True, "drop")
    assert (await fake.add(image("a")))["op_id"] == 1


async def test_rules_match_method_path_and_tenant(fake: Fake) -> None:
    faults = fake.controller.faults
    faults.add("status", status=500, method="get", path="/imgs/*", tenant="k2")
    assert faults.list()[0].method == "GET"
    await fake.add(image("a"), key="k2")
    assert (await fake.wesog("GET", "/imgs/a", key="k2")).status_code == 500
    assert (await fake.wesog("GET", "/imgs/a", key="k1")).status_code == 404  # other tenant
    assert (await fake.wesog("GET", "/ops", key="k2")).status_code == 200  # other path
    assert (await fake.add(image("b"), key="k2"))["op_id"] == 2  # other method
    assert faults.list()[0].fired == 1


async def test_the_first_matching_rule_fires(fake: Fake) -> None:
    faults = fake.controller.faults
    faults.add("status", status=502, times=1)
    faults.add("status", status=504, times=1)
    statuses = [(await fake.wesog("GET", "/ops")).status_code for _ in range(3)]
    assert statuses == [502, 504, 200]


async def test_faults_do_not_touch_the_admin_api(fake: Fake) -> None:
    fake.controller.faults.add("status", status=500)
    assert (await fake.admin("GET", "/health")).status_code == 200
    assert (await fake.admin("DELETE", "/faults")).status_code == 200


async def test_removing_and_clearing_rules(fake: Fake) -> None:
    faults = fake.controller.faults
    first = faults.add("status", status=500, tenant="k1")
    second = faults.add("drop", tenant="k2")
    assert faults.remove(first.id) is True
    assert faults.remove(first.id) is False
    assert faults.list() == [second]
    fake.controller.reset("k2")  # a tenant's reset removes its rules
    assert faults.list() == []
    assert (await fake.wesog("GET", "/ops", key="k2")).status_code == 200


def test_rules_are_typed_and_validated_in_python() -> None:
    rule = FaultRule(kind="fail", path="/imgs*", message="disk full", times=3)
    assert (rule.operation_fault, rule.reason) == ("fail", "disk full")
    assert rule.is_request_fault is False
    assert FaultRule(kind="status").status == 503
    assert FaultRule(kind="hold").reason == "injected failure"
    with pytest.raises(FaultError) as raised:
        FaultRule(kind="latency", latency_ms=-5)
    assert raised.value.field == "latency_ms"
    with pytest.raises(FaultError):
        FaultRule.from_dict({"kind": "drop", "fired": 3})
    assert FaultRule.from_dict({"kind": "vanish", "times": 1}) == FaultRule(kind="vanish", times=1)


# -- seeded chance -------------------------------------------------------------------------------


async def _pattern(fake: Fake, requests: int = 40) -> list[int]:
    return [(await fake.wesog("GET", "/ops")).status_code for _ in range(requests)]


async def test_probability_faults_are_reproducible_for_a_seed() -> None:
    patterns = []
    for seed in (7, 7, 8):
        async with Fake(seed=seed) as fake:
            fake.controller.faults.add("status", status=503, probability=0.5)
            patterns.append(await _pattern(fake))
    assert patterns[0] == patterns[1]
    assert patterns[0] != patterns[2]
    assert 0 < patterns[0].count(503) < 40


async def test_a_reset_restarts_the_seeded_generator() -> None:
    async with Fake(seed=11) as fake:
        fake.controller.faults.add("status", probability=0.3)
        first = await _pattern(fake)
        fake.controller.reset()
        fake.controller.faults.add("status", probability=0.3)
        assert await _pattern(fake) == first
        fake.controller.configure(seed=12)
        fake.controller.faults.clear()
        fake.controller.faults.add("status", probability=0.3)
        assert await _pattern(fake) != first


async def test_probability_and_times_combine() -> None:
    async with Fake(seed=3) as fake:
        rule = fake.controller.faults.add("status", probability=0.5, times=4)
        pattern = await _pattern(fake)
        assert pattern.count(503) == 4
        assert fake.controller.faults.list() == [
            FaultRule(kind="status", status=503, probability=0.5, times=4, id=rule.id, fired=4)
        ]


def _replayed(seed: int, probabilities: list[float], statuses: list[int], requests: int = 40,
              ) -> list[int]:
    """What rules matching every request answer, in order, drawn as the registry documents:
    one draw per matching rule, in the order added; a miss lets the next rule draw."""
    draws = random.Random(seed)
    answers = []
    for _ in range(requests):
        answers.append(next(
            (status for p, status in zip(probabilities, statuses, strict=True)
             if p >= 1 or draws.random() < p),
            200,
        ))
    return answers


async def test_a_rule_whose_draw_misses_lets_the_next_matching_rule_fire() -> None:
    async with Fake(seed=5) as fake:
        chancy = fake.controller.faults.add("status", status=502, probability=0.5)
        always = fake.controller.faults.add("status", status=429, path="/ops")
        pattern = await _pattern(fake)
        assert pattern == _replayed(5, [0.5, 1.0], [502, 429])
        assert set(pattern) == {502, 429}  # never a 200: the second rule catches every miss
        rules = {rule.id: rule.fired for rule in fake.controller.faults.list()}
        assert rules == {chancy.id: pattern.count(502), always.id: pattern.count(429)}


async def test_two_matching_rules_below_probability_1_draw_in_turn() -> None:
    patterns = []
    for _ in range(2):
        async with Fake(seed=21) as fake:
            fake.controller.faults.add("status", status=500, probability=0.3)
            fake.controller.faults.add("status", status=504, method="GET", probability=0.6)
            patterns.append(await _pattern(fake, requests=60))
    assert patterns[0] == patterns[1]  # the seed decides
    assert patterns[0] == _replayed(21, [0.3, 0.6], [500, 504], requests=60)
    assert set(patterns[0]) == {500, 504, 200}  # each rule, and neither


# -- operation faults ----------------------------------------------------------------------------


async def test_a_held_operation_stays_queued_until_released(fake: Fake) -> None:
    fake.controller.faults.add("hold", method="POST", path="/imgs*", times=1)
    held = await fake.add(image("a"))
    other = await fake.add(image("b"), key="k2")  # another tenant is not held up
    op_id = held["op_id"]
    for _ in range(25):
        fake.controller.advance(60_000)
        view = (await fake.wesog("GET", f"/ops/{op_id}")).json()
        assert (view["is_started"], view["is_finished"], view["all_good"]) == (False, False, None)
    assert fake.controller.settle() == 0  # nothing can happen by itself
    assert (await fake.wesog("GET", "/imgs/a")).status_code == 404
    assert (await fake.wesog("GET", f"/ops/{other['op_id']}", key="k2")).json()["is_finished"]
    released = await fake.admin(
        "POST", "/faults/release", params={"tenant": "k1", "op_id": str(op_id)}
    )
    assert released.json() == {"released": [op_id]}
    view = (await fake.wesog("GET", f"/ops/{op_id}")).json()
    assert (view["is_finished"], view["all_good"]) == (True, True)
    assert (await fake.wesog("GET", "/imgs/a")).status_code == 200


async def test_held_operations_block_their_tenant_and_release_together(fake: Fake) -> None:
    fake.controller.faults.add("hold", times=2)
    first = (await fake.add(image("a")))["op_id"]
    second = (await fake.add(image("b")))["op_id"]
    third = (await fake.add(image("c")))["op_id"]  # not held, but queued behind them
    fake.controller.settle()
    assert not (await fake.wesog("GET", f"/ops/{third}")).json()["is_started"]
    assert (await fake.admin("POST", "/faults/release")).json() == {"released": [first, second]}
    fake.controller.settle()
    assert sorted(fake.controller.images("k1")) == ["a", "b", "c"]


async def test_a_held_operation_with_wait_answers_when_released(fake: Fake) -> None:
    fake.controller.faults.add("hold", times=1)
    answers: list[httpx.Response] = []

    async def post() -> None:
        answers.append(await fake.wesog("POST", "/imgs", json=[image("a")], params={"wait": "1"}))

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(post)
        for _ in range(1000):  # until the request has queued its operation (no sleep: yields)
            if fake.controller.held():
                break
            await anyio.lowlevel.checkpoint()
        fake.controller.advance(10_000)
        # Give the waiting request every chance to answer (it would within a few yields if
        # the hold let its operation run): it must still be waiting.
        for _ in range(200):
            await anyio.lowlevel.checkpoint()
        assert answers == []  # still waiting: the operation is held
        assert fake.controller.release_held("k1") == [1]
    [answer] = answers
    assert (answer.status_code, answer.json()["all_good"]) == (200, True)


async def test_a_vanished_operation_answers_404(fake: Fake) -> None:
    fake.controller.faults.add("vanish", path="/imgs", times=1)
    accepted = await fake.wesog("POST", "/imgs", json=[image("a")])
    assert accepted.status_code == 202
    op_id = accepted.json()["op_id"]
    fake.controller.settle()
    gone = await fake.wesog("GET", f"/ops/{op_id}")
    assert gone.status_code == 404
    assert gone.json() == {"detail": f"Operation {op_id} not found."}
    assert (await fake.wesog("DELETE", f"/ops/{op_id}")).status_code == 404
    assert (await fake.wesog("GET", "/ops")).json() == []
    assert fake.controller.images("k1") == {}
    after = await fake.add(image("b"))
    assert after["op_id"] == op_id + 1  # its id is never handed out again


async def test_a_vanished_operation_answers_at_once_even_with_wait(fake: Fake) -> None:
    fake.controller.faults.add("vanish", times=1)
    accepted = await fake.wesog("POST", "/imgs", json=[image("a")], params={"wait": "true"})
    assert accepted.status_code == 202
    assert accepted.json()["do_wait"] is True
    assert (await fake.wesog("GET", f"/ops/{accepted.json()['op_id']}")).status_code == 404


async def test_a_failed_operation_reports_every_item_and_stores_nothing(fake: Fake) -> None:
    await fake.add(image("keep"))
    fake.controller.faults.add("fail", message="disk full", times=1)
    response = await fake.wesog(
        "PUT", "/imgs", json=[image("keep", title="x"), image("new")],
        params={"wait": "true", "lang": "en"},
    )
    assert response.status_code == 200
    view = response.json()
    assert (view["is_finished"], view["all_good"]) == (True, False)
    assert (view["num_total"], view["num_good"], view["num_bad"]) == (2, 0, 2)
    assert [error["id"] for error in view["errors"]] == [0, 1]
    for error, image_id in zip(view["errors"], ("keep", "new"), strict=True):
        assert "disk full" in error["msg"]
        assert image_id in error["msg"]
    assert fake.controller.images("k1") == {"keep": fake.controller.images("k1")["keep"]}
    assert fake.controller.images("k1")["keep"]["title"] is None
    [entry] = fake.controller.journal.filter(path="/imgs", status=200)
    assert (entry.method, entry.fault_kind, entry.fault_id) == ("PUT", "fail", 1)


async def test_operation_faults_only_fire_on_operations(fake: Fake) -> None:
    fake.controller.faults.add("fail", times=1)
    assert (await fake.wesog("GET", "/ops")).status_code == 200
    bad = await fake.wesog("POST", "/imgs", json=[{"id": "x"}])  # invalid: no operation
    assert bad.status_code == 422
    assert fake.controller.faults.list()[0].fired == 0
    view = await fake.add(image("a"), wait="true")
    assert view["all_good"] is False


async def _asgi_messages(fake: Fake, path: str) -> list[dict[str, Any]]:
    """The messages the app sends for one GET, as the server sees them (raw ASGI)."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(dict(message))

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": b"", "root_path": "", "headers": [(b"api-key", b"k1")],
             "client": ("127.0.0.1", 1), "server": ("fake", 80)}
    await fake.app(scope, receive, send)
    return sent


async def test_a_status_fault_answer_on_the_wire(fake: Fake) -> None:
    fake.controller.faults.add("status", status=503, retry_after_s=4, path="/ops", times=1)
    fake.controller.faults.add("status", status=502, message="upstream, down", path="/ops")
    first, second = await _asgi_messages(fake, "/ops"), await _asgi_messages(fake, "/ops")
    # ASGI header names are lowercase; the body compact JSON, its length declared.
    assert first == [
        {"type": "http.response.start", "status": 503, "headers": [
            (b"content-type", b"application/json"), (b"content-length", b"32"),
            (b"retry-after", b"4")]},
        {"type": "http.response.body", "body": b'{"detail":"Service Unavailable"}'},
    ]
    assert second[0]["headers"] == [(b"content-type", b"application/json"),
                                    (b"content-length", b"%d" % len(second[1]["body"]))]
    assert second[1]["body"] == b'{"detail":"upstream, down"}'


async def test_a_drop_in_process_says_what_a_client_would_see(fake: Fake) -> None:
    fake.controller.faults.add("drop", times=1)
    with pytest.raises(ConnectionDropped) as raised:
        await fake.wesog("GET", "/ops")
    assert str(raised.value) == "Server disconnected without sending a response."
