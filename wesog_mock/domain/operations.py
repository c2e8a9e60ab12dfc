"""The operation: its lifecycle (queued, running, finished, cancelled) and how it reads at a time.

An operation's outcome is decided when it starts (one tenant's operations never overlap, so
the images cannot change under it); while it runs, its counters reveal that outcome item by
item as time passes, so a poll sees them rise (D9) without the store ever holding half a batch.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from typing import Any, Literal

from wesog_mock.domain.batch import BatchKind, BatchOutcome
from wesog_mock.domain.clock import iso_ms

__all__ = ["Mutation", "Operation", "OperationFault", "Phase"]

Phase = Literal["queued", "running", "finished"]

# The view's fields in order, but `op_id` (first, where shown) and `errors` (last).
_FINAL_FIELDS = ("method", "resource", "num_total", "num_good", "num_bad", "is_started",
                 "is_finished", "all_good", "do_wait", "do_urgent", "do_strict", "idle_ms",
                 "exec_ms", "created_at", "started_at", "finished_at")
OperationFault = Literal["hold", "fail", "vanish"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Mutation:
    """A mutation as a request asks for it: what to do to which images, and how (D6, D7).

    Attributes:
        tenant: the API key whose images it changes.
        kind: create, replace, merge or delete.
        items: (image id, fields) pairs, in request order.
        wait, urgent, strict: the query's booleans, defaults applied.
        lang: the language of the per-item error messages.
    """

    tenant: str
    kind: BatchKind
    items: list[tuple[str, dict[str, Any]]]
    wait: bool = False
    urgent: bool = False
    strict: bool = False
    lang: str = "es"


@dataclass(slots=True, eq=False)
class Operation:
    """One queued mutation of one tenant. Times are epoch milliseconds on the fake's clock."""

    op_id: int
    tenant: str
    kind: BatchKind
    method: str  # the operation's `method` for its kind (the contract's `x-wesog-method`)
    items: list[tuple[str, dict[str, Any]]] | None  # dropped once evaluated
    num_total: int
    do_wait: bool
    do_urgent: bool
    do_strict: bool
    lang: str
    created_ms: float
    ready_ms: float  # it may not start before this (queue delay and jitter)
    item_ms: float
    extra_ms: float = 0.0  # jitter added to the run time
    started_ms: float | None = None
    finish_ms: float | None = None  # when it finishes (planned once started)
    finished: bool = False
    cancelled: bool = False
    held: bool = False  # an injected fault keeps it queued until released
    discarded: bool = False  # forgotten by a reset before it finished
    fail_reason: str | None = None  # an injected fault fails every item
    outcome: BatchOutcome | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    # A finished operation's view, made once (it never changes, D9; polls of finished
    # operations are most of a client's reads): its values but the errors, and its errors. As
    # tuples, which the collector stops tracking (a dict per kept operation made every full
    # collection walk ten thousand more objects, and cost more than it saved).
    _final: tuple[tuple[Any, ...], tuple[dict[str, Any], ...]] | None = field(
        default=None, repr=False)

    @property
    def phase(self) -> Phase:
        if self.finished:
            return "finished"
        return "queued" if self.started_ms is None else "running"

    def _items_done(self, now_ms: float) -> int:
        """How many items have been processed by `now_ms` (all of them once finished)."""
        if self.finished:
            return self.num_total
        if self.started_ms is None:
            return 0
        if self.item_ms <= 0:
            return self.num_total
        done = math.floor((now_ms - self.started_ms) / self.item_ms)
        return max(0, min(self.num_total, done))

    def view(self, now_ms: float, *, with_id: bool) -> dict[str, Any]:
        """The operation as the API shows it at `now_ms` (`op_id` only where A5/A6 put it).

        A new dict each call: the caller may change it."""
        final = self._final
        if final is None:
            if not self.finished:
                return self._view(now_ms, with_id=with_id)
            whole = self._view(now_ms, with_id=False)
            final = self._final = (tuple(whole[name] for name in _FINAL_FIELDS),
                                   tuple(whole["errors"]))
        values, errors = final
        view: dict[str, Any] = {"op_id": self.op_id} if with_id else {}
        view.update(zip(_FINAL_FIELDS, values, strict=True))
        view["errors"] = list(errors)
        return view

    def _view(self, now_ms: float, *, with_id: bool) -> dict[str, Any]:
        created, started = self.created_ms, self.started_ms
        if self.cancelled:  # A8: finished, never started, nothing counted
            num_good = num_bad = 0
            all_good: bool | None = False
            errors: list[dict[str, Any]] = []
            idle_ms, exec_ms = (self.finish_ms or now_ms) - created, 0.0
        elif started is None:  # queued
            num_good = num_bad = 0
            all_good = None
            errors = []
            idle_ms, exec_ms = max(0.0, now_ms - created), 0.0
        else:
            done = self._items_done(now_ms)
            bad = self.outcome.bad_indices if self.outcome is not None else []
            num_bad = bisect.bisect_left(bad, done)
            num_good = done - num_bad
            all_good = num_bad == 0
            errors = self.outcome.errors[:num_bad] if self.outcome is not None else []
            end = self.finish_ms if self.finished and self.finish_ms is not None else now_ms
            idle_ms, exec_ms = started - created, max(0.0, end - started)
        view: dict[str, Any] = {"op_id": self.op_id} if with_id else {}
        view.update(
            method=self.method,
            resource="image",
            num_total=self.num_total,
            num_good=num_good,
            num_bad=num_bad,
            is_started=started is not None,
            is_finished=self.finished,
            all_good=all_good,
            do_wait=self.do_wait,
            do_urgent=self.do_urgent,
            do_strict=self.do_strict,
            idle_ms=round(idle_ms, 3),
            exec_ms=round(exec_ms, 3),
            created_at=iso_ms(created),
            started_at=None if started is None else iso_ms(started),
            finished_at=(
                iso_ms(self.finish_ms) if self.finished and self.finish_ms is not None else None
            ),
            errors=errors,
        )
        return view
