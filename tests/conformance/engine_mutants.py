"""Deliberately broken engines: subclasses of the fake's `Engine` that get the queue, the
workers, retention, timing or the item semantics wrong, as a server's own code would.

An ASGI wrapper sees only requests and answers; these bugs live where the work is done, so
they change when operations start and finish, and what they do to the store. Each class
overrides as little as it can (public methods first, `_start`/`_next_start` where the bug is
in the worker itself) and calls the real engine for everything else. `EngineMutant` swaps one
in for the engine of a freshly built fake (see `mutant_base.with_engine`).
"""

from __future__ import annotations

import math
from dataclasses import replace

from mutant_base import Mutant, with_engine

from wesog_mock.domain.batch import BatchOutcome, evaluate_batch
from wesog_mock.domain.engine import Engine
from wesog_mock.domain.messages import item_message
from wesog_mock.domain.operations import Mutation, Operation, OperationFault

__all__ = [
    "EngineMutant",
    "ItemsSeeOnlyTheStore",
    "PutMergesInTheEngine",
    "RelaxedDeleteRefusesMissing",
    "RelaxedPutCreates",
    "RetentionOffByOne",
    "RunTimeFromCreation",
    "StrictDeleteRefusesMissing",
    "UnboundedWorkers",
    "UrgentQueuesBehindUrgent",
]


class EngineMutant(Mutant):
    """The fake, its engine replaced by `engine` (a subclass of `Engine`)."""

    engine: type[Engine] = Engine

    def __post_init__(self) -> None:
        self.app = with_engine(self.engine)


class _SubmitAs(Engine):
    """Submits a mutation as another one; the operation still shows what was asked."""

    def rewrite(self, mutation: Mutation) -> Mutation:
        return mutation

    def submit(self, mutation: Mutation, *, fault: OperationFault | None = None,
               fail_reason: str = "injected failure") -> Operation:
        op = super().submit(self.rewrite(mutation), fault=fault, fail_reason=fail_reason)
        op.method = self.schema.method_of_kind[mutation.kind]
        op.do_urgent = mutation.urgent
        return op


class _PutMerges(_SubmitAs):
    """D4: PUT is run as PATCH (the body is still validated as a PUT's)."""

    def rewrite(self, mutation: Mutation) -> Mutation:
        return replace(mutation, kind="merge") if mutation.kind == "replace" else mutation


class _RelaxedPutCreates(_SubmitAs):
    """D2: a relaxed PUT upserts, so a missing id is created instead of ignored (the HTTP
    reading of PUT)."""

    def rewrite(self, mutation: Mutation) -> Mutation:
        if mutation.kind == "replace" and not mutation.strict:
            return replace(mutation, kind="create")  # a relaxed create is an upsert
        return mutation


class _DeleteRefusesMissing(Engine):
    """A delete in the mode `strict` fails an item whose id is not stored (as strict PUT
    does): in strict mode that is the delete guide's reading (A17 reads it as ignored, as the
    overview's table says); in relaxed mode it breaks D3."""

    strict = True

    def _start(self, op: Operation, at_ms: float) -> None:
        items = list(op.items or [])
        super()._start(op, at_ms)
        if op.kind != "delete" or op.do_strict != self.strict or op.outcome is None:
            return
        stored = self.images_of(op.tenant)
        failures = {i: e["msg"] for i, e in zip(op.outcome.bad_indices, op.outcome.errors,
                                                strict=True)}
        for index, (image_id, _) in enumerate(items):
            if image_id not in stored:
                failures.setdefault(index, item_message("does_not_exist", op.lang, image_id))
        outcome = BatchOutcome(changes=op.outcome.changes)
        for index in sorted(failures):
            outcome.fail(index, failures[index])
        op.outcome = outcome


