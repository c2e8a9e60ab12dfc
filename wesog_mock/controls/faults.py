"""Fault rules: make the hard cases happen on purpose, for the next N requests or at random.

A rule matches a method (or `*`), a path glob (`/imgs*`, `/ops/*`) and optionally a tenant.
It fires on every matching request until it has fired `times` times (no limit when `times` is
None), each time with `probability`, drawn from a generator seeded with `MockConfig.seed`, so
a run is reproducible. At most one rule fires per request: the first, in the order they were
added, that matches and draws true.

Request faults fire before the route runs, so a request they answer changed nothing:
- `status`: an error answer (429 with `Retry-After`, 500, 502, 503, 504) in the real service's
  FastAPI shape, `{"detail": "..."}`;
- `latency`: a delay before the route runs. It is wall time, not the fake's clock: it exists to
  exercise a client's timeouts, and those run on wall time;
- `drop`: the connection closes without an answer (see `wesog_mock.http.middleware`).

Operation faults fire where a valid mutation creates its operation:
- `hold`: the operation stays queued until released (`Controller.release`);
- `fail`: every item fails with `message`, and nothing is stored;
- `vanish`: the 202 carries an id that answers 404 from then on.
"""

from __future__ import annotations

import builtins
import dataclasses
import fnmatch
import random
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

from wesog_mock.domain.config import ConfigError
from wesog_mock.domain.operations import OperationFault

__all__ = [
    "FAULT_KINDS",
    "STATUS_DETAILS",
    "FaultError",
    "FaultKind",
    "FaultRegistry",
    "FaultRule",
]

