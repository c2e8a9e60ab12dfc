"""Operations seen over HTTP as time moves on the virtual clock (D5-D9, A4, A5, A7, A8, A14)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import anyio
import anyio.lowlevel
import pytest

if TYPE_CHECKING:
    from conftest import Domain, FakeServer, MakeFake, Reply

pytestmark = pytest.mark.anyio

SRC = "https://example.com/1.jpg"


def images(ids: str) -> list[dict[str, Any]]:
    return [{"id": image_id, "src": SRC} for image_id in ids]


async def yield_until(condition: Callable[[], bool], rounds: int = 200) -> None:
    """Let other tasks run (no time passes) until `condition` holds."""
    for _ in range(rounds):
        if condition():
            return
        await anyio.lowlevel.checkpoint()
    raise AssertionError("the condition never held")


async def yield_a_while(rounds: int = 50) -> None:
    for _ in range(rounds):
        await anyio.lowlevel.checkpoint()


def summary(op: dict[str, Any]) -> tuple[Any, ...]:
    return (op["is_started"], op["is_finished"], op["num_good"], op["num_bad"], op["all_good"])


async def test_d9_an_operation_is_seen_queued_then_running_then_finished(
    make_fake: MakeFake,
) -> None:
    fake = make_fake(queue_delay_ms=50, item_ms=10)
    fake.controller.seed("k1", images("c"))
    accepted = await fake.call("POST", "/imgs", params={"strict": "1"}, body=images("abcde"))
    op_id = accepted.body["op_id"]
    timeline: list[tuple[Any, ...]] = []
    errors: list[list[dict[str, Any]]] = []
    for step in [0, 25, 25, 10, 10, 10, 10, 10, 100]:
        fake.controller.advance(step)
        op = await fake.op(op_id)
        assert op["num_total"] == 5
        timeline.append(summary(op))
        errors.append(op["errors"])
        assert set(fake.controller.images("k1")) == {"c"}  # D5: never half applied
    assert timeline == [
        (False, False, 0, 0, None),  # queued
        (False, False, 0, 0, None),
        (True, False, 0, 0, True),  # started at 50 ms
        (True, False, 1, 0, True),
        (True, False, 2, 0, True),
        (True, False, 2, 1, False),  # item 2 ('c') fails: all_good turns false mid-way
        (True, False, 3, 1, False),
        (True, True, 4, 1, False),  # finished at 100 ms
        (True, True, 4, 1, False),
    ]
    assert errors[4] == []
    assert errors[-1] == [{"id": 2, "msg": "La imagen 'c' ya existe."}]


async def test_d5_reads_see_the_old_image_until_the_operation_finishes(
    make_fake: MakeFake,
) -> None:
    fake = make_fake(item_ms=10)
    fake.controller.seed("k1", [{"id": "a", "src": "old", "title": "T"}])
    await fake.call("PUT", "/imgs", body=[{"id": "a", "src": "new"}, {"id": "b", "src": SRC}])
    fake.controller.advance(15)
    during = await fake.call("GET", "/imgs/a")
    assert (during.body["src"], during.body["title"]) == ("old", "T")
    fake.controller.advance(5)
    after = await fake.call("GET", "/imgs/a")
    assert (after.body["src"], after.body["title"]) == ("new", None)


async def test_a7_durations_never_decrease_and_timestamps_appear_once_reached(
    make_fake: MakeFake,
) -> None:
    fake = make_fake(queue_delay_ms=20, item_ms=5, jitter_ms=7, seed=11)
    ids = []
    for n in range(4):
        reply = await fake.call("DELETE", "/imgs", key=f"k{n % 2}", body=[{"id": "a"}] * 3)
        ids.append(reply.body["op_id"])
    last: dict[int, dict[str, Any]] = {}
    for _ in range(60):
        fake.controller.advance(2)
        for n, op_id in enumerate(ids):
            op = await fake.op(op_id, key=f"k{n % 2}")
            before = last.get(op_id)
            if before is not None:
                assert op["idle_ms"] >= before["idle_ms"]
                assert op["exec_ms"] >= before["exec_ms"]
                assert op["is_started"] >= before["is_started"]
                if before["is_finished"]:
                    assert op == before  # D9: a finished operation never changes
            assert (op["started_at"] is None) == (not op["is_started"])
            assert (op["finished_at"] is None) == (not op["is_finished"])
            last[op_id] = op
    assert all(op["is_finished"] for op in last.values())


async def test_d6_a4_urgent_operations_overtake_queued_ones(make_fake: MakeFake) -> None:
    fake = make_fake(item_ms=10)
    sent = [
        ("k1", {}), ("k1", {}), ("k2", {}), ("k1", {"urgent": "true"}), ("k2", {"urgent": "1"}),
    ]
    ids = [
        (await fake.call("DELETE", "/imgs/a", key=key, params=params)).body["op_id"]
        for key, params in sent
    ]
    fake.controller.settle()
    started = {}
    for op_id, (key, _) in zip(ids, sent, strict=True):
        op = await fake.op(op_id, key=key)
        started[op_id] = op["started_at"]
        assert op["do_urgent"] is (op_id in ids[3:])
    order = sorted(ids, key=lambda op_id: started[op_id])
    # The first was running; the later urgent one went to the head, before the earlier urgent.
    assert order == [ids[0], ids[4], ids[3], ids[1], ids[2]]


async def test_a8_cancel_before_the_start_and_409_once_running(make_fake: MakeFake) -> None:
    fake = make_fake(queue_delay_ms=30, item_ms=10)
    fake.controller.seed("k1", images("ab"))
    first = (await fake.call("DELETE", "/imgs/a")).body["op_id"]
    second = (await fake.call("DELETE", "/imgs/b")).body["op_id"]
    fake.controller.advance(35)  # the first runs, the second waits behind it
    assert (await fake.op(first))["is_started"] is True
    refused = await fake.call("DELETE", f"/ops/{first}")
    refused.expect_detail(409, str(first), "already started")
    cancelled = await fake.call("DELETE", f"/ops/{second}")
    assert cancelled.status == 200
    assert summary(cancelled.body) == (False, True, 0, 0, False)
    assert (cancelled.body["errors"], cancelled.body["exec_ms"]) == ([], 0)
    fake.controller.settle()
    assert await fake.op(second) == cancelled.body
    assert set(fake.controller.images("k1")) == {"b"}  # the cancelled delete changed nothing
    assert (await fake.call("DELETE", f"/ops/{second}")).status == 409


async def test_d7_wait_true_blocks_until_the_clock_finishes_the_operation(
    make_fake: MakeFake,
) -> None:
    fake = make_fake(item_ms=10)

    task = asyncio.ensure_future(
        fake.call("POST", "/imgs", params={"wait": "true"}, body=images("abc"))
    )
    await yield_until(lambda: bool(fake.controller.operations("k1")))
    await yield_a_while()
    assert not task.done()
    assert fake.controller.images("k1") == {}
    fake.controller.advance(29)
    await yield_a_while()
    assert not task.done()
    fake.controller.advance(1)
    await yield_until(task.done)
    reply: Reply = task.result()
    assert reply.status == 200
    assert summary(reply.body) == (True, True, 3, 0, True)
    assert (reply.body["do_wait"], reply.body["exec_ms"]) == (True, 30)
    assert set(fake.controller.images("k1")) == {"a", "b", "c"}


async def test_a5_wait_true_falls_back_to_202_past_the_sync_timeout(
    make_fake: MakeFake,
) -> None:
    fake = make_fake(sync_timeout_s=1, queue_delay_ms=5_000)
    task = asyncio.ensure_future(
        fake.call("PATCH", "/imgs/a", params={"wait": "true"}, body={"title": "T"})
    )
    await yield_until(lambda: bool(fake.controller.operations("k1")))
    fake.controller.advance(999)
    await yield_a_while()
    assert not task.done()
    fake.controller.advance(1)
    await yield_until(task.done)
    reply: Reply = task.result()
    assert reply.status == 202
    assert summary(reply.body) == (False, False, 0, 0, None)
    assert (reply.body["do_wait"], reply.body["idle_ms"]) == (True, 1000)
    fake.controller.settle()
    assert (await fake.op(reply.body["op_id"]))["is_finished"] is True


async def test_configure_leaves_queued_operations_with_the_delays_they_were_given(
    make_fake: MakeFake,
) -> None:
    fake = make_fake(queue_delay_ms=50, item_ms=100)
    first = (await fake.call("POST", "/imgs", body=images("a"))).body["op_id"]
    second = (await fake.call("POST", "/imgs", body=images("bc"))).body["op_id"]  # behind it
    fake.controller.configure(queue_delay_ms=5_000, item_ms=1_000)
    third = (await fake.call("POST", "/imgs", body=images("d"))).body["op_id"]
    fake.controller.advance(150)  # ready at 50, one item of 100 ms
    assert summary(await fake.op(first)) == (True, True, 1, 0, True)
    running = await fake.op(second)
    assert (running["is_started"], running["is_finished"]) == (True, False)
    fake.controller.advance(200)  # started at 150 when the first finished, two items of 100 ms
    done = await fake.op(second)
    assert summary(done) == (True, True, 2, 0, True)
    assert (done["idle_ms"], done["exec_ms"]) == (150, 200)
    assert set(fake.controller.images("k1")) == {"a", "b", "c"}
    # Submitted after the change: the new delays.
    fake.controller.advance(5_000 - 350 + 999)
    running = await fake.op(third)
    assert (running["is_started"], running["is_finished"]) == (True, False)
    fake.controller.advance(1)
    late = await fake.op(third)
    assert (late["is_finished"], late["idle_ms"], late["exec_ms"]) == (True, 5_000, 1_000)


async def test_d7_wait_false_answers_at_once_whatever_the_delays(make_fake: MakeFake) -> None:
    fake = make_fake(queue_delay_ms=10_000, item_ms=10_000)
    reply = await fake.call("POST", "/imgs", body=images("ab"))
    assert reply.status == 202
    assert summary(reply.body) == (False, False, 0, 0, None)


async def test_a5_a_failed_operation_with_wait_true_is_still_200(fake: FakeServer) -> None:
    reply = await fake.call("PATCH", "/imgs/nope", params={"wait": "on", "strict": "on"},
                            body={"title": "T"})
    assert reply.status == 200
    assert summary(reply.body) == (True, True, 0, 1, False)


@pytest.mark.parametrize("workers", [1, 2])
async def test_workers_run_tenants_side_by_side_but_never_two_of_one_tenant(
    make_fake: MakeFake, workers: int
) -> None:
    fake = make_fake(item_ms=10, workers=workers)
    sent = [f"k{n}" for n in (1, 1, 2, 2, 3)]
    ids = [(await fake.call("DELETE", "/imgs", key=key, body=[{"id": "a"}] * 3)).body["op_id"]
           for key in sent]
    fake.controller.advance(5)
    running = [
        key for key, op_id in zip(sent, ids, strict=True)
        if (await fake.op(op_id, key=key))["is_started"]
    ]
    assert running == ["k1", "k2"][:workers]
    fake.controller.settle()
    spans = []
    for key, op_id in zip(sent, ids, strict=True):
        op = await fake.op(op_id, key=key)
        spans.append((key, op["started_at"], op["finished_at"]))
    for key, start, _ in spans:
        overlapping = [s for s in spans if s[1] <= start < s[2]]
        assert len(overlapping) <= workers
        assert [s[0] for s in overlapping].count(key) == 1
    first_start = min(datetime.fromisoformat(start) for _, start, _ in spans)
    last_end = max(datetime.fromisoformat(end) for _, _, end in spans)
    # Five operations of 30 ms each: one at a time, or two tenants side by side.
    assert (last_end - first_start).total_seconds() * 1000 == (150 if workers == 1 else 90)


async def test_a14_the_oldest_finished_operations_answer_404(make_fake: MakeFake) -> None:
    fake = make_fake(max_finished_ops=2)
    ids = [(await fake.call("DELETE", f"/imgs/i{n}")).body["op_id"] for n in range(4)]
    assert [op["op_id"] for op in await fake.ops()] == ids[2:]
    gone = await fake.call("GET", f"/ops/{ids[0]}")
    gone.expect_detail(404, str(ids[0]))


async def test_op_ids_are_never_reused_after_a_reset(fake: FakeServer) -> None:
    first = (await fake.call("DELETE", "/imgs/a")).body["op_id"]
    fake.controller.reset()
    assert await fake.ops() == []
    (await fake.call("GET", f"/ops/{first}")).expect_detail(404)
    second = (await fake.call("DELETE", "/imgs/a")).body["op_id"]
    assert second > first


async def test_a_reset_answers_a_pending_wait_at_once(make_fake: MakeFake) -> None:
    fake = make_fake(queue_delay_ms=5_000)
    task = asyncio.ensure_future(
        fake.call("POST", "/imgs/a", params={"wait": "true"}, body={"src": "s"})
    )
    await yield_until(lambda: bool(fake.controller.operations("k1")))
    fake.controller.reset()
    await yield_until(task.done)  # not the 30 s sync timeout: the reset discarded it
    reply: Reply = task.result()
    assert reply.status == 202
    assert (await fake.call("GET", f"/ops/{reply.body['op_id']}")).status == 404


async def test_a_reset_of_one_tenant_leaves_the_others_waits_pending(make_fake: MakeFake) -> None:
    fake = make_fake(queue_delay_ms=5_000)
    task = asyncio.ensure_future(
        fake.call("POST", "/imgs/a", key="k2", params={"wait": "true"}, body={"src": "s"})
    )
    await yield_until(lambda: bool(fake.controller.operations("k2")))
    fake.controller.reset("k1")  # wakes every waiter: k2's must look and wait on
    await yield_a_while()
    assert not task.done()
    fake.controller.advance(5_000)
    await yield_until(task.done)
    reply: Reply = task.result()
    assert reply.status == 200
    assert reply.body["is_finished"] is True


def test_a_held_operation_blocks_its_tenant_but_not_the_others(domain: Domain) -> None:
    held = domain.submit("create", [("a", {"src": "s"})], fault="hold")
    later = domain.submit("merge", [("a", {"title": "T"})], strict=True)
    other = domain.submit("create", [("b", {"src": "s"})], tenant="t2")
    domain.controller.settle()
    assert (held.phase, later.phase, other.phase) == ("queued", "queued", "finished")
    domain.controller.release("t1", held.op_id)
    domain.controller.settle()
    # In queue order: the add, then the strict modify of the image it added.
    assert (held.phase, later.phase) == ("finished", "finished")
    assert domain.view(later)["all_good"] is True
    assert domain.images()["a"]["title"] == "T"


@pytest.mark.parametrize("settings", [{}, {"item_ms": 0.01}, {"queue_delay_ms": 0.01}])
async def test_a7_on_the_real_clock_no_later_look_contradicts_the_202(
    make_fake: MakeFake, settings: dict[str, float]
) -> None:
    # On wall time the clock moves between any two readings: every view must be taken at the
    # instant the queue was replayed to, or a later read shows a start or a finish "earlier"
    # than an answer that said it had not happened yet (idle_ms or exec_ms going down).
    fake = make_fake(clock="real", **settings)
    for n in range(60):
        accepted = (await fake.call("POST", "/imgs", body=images("a"))).body
        op_id = accepted["op_id"]
        for _ in range(3):
            later = await fake.op(op_id)
            assert later["idle_ms"] >= accepted["idle_ms"], (n, accepted, later)
            assert later["exec_ms"] >= accepted["exec_ms"], (n, accepted, later)
            if later["is_started"]:
                assert later["started_at"] >= accepted["created_at"]
            accepted = later


# The real clock is the default of `wesog-mock serve`. A waiting request sleeps in wall time until
# the next due event: the bounds below are 25 times what the delays need, and a wait that read
# the milliseconds as seconds would sleep 1000 times too long and trip them at once.
_REAL_WAIT_BOUND_S = 5.0


async def test_d7_on_the_real_clock_wait_true_answers_once_the_items_have_run(
    make_fake: MakeFake,
) -> None:
    fake = make_fake(clock="real", item_ms=100)
    started = time.perf_counter()
    with anyio.fail_after(_REAL_WAIT_BOUND_S):
        answer = await fake.call("POST", "/imgs", params={"wait": "true"}, body=images("ab"))
    took = time.perf_counter() - started
    assert answer.status == 200, answer
    assert (answer.body["is_finished"], answer.body["all_good"]) == (True, True)
    assert answer.body["exec_ms"] >= 200  # two items of 100 ms
    assert took >= 0.19  # it did wait (the clock's resolution aside)
    assert set(fake.controller.images("k1")) == {"a", "b"}


async def test_d7_on_the_real_clock_wait_true_sleeps_only_until_the_operation_is_due(
    make_fake: MakeFake,
) -> None:
    # 20 ms of work: the answer comes long before a second. The fastest of three is judged, so
    # one stall of a busy machine does not fail it; a wait that slept whole seconds would.
    fake = make_fake(clock="real", item_ms=20)
    took = []
    for n in range(3):
        started = time.perf_counter()
        with anyio.fail_after(_REAL_WAIT_BOUND_S):
            answer = await fake.call("POST", "/imgs", params={"wait": "true"},
                                     body=images(f"{n}"))
        took.append(time.perf_counter() - started)
        assert answer.status == 200, answer
    assert 0.019 <= min(took) < 0.9, took


async def test_a5_on_the_real_clock_wait_true_answers_202_at_the_sync_timeout(
    make_fake: MakeFake,
) -> None:
    fake = make_fake(clock="real", item_ms=60_000, sync_timeout_s=0.2)
    started = time.perf_counter()
    with anyio.fail_after(_REAL_WAIT_BOUND_S):
        answer = await fake.call("POST", "/imgs", params={"wait": "true"}, body=images("a"))
    took = time.perf_counter() - started
    assert answer.status == 202, answer
    assert (answer.body["is_started"], answer.body["is_finished"]) == (True, False)
    assert answer.body["do_wait"] is True
    assert took >= 0.19
