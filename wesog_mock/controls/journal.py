"""The request journal: what each request asked, what it was answered, what the contract says.

It is bounded: past `size` entries the oldest are dropped, and counted. Recording runs on every
request, so it does little: it keeps the request's context (what the middleware parsed once:
method, path, query bytes, API key, content type, the answer's status) and the body, and works
out the contract's findings, the parsed query and the timestamp when someone reads the entry,
once. Bodies held for the later check are capped in total (`_PENDING_BODY_BYTES`); past the cap
the oldest are checked at once and let go.
"""

from __future__ import annotations

import fnmatch
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from contracts.findings import Finding
from contracts.spec import Contract, default_contract
from wesog_mock.controls.context import RequestContext
from wesog_mock.domain.clock import iso_ms

__all__ = ["Journal", "JournalEntry"]

_PENDING_BODY_BYTES = 16 * 1024 * 1024
_DECODED_BODY_BYTES = 64 * 1024


@dataclass(slots=True, frozen=True)
class _Held:
    """A request recorded but not yet worked out: its context and its body as kept.

    `body` is the bytes, or (in a 1-tuple) the document the route already decoded from them,
    so the check does not decode a large batch a second time."""

    seq: int
    request: RequestContext
    body: bytes | tuple[Any] | None

    @property
    def held_bytes(self) -> int:
        """Memory held for the later check (a decoded body holds at least its bytes)."""
        if isinstance(self.body, tuple):
            return self.request.body_bytes
        return len(self.body) if self.body is not None else 0


@dataclass(frozen=True, kw_only=True, slots=True)
class JournalEntry:
    """One request as the fake saw it.

    Attributes:
        seq: its number, from 1, never reused (not even after `clear()`).
        at: when it arrived, on the fake's clock (ISO 8601, UTC, milliseconds).
        latency_ms: how long the answer took, in wall time.
        tenant: its API key, or None when it had none.
        query: the query's (name, value) pairs, in order, repeats kept.
        body_bytes: the body's size (the declared size when the fake did not read it whole).
        body_checked: whether the whole body was seen, and so checked against the contract.
        status: the answer's status; None when a fault dropped the connection (`dropped`).
        operation_id: the contract operation the request matched (`createImages`), if any.
        findings: what the contract finds in the request: violations and warnings.
        fault_id, fault_kind: the fault rule that fired on it, if one did.
    """

    seq: int
    at: str
    latency_ms: float
    tenant: str | None
    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    body_bytes: int
    body_checked: bool
    status: int | None
    dropped: bool
    operation_id: str | None
    findings: tuple[Finding, ...]
    fault_id: int | None
    fault_kind: str | None

    @property
    def violations(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.is_violation)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if not f.is_violation)

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "latency_ms": self.latency_ms,
            "tenant": self.tenant,
            "method": self.method,
            "path": self.path,
            "query": [list(pair) for pair in self.query],
            "body_bytes": self.body_bytes,
            "body_checked": self.body_checked,
            "status": self.status,
            "dropped": self.dropped,
            "operation_id": self.operation_id,
            "findings": [finding.as_dict() for finding in self.findings],
            "fault": (
                None if self.fault_id is None else {"id": self.fault_id, "kind": self.fault_kind}
            ),
        }


def _work_out(held: _Held, contract: Contract) -> JournalEntry:
    request, body = held.request, held.body
    declared, body_bytes = request.declared_length, request.body_bytes
    complete = request.body_complete
    # The body is known when the app read all of it within the limit, or when there was none.
    checked = complete or (not (declared or request.chunked) and body_bytes == 0)
    if not complete and declared is not None:
        body_bytes = max(body_bytes, declared)
    query = tuple(parse_qsl(request.query_string.decode("latin-1"), keep_blank_values=True))
    headers = {"api-key": request.api_key or "", "content-type": request.content_type or ""}
    method, path = request.method, request.path
    if isinstance(body, tuple):
        report = contract.validate_request(method, path, query=query, headers=headers,
                                           parsed=body)
    else:
        report = contract.validate_request(
            method, path, query=query, headers=headers, body=(body or b"") if checked else None
        )
    findings = report.findings
    if not checked:  # what the fake did not see, it cannot judge
        findings = tuple(f for f in findings if not f.loc or f.loc[0] != "body")
    return _entry(
        held, query=query, body_bytes=body_bytes, checked=checked, findings=findings,
        operation_id=report.endpoint.operation_id if report.endpoint is not None else None,
    )


def _entry(
    held: _Held, *, query: tuple[tuple[str, str], ...], body_bytes: int, checked: bool,
    findings: tuple[Finding, ...], operation_id: str | None,
) -> JournalEntry:
    """The entry of a held request, with what working it out found."""
    request, fault = held.request, held.request.fault
    return JournalEntry(
        seq=held.seq,
        at=iso_ms(request.at_ms),
        latency_ms=round(request.latency_ms, 3),
        tenant=request.api_key,
        method=request.method,
        path=request.path,
        query=query,
        body_bytes=body_bytes,
        body_checked=checked,
        status=request.status,
        dropped=request.dropped,
        operation_id=operation_id,
        findings=findings,
        fault_id=None if fault is None else fault.id,
        fault_kind=None if fault is None else fault.kind,
    )