FaultKind = Literal["status", "latency", "drop", "hold", "fail", "vanish"]
FAULT_KINDS: tuple[FaultKind, ...] = ("status", "latency", "drop", "hold", "fail", "vanish")
_REQUEST_KINDS = frozenset({"status", "latency", "drop"})
_OPERATION_KINDS = frozenset({"hold", "fail", "vanish"})
_METHODS = frozenset({"*", "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# The statuses a status fault may answer, each with the detail FastAPI gives for it.
STATUS_DETAILS: dict[int, str] = {
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
_RETRY_AFTER_STATUSES = frozenset({429, 503})
_DEFAULT_FAIL_REASON = "injected failure"

# The fields that only some kinds take; any other kind refuses them (a 422 naming the field).
_KIND_FIELDS: dict[str, frozenset[str]] = {
    "status": frozenset({"status", "retry_after_s", "message"}),
    "latency": frozenset({"latency_ms"}),
    "drop": frozenset(),
    "hold": frozenset(),
    "fail": frozenset({"message"}),
    "vanish": frozenset(),
}


class FaultError(ConfigError):
    """A fault rule is invalid; `field` names the field at fault."""


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True, kw_only=True, slots=True)
class FaultRule:
    """What to inject, where, and how often. `id` and `fired` are kept by the registry.

    Attributes:
        kind: status, latency, drop (request faults); hold, fail, vanish (operation faults).
        method: an HTTP method, or `*` for any.
        path: a glob over the request path: `*`, `/imgs*`, `/ops/*`.
        tenant: only requests with this API key; None matches every request.
        times: fire this many times, then stop; None fires until the rule is removed.
        probability: the chance that a matching request fires it (seeded).
        status: the answer of a status fault: 429, 500, 502, 503 (the default) or 504.
        retry_after_s: the `Retry-After` of a 429 (default 1) or 503 (default none).
        latency_ms: the wall-time delay of a latency fault.
        message: the `detail` of a status fault, or the reason every item of a `fail` gives.
    """

    kind: FaultKind
    method: str = "*"
    path: str = "*"
    tenant: str | None = None
    times: int | None = None
    probability: float = 1.0
    status: int | None = None
    retry_after_s: int | None = None
    latency_ms: float | None = None
    message: str | None = None
    id: int = 0
    fired: int = 0

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise FaultError("kind", f"must be one of {', '.join(FAULT_KINDS)}, not {self.kind!r}")
        if not isinstance(self.method, str) or self.method.upper() not in _METHODS:
            raise FaultError("method", f"must be an HTTP method or '*', not {self.method!r}")
        object.__setattr__(self, "method", self.method.upper())
        if not isinstance(self.path, str) or not (self.path == "*" or self.path.startswith("/")):
            raise FaultError("path", f"must be '*' or a glob starting with '/', not {self.path!r}")
        if self.tenant is not None and (not isinstance(self.tenant, str) or not self.tenant):
            raise FaultError("tenant", "must be a non-empty API key, or null for every tenant")
        if self.times is not None and (not _is_int(self.times) or self.times < 1):
            raise FaultError("times", f"must be an integer >= 1, or null, not {self.times!r}")
        p = self.probability
        if isinstance(p, bool) or not isinstance(p, int | float) or not 0 < p <= 1:
            raise FaultError("probability", f"must be a number in (0, 1], not {p!r}")
        for name in ("status", "retry_after_s", "latency_ms", "message"):
            if getattr(self, name) is not None and name not in _KIND_FIELDS[self.kind]:
                raise FaultError(name, f"does not apply to a {self.kind} fault")
        self._check_kind_fields()

    def _check_kind_fields(self) -> None:
        if self.kind == "status":
            status = self.status if self.status is not None else 503
            if not _is_int(status) or status not in STATUS_DETAILS:
                allowed = ", ".join(map(str, STATUS_DETAILS))
                raise FaultError("status", f"must be one of {allowed}, not {self.status!r}")
            object.__setattr__(self, "status", status)
            retry = self.retry_after_s
            if retry is not None and status not in _RETRY_AFTER_STATUSES:
                raise FaultError("retry_after_s", "only a 429 or a 503 carries Retry-After")
            if retry is None and status == 429:
                object.__setattr__(self, "retry_after_s", 1)  # a 429 always says when
            elif retry is not None and (not _is_int(retry) or retry < 0):
                raise FaultError("retry_after_s", f"must be an integer >= 0, not {retry!r}")
        if self.kind == "latency":
            ms = self.latency_ms
            if isinstance(ms, bool) or not isinstance(ms, int | float) or not 0 < ms <= 600_000:
                raise FaultError("latency_ms", f"must be a number in (0, 600000], not {ms!r}")
        if self.message is not None and (not isinstance(self.message, str) or not self.message):
            raise FaultError("message", "must be a non-empty string")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FaultRule:
        """A rule from JSON; an unknown or misplaced field raises FaultError naming it."""
        known = {f.name for f in dataclasses.fields(cls)} - {"id", "fired"}
        for name in data:
            if name in ("id", "fired"):
                raise FaultError(name, "is kept by the fake, not given")
            if name not in known:
                raise FaultError(name, "is not a field of a fault rule")
        if "kind" not in data:
            raise FaultError("kind", f"is required: one of {', '.join(FAULT_KINDS)}")
        return cls(**data)

    @property
    def is_request_fault(self) -> bool:
        return self.kind in _REQUEST_KINDS

    @property
    def operation_fault(self) -> OperationFault | None:
        """The engine's name for this fault, when it is an operation fault."""
        return cast(OperationFault, self.kind) if self.kind in _OPERATION_KINDS else None

    @property
    def reason(self) -> str:
        """Why each item of a `fail` fault fails."""
        return self.message or _DEFAULT_FAIL_REASON

    @property
    def remaining(self) -> int | None:
        return None if self.times is None else max(0, self.times - self.fired)

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def detail(self) -> str:
        """The body's `detail` of a status fault."""
        return self.message or STATUS_DETAILS[self.status or 503]

    def as_dict(self) -> dict[str, Any]:
        values = {"id": self.id, **dataclasses.asdict(self)}
        values["remaining"] = self.remaining
        return values


@dataclass(slots=True)
class _Slot:
    rule: FaultRule
    pattern: re.Pattern[str]


class FaultRegistry:
    """The fault rules of one fake, and the seeded generator their probabilities draw from.

    Thread-safe: a test thread may add rules while a server thread answers requests.
    """

    def __init__(self, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._slots: list[_Slot] = []
        self._next_id = 1
        self._seed = seed
        self._rng = random.Random(seed)
        # Read on every request without the lock: a stale answer only delays a new rule by one
        # request that was already under way, and it keeps the no-fault path to one attribute.
        self.has_request_faults = False
        self.has_operation_faults = False

    def add(self, kind: FaultKind, **fields: Any) -> FaultRule:
        """Add a rule (`FaultRule`'s fields as keywords) and return it with its id."""
        return self.add_rule(FaultRule(kind=kind, **fields))

    def add_rule(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            rule = dataclasses.replace(rule, id=self._next_id, fired=0)
            self._next_id += 1
            pattern = re.compile(fnmatch.translate(rule.path))
            self._slots.append(_Slot(rule, pattern))
            self._update_flags()
        return rule

    def list(self) -> builtins.list[FaultRule]:
        """Every rule, in the order added, with how often each has fired."""
        with self._lock:
            return [slot.rule for slot in self._slots]

    def get(self, rule_id: int) -> FaultRule | None:
        with self._lock:
            return next((s.rule for s in self._slots if s.rule.id == rule_id), None)

    def remove(self, rule_id: int) -> bool:
        with self._lock:
            kept = [slot for slot in self._slots if slot.rule.id != rule_id]
            removed = len(kept) != len(self._slots)
            self._slots = kept
            self._update_flags()
        return removed

    def clear(self, tenant: str | None = None) -> None:
        """Remove every rule (and restart the generator from the seed), or one tenant's rules."""
        with self._lock:
            if tenant is None:
                self._slots = []
                self._rng = random.Random(self._seed)
            else:
                self._slots = [slot for slot in self._slots if slot.rule.tenant != tenant]
            self._update_flags()

    def reseed(self, seed: int | None) -> None:
        with self._lock:
            self._seed = seed
            self._rng = random.Random(seed)

    def for_request(self, method: str, path: str, tenant: str | None) -> FaultRule | None:
        """The request fault that fires on this request, if any (counted as fired)."""
        if not self.has_request_faults:
            return None
        return self._fire(True, method, path, tenant)

    def for_operation(self, method: str, path: str, tenant: str) -> FaultRule | None:
        """The operation fault that fires on the operation this request creates, if any."""
        if not self.has_operation_faults:
            return None
        return self._fire(False, method, path, tenant)

    def _fire(
        self, request: bool, method: str, path: str, tenant: str | None
    ) -> FaultRule | None:
        with self._lock:
            for slot in self._slots:
                rule = slot.rule
                if rule.is_request_fault is not request or rule.exhausted:
                    continue
                if rule.method != "*" and rule.method != method:
                    continue
                if not slot.pattern.match(path):
                    continue
                if rule.tenant is not None and rule.tenant != tenant:
                    continue
                # Drawn only for a matching rule, so the sequence a seed gives depends on the
                # requests a test makes, not on the rules that could never match them.
                if rule.probability < 1 and self._rng.random() >= rule.probability:
                    continue
                slot.rule = dataclasses.replace(rule, fired=rule.fired + 1)
                if slot.rule.exhausted:
                    self._update_flags()
                return slot.rule
        return None

    def _update_flags(self) -> None:
        live = [slot.rule for slot in self._slots if not slot.rule.exhausted]
        self.has_request_faults = any(rule.is_request_fault for rule in live)
        self.has_operation_faults = any(not rule.is_request_fault for rule in live)
