"""A Hypothesis state machine that drives a server and the reference model side by side.

Rules send batches and single-image calls in every mode, poll operations, read images, list
and cancel operations, and send invalid requests; every answer is checked by the client
(`contracts.checks`). The rules also observe: what the queue-order check needs is read at the
end of each rule, so the invariants send nothing and only compare what was seen with the
model (every finished operation did what it predicted, in queue order). At the end of each run
every image the run touched is read back and compared with the model.

The model stays exact without controlling the server's queue: operations of one tenant run in
queue order, so while nothing urgent is pending the queue order is the send order; an urgent
operation is sent only once every earlier one has finished, and only the last pending
operation is ever cancelled.

Against a server on a real clock, what the server answers differs from one replay to the
next, so nothing Hypothesis draws may depend on it: every rule draws all it needs first, and
unconditionally (an index into the model's own lists, never a value read from an answer), and
no rule has a precondition. A replay then draws the same data, step for step; only where it
fails may differ. When that makes Hypothesis give up (`Flaky`), `run_machine` raises the
smallest failure found so far instead, with its steps.

    machine = make_state_machine(client)
    run_machine(machine, settings(max_examples=20))
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

from contracts._extra import suite_import_error

try:
    from hypothesis import settings as Settings
    from hypothesis import strategies as st
    from hypothesis.errors import Flaky
    from hypothesis.stateful import (
        RuleBasedStateMachine,
        invariant,
        rule,
        run_state_machine_as_test,
    )
except ModuleNotFoundError as error:  # the base install, without the contracts extra
    raise suite_import_error(error, __name__) from None

from contracts.client import WesogClient
from contracts.exchange import ContractViolation, Exchange, fail, state_of
from contracts.model import KINDS, ImageModel, Kind, Outcome, image_fields
from contracts.strategies import (
    batches,
    image_ids,
    images,
    invalid_requests,
    partial_images,
    query_flags,
)

__all__ = [
    "WesogStateMachine",
    "check_image",
    "check_outcome",
    "expect_accepted",
    "make_state_machine",
    "run_machine",
]

_POOL = 4
_SLOTS = st.sampled_from([str(i) for i in range(_POOL)])
# An index into one of the model's lists, taken modulo its length: drawn whatever the list holds.
_INDEX = st.integers(min_value=0, max_value=255)
_DIVERGED = ("the server's timing made Hypothesis's replay of a failure diverge: this is the "
             "smallest failing sequence found until then, maybe not fully shrunk")


def expect_accepted(exchange: Exchange) -> Mapping[str, Any]:
    """The operation of a valid mutation's answer; any other status breaks a rule."""
    if exchange.status in (200, 202) and isinstance(exchange.body, Mapping):
        return exchange.body
    rule = {422: "A9", 413: "A11", 401: "A10"}.get(exchange.status, "OAS")
    return fail(exchange, rule, "valid mutation refused", "a valid mutation creates an operation",
         expected="200 or 202", got=exchange.status)


def check_outcome(exchange: Exchange, op: Mapping[str, Any], outcome: Outcome) -> None:
    """A finished operation did what the model predicted: the same items failed (D1-D3, A3).

    Which items failed is read from `errors[].id`, an item's index by A2's reading: as many
    errors as predicted but at other ids is A2's (how errors name items), not an item rule's.
    """
    errors = op.get("errors")
    failed = {e.get("id") for e in errors if isinstance(e, Mapping)} if isinstance(
        errors, list) else set()
    predicted = set(outcome.failing)
    if failed != predicted:
        same_verdict = (op.get("all_good") is True) == outcome.all_good
        if same_verdict and len(failed) == len(predicted) \
                and op.get("num_bad") == outcome.num_bad:
            fail(exchange, "A2", "errors name other items",
                 "each error's id is the index of its failing item",
                 expected=sorted(predicted), got=sorted(failed, key=str))
        index = min(i for i in failed ^ predicted if isinstance(i, int))
        item = outcome.items[index] if index < len(outcome.items) else None
        what = "fails" if index in predicted else "succeeds"
        fail(exchange, outcome.rule_for_item(index), "item outcome differs from the model",
             f"item {index} ({item.image_id if item else '?'}) {what} in "
             f"{'strict' if outcome.strict else 'relaxed'} {outcome.kind}",
             expected=sorted(predicted), got=sorted(i for i in failed if isinstance(i, int)))
    if op.get("num_bad") != outcome.num_bad or op.get("num_good") != outcome.num_good:
        fail(exchange, "A2", "counts differ from the model", "num_good and num_bad",
             expected=(outcome.num_good, outcome.num_bad),
             got=(op.get("num_good"), op.get("num_bad")))


