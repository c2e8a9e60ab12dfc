"""The Engine's own promises, driven directly (no Controller, no HTTP): its hook, its defaults,
what it lets go of, and its timeline at the edges (held operations, zero item times)."""

from __future__ import annotations

from typing import Any

from wesog_mock import MockConfig
from wesog_mock.controls.schema import image_schema
from wesog_mock.domain.batch import BatchKind
from wesog_mock.domain.engine import Engine
from wesog_mock.domain.operations import Mutation, Operation


def engine(**settings: Any) -> Engine:
    return Engine(MockConfig(clock="virtual", **settings), 0.0, image_schema())


def mutation(kind: BatchKind, *ids: str, strict: bool = False) -> Mutation:
    return Mutation(tenant="t", kind=kind, items=[(i, {"src": f"https://e/{i}.jpg"}) for i in ids],
                    wait=False, urgent=False, strict=strict, lang="en")


def test_every_finished_operation_is_handed_to_the_hook_once_in_finish_order() -> None:
    # The Controller wakes waiting requests from this hook.
    eng = engine(item_ms=10)
    finished: list[Operation] = []
    eng.on_finish = finished.append
    first = eng.submit(mutation("create", "a"))
    second = eng.submit(mutation("create", "b"))
    eng.run_until(5)
    assert finished == []
    eng.run_until(100)
    assert finished == [first, second]


def test_a_fail_fault_without_a_reason_names_an_injected_failure() -> None:
    eng = engine()
    op = eng.submit(mutation("create", "a", "b"), fault="fail")
    eng.run_until(0)
    assert op.finished
    assert op.outcome is not None
    assert not op.outcome.all_good
    assert [e["msg"] for e in op.outcome.errors] == [
        "Image 'a' could not be processed: injected failure",
        "Image 'b' could not be processed: injected failure",
    ]
    assert eng.images_of("t") == {}


def test_an_operation_lets_go_of_its_items_once_started_and_of_its_changes_once_finished() -> None:
    # A 100,000-image batch must not stay in memory twice, in the queue's copy and the store.
    eng = engine(item_ms=10)
    running = eng.submit(mutation("create", "a", "b"))
    eng.run_until(1)
    assert running.started_ms == 0.0
    assert running.items is None
    eng.run_until(100)
    assert running.finished
    assert running.outcome is not None
    assert running.outcome.changes == {}
    assert set(eng.images_of("t")) == {"a", "b"}


def test_a_cancelled_operation_lets_go_of_its_items() -> None:
    eng = engine(queue_delay_ms=100)
    queued = eng.submit(mutation("create", "a"))
    eng.cancel("t", queued.op_id)
    assert queued.cancelled
    assert queued.finished
    assert queued.items is None


def test_a_held_operation_is_released_as_not_held_and_then_runs() -> None:
    eng = engine()
    op = eng.submit(mutation("create", "a"), fault="hold")
    eng.run_until(1_000)
    assert op.started_ms is None
    assert eng.held_operations() == [op]
    assert eng.release("t", op.op_id).held is False
    eng.run_until(1_000)
    assert op.finished
    assert set(eng.images_of("t")) == {"a"}


def test_time_moves_on_while_only_a_held_operation_waits() -> None:
    # Nothing can start or finish; the engine's clock must still reach the time it was given,
    # or a cancel would date the operation's end in the past.
    eng = engine()
    op = eng.submit(mutation("create", "a"), fault="hold")
    eng.run_until(5_000)
    eng.cancel("t", op.op_id)
    assert op.finish_ms == 5_000
    assert op.view(5_000, with_id=False)["idle_ms"] == 5_000


def test_a_running_operation_with_no_item_time_shows_every_item_done() -> None:
    # item_ms=0 with an extra execution time (jitter): running, yet no item is left to do.
    eng = engine(item_ms=0, jitter_ms=1_000, seed=7)
    op = eng.submit(mutation("create", "a", "b", "c"))
    eng.run_until(op.ready_ms)
    assert op.started_ms is not None
    assert not op.finished
    assert op.extra_ms > 0
    view = op.view(op.started_ms + op.extra_ms / 2, with_id=False)
    assert (view["is_started"], view["is_finished"]) == (True, False)
    assert (view["num_good"], view["num_bad"]) == (3, 0)
