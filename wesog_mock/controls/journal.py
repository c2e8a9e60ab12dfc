"""The request journal: what each request asked, what it was answered, what the contract says.

It is bounded: past `size` entries the oldest are dropped, and counted. Recording runs on every
request, so it does little: it keeps the raw request (method, path, query bytes, the headers it
needs, the body) and the answer's status in a plain tuple, and works out the contract's
findings, the parsed query and the timestamp when someone reads the entry, once. The tuple
holds only strings, bytes and numbers, so the garbage collector stops tracking it: a thousand
kept entries then add nothing to its full collections, which they otherwise trigger (about 3 us
per request, measured). Bodies held for the later check are capped in total
(`_PENDING_BODY_BYTES`); past the cap the oldest are checked at once and let go.
"""

from __future__ import annotations

import fnmatch
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from contracts.findings import Finding
from contracts.spec import Contract, default_contract
from wesog_mock.controls.faults import FaultRule
from wesog_mock.domain.clock import iso_ms

__all__ = [
    "PARSED_BODY_KEY",
    "Journal",
    "JournalEntry",
]

_PENDING_BODY_BYTES = 16 * 1024 * 1024
# The ASGI scope key where a route leaves the body it decoded, as a 1-tuple, for the journal.
PARSED_BODY_KEY = "wesog_mock.parsed_body"

# A raw entry: (seq, at_ms, method, path, query_string, tenant, content_type, declared_length,
# chunked, body, body_bytes, body_complete, status, dropped, latency_ms, fault_id, fault_kind).
# `body` is the bytes, or (in a 1-tuple) the document the route already decoded from them, so
# the check does not decode a large batch a second time.
_Raw = tuple[
    int, float, str, str, bytes, "str | None", "str | None", "int | None", bool,
    "bytes | tuple[Any] | None", int, bool, "int | None", bool, float, "int | None",
    "str | None",
]


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


def _header_values(
    headers: Iterable[tuple[bytes, bytes]],
) -> tuple[str | None, str | None, int | None, bool]:
    """The API key, Content-Type, Content-Length and whether the body is chunked."""
    key = content_type = None
    length: int | None = None
    chunked = False
    for name, value in headers:
        name = name.lower()
        if name == b"api-key" and key is None:
            key = value.decode("latin-1").strip() or None
        elif name == b"content-type" and content_type is None:
            content_type = value.decode("latin-1")
        elif name == b"content-length" and length is None and value.isdigit():
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
    return key, content_type, length, chunked


def _work_out(raw: _Raw, contract: Contract) -> JournalEntry:
    (seq, at_ms, method, path, query_string, tenant, content_type, declared, chunked, body,
     body_bytes, complete, status, dropped, latency_ms, fault_id, fault_kind) = raw
    # The body is known when the app read all of it within the limit, or when there was none.
    checked = complete or (not (declared or chunked) and body_bytes == 0)
    if not complete and declared is not None:
        body_bytes = max(body_bytes, declared)
    query = tuple(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))
    headers = {"api-key": tenant or "", "content-type": content_type or ""}
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
    return JournalEntry(
        seq=seq,
        at=iso_ms(at_ms),
        latency_ms=round(latency_ms, 3),
        tenant=tenant,
        method=method,
        path=path,
        query=query,
        body_bytes=body_bytes,
        body_checked=checked,
        status=status,
        dropped=dropped,
        operation_id=report.endpoint.operation_id if report.endpoint is not None else None,
        findings=findings,
        fault_id=fault_id,
        fault_kind=fault_kind,
    )


def _pending(raw: _Raw | JournalEntry) -> int:
    if isinstance(raw, JournalEntry):
        return 0
    body = raw[9]
    if isinstance(body, tuple):
        return raw[10]  # a decoded body holds at least as much memory as its bytes
    return len(body) if body is not None else 0


class Journal:
    """The last `size` requests, oldest first, and how many older ones were dropped.

    Thread-safe: the server records while a test reads.
    """

    def __init__(self, size: int = 1000, *, contract: Contract | None = None) -> None:
        self._lock = threading.Lock()
        # By seq, oldest first; seqs are consecutive from `_first`, so the oldest is found
        # without a scan. An entry that has been read replaces its raw tuple.
        self._records: dict[int, _Raw | JournalEntry] = {}
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

    def record(
        self, at_ms: float, method: str, path: str, query_string: bytes,
        headers: Iterable[tuple[bytes, bytes]], chunks: list[bytes], body_bytes: int,
        body_complete: bool, status: int | None, dropped: bool, latency_ms: float,
        fault: FaultRule | None, parsed: tuple[Any] | None = None,
    ) -> None:
        """Add one request (called by the middleware once it has been answered).

        `chunks` are the body as read, `body_complete` whether they are all of it; `parsed`,
        the body as the route decoded it (a 1-tuple), when it did."""
        tenant, content_type, declared, chunked = _header_values(headers)
        body: bytes | tuple[Any] | None = (
            parsed if parsed is not None and body_complete
            else b"".join(chunks) if chunks else None
        )
        with self._lock:
            seq = self._next
            self._next += 1
            self._records[seq] = (
                seq, at_ms, method, path, query_string, tenant, content_type, declared, chunked,
                body, body_bytes, body_complete, status, dropped, latency_ms,
                None if fault is None else fault.id, None if fault is None else fault.kind,
            )
            if body is not None:
                self._pending += body_bytes if isinstance(body, tuple) else len(body)
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
                if (tenant is None or _field(raw, 5, "tenant") == tenant)
                and (status is None or _field(raw, 12, "status") == status)
                and (since is None or seq > since)
                and (path is None or fnmatch.fnmatchcase(_field(raw, 3, "path"), path))
            ]
            return [self._entry(seq) for seq in chosen]

    def _entry(self, seq: int) -> JournalEntry:
        raw = self._records[seq]
        if isinstance(raw, JournalEntry):
            return raw
        self._pending -= _pending(raw)
        entry = self._records[seq] = _work_out(raw, self._contract)
        return entry

    def _trim(self) -> None:
        while len(self._records) > self._size:
            self._pending -= _pending(self._records.pop(self._first))
            self._first += 1
            self._dropped += 1


def _field(raw: _Raw | JournalEntry, index: int, name: str) -> Any:
    return getattr(raw, name) if isinstance(raw, JournalEntry) else raw[index]
