"""Operations in the domain (D6, D8, D9, A4, A7, A8, A14, tenancy, ids, controls), no HTTP."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from wesog_mock import ClockError, ConfigError, Controller, MockConfig
from wesog_mock.domain.engine import AlreadyStarted, NotFound
from wesog_mock.domain.operations import Operation

if TYPE_CHECKING:
    from conftest import Domain, MakeDomain

ISO_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def one(image_id: str) -> list[tuple[str, dict[str, Any]]]:
    return [(image_id, {"src": "s"})]


def start_order(domain: Domain, ops: list[Operation]) -> list[int]:
    """The ops' ids in the order they started."""
    views = {op.op_id: domain.view(op) for op in ops}
    assert all(view["is_finished"] for view in views.values())
    return sorted(views, key=lambda op_id: (views[op_id]["started_at"], op_id))


def test_d6_every_mutation_creates_one_operation_run_in_queue_order(
    make_domain: MakeDomain,
) -> None:
    domain = make_domain(item_ms=10)
    ops = [domain.submit("create", one(f"i{n}"), tenant=f"t{n % 3}") for n in range(6)]
    assert [op.op_id for op in ops] == sorted({op.op_id for op in ops})
    domain.controller.settle()
    assert start_order(domain, ops) == [op.op_id for op in ops]


def test_d6_a4_urgent_goes_to_the_head_of_the_queue(make_domain: MakeDomain) -> None:
    domain = make_domain(item_ms=10)
    running = domain.submit("create", one("r"))
    queued = [domain.submit("create", one(f"q{n}"), tenant=f"u{n}") for n in range(2)]
    urgent = domain.submit("create", one("u"), tenant="other", urgent=True)
    domain.controller.settle()
    assert start_order(domain, [running, *queued, urgent]) == [
        running.op_id, urgent.op_id, queued[0].op_id, queued[1].op_id,
    ]


def test_a4_a_later_urgent_runs_before_an_earlier_queued_urgent(make_domain: MakeDomain) -> None:
    domain = make_domain(item_ms=10)
    running = domain.submit("create", one("r"))
    first = domain.submit("create", one("a"), urgent=True)
    second = domain.submit("create", one("b"), urgent=True)
    domain.controller.settle()
    assert start_order(domain, [running, first, second]) == [
        running.op_id, second.op_id, first.op_id,
    ]


def test_d6_one_tenant_never_runs_two_operations_at_once(make_domain: MakeDomain) -> None:
    domain = make_domain(item_ms=10, workers=4)
    ops = [domain.submit("create", one(f"i{n}")) for n in range(4)]
    domain.controller.advance(5)
    assert [domain.view(op)["is_started"] for op in ops] == [True, False, False, False]
    domain.controller.settle()
    views = [domain.view(op) for op in ops]
    for earlier, later in itertools.pairwise(views):
        assert earlier["finished_at"] <= later["started_at"]


def test_d8_list_is_oldest_first_with_op_id_and_other_tenants_are_not_found(
    domain: Domain,
) -> None:
    ops = [domain.submit("create", one(f"i{n}"), tenant="t1") for n in range(3)]
    theirs = domain.submit("create", one("x"), tenant="t2")
    listed = domain.controller.operations("t1")
    assert [view["op_id"] for view in listed] == [op.op_id for op in ops]
    controller = domain.controller
    with pytest.raises(NotFound) as theirs_refused:
        controller.operation("t1", theirs.op_id)
    with pytest.raises(NotFound) as unknown:
        controller.operation("t1", 10**9)
    # The Python API's caller learns what was not found from the exception's attributes.
    assert (theirs_refused.value.what, theirs_refused.value.key) == ("operation", theirs.op_id)
    assert (unknown.value.key, str(unknown.value)) == (10**9, f"Operation {10**9} not found.")
    assert controller.operation("t2", theirs.op_id) == domain.view(theirs, with_id=False)
    assert "op_id" not in ops[0].view(0.0, with_id=False)


def test_d9_lifecycle_only_moves_forward_and_finished_never_changes(
    make_domain: MakeDomain,
) -> None:
    domain = make_domain(item_ms=10, queue_delay_ms=30)
    domain.seed([{"id": "b", "src": "s"}])
    op = domain.submit("create", [(i, {"src": "s"}) for i in "abcd"], strict=True)
    phases: list[str] = []
    seen: list[dict[str, Any]] = []
    for _ in range(12):
        view = domain.view(op)
        seen.append(view)
        phase = "finished" if view["is_finished"] else "running" if view["is_started"] else "queued"
        phases.append(phase)
        domain.controller.advance(7)
    assert phases == sorted(phases, key=["queued", "running", "finished"].index)
    assert set(phases) == {"queued", "running", "finished"}
    for earlier, later in itertools.pairwise(seen):
        assert later["num_good"] >= earlier["num_good"]
        assert later["num_bad"] >= earlier["num_bad"]
    finished = [view for view in seen if view["is_finished"]]
    assert all(view == finished[0] for view in finished)
    domain.controller.advance(10_000)
    assert domain.view(op) == finished[0]


