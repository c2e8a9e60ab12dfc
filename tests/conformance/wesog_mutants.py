"""Deliberately broken variants of the fake, built from the outside: ASGI wrappers around an
unchanged `create_app()` that rewrite requests and answers, each breaking one rule.

Every factory here is an import string for the suite: `--wesog-app wesog_mutants:put_merges`.
`MUTANTS` maps each name to the rule it breaks; the project's tests require the suite to catch
every one, and the unbroken `fake` (a virtual clock, so nothing ever sleeps) to pass.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

# Where a reading of an A rule is also the likeliest bug, the mutant is that reading.
from alternative_readings import GuideDefaults, OpsNewestFirst, UpsertMerges
from engine_mutants import (
    ItemsSeeOnlyTheStore,
    PutMergesInTheEngine,
    RelaxedDeleteRefusesMissing,
    RelaxedPutCreates,
    RetentionOffByOne,
    RunTimeFromCreation,
    StrictDeleteRefusesMissing,
    UnboundedWorkers,
    UrgentQueuesBehindUrgent,
)
from mutant_base import Ans, Mutant, Req, fake, ops_in

from wesog_mock import MockConfig, create_app
from wesog_mock.controls.schema import image_schema

__all__ = ["MUTANTS", "REAL_CLOCK_MUTANTS", "fake", "no_admin", "real_clock_fake"]


class StrictAddOverwrites(Mutant):
    async def handle(self, req: Req) -> Ans:
        if req.method == "POST" and req.flag("strict"):
            ans = await self.forward(req.with_flag("strict", False))
            document = ans.json()
            for op in ops_in(document):
                op["do_strict"] = True
            return ans.with_json(document) if document is not None else ans
        return await self.forward(req)


class RelaxedAddRefuses(Mutant):
    async def handle(self, req: Req) -> Ans:
        if req.method == "POST" and req.is_mutation and not req.flag("strict"):
            ans = await self.forward(req.with_flag("strict", True))
            document = ans.json()
            for op in ops_in(document):
                op["do_strict"] = False
            return ans.with_json(document) if document is not None else ans
        return await self.forward(req)


class HalfCommit(Mutant):
    """A batch runs as one request per item: the good items stay even when one fails."""

    async def handle(self, req: Req) -> Ans:
        items = req.json()
        if req.path != "/imgs" or req.method == "GET" or not isinstance(items, list) \
                or not 2 <= len(items) <= 100:
            return await self.forward(req)
        answers = [await self.forward(replace(req, body=json.dumps([item]).encode())
                                      .with_flag("wait", True)) for item in items]
        ops = [a.json() for a in answers]
        if not all(isinstance(op, dict) and "num_bad" in op for op in ops):
            return answers[0]
        first = dict(ops[0])
        bad = [i for i, op in enumerate(ops) if op["num_bad"]]
        first.update(num_total=len(items), num_bad=len(bad), num_good=len(items) - len(bad),
                     all_good=not bad, errors=[{**op["errors"][0], "id": i}
                                               for i, op in enumerate(ops) if op["errors"]])
        return answers[0].with_json(first)


class PatchIgnoresNull(Mutant):
    async def handle(self, req: Req) -> Ans:
        document = req.json()
        if req.method == "PATCH" and document is not None:
            items = document if isinstance(document, list) else [document]
            for item in items:
                if isinstance(item, dict):
                    for key in [k for k, v in item.items() if v is None]:
                        del item[key]
            req = replace(req, body=json.dumps(document).encode())
        return await self.forward(req)


class FlagsNotEchoed(Mutant):
    def rewrite_op(self, req: Req, op: dict[str, Any]) -> None:
        op["do_urgent"] = False


class FinishedOperationChanges(Mutant):
    def __post_init__(self) -> None:
        self.reads: dict[str, int] = {}

    def rewrite_op(self, req: Req, op: dict[str, Any]) -> None:
        if req.method == "GET" and req.path.startswith("/ops/") and op.get("is_finished"):
            self.reads[req.path] = self.reads.get(req.path, 0) + 1
            op["exec_ms"] = op["exec_ms"] + self.reads[req.path] - 1


class OpIdReused(Mutant):
    def rewrite_op(self, req: Req, op: dict[str, Any]) -> None:
        if "op_id" in op:
            op["op_id"] = (op["op_id"] - 1) % 3 + 1


class TenantsLeak(Mutant):
    async def handle(self, req: Req) -> Ans:
        if req.headers.get("api-key"):
            req = replace(req, headers={**req.headers, "api-key": "shared"})
        return await self.forward(req)


class MissingKeyAccepted(Mutant):
    async def handle(self, req: Req) -> Ans:
        if not req.headers.get("api-key"):
            req = replace(req, headers={**req.headers, "api-key": "k"})
        return await self.forward(req)


class CountsOffByOne(Mutant):
    def rewrite_op(self, req: Req, op: dict[str, Any]) -> None:
        if op.get("is_finished") and op.get("is_started") and op["num_bad"]:
            op["num_good"] += 1


class ErrorsDropped(Mutant):
    def rewrite_op(self, req: Req, op: dict[str, Any]) -> None:
        op["errors"] = []


class MethodLabelWrong(Mutant):
    def rewrite_op(self, req: Req, op: dict[str, Any]) -> None:
        if op.get("method") == "upd":
            op["method"] = "add"


class ValidationIs500(Mutant):
    def rewrite(self, req: Req, ans: Ans) -> Ans:
        return ans.with_json({"detail": "Internal Server Error"}, 500) if ans.status == 422 \
            else ans


class ValidationIs400(Mutant):
    """Invalid input is a 400 Bad Request, as many frameworks answer it (not FastAPI's 422)."""

    def rewrite(self, req: Req, ans: Ans) -> Ans:
        return ans.with_json({"detail": "Bad Request"}, 400) if ans.status == 422 else ans


class AsyncAnswerOnlyId(Mutant):
    """The 202 is "an object with the ID of the operation" (the delete guide), nothing more."""

    def rewrite(self, req: Req, ans: Ans) -> Ans:
        document = ans.json()
        if req.is_mutation and ans.status == 202 and isinstance(document, dict) \
                and "op_id" in document:
            return ans.with_json({"op_id": document["op_id"]})
        return ans


class LimitAfterStoring(Mutant):
    """Items are applied as the batch is read; the limit, hit at the end, refuses the request
    but the items read before it stay."""

    async def handle(self, req: Req) -> Ans:
        ans = await self.forward(req)
        items = req.json()
        if ans.status == 413 and req.path == "/imgs" and isinstance(items, list):
            for item in items[:-1]:
                await self.forward(replace(req, body=json.dumps([item]).encode()))
        return ans


class ValidatesBeforeLimits(Mutant):
    """The whole request is parsed and validated before its size and item count are checked:
    a request both too large and invalid is a 422 where the 413 comes first (A13)."""

    def __post_init__(self) -> None:
        # A second fake with no practical limits, used only to ask "is this request valid?".
        self.unlimited = create_app(MockConfig(clock="virtual", max_batch=1_000_000,
                                               max_body_bytes=1 << 30))

    async def handle(self, req: Req) -> Ans:
        ans = await self.forward(req)
        if ans.status == 413:
            verdict = await Mutant(app=self.unlimited).forward(
                replace(req, headers={**req.headers, "api-key": "validation-only"}))
            if verdict.status == 422:
                return verdict
        return ans


class FieldsIgnored(Mutant):
    """`fields` is validated but never applied (a handler that forgot it): an image read
    always answers the whole record, so the named fields are there (the document's part) and
    everything else too (A15)."""

    async def handle(self, req: Req) -> Ans:
        ans = await self.forward(req)
        if req.method == "GET" and req.path.startswith("/imgs/") and ans.status == 200 \
                and any(k == "fields" for k, _ in req.query):
            return await self.forward(
                replace(req, query=[(k, v) for k, v in req.query if k != "fields"]))
        return ans


class UrgentIgnored(Mutant):
    def __post_init__(self) -> None:
        self.urgent: set[int] = set()

    async def handle(self, req: Req) -> Ans:
        urgent = req.is_mutation and req.flag("urgent")
        ans = await self.forward(req.with_flag("urgent", False) if urgent else req)
        document = ans.json()
        if urgent and isinstance(document, dict) and "op_id" in document:
            self.urgent.add(document["op_id"])
        return self.rewrite(req, ans)

    def rewrite_op(self, req: Req, op: dict[str, Any]) -> None:
        op_id = op.get("op_id")
        if op_id is None and req.path.startswith("/ops/"):
            op_id = int(req.path.rsplit("/", 1)[1])
        if op_id in self.urgent:
            op["do_urgent"] = True


class OpIdOnGet(Mutant):
    def rewrite_op(self, req: Req, op: dict[str, Any]) -> None:
        if req.method == "GET" and req.path.startswith("/ops/"):
            op["op_id"] = int(req.path.rsplit("/", 1)[1])


class WaitIgnored(Mutant):
    async def handle(self, req: Req) -> Ans:
        wait = req.is_mutation and req.flag("wait")
        ans = await self.forward(req.with_flag("wait", False) if wait else req)
        document = ans.json()
        for op in ops_in(document) if wait else []:
            op["do_wait"] = True
        return ans.with_json(document) if wait and document is not None else ans


class CancelOfStartedSucceeds(Mutant):
    async def handle(self, req: Req) -> Ans:
        ans = await self.forward(req)
        if req.method == "DELETE" and req.path.startswith("/ops/") and ans.status == 409:
            return await self.forward(replace(req, method="GET"))
        return ans


class StaleReads(Mutant):
    def __post_init__(self) -> None:
        self.seen: dict[tuple[str, str], Ans] = {}

    async def handle(self, req: Req) -> Ans:
        if req.method == "GET" and req.path.startswith("/imgs/"):
            key = (req.headers.get("api-key", ""), req.path)
            ans = self.seen.get(key) or await self.forward(req)
            if ans.status == 200:
                self.seen[key] = ans
            return ans
        return await self.forward(req)


class TimestampsWithoutMs(Mutant):
    def rewrite_op(self, req: Req, op: dict[str, Any]) -> None:
        for name in ("created_at", "started_at", "finished_at"):
            if isinstance(op.get(name), str):
                op[name] = op[name][:19] + "Z"


class UnknownFieldsRefused(Mutant):
    """A model with `extra="forbid"`: any field the image schema lacks is a 422."""

    known = frozenset({"id", *image_schema().write_fields})

    async def handle(self, req: Req) -> Ans:
        document = req.json()
        items = document if isinstance(document, list) else [document]
        extra = [{"type": "extra_forbidden", "loc": ["body", index, name] if isinstance(
                      document, list) else ["body", name],
                  "msg": "Extra inputs are not permitted", "input": item[name]}
                 for index, item in enumerate(items) if isinstance(item, dict)
                 for name in item if name not in self.known]
        if req.is_mutation and extra:
            return Ans(422, [(b"content-type", b"application/json")],
                       json.dumps({"detail": extra}).encode())
        return await self.forward(req)


def real_clock_fake() -> Any:
    """The fake on its real clock, every operation queued for a few milliseconds."""
    return create_app(MockConfig(clock="real", queue_delay_ms=3.0))


class ExecMsWhileQueued(Mutant):
    """On a real clock: exec_ms counts from creation while an operation is still queued.

    Subtle and timing-bound: it shows only when an answer catches an operation in the queue
    a millisecond or more after its creation, which differs from one replay to the next.
    """

    def __post_init__(self) -> None:
        self.app = real_clock_fake()

    def rewrite_op(self, req: Req, op: dict[str, Any]) -> None:
        if op.get("is_started") is False and op.get("is_finished") is False:
            op["exec_ms"] = op.get("idle_ms", 0)


class IdleMsZeroWhileQueued(Mutant):
    """On a real clock: idle_ms stays 0 while an operation is queued (right once it starts).

    Seen only by an answer that catches an operation still queued, some time after the
    answer that created it; the queue is slow enough (20 ms) for that to happen, sometimes.
    """

    def __post_init__(self) -> None:
        self.app = create_app(MockConfig(clock="real", queue_delay_ms=20.0))

    def rewrite_op(self, req: Req, op: dict[str, Any]) -> None:
        if op.get("is_started") is False and op.get("is_finished") is False:
            op["idle_ms"] = 0.0


# Wrappers of the fake on its real clock: the suite must name the one rule each breaks.
REAL_CLOCK_MUTANTS: dict[str, tuple[type[Mutant], str]] = {
    "exec_ms_while_queued": (ExecMsWhileQueued, "A7"),
    "idle_ms_zero_while_queued": (IdleMsZeroWhileQueued, "A7"),
}

MUTANTS: dict[str, tuple[type[Mutant], str]] = {
    "strict_add_overwrites": (StrictAddOverwrites, "D1"),
    "relaxed_add_refuses": (RelaxedAddRefuses, "D1"),
    "half_commit": (HalfCommit, "D5"),
    "put_merges": (PutMergesInTheEngine, "D4"),
    "patch_ignores_null": (PatchIgnoresNull, "A1"),
    "flags_not_echoed": (FlagsNotEchoed, "D9"),
    "finished_operation_changes": (FinishedOperationChanges, "D9"),
    "op_id_reused": (OpIdReused, "D6"),
    "tenants_leak": (TenantsLeak, "D8"),
    "missing_key_accepted": (MissingKeyAccepted, "A10"),
    "counts_off_by_one": (CountsOffByOne, "A2"),
    "errors_dropped": (ErrorsDropped, "A2"),
    "method_label_wrong": (MethodLabelWrong, "D9"),
    # A 500 is outside the contract document before it is a wrong refusal (A9).
    "validation_is_500": (ValidationIs500, "OAS"),
    "validation_is_400": (ValidationIs400, "A9"),
    "urgent_ignored": (UrgentIgnored, "D6"),
    "op_id_on_get": (OpIdOnGet, "D8"),
    "wait_ignored": (WaitIgnored, "D7"),
    "ops_newest_first": (OpsNewestFirst, "A6"),
    "cancel_of_started_succeeds": (CancelOfStartedSucceeds, "A8"),
    # A read cache never invalidated: the write it hides names the rule (here PUT's, D4).
    "stale_reads": (StaleReads, "D4"),
    "timestamps_without_ms": (TimestampsWithoutMs, "A7"),
    "unknown_fields_refused": (UnknownFieldsRefused, "A9"),
    "async_answer_only_id": (AsyncAnswerOnlyId, "A5"),
    "limit_after_storing": (LimitAfterStoring, "A11"),
    "guide_defaults": (GuideDefaults, "A12"),
    "validates_before_limits": (ValidatesBeforeLimits, "A13"),
    "fields_ignored": (FieldsIgnored, "A15"),
    "upsert_merges": (UpsertMerges, "A16"),
    # In the engine: item semantics, the queue, the workers, retention, timing.
    "relaxed_put_creates": (RelaxedPutCreates, "D2"),
    "relaxed_delete_refuses_missing": (RelaxedDeleteRefusesMissing, "D3"),
    # The delete guide's reading of strict delete, which the overview contradicts (A17).
    "strict_delete_refuses_missing": (StrictDeleteRefusesMissing, "A17"),
    "items_see_only_the_store": (ItemsSeeOnlyTheStore, "A3"),
    "urgent_queues_behind_urgent": (UrgentQueuesBehindUrgent, "A4"),
    "unbounded_workers": (UnboundedWorkers, "D6"),
    "retention_off_by_one": (RetentionOffByOne, "A14"),
    "run_time_from_creation": (RunTimeFromCreation, "A7"),
}


def _factory(cls: type[Mutant]) -> Callable[[], Mutant]:
    def make() -> Mutant:
        return cls()

    make.__name__ = make.__qualname__ = cls.__name__
    return make


# One factory per mutant, so each is an import string: `wesog_mutants:put_merges`.
globals().update({name: _factory(cls)
                 for name, (cls, _) in {**MUTANTS, **REAL_CLOCK_MUTANTS}.items()})


def no_admin() -> Any:
    """The fake without its admin API: a stand-in for a real server."""
    return create_app(MockConfig(admin=False))