class Journal:
    """The last `size` requests, oldest first, and how many older ones were dropped.

    Thread-safe: the server records while a test reads.
    """

    def __init__(self, size: int = 1000, *, contract: Contract | None = None) -> None:
        self._lock = threading.Lock()
        # By seq, oldest first; seqs are consecutive from `_first`, so the oldest is found
        # without a scan. An entry that has been read replaces its raw tuple.
        self._records: dict[int, _Held | JournalEntry] = {}
        self._first = 1
        self._next = 1
        self._size = size
        self._dropped = 0
        self._pending = 0  # body bytes held for checks not yet made
        self._contract = contract or default_contract()

    @property
    def size(self) -> int:
        return self._size

    @property
    def dropped(self) -> int:
        """How many entries were dropped to keep within `size` since the last `clear()`."""
        return self._dropped

    def __len__(self) -> int:
        return len(self._records)

    def resize(self, size: int) -> None:
        with self._lock:
            self._size = size
            self._trim()

    def clear(self) -> None:
        """Forget every entry and the dropped count (sequence numbers go on)."""
        with self._lock:
            self._records.clear()
            self._first = self._next
            self._dropped = 0
            self._pending = 0

    def record(self, request: RequestContext) -> None:
        """Add one request (the middleware calls this once it has been answered)."""
        # A large body is kept as the route decoded it, so it is not decoded twice; a small one
        # as its bytes (one object, which the garbage collector skips, where its document is
        # hundreds that it would walk on every full collection, for as long as it is kept).
        decoded = (request.parsed_body is not None and request.body_complete
                   and request.body_bytes >= _DECODED_BODY_BYTES)
        body: bytes | tuple[Any] | None = (
            request.parsed_body if decoded
            else b"".join(request.chunks) if request.chunks else None
        )
        request.chunks = []  # the journal keeps the body once, as `body`
        with self._lock:
            seq = self._next
            self._next += 1
            held = self._records[seq] = _Held(seq, request, body)
            self._pending += held.held_bytes
            if len(self._records) > self._size:  # the common case when full: one to drop
                self._trim()
            if self._pending > _PENDING_BODY_BYTES:
                for old in range(self._first, self._next):
                    if self._pending <= _PENDING_BODY_BYTES:
                        break
                    self._entry(old)

    @property
    def entries(self) -> list[JournalEntry]:
        """Every entry kept, oldest first."""
        return self.filter()

    def filter(
        self,
        *,
        tenant: str | None = None,
        path: str | None = None,
        status: int | None = None,
        since: int | None = None,
    ) -> list[JournalEntry]:
        """The entries of one tenant, on paths matching a glob, with a status, after a `seq`."""
        with self._lock:
            chosen = [
                seq for seq, raw in self._records.items()
                if (since is None or seq > since) and _matches(raw, tenant, path, status)
            ]
            return [self._entry(seq) for seq in chosen]

    def _entry(self, seq: int) -> JournalEntry:
        raw = self._records[seq]
        if isinstance(raw, JournalEntry):
            return raw
        self._pending -= raw.held_bytes
        try:
            entry = _work_out(raw, self._contract)
        except Exception as error:  # nothing that observes a request may break an answer
            entry = _unchecked(raw, error)
        self._records[seq] = entry
        return entry

    def _trim(self) -> None:
        while len(self._records) > self._size:
            dropped = self._records.pop(self._first)
            if isinstance(dropped, _Held):
                self._pending -= dropped.held_bytes
            self._first += 1
            self._dropped += 1


def _unchecked(held: _Held, error: Exception) -> JournalEntry:
    """The entry of a request the journal failed to check: a finding about the fake itself.

    The request was answered before this ran; the failure stays here, in the journal."""
    finding = Finding(
        "fake_error", (), f"wesog-mock could not check this request against the contract "
        f"({type(error).__name__}: {str(error)[:200]}); this is a bug of the fake, not of the "
        "client", severity="warning",
    )
    return _entry(held, query=(), body_bytes=held.request.body_bytes, checked=False,
                  findings=(finding,), operation_id=None)


def _matches(
    raw: _Held | JournalEntry, tenant: str | None, path: str | None, status: int | None
) -> bool:
    if isinstance(raw, _Held):
        request = raw.request
        raw_tenant, raw_path, raw_status = request.api_key, request.path, request.status
    else:
        raw_tenant, raw_path, raw_status = raw.tenant, raw.path, raw.status
    return ((tenant is None or raw_tenant == tenant)
            and (status is None or raw_status == status)
            and (path is None or fnmatch.fnmatchcase(raw_path, path)))