def test_a_finished_view_is_made_once_and_a_caller_changing_it_changes_nothing(
    make_domain: MakeDomain,
) -> None:
    # Finished views are kept (they never change, D9); each call must still hand out its own.
    domain = make_domain(item_ms=10)
    op = domain.submit("create", [("a", {"src": "s"}), ("a", {"src": "s"})], strict=True)
    domain.controller.settle()
    first = op.view(0.0, with_id=False)
    assert len(first["errors"]) == 1  # A3: the second copy fails
    first["num_good"] = 99
    first["errors"].append({"id": 0, "msg": "changed by the caller"})
    later = op.view(1e9, with_id=False)
    assert later["num_good"] == 1
    assert len(later["errors"]) == 1
    assert "op_id" not in later
    with_id = op.view(1e9, with_id=True)
    assert next(iter(with_id)) == "op_id"
    assert with_id["op_id"] == op.op_id
    assert {k: v for k, v in with_id.items() if k != "op_id"} == later
    assert later == op._view(1e9, with_id=False)  # the kept view is the one it would make


def test_d9_flags_echo_the_request(domain: Domain) -> None:
    op = domain.submit("delete", one("a"), wait=True, urgent=True, strict=True)
    view = domain.view(op)
    assert (view["do_wait"], view["do_urgent"], view["do_strict"]) == (True, True, True)
    assert (view["method"], view["resource"], view["num_total"]) == ("del", "image", 1)
    methods = [domain.view(domain.submit(k, one("a")))["method"]
               for k in ("create", "replace", "merge", "delete")]
    assert methods == ["add", "upd", "upd", "del"]


def test_a7_timestamps_are_iso_utc_with_milliseconds(make_domain: MakeDomain) -> None:
    domain = make_domain(item_ms=7, queue_delay_ms=13)
    op = domain.submit("create", one("a"))
    queued = domain.view(op)
    assert ISO_MS.match(queued["created_at"])
    assert (queued["started_at"], queued["finished_at"]) == (None, None)
    domain.controller.advance(14)
    running = domain.view(op)
    assert running["finished_at"] is None
    domain.controller.settle()
    done = domain.view(op)
    stamps = [done[name] for name in ("created_at", "started_at", "finished_at")]
    assert all(ISO_MS.match(stamp) for stamp in stamps), stamps
    parsed = [datetime.fromisoformat(stamp) for stamp in stamps]
    assert all(when.tzinfo == UTC for when in parsed)
    assert [(b - a).total_seconds() * 1000 for a, b in itertools.pairwise(parsed)] == [
        13.0, 7.0,
    ]
    assert (done["idle_ms"], done["exec_ms"]) == (13.0, 7.0)


def test_a7_idle_and_exec_never_decrease(make_domain: MakeDomain) -> None:
    domain = make_domain(item_ms=5, queue_delay_ms=20, jitter_ms=9, seed=3)
    ops = [domain.submit("create", one(f"i{n}"), tenant=f"t{n % 2}") for n in range(5)]
    last = {op.op_id: (0.0, 0.0) for op in ops}
    for _ in range(40):
        domain.controller.advance(3)
        for op in ops:
            view = domain.view(op)
            now = (view["idle_ms"], view["exec_ms"])
            assert now[0] >= last[op.op_id][0]
            assert now[1] >= last[op.op_id][1]
            last[op.op_id] = now
    assert all(domain.view(op)["is_finished"] for op in ops)


def test_a8_cancel_a_queued_operation(make_domain: MakeDomain) -> None:
    domain = make_domain(queue_delay_ms=100)
    domain.seed([{"id": "a", "src": "s"}])
    op = domain.submit("delete", one("a"))
    domain.controller.advance(40)
    cancelled = domain.controller.cancel("t1", op.op_id)
    view = domain.view(op)
    assert cancelled == {k: v for k, v in view.items() if k != "op_id"}
    assert (view["is_started"], view["is_finished"], view["all_good"]) == (False, True, False)
    assert (view["num_good"], view["num_bad"], view["errors"]) == (0, 0, [])
    assert (view["started_at"], view["exec_ms"], view["idle_ms"]) == (None, 0.0, 40.0)
    domain.controller.settle()
    assert domain.view(op) == view
    assert set(domain.images()) == {"a"}


def test_a8_cancel_after_the_start_raises_already_started(make_domain: MakeDomain) -> None:
    domain = make_domain(item_ms=10)
    domain.seed([{"id": "a", "src": "s"}])
    op = domain.submit("delete", one("a"))
    domain.controller.advance(5)
    with pytest.raises(AlreadyStarted):
        domain.controller.cancel("t1", op.op_id)
    domain.controller.settle()
    with pytest.raises(AlreadyStarted):
        domain.controller.cancel("t1", op.op_id)
    assert domain.images() == {}


