"""One request and its answer, as the suite saw them, and the failure a check raises about it.

An `Exchange` is matched against the contract once, when it is made, so a check finds the
endpoint, the parsed query (defaults applied) and the operations the answer carries without
parsing anything again.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn
from urllib.parse import unquote

from contracts.spec import Contract, Endpoint, default_contract

__all__ = [
    "ContractViolation",
    "Coverage",
    "Exchange",
    "OperationSnapshot",
    "fail",
    "state_of",
]

_MISSING: Any = object()


class ContractViolation(AssertionError):
    """A server's answer breaks a rule: where, which rule, what was expected and what came."""

    def __init__(
        self,
        *,
        endpoint: str,
        rule: str,
        title: str,
        message: str,
        expected: Any = _MISSING,
        got: Any = _MISSING,
        exchange: Exchange | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.rule = rule
        self.title = title
        self.message = message
        self.expected = None if expected is _MISSING else expected
        self.got = None if got is _MISSING else got
        self.exchange = exchange
        self._has_values = expected is not _MISSING or got is not _MISSING
        super().__init__(self.one_line())

    @property
    def kind(self) -> str:
        """`assumption` for an A rule (a discovery), `documented` otherwise (a violation)."""
        return "assumption" if self.rule.startswith("A") else "documented"

    def one_line(self) -> str:
        text = f"[{self.rule}] {self.endpoint}: {self.title}: {self.message}"
        if self._has_values:
            text += f" (expected {self.expected!r}, got {self.got!r})"
        if self.exchange is not None:
            text += f" <- {self.exchange.describe()}"
        return text


def fail(exchange: Exchange, rule: str, title: str, message: str, **values: Any) -> NoReturn:
    """Raise a `ContractViolation` about `exchange` (`expected=` and `got=` are optional)."""
    raise ContractViolation(
        endpoint=exchange.operation_id, rule=rule, title=title, message=message,
        exchange=exchange, **values,
    )


def state_of(op: Mapping[str, Any]) -> str:
    """`queued`, `running`, `finished` or `cancelled` (finished and never started, A8)."""
    started, finished = op.get("is_started") is True, op.get("is_finished") is True
    if finished:
        return "finished" if started else "cancelled"
    return "running" if started else "queued"


@dataclass(frozen=True, slots=True)
class OperationSnapshot:
    """One operation as one answer showed it (`op_id` from the body, or from the path)."""

    op_id: int | None
    body: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Exchange:
    """A request (method, path, query, decoded body) and its answer (status, decoded body)."""

    method: str
    path: str
    status: int
    body: Any = None
    query: tuple[tuple[str, str], ...] = ()
    request_body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    endpoint: Endpoint | None = None
    path_params: Mapping[str, Any] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)
    request_valid: bool = True
    # The codes of what the contract refuses in the request (`missing_api_key`, ...), so a
    # check can name the rule that decides how it is refused.
    refused: tuple[str, ...] = ()
    # The client's monotonic clock (seconds) when the request left and the answer came, when
    # the server runs on a real clock; None on a virtual one, where time stands still.
    sent_s: float | None = None
    received_s: float | None = None

    @classmethod
    def of(
        cls,
        method: str,
        path: str,
        status: int,
        body: Any = None,
        *,
        query: Mapping[str, Any] | Sequence[tuple[str, str]] = (),
        request_body: Any = None,
        headers: Mapping[str, str] | None = None,
        contract: Contract | None = None,
        api_key: bool = True,
        raw_body: bytes | None = None,
    ) -> Exchange:
        """Build an exchange and match it to its endpoint in `contract` (the packaged one).

        `raw_body` is the body as sent when it was not JSON made from `request_body`.
        """
        contract = contract or default_contract()
        pairs = _pairs(query)
        raw = raw_body
        if raw is None and request_body is not None:
            raw = json.dumps(request_body).encode()
        report = contract.validate_request(
            method,
            path,
            query=pairs,
            headers={"API-Key": "k" if api_key else "", "Content-Type": "application/json"},
            body=raw,
        )
        return cls(
            method=method.upper(),
            path=path,
            status=status,
            body=body,
            query=tuple(pairs),
            request_body=request_body,
            headers=dict(headers or {}),
            endpoint=report.endpoint,
            # The server sees a path segment decoded: `/imgs/a%20b` is the image `a b`.
            path_params={k: unquote(v) if isinstance(v, str) else v
                         for k, v in report.path_params.items()},
            params=dict(report.params),
            request_valid=report.ok,
            refused=tuple(f.code for f in report.violations),
        )

    @property
    def operation_id(self) -> str:
        """The endpoint's operationId, or `METHOD path` for a path the contract lacks."""
        return self.endpoint.operation_id if self.endpoint else f"{self.method} {self.path}"

    def sent(self, name: str) -> bool:
        """Whether the request's query names `name` (else the server applies its default)."""
        return any(key == name for key, _ in self.query)

    @property
    def is_mutation(self) -> bool:
        return self.endpoint is not None and self.endpoint.is_mutation

    @property
    def items(self) -> list[Mapping[str, Any]]:
        """The items of a mutation: the batch, or the one image of a single-image path."""
        if not self.is_mutation or self.endpoint is None:
            return []
        if self.endpoint.is_batch:
            body = self.request_body
            return [i for i in body if isinstance(i, Mapping)] if isinstance(body, list) else []
        single = dict(self.request_body) if isinstance(self.request_body, Mapping) else {}
        single["id"] = self.path_params.get("image_id")
        return [single]

    @property
    def mode(self) -> str:
        """`sync|async strict|relaxed [urgent]` for a mutation; empty for anything else."""
        if not self.is_mutation or not self.request_valid:
            return ""
        words = [
            "sync" if self.params.get("wait") else "async",
            "strict" if self.params.get("strict") else "relaxed",
        ]
        if self.params.get("urgent"):
            words.append("urgent")
        return " ".join(words)

    def operations(self) -> list[OperationSnapshot]:
        """Every operation this answer shows (none for errors and image reads)."""
        if self.endpoint is None or self.status not in (200, 202):
            return []
        name = self.endpoint.operation_id
        if self.is_mutation and isinstance(self.body, Mapping):
            op_id = self.body.get("op_id")
            return [OperationSnapshot(op_id if isinstance(op_id, int) else None, self.body)]
        if name in ("getOperation", "cancelOperation") and isinstance(self.body, Mapping):
            op_id = self.path_params.get("op_id")
            return [OperationSnapshot(op_id if isinstance(op_id, int) else None, self.body)]
        if name == "listOperations" and isinstance(self.body, list):
            return [
                OperationSnapshot(i.get("op_id") if isinstance(i.get("op_id"), int) else None, i)
                for i in self.body
                if isinstance(i, Mapping)
            ]
        return []

    def describe(self) -> str:
        """The request in one line, e.g. `POST /imgs?strict=true [2 items] -> 200`."""
        query = "&".join(f"{k}={v}" for k, v in self.query)
        target = f"{self.method} {self.path}" + (f"?{query}" if query else "")
        if isinstance(self.request_body, list):
            target += f" [{len(self.request_body)} items]"
        return f"{target} -> {self.status}"


def _pairs(query: Mapping[str, Any] | Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    if isinstance(query, Mapping):
        pairs: list[tuple[str, str]] = []
        for key, value in query.items():
            values = value if isinstance(value, list | tuple) else [value]
            pairs.extend((key, _text(v)) for v in values)
        return pairs
    return [(k, _text(v)) for k, v in query]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass
class Coverage:
    """Which endpoint x status x mode combinations a run exercised, and how often."""

    seen: Counter[tuple[str, int, str]] = field(default_factory=Counter)

    def record(self, exchange: Exchange) -> None:
        self.seen[(exchange.operation_id, exchange.status, exchange.mode)] += 1
