"""The checks: a conforming answer passes, and each kind of breakage raises the right rule."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings

from contracts.checks import (
    CHECKS,
    ContractViolation,
    OperationLog,
    check_echo,
    check_progression,
    run_checks,
)
from contracts.exchange import Exchange
from contracts.strategies import operations

SRC = "https://example.com/a.jpg"
T0, T1, T2 = "2026-01-01T00:00:00.000Z", "2026-01-01T00:00:00.010Z", "2026-01-01T00:00:00.030Z"


def op(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "op_id": 7, "method": "add", "resource": "image", "num_total": 1, "num_good": 1,
        "num_bad": 0, "is_started": True, "is_finished": True, "all_good": True,
        "do_wait": False, "do_urgent": False, "do_strict": False, "idle_ms": 10, "exec_ms": 20,
        "created_at": T0, "started_at": T1, "finished_at": T2, "errors": [],
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not ...}


def queued(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "is_started": False, "is_finished": False, "all_good": None, "num_good": 0,
        "idle_ms": 0, "exec_ms": 0, "started_at": None, "finished_at": None,
    }
    return op(**{**fields, **changes})


def mutation(body: Any, *, status: int = 202, query: Any = (), method: str = "POST",
             path: str = "/imgs", items: Any = None) -> Exchange:
    request = [{"id": "a", "src": SRC}] if items is None else items
    return Exchange.of(method, path, status, body, query=query, request_body=request)


def get_op(body: Any, status: int = 200, op_id: int = 7) -> Exchange:
    return Exchange.of("GET", f"/ops/{op_id}", status, body)


def rule_of(exchange: Exchange, history: tuple[Exchange, ...] = ()) -> str | None:
    try:
        run_checks(exchange, history)
    except ContractViolation as violation:
        return violation.rule
    return None


def test_a_conforming_exchange_passes_every_check() -> None:
    assert rule_of(mutation(op())) is None
    # A wait=true answered 202 past a sync timeout: the operation has waited long enough.
    waited = queued(do_wait=True, idle_ms=30_000, created_at=T0)
    assert rule_of(mutation(waited, query={"wait": "true"})) is None
    assert rule_of(mutation(op(do_wait=True), status=200, query={"wait": "1"})) is None
    assert rule_of(get_op(op(op_id=...))) is None
    # Running with all_good null: the overview's status table (the API reference says "no
    # failed element yet"); both are documented.
    assert rule_of(get_op(op(op_id=..., is_finished=False, finished_at=None, all_good=None,
                             num_good=0))) is None


@settings(max_examples=40, deadline=None)
@given(operations())
def test_every_generated_operation_passes(body: dict[str, Any]) -> None:
    assert rule_of(get_op(body)) is None


@pytest.mark.parametrize(
    ("exchange", "rule"),
    [
        (mutation(op(), status=500), "OAS"),
        (mutation(op(), status=201), "OAS"),
        (mutation(op(op_id=...)), "A5"),
        (mutation(op(created_at="2026-01-01T00:00:00Z")), "A7"),
        (mutation(op(), status=200, query={"wait": "false"}), "A5"),
        (mutation(op(), status=200), "A12"),  # no wait sent: the default decides
        (mutation(op(do_strict=True)), "A12"),
        (Exchange.of("PATCH", "/imgs", 202, op(method="add"), request_body=[{"id": "a"}]),
         "A1"),
        (mutation({"op_id": 1}), "A5"),
        (Exchange.of("DELETE", "/ops/1", 200, op(op_id=1, is_started=False, num_good=0,
                                                 idle_ms=30, exec_ms=0, started_at=None)),
         "A8"),
        (Exchange.of("DELETE", "/ops/1", 204, None), "A8"),
        (Exchange.of("POST", "/imgs", 403, {"detail": "no"}, request_body=[], api_key=False),
         "A10"),
        (mutation(queued(do_wait=True), status=200, query={"wait": "true"}), "D7"),
        (mutation(op(do_wait=True), status=202, query={"wait": "true"}), "A5"),
        # wait=true answered 202 at once: not past any sync timeout (D7); past one, A5 allows it.
        (mutation(queued(do_wait=True), query={"wait": "true"}), "D7"),
        (mutation(queued(do_wait=True, idle_ms=999), query={"wait": "true"}), "D7"),
        (mutation({"op_id": 7}), "A5"),
        # Left out, wait and strict are false (A12); sent, a wrong echo is D9.
        (mutation(op(do_wait=True), status=200), "A12"),
        (mutation(op(do_strict=True), query={"strict": "false"}), "D9"),
        (Exchange.of("POST", "/imgs", 400, {"detail": "bad"}, request_body=[]), "A9"),
        (Exchange.of("POST", "/imgs", 500, {"detail": "bad"}, request_body=[]), "OAS"),
        (mutation(op(method="upd")), "D9"),
        (mutation(op(do_strict=False), query={"strict": "yes"}), "D9"),
        (mutation(op(num_total=2, num_good=2)), "D9"),
        (mutation(op(all_good=False)), "D9"),
        (mutation(queued(all_good=True)), "D9"),
        (mutation(op(num_good=2)), "A2"),
        (mutation(op(num_good=0, num_bad=1, all_good=False)), "A2"),
        (mutation(op(num_good=0, num_bad=1, all_good=False,
                     errors=[{"id": 0, "msg": "missing"}])), "A2"),
        (mutation(op(num_good=0, num_bad=1, all_good=False,
                     errors=[{"id": 3, "msg": "a"}])), "A2"),
        (mutation(op(started_at=None)), "A7"),
        (mutation(op(idle_ms=500)), "A7"),
        (mutation(op(exec_ms=1)), "A7"),
        (mutation(queued(exec_ms=3)), "A7"),
        (get_op(op()), "D8"),
        (get_op(op(op_id=..., is_started=False, num_good=0, idle_ms=30, exec_ms=0,
                   started_at=None)), "A8"),
        (get_op({"detail": 5}, status=404), "A10"),
        (Exchange.of("GET", "/ops", 200, [op(op_id=2, created_at=T1, idle_ms=0), op(op_id=1)]),
         "A6"),
        (Exchange.of("GET", "/ops", 200, [op(), op()]), "D6"),
        (Exchange.of("POST", "/imgs", 422, {"detail": "bad"}, request_body=[]), "A9"),
    ],
)
def test_each_breakage_names_its_rule(exchange: Exchange, rule: str) -> None:
    assert rule_of(exchange) == rule


def test_a_single_image_path_counts_one_item_and_names_its_id() -> None:
    body = op(method="upd", num_good=0, num_bad=1, all_good=False,
              errors=[{"id": 0, "msg": "Image 'pic-1' does not exist."}])
    exchange = mutation(body, method="PUT", path="/imgs/pic-1", items={"src": SRC})
    assert rule_of(exchange) is None
    assert exchange.items == [{"src": SRC, "id": "pic-1"}]


@pytest.mark.parametrize(
    ("before", "after", "rule"),
    [
        (op(), op(exec_ms=25, finished_at="2026-01-01T00:00:00.035Z"), "D9"),
        (op(is_finished=False, finished_at=None, all_good=True), queued(), "D9"),
        (queued(idle_ms=5), queued(idle_ms=3), "A7"),
        (queued(), queued(do_urgent=True), "D9"),
        (queued(), op(started_at="2026-01-01T00:00:00.011Z", idle_ms=11, exec_ms=19), None),
    ],
)
def test_progression(before: dict[str, Any], after: dict[str, Any], rule: str | None) -> None:
    history = (get_op({k: v for k, v in before.items() if k != "op_id"}),)
    current = get_op({k: v for k, v in after.items() if k != "op_id"})
    if rule is None:
        check_progression(current, history)
        return
    with pytest.raises(ContractViolation) as caught:
        check_progression(current, history)
    assert caught.value.rule == rule


def test_the_log_catches_a_reused_op_id_and_a_forgotten_queued_operation() -> None:
    log = OperationLog()
    log.check(mutation(queued()))
    with pytest.raises(ContractViolation, match=r"\[D6\].*op_id reused"):
        log.check(mutation(queued()))
    with pytest.raises(ContractViolation, match=r"\[A14\]") as caught:
        log.check(get_op({"detail": "gone"}, status=404))
    assert caught.value.kind == "assumption"
    assert log.latest(7) is not None
    assert log.latest(8) is None


def test_a_violation_carries_endpoint_rule_title_and_both_values() -> None:
    with pytest.raises(ContractViolation) as caught:
        check_echo(mutation(op(do_urgent=False), query={"urgent": "on"}), ())
    violation = caught.value
    assert isinstance(violation, AssertionError)
    assert (violation.endpoint, violation.rule, violation.kind) == (
        "createImages", "D9", "documented")
    assert violation.title == "request not echoed"
    assert (violation.expected, violation.got) == (True, False)
    assert "expected True, got False" in str(violation)
    assert "POST /imgs?urgent=on [1 items] -> 202" in violation.one_line()


def test_every_check_has_one_signature() -> None:
    exchange = Exchange.of("GET", "/imgs/a", 200, {"image_id": "a", "src": SRC})
    for check in CHECKS:
        assert check(exchange, ()) is None
    assert exchange.mode == ""
    assert Exchange.of("GET", "/nowhere", 404).operation_id == "GET /nowhere"


def test_a_queued_operation_idles_at_least_as_long_as_the_client_saw() -> None:
    created = replace(mutation(queued()), sent_s=9.99, received_s=10.0)
    later = get_op(queued(op_id=...))
    assert rule_of(replace(later, sent_s=10.05), (created,)) == "A7"  # 50 ms, idle_ms 0
    assert rule_of(replace(get_op(queued(op_id=..., idle_ms=51)), sent_s=10.05),
                   (created,)) is None
    assert rule_of(replace(later, sent_s=10.001), (created,)) is None  # within the tolerance
    assert rule_of(later, (created,)) is None  # no client times: a virtual clock