class _ItemsSeeOnlyTheStore(Engine):
    """A3: each item is judged against the stored images alone, not after the items before
    it (a batch checked with one look-up per item, then applied): a strict add of the same
    id twice stores it."""

    def _start(self, op: Operation, at_ms: float) -> None:
        items = list(op.items or [])
        super()._start(op, at_ms)
        stored = self.images_of(op.tenant)
        outcome = BatchOutcome()
        for index, item in enumerate(items):
            alone = evaluate_batch(stored, op.kind, [item], schema=self.schema,
                                   strict=op.do_strict, lang=op.lang,
                                   forced_failure=op.fail_reason)
            for error in alone.errors:
                outcome.fail(index, error["msg"])
            outcome.changes.update(alone.changes)
        op.outcome = outcome


class _UrgentQueuesBehindUrgent(Engine):
    """A4: two priority levels, each first in first out: an urgent operation goes behind the
    urgent ones already queued instead of at the very head."""

    def submit(self, mutation: Mutation, *, fault: OperationFault | None = None,
               fail_reason: str = "injected failure") -> Operation:
        op = super().submit(mutation, fault=fault, fail_reason=fail_reason)
        queue = self._queue
        if mutation.urgent and op in queue:
            queue.remove(op)
            at = max((i + 1 for i, other in enumerate(queue) if other.do_urgent), default=0)
            queue.insert(at, op)
        return op


class _UnboundedWorkers(Engine):
    """D6: every operation starts as soon as it is ready (a task per operation): the worker
    limit and the one-at-a-time rule per tenant are gone, so nothing waits in the queue."""

    def _next_start(self) -> tuple[Operation | None, float]:
        best: Operation | None = None
        best_at = math.inf
        for op in self._queue:
            if op.held:
                continue
            start_at = max(op.ready_ms, self.now_ms)
            if start_at <= self.now_ms:
                return op, start_at
            if start_at < best_at:
                best, best_at = op, start_at
        return best, best_at


class _RetentionOffByOne(Engine):
    """A14: `>=` where `>` was meant: one finished operation fewer than the limit is kept."""

    def run_until(self, now_ms: float) -> None:
        super().run_until(now_ms)
        keep = self.config.max_finished_ops - 1
        for key in self.tenant_keys():
            tenant = self.tenant(key)
            while len(tenant.finished_ids) > keep:
                tenant.operations.pop(tenant.finished_ids.popleft(), None)


class _RunTimeFromCreation(Engine):
    """A7: an operation's end is planned from its creation, not its start: one that queued
    longer than it runs is reported finished before it started."""

    def _start(self, op: Operation, at_ms: float) -> None:
        super()._start(op, at_ms)
        op.finish_ms = op.created_ms + op.num_total * op.item_ms + op.extra_ms


class _RelaxedDeleteRefusesMissing(_DeleteRefusesMissing):
    strict = False


def _mutant(name: str, engine: type[Engine]) -> type[EngineMutant]:
    """The fake with `engine` in place of its own, named for the meta-test's report."""
    return type(name, (EngineMutant,), {"engine": engine, "__doc__": engine.__doc__})


PutMergesInTheEngine = _mutant("PutMergesInTheEngine", _PutMerges)
RelaxedPutCreates = _mutant("RelaxedPutCreates", _RelaxedPutCreates)
StrictDeleteRefusesMissing = _mutant("StrictDeleteRefusesMissing", _DeleteRefusesMissing)
RelaxedDeleteRefusesMissing = _mutant("RelaxedDeleteRefusesMissing", _RelaxedDeleteRefusesMissing)
ItemsSeeOnlyTheStore = _mutant("ItemsSeeOnlyTheStore", _ItemsSeeOnlyTheStore)
UrgentQueuesBehindUrgent = _mutant("UrgentQueuesBehindUrgent", _UrgentQueuesBehindUrgent)
UnboundedWorkers = _mutant("UnboundedWorkers", _UnboundedWorkers)
RetentionOffByOne = _mutant("RetentionOffByOne", _RetentionOffByOne)
RunTimeFromCreation = _mutant("RunTimeFromCreation", _RunTimeFromCreation)
