"""Checks on a server's answers: plain functions, one signature, one typed failure.

Every check is `check(exchange, history) -> None`: `exchange` is one request and its answer,
`history` the earlier exchanges that showed the same operations (oldest first; empty when
there are none). A check that finds a rule broken raises `ContractViolation`, an
`AssertionError` that carries the endpoint, the rule id, a title and a message saying what
was expected and what came. Nothing here imports pytest: the checks run from a script too.

    AssertionError
     └── ContractViolation        endpoint, rule, title, message, expected, got

    log = OperationLog()
    log.check(exchange)   # every check, with the history of the operations it shows

The pseudo-rule `OAS` stands for the contract document itself: every status documented for
its endpoint, every body valid against its schema, where no D or A rule is more precise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from contracts._timeline import (
    check_idle_time,
    check_list_order,
    check_not_forgotten,
    check_progression,
    check_timestamps,
)
from contracts.exchange import ContractViolation, Exchange, fail, state_of
from contracts.findings import Finding

__all__ = [
    "CHECKS",
    "EXTRA_RULES",
    "Check",
    "ContractViolation",
    "OperationLog",
    "check_counts",
    "check_echo",
    "check_error_messages",
    "check_idle_time",
    "check_lifecycle",
    "check_list_order",
    "check_mutation_answer",
    "check_not_forgotten",
    "check_op_id_placement",
    "check_progression",
    "check_response_schema",
    "check_status_documented",
    "check_timestamps",
    "refusal_rule",
    "run_checks",
]

EXTRA_RULES: Mapping[str, Mapping[str, str]] = {
    "OAS": {
        "kind": "documented",
        "summary": "Every answer has a status documented for its endpoint and a schema-valid body.",
    },
}

_MISSING: Any = object()

Check = Callable[[Exchange, Sequence[Exchange]], None]


def refusal_rule(exchange: Exchange) -> str | None:
    """The rule that decides how the server refuses `exchange`'s request, if the contract
    refuses it: a missing key is A10, too many items A11, anything else A9."""
    if "missing_api_key" in exchange.refused:
        return "A10"
    if "too_many_items" in exchange.refused:
        return "A11"
    return "A9" if exchange.refused else None


def _status_rule(exchange: Exchange) -> str:
    """The rule an answer with an undocumented status breaks.

    The cancel endpoint is this project's reading as a whole (A8); how a refused request is
    answered with a 4xx is A9-A11; a 5xx is no refusal in any reading (a server error), so it
    breaks the document (OAS), as does a valid request answered off it."""
    if exchange.operation_id == "cancelOperation":
        return "A8"
    if 400 <= exchange.status < 500:
        return refusal_rule(exchange) or "OAS"
    return "OAS"


def _schema_rule(exchange: Exchange, finding: Finding) -> str:
    """The rule a body off its schema breaks: the document's (OAS) only where the documented
    shape is the one broken; the shapes this project chose are their A rules."""
    by_status = {422: "A9", 401: "A10", 404: "A10", 413: "A11", 409: "A8"}
    if exchange.status in by_status:
        return by_status[exchange.status]
    if exchange.operation_id == "cancelOperation":
        return "A8"  # the cancel answer is undocumented (A8), whatever its shape
    parts = set(finding.loc)
    if "op_id" in parts or (finding.code == "missing" and "op_id" in str(finding.input)):
        return "A6" if exchange.operation_id == "listOperations" else "A5"
    if parts & {"created_at", "started_at", "finished_at"}:
        return "A7"
    if "errors" in parts:
        return "A2"
    if exchange.is_mutation and exchange.status == 202:
        # A 202 is documented as "an object with the ID of the operation"; that it is the
        # whole operation object is A5.
        return "A5"
    return "OAS"


def check_status_documented(exchange: Exchange, history: Sequence[Exchange]) -> None:
    """The status is one the contract documents for the endpoint (5xx never is)."""
    endpoint = exchange.endpoint
    if endpoint is not None and exchange.status not in endpoint.responses:
        fail(exchange, _status_rule(exchange), "undocumented status",
              "the contract does not document it", expected=sorted(endpoint.responses),
              got=exchange.status)


def check_response_schema(exchange: Exchange, history: Sequence[Exchange]) -> None:
    """The body is valid against the schema documented for its status."""
    endpoint = exchange.endpoint
    if endpoint is None or exchange.status not in endpoint.responses:
        return
    findings = endpoint.check_response(exchange.status, exchange.body)
    if findings:
        first = findings[0]
        fail(exchange, _schema_rule(exchange, first), "body off its schema", str(first),
              got=first.input)


def _age_ms(op: Mapping[str, Any]) -> float | None:
    """How long the operation had existed when the answer showed it (idle_ms + exec_ms)."""
    idle, run = op.get("idle_ms"), op.get("exec_ms")
    if isinstance(idle, bool) or isinstance(run, bool) or not (
            isinstance(idle, int | float) and isinstance(run, int | float)):
        return None  # the schema check reports it
    return float(idle) + float(run)


# A wait=true request may be answered 202 past the server's sync timeout (A5). Its value is
# not documented; an operation younger than this was not waited for at all (D7): a sync mode
# that gives up within a second is no sync mode.
_MIN_SYNC_TIMEOUT_MS = 1000.0


def check_mutation_answer(exchange: Exchange, history: Sequence[Exchange]) -> None:
    """wait=false answers 202; wait=true answers 200 once finished, 202 only past a sync
    timeout (D7, A5); a mutation that leaves `wait` out is async (A12)."""
    if not exchange.is_mutation or exchange.status not in (200, 202):
        return
    op = exchange.body if isinstance(exchange.body, Mapping) else {}
    finished = op.get("is_finished") is True
    if not exchange.params.get("wait"):
        if exchange.status != 202:
            # Without `wait`, the server's default decides: false is A12's reading.
            rule = "A5" if exchange.sent("wait") else "A12"
            fail(exchange, rule, "async answer", "wait=false answers 202",
                  expected=202, got=exchange.status)
    elif exchange.status == 200 and not finished:
        fail(exchange, "D7", "sync answer before the end",
              "wait=true answered 200 with an unfinished operation",
              expected={"is_finished": True}, got={"is_finished": op.get("is_finished")})
    elif exchange.status == 202 and finished:
        fail(exchange, "A5", "sync answer", "wait=true answers a finished operation with 200",
              expected=200, got=202)
    elif exchange.status == 202:
        age = _age_ms(op)
        if age is not None and age < _MIN_SYNC_TIMEOUT_MS:
            fail(exchange, "D7", "sync answer without waiting",
                  f"wait=true answered 202 with an operation {age:g} ms old: before it "
                  "finished and before any sync timeout",
                  expected=f"200, or 202 after >= {_MIN_SYNC_TIMEOUT_MS:g} ms", got=202)


def check_echo(exchange: Exchange, history: Sequence[Exchange]) -> None:
    """A mutation's operation echoes the request: method, resource, num_total, flags (D9).

    A flag the request left out echoes the server's default (A12: false); PATCH's `upd` is
    A1 (the pages never say what PATCH is); a 202 without the fields at all is A5 (the
    pages promise it only the operation's id)."""
    if not exchange.is_mutation or exchange.status not in (200, 202) or exchange.endpoint is None:
        return
    op = exchange.body if isinstance(exchange.body, Mapping) else {}
    wanted: dict[str, Any] = {
        "method": exchange.endpoint.wesog_method,
        "resource": "image",
        "num_total": len(exchange.items),
        "do_wait": bool(exchange.params.get("wait")),
        "do_urgent": bool(exchange.params.get("urgent")),
        "do_strict": bool(exchange.params.get("strict")),
    }
    for name, value in wanted.items():
        got = op.get(name, _MISSING)
        if got == value:
            continue
        rule = "D9"
        if got is _MISSING and exchange.status == 202:
            rule = "A5"
        elif name in ("do_wait", "do_strict") and not exchange.sent(name.removeprefix("do_")):
            rule = "A12"
        elif name == "method" and exchange.endpoint.wesog_kind == "merge":
            rule = "A1"
        fail(exchange, rule, "request not echoed", f"{name} must echo the request",
              expected=value, got=None if got is _MISSING else got)


def check_lifecycle(exchange: Exchange, history: Sequence[Exchange]) -> None:
    """Flags and counters agree with the lifecycle state (D9; a cancelled operation, A8)."""
    for snap in exchange.operations():
        op = snap.body
        state = state_of(op)
        good, bad, total = op.get("num_good"), op.get("num_bad"), op.get("num_total")
        if not (isinstance(good, int) and isinstance(bad, int) and isinstance(total, int)):
            continue  # the schema check reports it
        if good + bad > total:
            fail(exchange, "A2", "counts past the total", "num_good + num_bad <= num_total",
                  expected=f"<= {total}", got=good + bad)
        if state == "queued" and (op.get("all_good") is not None or good or bad):
            fail(exchange, "D9", "queued operation not pristine",
                  "a queued operation has all_good null and no counts",
                  expected={"all_good": None, "num_good": 0, "num_bad": 0},
                  got={"all_good": op.get("all_good"), "num_good": good, "num_bad": bad})
        # While running, the API reference's all_good is "no failed element yet" and the
        # overview's status table has it null: either is documented.
        running_null = state == "running" and op.get("all_good") is None
        if state in ("running", "finished") and not running_null \
                and op.get("all_good") != (bad == 0):
            fail(exchange, "D9", "all_good disagrees with num_bad",
                  f"all_good is 'no failure {'yet' if state == 'running' else 'at all'}'",
                  expected=bad == 0, got=op.get("all_good"))
        if state == "cancelled":
            got = {"num_good": good, "num_bad": bad, "all_good": op.get("all_good"),
                   "errors": op.get("errors")}
            if got != {"num_good": 0, "num_bad": 0, "all_good": False, "errors": []}:
                fail(exchange, "A8", "cancelled operation not empty",
                      "finished and never started means cancelled: no counts, no errors",
                      expected={"num_good": 0, "num_bad": 0, "all_good": False, "errors": []},
                      got=got)


def check_counts(exchange: Exchange, history: Sequence[Exchange]) -> None:
    """A finished operation accounts for every item: one error per failing item (A2)."""
    for snap in exchange.operations():
        op = snap.body
        if state_of(op) != "finished":
            continue
        good, bad, total = op.get("num_good"), op.get("num_bad"), op.get("num_total")
        errors = op.get("errors")
        if not (isinstance(good, int) and isinstance(bad, int) and isinstance(total, int)):
            continue
        if good + bad != total:
            fail(exchange, "A2", "items unaccounted for", "num_good + num_bad == num_total",
                  expected=total, got=good + bad)
        if not isinstance(errors, list):
            continue
        if len(errors) != bad:
            fail(exchange, "A2", "errors do not match num_bad", "one error per failing item",
                  expected=bad, got=len(errors))
        ids = [e.get("id") for e in errors if isinstance(e, Mapping)]
        if len(set(ids)) != len(ids) or any(not isinstance(i, int) or i >= total for i in ids):
            fail(exchange, "A2", "error ids wrong",
                  "each error's id is a distinct index into the request body",
                  expected=f"distinct integers in [0, {total})", got=ids)


def check_error_messages(exchange: Exchange, history: Sequence[Exchange]) -> None:
    """Each error of a mutation's answer names the image id of its item (A2)."""
    if not exchange.is_mutation or exchange.status not in (200, 202):
        return
    errors = exchange.body.get("errors") if isinstance(exchange.body, Mapping) else None
    items = exchange.items
    for error in errors if isinstance(errors, list) else ():
        index = error.get("id") if isinstance(error, Mapping) else None
        if not isinstance(index, int) or not 0 <= index < len(items):
            continue  # check_counts reports it
        image_id = str(items[index].get("id"))
        msg = error.get("msg")
        if not isinstance(msg, str) or image_id not in msg:
            fail(exchange, "A2", "error message does not name the image",
                  f"the message for item {index} names its id", expected=image_id, got=msg)


def check_op_id_placement(exchange: Exchange, history: Sequence[Exchange]) -> None:
    """`GET /ops/{op_id}` leaves out `op_id` (D8: the operations guide and the API reference);
    so does a cancel answer (A8: the cancel endpoint is undocumented)."""
    if (
        exchange.operation_id in ("getOperation", "cancelOperation")
        and exchange.status == 200
        and isinstance(exchange.body, Mapping)
        and "op_id" in exchange.body
    ):
        if exchange.operation_id == "getOperation":
            fail(exchange, "D8", "op_id present", "GET /ops/{op_id} returns it without op_id",
                 expected="no op_id", got=exchange.body["op_id"])
        fail(exchange, "A8", "op_id present",
             "the cancel answer is the operation as GET /ops/{op_id} shows it, without op_id",
             expected="no op_id", got=exchange.body["op_id"])


CHECKS: tuple[Check, ...] = (
    check_status_documented,
    check_response_schema,
    check_mutation_answer,
    check_echo,
    check_lifecycle,
    check_counts,
    check_error_messages,
    check_timestamps,
    check_idle_time,
    check_op_id_placement,
    check_list_order,
    check_progression,
    check_not_forgotten,
)


def run_checks(
    exchange: Exchange, history: Sequence[Exchange] = (), checks: Sequence[Check] = CHECKS
) -> None:
    """Run `checks` in order; the first that fails raises its `ContractViolation`.

    Whatever a cancel answer breaks is A8's: no page documents the endpoint, so nothing it
    answers can break a documented rule."""
    for check in checks:
        try:
            check(exchange, history)
        except ContractViolation as violation:
            if exchange.operation_id != "cancelOperation" or violation.kind == "assumption":
                raise
            fail(exchange, "A8", violation.title, f"{violation.message} (the cancel endpoint "
                 f"is this project's reading; under {violation.rule} elsewhere)",
                 expected=violation.expected, got=violation.got)


class OperationLog:
    """The answers seen per operation, so each new answer is checked with its history.

    One log per tenant (API key): operation ids are only meaningful within one.
    """

    def __init__(self, checks: Sequence[Check] = CHECKS) -> None:
        self.checks = tuple(checks)
        self._count = 0
        self._origin: dict[int, tuple[int, Exchange]] = {}
        self._latest: dict[int, tuple[int, Exchange]] = {}

    def history(self, exchange: Exchange) -> list[Exchange]:
        """The creating answer and the latest answer of every operation `exchange` shows."""
        ids: list[Any] = [s.op_id for s in exchange.operations()]
        if exchange.operation_id == "getOperation":
            ids.append(exchange.path_params.get("op_id"))
        found: dict[int, Exchange] = {}
        for op_id in ids:
            for source in (self._origin, self._latest):
                if isinstance(op_id, int) and op_id in source:
                    seq, earlier = source[op_id]
                    found[seq] = earlier
        return [found[seq] for seq in sorted(found)]

    def record(self, exchange: Exchange) -> None:
        self._count += 1
        for snap in exchange.operations():
            if snap.op_id is None:
                continue
            if exchange.is_mutation:
                self._origin.setdefault(snap.op_id, (self._count, exchange))
            self._latest[snap.op_id] = (self._count, exchange)

    def check(self, exchange: Exchange) -> None:
        """Check `exchange` with every check and its history, then remember it."""
        try:
            run_checks(exchange, self.history(exchange), self.checks)
        finally:
            self.record(exchange)

    def created(self, op_id: int) -> bool:
        """Whether a mutation answered by this log's tenant created `op_id`."""
        return op_id in self._origin

    def latest(self, op_id: int) -> Mapping[str, Any] | None:
        """The latest body seen for `op_id`, or None."""
        if op_id not in self._latest:
            return None
        for snap in self._latest[op_id][1].operations():
            if snap.op_id == op_id:
                return snap.body
        return None
