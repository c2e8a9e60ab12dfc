"""Checks across time: timestamps and durations (A7), lists (A6), and how one operation's
answers follow each other (D6, D9, A14). Re-exported by `contracts.checks`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from contracts.exchange import Exchange, OperationSnapshot, fail, state_of

__all__ = [
    "check_idle_time",
    "check_list_order",
    "check_not_forgotten",
    "check_progression",
    "check_timestamps",
]

# Timestamps have millisecond resolution and durations may come from another clock source.
_TOLERANCE_MS = 2.0


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _ms(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() * 1000


def _close(measured: Any, expected: float) -> bool:
    if not isinstance(measured, int | float):
        return True  # the schema check reports it
    return abs(measured - expected) <= _TOLERANCE_MS + 0.01 * abs(expected)


def check_timestamps(exchange: Exchange, history: Sequence[Exchange]) -> None:
    """Timestamps null until reached, in order, and agreeing with idle_ms and exec_ms (A7)."""
    for snap in exchange.operations():
        op = snap.body
        state = state_of(op)
        started_at, finished_at = op.get("started_at"), op.get("finished_at")
        if (started_at is None) == (op.get("is_started") is True):
            fail(exchange, "A7", "started_at out of step", "started_at is set once started",
                  expected="set" if (op.get("is_started") is True) else None, got=started_at)
        if (finished_at is None) == (op.get("is_finished") is True):
            fail(exchange, "A7", "finished_at out of step", "finished_at is set once finished",
                  expected="set" if (op.get("is_finished") is True) else None, got=finished_at)
        created, started, finished = (_time(op.get(k)) for k in
                                      ("created_at", "started_at", "finished_at"))
        points = [t for t in (created, started, finished) if t is not None]
        if points != sorted(points):
            fail(exchange, "A7", "timestamps out of order", "created <= started <= finished",
                  got=[op.get("created_at"), started_at, finished_at])
        if created and started and not _close(op.get("idle_ms"), _ms(started, created)):
            fail(exchange, "A7", "idle_ms disagrees", "idle_ms is created -> started",
                  expected=_ms(started, created), got=op.get("idle_ms"))
        if started and finished and not _close(op.get("exec_ms"), _ms(finished, started)):
            fail(exchange, "A7", "exec_ms disagrees", "exec_ms is started -> finished",
                  expected=_ms(finished, started), got=op.get("exec_ms"))
        if state in ("queued", "cancelled") and op.get("exec_ms") != 0:
            fail(exchange, "A7", "exec_ms before start", "exec_ms is 0 until started",
                  expected=0, got=op.get("exec_ms"))


def check_idle_time(exchange: Exchange, history: Sequence[Exchange]) -> None:
    """A queued operation's idle_ms is its time in the queue so far: at least the time the
    client saw pass between the answer that created it and this request (A7).

    Measured on the client's clock, only when the exchanges carry it (a real clock).
    """
    if exchange.sent_s is None or exchange.is_mutation:
        return
    created_by = {s.op_id: e for e in history if e.is_mutation and e.received_s is not None
                  for s in e.operations()}
    for snap in exchange.operations():
        origin = created_by.get(snap.op_id)
        idle = snap.body.get("idle_ms")
        if origin is None or state_of(snap.body) != "queued" or not isinstance(idle, int | float):
            continue
        waited = (exchange.sent_s - (origin.received_s or 0.0)) * 1000
        if waited > idle + _TOLERANCE_MS + 0.01 * waited:
            fail(exchange, "A7", "idle_ms behind the clock",
                 f"operation {snap.op_id} queued for at least {waited:.1f} ms",
                 expected=f">= {waited:.1f}", got=idle)


def check_list_order(exchange: Exchange, history: Sequence[Exchange]) -> None:
    """`GET /ops` lists distinct operations, oldest first (D6, A6)."""
    if exchange.operation_id != "listOperations" or exchange.status != 200:
        return
    snaps = exchange.operations()
    ids = [s.op_id for s in snaps if s.op_id is not None]
    if len(set(ids)) != len(ids):
        fail(exchange, "D6", "op_id listed twice", "every operation has its own op_id", got=ids)
    created = [_time(s.body.get("created_at")) for s in snaps]
    stamps = [t for t in created if t is not None]
    if stamps != sorted(stamps):
        fail(exchange, "A6", "not oldest first", "GET /ops lists the oldest first",
              got=[s.body.get("created_at") for s in snaps][:10])


_NEVER_CHANGE = ("method", "resource", "num_total", "do_wait", "do_urgent", "do_strict",
                 "created_at")
_NEVER_DECREASE = ("num_good", "num_bad")


def _latest(history: Sequence[Exchange]) -> dict[int, tuple[OperationSnapshot, Exchange]]:
    latest: dict[int, tuple[OperationSnapshot, Exchange]] = {}
    for earlier in history:
        for snap in earlier.operations():
            if snap.op_id is not None:
                latest[snap.op_id] = (snap, earlier)
    return latest


def _without_id(op: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in op.items() if k != "op_id"}


def check_progression(exchange: Exchange, history: Sequence[Exchange]) -> None:
    """An operation only moves forward, a finished one never changes, an op_id is never reused
    (D6, D9); durations never decrease (A7)."""
    latest = _latest(history)
    created = {s.op_id for e in history if e.is_mutation and e is not exchange
               for s in e.operations()}
    for snap in exchange.operations():
        if exchange.is_mutation and snap.op_id is not None and snap.op_id in created:
            fail(exchange, "D6", "op_id reused", "every mutation creates its own operation",
                  expected="a new op_id", got=snap.op_id)
        if snap.op_id is None or snap.op_id not in latest:
            continue
        (earlier, seen_in) = latest[snap.op_id]
        old, new = earlier.body, snap.body
        where = f"operation {snap.op_id}"
        # A cancel answer, or a cancelled operation, is A8's reading: what follows it breaks
        # A8, not the documented lifecycle.
        cancel = seen_in.operation_id == "cancelOperation" or state_of(old) == "cancelled"

        def rule(documented: str, cancel: bool = cancel) -> str:
            return "A8" if cancel and not documented.startswith("A") else documented

        if state_of(old) in ("finished", "cancelled") and _without_id(old) != _without_id(new):
            changed = sorted(k for k in set(old) | set(new)
                             if k != "op_id" and old.get(k) != new.get(k))
            fail(exchange, rule("D9"), "finished operation changed",
                  f"{where} changed {changed}", expected={k: old.get(k) for k in changed},
                  got={k: new.get(k) for k in changed})
        for flag in ("is_started", "is_finished"):
            if old.get(flag) is True and new.get(flag) is not True:
                fail(exchange, rule("D9"), "lifecycle went backwards", f"{where}: {flag}",
                      expected=True, got=new.get(flag))
        for name in _NEVER_CHANGE:
            # A field the earlier answer lacked is that answer's fault, reported with it.
            if name in old and old.get(name) != new.get(name):
                fail(exchange, rule("A7" if name == "created_at" else "D9"),
                      "operation changed", f"{where}: {name} never changes",
                      expected=old.get(name), got=new.get(name))
        for name in (*_NEVER_DECREASE, "idle_ms", "exec_ms"):
            was, now = old.get(name), new.get(name)
            if isinstance(was, int | float) and isinstance(now, int | float) and now < was:
                fail(exchange, rule("D9" if name in _NEVER_DECREASE else "A7"),
                      f"{name} decreased", f"{where}: {name} never decreases",
                      expected=f">= {was}", got=now)
        if old.get("started_at") is not None and new.get("started_at") != old.get("started_at"):
            fail(exchange, "A7", "started_at changed", f"{where}: started_at is set once",
                  expected=old.get("started_at"), got=new.get("started_at"))


def check_not_forgotten(exchange: Exchange, history: Sequence[Exchange]) -> None:
    """A queued or running operation is never forgotten (A14)."""
    if exchange.operation_id != "getOperation" or exchange.status != 404:
        return
    op_id = exchange.path_params.get("op_id")
    seen = _latest(history).get(op_id) if isinstance(op_id, int) else None
    if seen is not None and state_of(seen[0].body) in ("queued", "running"):
        fail(exchange, "A14", "unfinished operation forgotten",
              f"operation {op_id} was {state_of(seen[0].body)}; only finished ones are dropped",
              expected=200, got=404)