def _same(record: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    return all(record.get(name) == wanted.get(name) for name in image_fields())


def check_image(
    exchange: Exchange, image_id: str, allowed: list[Mapping[str, Any] | None], rule: str
) -> None:
    """`GET /imgs/{id}` shows one of the `allowed` states of the image (None: absent)."""
    if exchange.status == 404:
        if None not in allowed:
            fail(exchange, rule, "image missing", f"{image_id} must exist", expected=200, got=404)
        return
    body = exchange.body if isinstance(exchange.body, Mapping) else {}
    if exchange.status != 200:
        fail(exchange, "OAS", "image read failed", f"GET {image_id}", expected=200,
             got=exchange.status)
    if not any(state is not None and _same(body, state) for state in allowed):
        wanted = next((state for state in allowed if state is not None), None)
        if wanted is None:
            fail(exchange, rule, "image should not exist", f"{image_id} must be absent",
                 expected=404, got=200)
        differs = {k: body.get(k) for k in image_fields() if body.get(k) != wanted.get(k)}
        fail(exchange, rule, "image differs from the model", f"{image_id}: {sorted(differs)}",
             expected={k: wanted.get(k) for k in differs}, got=differs)


@dataclass(eq=False)
class _Pending:
    op_id: int
    outcome: Outcome
    exchange: Exchange  # the answer to the mutation that created it
    read: Exchange | None = None  # the latest `GET /ops/{op_id}` the queue-order check sent


@dataclass(frozen=True)
class _Finished:
    pending: _Pending
    op: Mapping[str, Any]  # its body once seen finished (D9: it never changes after)


class WesogStateMachine(RuleBasedStateMachine):
    """Random sequences of mutations, polls, reads, lists and cancels, against the model.

    Rules send requests and, at their end, observe (`_observe`); invariants only check what
    was observed, and send nothing.
    """

    # Every violation a run raised, oldest first (`run_machine` gives each test its own list).
    found: ClassVar[list[ContractViolation]] = []  # replaced per run

    def __init__(self, client: WesogClient) -> None:
        super().__init__()
        self.client = client
        self.ids = [client.new_id("sm") for _ in range(_POOL)]
        self.model = ImageModel()
        self.pending: list[_Pending] = []
        self.finished: list[_Finished] = []
        self.created: list[int] = []
        self.sent: list[_Pending] = []
        self.last_rule: dict[str, str] = {}
        self.steps: list[str] = []
        # Set once a step raised: the model no longer follows the server, so the teardown
        # (which Hypothesis runs after a failure too) must not judge by it.
        self.failed = False

    # -- noting failures -----------------------------------------------------------------

    def _step(self, name: str, **drawn: Any) -> None:
        """Note a step and what it drew (a violation carries the steps up to it)."""
        self.steps.append(f"{name}({', '.join(f'{k}={v!r}' for k, v in drawn.items())})")

    @contextmanager
    def _keeping(self) -> Iterator[None]:
        """Note the steps on a violation and keep it, should Hypothesis's replay diverge."""
        try:
            yield
        except ContractViolation as violation:
            self.failed = True
            if not any(n.startswith("steps: ") for n in getattr(violation, "__notes__", ())):
                violation.add_note("steps: " + "; ".join(self.steps))
                self.found.append(violation)
            raise

    def check_invariants(self, settings: Settings, output: Callable[[str], object],
                         runtimes: dict[str, float]) -> None:
        with self._keeping():
            super().check_invariants(settings, output, runtimes)

    # -- sending -------------------------------------------------------------------------

    def _send(self, kind: Kind, path: str, body: Any, items: Sequence[Mapping[str, Any]],
              query: Mapping[str, str]) -> None:
        json_body: Any = {} if body is None else body
        method = self.client.contract.vocabulary.http_method[kind]
        if kind == "delete" and path != "/imgs":
            exchange = self.client.request(method, path, query=query)
        else:
            exchange = self.client.request(method, path, query=query, json_body=json_body)
        op = expect_accepted(exchange)
        op_id = op.get("op_id")
        if not isinstance(op_id, int):
            fail(exchange, "A5", "no op_id", "a mutation answers with its op_id", got=op)
        outcome = self.model.apply(kind, items, strict=bool(exchange.params.get("strict")))
        for item in items:
            self.last_rule[str(item["id"])] = outcome.rule_for_image(str(item["id"]))
        self.created.append(op_id)
        pending = _Pending(op_id, outcome, exchange)
        self.sent.append(pending)
        self.pending.append(pending)
        self._observe()

    def _prepare(self, query: dict[str, str]) -> dict[str, str]:
        exchange_params = self.client.contract.endpoint("createImages").parse_query(query)[0]
        if exchange_params.get("urgent"):
            self._settle()  # an urgent operation overtakes the queue: let the queue drain first
        return query

    def _slot(self, slot: str) -> str:
        return self.ids[int(slot)]

    @rule(data=st.data(), kind=st.sampled_from(KINDS), query=query_flags())
    def batch(self, data: st.DataObject, kind: Kind, query: dict[str, str]) -> None:
        items = [{**item, "id": self._slot(item["id"])}
                 for item in data.draw(batches(kind, ids=_SLOTS, max_size=5))]
        self._step("batch", kind=kind, query=query, items=items)
        with self._keeping():
            self._send(kind, "/imgs", items, items, self._prepare(query))

    @rule(data=st.data(), kind=st.sampled_from(KINDS), slot=_SLOTS, query=query_flags())
    def single(self, data: st.DataObject, kind: Kind, slot: str, query: dict[str, str]) -> None:
        image_id = self._slot(slot)
        body: Any = None
        if kind in ("create", "replace"):
            body = data.draw(images(with_id=False))
        elif kind == "merge":
            body = data.draw(partial_images(with_id=False))
        item = {**(body or {}), "id": image_id}
        self._step("single", kind=kind, query=query, image_id=image_id, body=body)
        with self._keeping():
            self._send(kind, self.client.image_path(image_id), body, [item],
                       self._prepare(query))

    @rule(data=st.data())
    def invalid(self, data: st.DataObject) -> None:
        ids = image_ids(prefix=f"{self.client.prefix}bad-", max_size=4)
        request = data.draw(invalid_requests(ids=ids))
        self._step("invalid", request=request)
        with self._keeping():
            exchange = self.client.request(request.method, request.path, query=request.query,
                                           content=request.body)
            if exchange.status != request.status:
                fail(exchange, request.rule_for(exchange.status), "invalid request not refused",
                     request.defect,
                     expected=request.status, got=exchange.status)

    # -- observing -----------------------------------------------------------------------

    def _seen_finished(self, pending: _Pending) -> Mapping[str, Any] | None:
        op = self.client.log.latest(pending.op_id)
        return op if op is not None and op.get("is_finished") is True else None

    def _last_seen_finished(self) -> int | None:
        """The index in `sent` of the last operation seen finished, or None."""
        seen = [i for i, sent in enumerate(self.sent) if self._seen_finished(sent) is not None]
        return seen[-1] if seen else None

    def _observe(self) -> None:
        """Read what the invariants need, at the end of every rule that can learn of a finished
        operation: every pending operation sent before one seen finished is read again, and
        every operation seen finished moves from `pending` to `finished`."""
        last = self._last_seen_finished()
        for pending in self.pending:
            if last is not None and self.sent.index(pending) < last:
                pending.read = self.client.get_operation(pending.op_id)
        still = []
        for pending in self.pending:
            op = self._seen_finished(pending)
            if op is None:
                still.append(pending)
            else:
                self.finished.append(_Finished(pending, op))
        self.pending = still

    def _settle(self) -> None:
        for pending in list(self.pending):
            self.client.wait_finished(pending.op_id)
        self._observe()

    @rule(index=_INDEX)
    def poll(self, index: int) -> None:
        """Read one operation sent (pending or not: which one is pending is the server's say)."""
        self._step("poll", index=index)
        if not self.sent:
            return
        with self._keeping():
            self.client.get_operation(self.sent[index % len(self.sent)].op_id)
            self._observe()

    @rule(slot=_SLOTS)
    def read(self, slot: str) -> None:
        self._step("read", slot=slot)
        with self._keeping():
            self._read(self._slot(slot))

    def _read(self, image_id: str) -> None:
        chain: list[Mapping[str, Mapping[str, Any]]] = [self.model.images]
        if self.pending:
            # Any state from before the first unfinished operation to after the last one sent.
            first = self.sent.index(self.pending[0])
            chain = [self.pending[0].outcome.before,
                     *(sent.outcome.after for sent in self.sent[first:])]
        allowed = [states.get(image_id) for states in chain]
        # With nothing pending, the image is as the last operation on it left it. With
        # operations in flight, a state outside the window breaks all or nothing (D5), unless
        # one of them touched the image under a reading (A3, A16, A17) that explains it.
        rule = self.last_rule.get(image_id, "D5")
        if self.pending:
            first = self.sent.index(self.pending[0])
            readings = [sent.outcome.readings[image_id] for sent in self.sent[first:]
                        if image_id in sent.outcome.readings]
            rule = readings[-1] if readings else "D5"
        check_image(self.client.get_image(image_id), image_id, allowed, rule)

    @rule()
    def list_operations(self) -> None:
        self._step("list_operations")
        with self._keeping():
            self._list_operations()

    def _list_operations(self) -> None:
        exchange = self.client.list_operations()
        listed = [s.op_id for s in exchange.operations() if s.op_id in set(self.created)]
        if listed != sorted(listed, key=self.created.index):
            fail(exchange, "A6", "not in creation order", "GET /ops lists the oldest first",
                 expected=[i for i in self.created if i in listed], got=listed)
        self._observe()

    @rule(index=_INDEX)
    def cancel(self, index: int) -> None:
        self._step("cancel", index=index)
        with self._keeping():
            self._cancel(index)

    def _cancel(self, index: int) -> None:
        if self.pending and self.pending[-1] is self.sent[-1]:
            # Only the last operation sent: no later prediction rests on it.
            last = self.pending[-1]
            exchange = self.client.cancel(last.op_id)
            if exchange.status == 200:
                shown = exchange.body if isinstance(exchange.body, Mapping) else {}
                if state_of(shown) != "cancelled":  # else the model would forget one that ran
                    fail(exchange, "A8", "cancel answered 200 for a started operation",
                         "a 200 shows the operation cancelled: finished, never started",
                         expected="cancelled", got=state_of(shown))
                self.pending.pop()
                self.sent.pop()
                self.model.images = {k: dict(v) for k, v in last.outcome.before.items()}
            elif exchange.status != 409:
                fail(exchange, "A8", "cancel answered neither 200 nor 409", "cancel a queued op",
                     expected="200 or 409", got=exchange.status)
            self._observe()
            return
        if self.created and not self.pending:
            op_id = self.created[index % len(self.created)]
            exchange = self.client.cancel(op_id)
            was = self.client.log.latest(op_id)
            if exchange.status != 409 and not (exchange.status == 200 and was is not None
                                               and state_of(was) == "cancelled"):
                fail(exchange, "A8", "finished operation cancelled", "a started one is 409",
                     expected=409, got=exchange.status)

    @rule()
    def settle(self) -> None:
        self._step("settle")
        with self._keeping():
            self._settle()

    # -- checking what was observed ------------------------------------------------------

    @invariant()
    def operations_run_in_queue_order(self) -> None:
        """Once an operation is seen finished, every one sent before it has finished (D6)."""
        last = self._last_seen_finished()
        for pending in self.pending:
            if last is not None and self.sent.index(pending) < last:
                exchange = pending.read or pending.exchange
                op = self.client.log.latest(pending.op_id) or {}
                later = self.sent[last].op_id
                fail(exchange, "D6", "queue order", f"operation {later}, sent later, has finished",
                     expected="finished", got=state_of(op))

    @invariant()
    def finished_operations_did_what_the_model_predicted(self) -> None:
        """Every operation seen finished ran (D6) and did what the model predicted."""
        for done in self.finished:
            exchange = done.pending.exchange
            if state_of(done.op) == "cancelled":
                fail(exchange, "D6", "operation never ran", "only a cancel stops an operation",
                     expected="finished after running", got=done.op)
            check_outcome(exchange, done.op, done.pending.outcome)

    def teardown(self) -> None:
        self._step("teardown")
        if self.failed:
            # A rule failed mid-step, before the model learnt what the server was asked: the
            # model is behind, and comparing would replace that failure with a false one.
            return
        with self._keeping():
            self._settle()
            self.operations_run_in_queue_order()
            self.finished_operations_did_what_the_model_predicted()
            for image_id in self.ids:
                exchange = self.client.get_image(image_id)
                rule = self.last_rule.get(image_id, "D5")
                check_image(exchange, image_id, [self.model.get(image_id)], rule)


def make_state_machine(client: WesogClient) -> type[WesogStateMachine]:
    """The state machine bound to `client`, for `run_state_machine_as_test` (or its `TestCase`).

    A subclass rather than a closure: Hypothesis types its argument `type[RuleBasedStateMachine]`
    (any zero-argument factory works at run time, but not under mypy), and a class keeps
    `.TestCase` for unittest.
    """

    class BoundWesogStateMachine(WesogStateMachine):
        found: ClassVar[list[ContractViolation]] = []  # its own, per binding

        def __init__(self) -> None:
            super().__init__(client)

    return BoundWesogStateMachine


def run_machine(machine: type[WesogStateMachine], settings: Settings) -> None:
    """Run `machine` as a test; a replay that diverges raises the first violation found.

    On a real clock a failure may not happen again when Hypothesis replays it (the server was
    faster this time), or happen a step earlier: Hypothesis then raises `Flaky`. The last
    violation a run raised before that is raised instead (Hypothesis only runs a sequence
    smaller than the smallest failing one so far, so it is that one), with the steps that led
    to it; a `Flaky` with no violation before it is an error of the suite, and propagates.
    """
    found: list[ContractViolation] = []
    machine.found = found
    try:
        run_state_machine_as_test(machine, settings=settings)
        return
    except Flaky as flaky:
        if not found:
            raise
        why = f"{type(flaky).__name__}: {str(flaky).strip().splitlines()[0]}"
    smallest = found[-1]
    smallest.add_note(f"{_DIVERGED} ({why})")
    # Raised in a teardown while the Flaky unwound, it has that for context: not the server's.
    smallest.__context__ = smallest.__cause__ = None
    raise smallest
