"""The controller's own promises, each as an answer a user reads: its refusals word for word,
what `settle` and `configure` do to time and to the faults' seeded generator, and which
operation faults reach the journal."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import anyio
import anyio.lowlevel
import pytest
from controls_support import Fake, image

from wesog_mock import ClockError, MockConfig
from wesog_mock.controls.controller import Controller
from wesog_mock.domain.clock import RealClock, iso_ms
from wesog_mock.domain.messages import item_message
from wesog_mock.domain.operations import Mutation, Operation

pytestmark = pytest.mark.anyio


@pytest.fixture
async def fake() -> AsyncIterator[Fake]:
    async with Fake() as made:
        yield made


@pytest.mark.parametrize("action", ["advance", "settle"])
async def test_a_real_clock_refuses_to_move_and_says_how_to_get_one(action: str) -> None:
    controller = Controller(MockConfig(clock="real"))
    with pytest.raises(ClockError) as raised:
        controller.advance(5) if action == "advance" else controller.settle()
    assert str(raised.value) == (
        f"the clock is real and cannot {action}; create the fake with clock='virtual' "
        "(wesog-mock serve --clock virtual) to move it")


async def test_the_admin_api_answers_a_clock_refusal_with_its_message() -> None:
    async with Fake(clock="real") as fake:
        answer = await fake.admin("POST", "/clock/advance", params={"ms": "5"})
        assert answer.status_code == 409
        assert answer.json()["field"] == "clock"
        assert answer.json()["detail"].startswith("the clock is real and cannot advance;")


async def test_settle_advances_exactly_to_the_last_event(fake: Fake) -> None:
    fake.controller.configure(item_ms=0.25)
    start = fake.controller.now_ms()
    await fake.add(image("a"))
    assert fake.controller.settle() == 0.25  # not a millisecond: the event's own instant
    assert fake.controller.settle() == 0.0
    assert fake.controller.now_ms() == start + 0.25


async def test_the_state_shows_the_fakes_now(fake: Fake) -> None:
    fake.controller.advance(1500)
    body = (await fake.admin("GET", "/state", params={"tenant": "k1"})).json()
    assert body["now"] == iso_ms(fake.controller.now_ms())
    assert set(body) == {"tenant", "now", "images", "operations"}


async def _statuses(fake: Fake, count: int) -> list[int]:
    return [(await fake.wesog("GET", "/ops")).status_code for _ in range(count)]


async def test_configure_restarts_the_faults_generator_only_when_the_seed_changes() -> None:
    async with Fake(seed=3) as straight:
        straight.controller.faults.add("status", probability=0.5)
        expected = await _statuses(straight, 30)
    async with Fake(seed=3) as interrupted:
        interrupted.controller.faults.add("status", probability=0.5)
        first = await _statuses(interrupted, 15)
        interrupted.controller.configure(item_ms=1, seed=3)  # the same seed: no restart
        assert first + await _statuses(interrupted, 15) == expected
        interrupted.controller.configure(seed=12)
        reseeded = await _statuses(interrupted, 30)
    async with Fake(seed=12) as fresh:
        fresh.controller.faults.add("status", probability=0.5)
        assert reseeded == await _statuses(fresh, 30)


@pytest.mark.parametrize("wait", ["false", "true"])
async def test_an_operation_fault_of_one_tenant_fires_and_is_journaled(
    fake: Fake, wait: str
) -> None:
    rule = fake.controller.faults.add("fail", tenant="k1", message="disk full")
    answer = await fake.wesog("POST", "/imgs", json=[image("a")], params={"wait": wait},
                              key="k1")
    other = await fake.wesog("POST", "/imgs", json=[image("b")], params={"wait": wait},
                             key="k2")
    fake.controller.settle()
    op = (await fake.wesog("GET", f"/ops/{answer.json()['op_id']}")).json()
    assert (op["all_good"], op["errors"][0]["msg"].endswith("disk full")) == (False, True)
    assert (await fake.wesog("GET", f"/ops/{other.json()['op_id']}", key="k2")).json()[
        "all_good"] is True
    faulted, plain = fake.controller.journal.filter(path="/imgs")
    assert (faulted.fault_id, faulted.fault_kind) == (rule.id, "fail")
    assert (plain.fault_id, plain.fault_kind) == (None, None)


async def test_a_faulted_wait_that_times_out_is_journaled_with_its_fault() -> None:
    async with Fake(sync_timeout_s=1, queue_delay_ms=5_000) as fake:
        rule = fake.controller.faults.add("hold", times=1)
        async def post() -> None:
            await fake.wesog("POST", "/imgs", json=[image("a")], params={"wait": "true"})

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(post)
            for _ in range(1000):
                if fake.controller.held():
                    break
                await anyio.lowlevel.checkpoint()
            fake.controller.advance(1000)
        [entry] = fake.controller.journal.entries
        assert (entry.status, entry.fault_id, entry.fault_kind) == (202, rule.id, "hold")


async def test_resetting_one_tenant_leaves_the_others_work_and_rules(fake: Fake) -> None:
    fake.controller.configure(item_ms=10)
    everyone = fake.controller.faults.add("status", path="/nothing")
    theirs = fake.controller.faults.add("status", path="/nothing", tenant="k2")
    fake.controller.faults.add("status", path="/nothing", tenant="k1")
    running = (await fake.add(image("a"), key="k2"))["op_id"]
    queued = (await fake.add(image("b"), key="k2"))["op_id"]
    gone = (await fake.add(image("c"), key="k1"))["op_id"]
    fake.controller.reset("k1")
    assert [rule.id for rule in fake.controller.faults.list()] == [everyone.id, theirs.id]
    fake.controller.settle()
    assert [op["op_id"] for op in fake.controller.operations("k2")] == [running, queued]
    assert all(op["is_finished"] for op in fake.controller.operations("k2"))
    assert set(fake.controller.images("k2")) == {"a", "b"}
    assert fake.controller.operations("k1") == []
    assert (await fake.wesog("GET", f"/ops/{gone}")).status_code == 404


async def test_a_running_operation_counts_its_items_as_they_are_done(fake: Fake) -> None:
    fake.controller.configure(item_ms=1)
    op_id = (await fake.add(*[image(f"i{n}") for n in range(10)]))["op_id"]
    fake.controller.advance(5)
    op = (await fake.wesog("GET", f"/ops/{op_id}")).json()
    assert (op["is_finished"], op["num_good"], op["exec_ms"]) == (False, 5, 5)


async def test_jitter_follows_the_seed_and_restarts_only_with_a_new_one() -> None:
    async def idles(fake: Fake, count: int) -> list[float]:
        ops = [await fake.add(image(f"j{n}")) for n in range(count)]
        fake.controller.settle()
        # exec_ms is the drawn extra time alone (no item time), however long each one queued.
        return [(await fake.wesog("GET", f"/ops/{op['op_id']}")).json()["exec_ms"]
                for op in ops]

    async with Fake(seed=4, jitter_ms=1000) as straight:
        expected = await idles(straight, 6)
    async with Fake(seed=4, jitter_ms=1000) as interrupted:
        first = await idles(interrupted, 3)
        interrupted.controller.configure(seed=4, item_ms=0)  # the same seed: no restart
        assert first + await idles(interrupted, 3) == expected
        interrupted.controller.configure(seed=8)
        again = await idles(interrupted, 3)
    async with Fake(seed=8, jitter_ms=1000) as fresh:
        assert again == await idles(fresh, 3)


def test_durations_are_shown_to_the_microsecond() -> None:
    op = Operation(op_id=1, tenant="k", kind="create", method="add", items=None, num_total=1,
                   do_wait=False, do_urgent=False, do_strict=False, lang="en",
                   created_ms=0.0, ready_ms=0.12345, item_ms=1.23456)
    op.started_ms, op.finish_ms = 0.12345, 0.12345 + 1.23456
    running = op.view(0.12345, with_id=False)
    assert (running["is_started"], running["idle_ms"], running["exec_ms"]) == (True, 0.123, 0)
    assert op.view(1.0, with_id=False)["exec_ms"] == 0.877  # now, not the planned finish
    op.finished = True
    done = op.view(9.0, with_id=False)
    assert (done["idle_ms"], done["exec_ms"]) == (0.123, 1.235)


async def test_operations_ready_at_one_instant_start_in_queue_order(fake: Fake) -> None:
    fake.controller.configure(queue_delay_ms=50, item_ms=10)
    first = (await fake.add(image("a"), key="k1"))["op_id"]
    second = (await fake.add(image("b"), key="k2"))["op_id"]
    fake.controller.advance(50)
    assert (await fake.wesog("GET", f"/ops/{first}", key="k1")).json()["is_started"] is True
    assert (await fake.wesog("GET", f"/ops/{second}", key="k2")).json()["is_started"] is False


async def test_jitter_below_a_millisecond_stays_within_its_bound() -> None:
    async with Fake(seed=2, jitter_ms=0.5) as fake:
        ops = [(await fake.add(image(f"j{n}")))["op_id"] for n in range(8)]
        fake.controller.settle()
        extras = [(await fake.wesog("GET", f"/ops/{op_id}")).json()["exec_ms"] for op_id in ops]
    assert all(0 <= extra <= 0.5 for extra in extras), extras
    assert len(set(extras)) > 1, extras  # drawn, not a constant


async def test_an_injected_failure_speaks_the_requests_language(fake: Fake) -> None:
    fake.controller.faults.add("fail", message="disk full")
    answer = await fake.wesog("POST", "/imgs", json=[image("a")], params={"lang": "fr"})
    fake.controller.settle()
    op = (await fake.wesog("GET", f"/ops/{answer.json()['op_id']}")).json()
    assert op["errors"] == [
        {"id": 0, "msg": item_message("injected_failure", "fr", "a", "disk full")}]
    assert item_message("injected_failure", "fr", "a", "disk full") != item_message(
        "injected_failure", "en", "a", "disk full")


def _create(image_id: str, *, wait: bool = False) -> Mutation:
    return Mutation(tenant="k", kind="create", items=[(image_id, image(image_id))], wait=wait)


async def test_execute_says_whether_the_operation_finished_as_a_bool() -> None:
    controller = Controller(MockConfig(clock="virtual"))
    queued = await controller.execute(_create("a"),
                                      method="POST", path="/imgs")
    waited = await controller.execute(_create("b", wait=True),
                                      method="POST", path="/imgs")
    assert (queued.finished, queued.view["is_finished"]) == (False, False)
    assert queued.finished is False  # typed bool, not just falsy
    assert (waited.finished, waited.view["is_finished"]) == (True, True)


async def test_a_cancel_on_a_real_clock_sees_the_time_that_has_passed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Wall time moves with nobody asking the fake anything: the cancel itself must catch the
    # queue up, and find the operation started once its queue delay has passed.
    wall = [1_800_000_000_000.0]
    monkeypatch.setattr(RealClock, "now_ms", lambda self: wall[0])
    async with Fake(clock="real", queue_delay_ms=100, item_ms=1_000) as fake:
        early = (await fake.add(image("a")))["op_id"]
        wall[0] += 50
        cancelled = await fake.wesog("DELETE", f"/ops/{early}")
        assert (cancelled.status_code, cancelled.json()["is_started"]) == (200, False)
        late = (await fake.add(image("b")))["op_id"]
        wall[0] += 150
        answer = await fake.wesog("DELETE", f"/ops/{late}")
        assert (answer.status_code, answer.json()) == (
            409, {"detail": f"Operation {late} has already started and cannot be cancelled."})


def test_a_wait_whose_event_loop_has_closed_does_not_break_the_next_clock_move() -> None:
    # A server thread torn down while a wait=true request waited: its loop is closed, the wait
    # never ended. Moving the clock wakes every waiter; that one cannot be woken, and is skipped.
    controller = Controller(MockConfig(clock="virtual", queue_delay_ms=1_000))
    op = controller.submit(_create("a", wait=True))
    loop = asyncio.new_event_loop()
    loop.set_exception_handler(lambda loop, context: None)  # its pending task, destroyed
    waiting = loop.create_task(controller.wait_for(op, op.created_ms + 5_000))
    loop.call_soon(loop.stop)
    loop.run_forever()  # one turn of the loop: the task starts and registers its wait
    loop.close()
    try:
        assert not waiting.done()
        controller.advance(1_000)
        assert controller.view(op)["is_finished"] is True
    finally:
        waiting.get_coro().close()  # ends the wait, as its loop no longer can


def test_a_new_fake_is_not_stopping_until_told_to() -> None:
    controller = Controller(MockConfig(clock="virtual"))
    assert controller.stopping is False
    controller.stop_waiting()
    assert controller.stopping is True