def test_a14_the_oldest_finished_operations_are_forgotten(make_domain: MakeDomain) -> None:
    domain = make_domain(max_finished_ops=3, queue_delay_ms=10)
    finished = [domain.run("create", one(f"i{n}")) for n in range(5)]
    queued = domain.submit("create", one("q"))
    listed = [view["op_id"] for view in domain.controller.operations("t1")]
    assert listed == [view["op_id"] for view in finished[2:]] + [queued.op_id]
    for view in finished[:2]:
        with pytest.raises(NotFound):
            domain.controller.operation("t1", view["op_id"])


def test_a14_queued_and_running_operations_are_never_forgotten(make_domain: MakeDomain) -> None:
    domain = make_domain(max_finished_ops=1, item_ms=10)
    ops = [domain.submit("create", one(f"i{n}")) for n in range(4)]
    domain.controller.advance(25)  # two finished, one running, one queued
    phases = [(v["is_started"], v["is_finished"]) for v in domain.controller.operations("t1")]
    assert phases == [(True, True), (True, False), (False, False)]
    domain.controller.settle()
    assert [v["op_id"] for v in domain.controller.operations("t1")] == [ops[-1].op_id]


def test_tenants_never_see_each_others_images_or_operations(domain: Domain) -> None:
    domain.run("create", [("a", {"src": "mine"})], tenant="t1")
    domain.run("create", [("a", {"src": "theirs"})], tenant="t2", strict=True)
    domain.run("delete", [("a", {})], tenant="t3", strict=True)
    assert domain.images("t1") == {"a": {"src": "mine"}}
    assert domain.images("t2") == {"a": {"src": "theirs"}}
    assert domain.images("t3") == {}
    ids = {key: {v["op_id"] for v in domain.controller.operations(key)} for key in ("t1", "t2")}
    assert len(ids["t1"]) == len(ids["t2"]) == 1
    assert not ids["t1"] & ids["t2"]


def test_op_ids_are_never_reused_even_after_reset(domain: Domain) -> None:
    seen = [domain.submit("create", one("a"), tenant=f"t{n % 2}").op_id for n in range(4)]
    domain.controller.reset("t1")
    seen.append(domain.submit("create", one("a"), tenant="t1").op_id)
    domain.controller.reset()
    seen.append(domain.submit("create", one("a"), tenant="t2").op_id)
    assert seen == sorted(set(seen))
    assert [view["op_id"] for view in domain.controller.operations("t2")] == seen[-1:]


def test_reset_of_one_tenant_leaves_the_others(make_domain: MakeDomain) -> None:
    domain = make_domain(queue_delay_ms=50)
    domain.seed([{"id": "a", "src": "s"}], tenant="t1")
    domain.seed([{"id": "b", "src": "s"}], tenant="t2")
    domain.submit("create", one("x"), tenant="t1")
    domain.submit("create", one("y"), tenant="t2")
    domain.controller.reset("t1")
    domain.controller.settle()
    assert domain.images("t1") == {}
    assert domain.controller.operations("t1") == []
    assert set(domain.images("t2")) == {"b", "y"}


def test_seeding_creates_no_operation(domain: Domain) -> None:
    domain.seed([{"id": "a", "src": "s", "title": None, "bogus": 1}])
    assert domain.images() == {"a": {"src": "s"}}
    assert domain.controller.operations("t1") == []


def test_configuration_is_validated_and_the_clock_mode_is_fixed(domain: Domain) -> None:
    with pytest.raises(ConfigError):
        MockConfig(max_batch=0)
    with pytest.raises(ConfigError):
        domain.controller.configure(item_ms=-1)
    with pytest.raises(ConfigError):
        domain.controller.configure(no_such_setting=1)
    with pytest.raises(ConfigError):
        domain.controller.configure(clock="real")
    assert domain.controller.configure(item_ms=4).item_ms == 4
    assert domain.controller.config.item_ms == 4


def test_a_real_clock_cannot_be_moved() -> None:
    controller = Controller(MockConfig(clock="real"))
    with pytest.raises(ClockError):
        controller.advance(1)
    with pytest.raises(ClockError):
        controller.settle()


def test_jitter_from_the_same_seed_gives_the_same_timeline(make_domain: MakeDomain) -> None:
    def timeline(seed: int) -> list[tuple[float, float]]:
        domain = make_domain(queue_delay_ms=10, item_ms=5, jitter_ms=20, seed=seed)
        ops = [domain.submit("create", one(f"i{n}"), tenant=f"t{n}") for n in range(5)]
        domain.controller.settle()
        return [(domain.view(op)["idle_ms"], domain.view(op)["exec_ms"]) for op in ops]

    first = timeline(7)
    assert timeline(7) == first
    assert timeline(8) != first
    assert all(idle >= 10 and 5 <= run <= 25 for idle, run in first)
