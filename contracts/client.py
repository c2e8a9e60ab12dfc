"""A thin, careful HTTP client for judging a Wesog server: safe on a real endpoint.

It sends what a test asks, checks every answer against the contract (`contracts.checks`), and
keeps the promises the suite makes to whoever owns the server:

- every image id it writes starts with the run prefix (a write of any other id is refused
  before it is sent), and `cleanup()` deletes exactly the prefixed ids it wrote;
- every request is counted against a `Budget`, with a reserve kept for the cleanup;
- 429 and 503 are retried after `Retry-After` (or an exponential backoff), reads are retried
  after a dropped connection, writes never are (a lost answer may hide an applied write);
- every poll has a deadline; against the fake's virtual clock it settles instead of polling.

    RuntimeError
     ├── BudgetExhausted      the request budget is spent
     └── DeadlineExceeded     an operation did not finish before the poll's deadline
"""

from __future__ import annotations

import email.utils
import itertools
import json
import secrets
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

import httpx
from anyio.from_thread import BlockingPortal, start_blocking_portal

from contracts.checks import OperationLog
from contracts.exchange import Coverage, Exchange
from contracts.spec import Contract, default_contract

__all__ = [
    "Budget",
    "BudgetExhausted",
    "DeadlineExceeded",
    "InProcessTransport",
    "MockAdmin",
    "RetryPolicy",
    "WesogClient",
    "flags",
    "run_prefix",
]

_UNSET: Any = object()
_CLEANUP_CHUNK = 500


class BudgetExhausted(RuntimeError):
    """The run has spent its request budget (`--wesog-max-requests`)."""


class DeadlineExceeded(RuntimeError):
    """An operation did not finish before its poll's deadline."""


def run_prefix() -> str:
    """A fresh prefix for the ids of one run, e.g. `wct-3f9a1c-`."""
    return f"wct-{secrets.token_hex(3)}-"


def flags(**values: bool | str | None) -> dict[str, str]:
    """Query parameters from Python values: `flags(wait=True, lang="en")`; None leaves one out."""
    return {
        name: ("true" if value else "false") if isinstance(value, bool) else value
        for name, value in values.items()
        if value is not None
    }


@dataclass
class Budget:
    """A request budget shared by every client of a run; `reserve` is kept for the cleanup."""

    limit: int | None = None
    reserve: int = 0
    used: int = 0

    def spend(self, *, cleanup: bool = False) -> None:
        if self.limit is not None:
            cap = self.limit if cleanup else self.limit - self.reserve
            if self.used >= cap:
                raise BudgetExhausted(
                    f"the request budget is spent ({self.used} of {self.limit} requests"
                    + ("" if cleanup else f", {self.reserve} kept for the cleanup") + ")"
                )
        self.used += 1


@dataclass(frozen=True)
class RetryPolicy:
    """How 429/503 and dropped connections are retried; `sleep` is injectable for tests."""

    retries: int = 4
    backoff_s: float = 0.25
    max_wait_s: float = 30.0
    sleep: Callable[[float], None] = time.sleep

    def delay(self, attempt: int, response: httpx.Response | None) -> float:
        """Seconds to wait before retry number `attempt` (from 0): `Retry-After`, else backoff."""
        wait = self.backoff_s * 2**attempt
        header = response.headers.get("Retry-After") if response is not None else None
        if header:
            if header.strip().isdigit():
                wait = float(header)
            else:
                moment = email.utils.parsedate_to_datetime(header)
                wait = max(0.0, moment.timestamp() - time.time())
        return float(min(wait, self.max_wait_s))


class InProcessTransport(httpx.BaseTransport):
    """A sync httpx transport that calls an ASGI app in this process (httpx has only async).

    The app runs on a private event loop in a helper thread (anyio's blocking portal), started
    on the first request and stopped by `close()`. An exception in the app is a 500 answer,
    as a server would send it, not an exception in the caller.
    """

    def __init__(self, app: Any) -> None:
        self._transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        self._portal_context: AbstractContextManager[BlockingPortal] | None = None
        self._portal: BlockingPortal | None = None

    async def _handle(self, request: httpx.Request) -> httpx.Response:
        forwarded = httpx.Request(request.method, request.url, headers=request.headers,
                                  content=request.read(), extensions=request.extensions)
        answer = await self._transport.handle_async_request(forwarded)
        content = await answer.aread()
        # A stream, not `content=`: the client then closes it, which sets `elapsed`.
        return httpx.Response(answer.status_code, headers=answer.headers,
                              stream=httpx.ByteStream(content), request=request)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self._portal is None:
            self._portal_context = start_blocking_portal()
            self._portal = self._portal_context.__enter__()
        return self._portal.call(self._handle, request)

    def close(self) -> None:
        if self._portal_context is not None:
            self._portal_context.__exit__(None, None, None)
            self._portal_context = self._portal = None


class MockAdmin:
    """The fake's admin API (`/_mock/`): present only on `wesog-mock`, never on a real server."""

    def __init__(self, http: httpx.Client, budget: Budget, health: Mapping[str, Any]) -> None:
        self._http = http
        self._budget = budget
        self.health = dict(health)

    @classmethod
    def probe(cls, http: httpx.Client, budget: Budget) -> MockAdmin | None:
        """The admin API if `GET /_mock/health` answers `{"status": "ok"}`, else None."""
        budget.spend()
        try:
            response = http.get("/_mock/health")
        except httpx.TransportError:
            return None
        try:
            body = response.json()
        except ValueError:
            return None
        if response.status_code == 200 and isinstance(body, dict) and body.get("status") == "ok":
            return cls(http, budget, body)
        return None

    @property
    def clock(self) -> str:
        return str(self.health.get("clock", "real"))

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        self._budget.spend()
        response = self._http.request(method, f"/_mock/{path}", **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def reset(self, tenant: str | None = None) -> None:
        """Forget the images and operations of `tenant` (of every tenant if None)."""
        self._call("POST", "reset", params={"tenant": tenant} if tenant else None)

    def config(self) -> dict[str, Any]:
        return dict(self._call("GET", "config"))

    def configure(self, **changes: Any) -> dict[str, Any]:
        return dict(self._call("PATCH", "config", json=changes))

    def advance(self, ms: float) -> None:
        self._call("POST", "clock/advance", params={"ms": ms})

    def settle(self) -> None:
        self._call("POST", "settle")


def _ids_in(document: Any) -> list[Any]:
    if isinstance(document, list):
        return [item.get("id") for item in document if isinstance(item, dict) and "id" in item]
    return []


class WesogClient:
    """Requests to one server as one tenant, each answer checked and recorded."""

    def __init__(
        self,
        http: httpx.Client,
        *,
        api_key: str | None,
        prefix: str = "",
        budget: Budget | None = None,
        retry: RetryPolicy | None = None,
        contract: Contract | None = None,
        coverage: Coverage | None = None,
        admin: MockAdmin | None = None,
        poll_timeout_s: float = 60.0,
        ids: Iterator[int] | None = None,
    ) -> None:
        self.http = http
        self.api_key = api_key
        self.prefix = prefix
        self.budget = budget or Budget()
        self.retry = retry or RetryPolicy()
        self.contract = contract or default_contract()
        self.coverage = coverage or Coverage()
        self.admin = admin
        self.poll_timeout_s = poll_timeout_s
        self.log = OperationLog()
        self.written: dict[str, None] = {}
        self.last_response: httpx.Response | None = None
        # Shared by every client of a run (`with_key`, the suite's Target): an id is never
        # handed out twice in one run, so a test never meets an image an earlier test left.
        self.ids = itertools.count(1) if ids is None else ids

    def with_key(self, api_key: str | None) -> WesogClient:
        """A client for another tenant sharing this one's connection, budget and coverage."""
        return WesogClient(
            self.http, api_key=api_key, prefix=self.prefix, budget=self.budget,
            retry=self.retry, contract=self.contract, coverage=self.coverage, admin=self.admin,
            poll_timeout_s=self.poll_timeout_s, ids=self.ids,
        )

    def new_id(self, label: str = "img") -> str:
        """A fresh image id of this run: `<prefix><label>-<n>`, `n` never repeated in it."""
        return f"{self.prefix}{label}-{next(self.ids)}"

    def _guard(self, method: str, path: str, document: Any) -> None:
        if method == "GET" or not path.startswith("/imgs"):
            return
        ids = _ids_in(document) if path == "/imgs" else [path.removeprefix("/imgs/")]
        for image_id in ids:
            if not isinstance(image_id, str) or not image_id:
                continue  # an invalid id a conforming server refuses; nothing to clean up
            if not image_id.startswith(self.prefix):
                raise ValueError(f"refusing to write image {image_id!r}: no run prefix "
                                 f"{self.prefix!r}, so it might not be this run's")
            self.written.setdefault(image_id, None)

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | Sequence[tuple[str, str]] = (),
        json_body: Any = _UNSET,
        content: bytes | None = None,
        api_key: str | None = _UNSET,
        check: bool = True,
        cleanup: bool = False,
    ) -> Exchange:
        """Send one request and return the checked `Exchange` (raises `ContractViolation`)."""
        method = method.upper()
        key = self.api_key if api_key is _UNSET else api_key
        if json_body is not _UNSET:
            content = json.dumps(json_body).encode()
        document: Any = json_body if json_body is not _UNSET else None
        if document is None and content:
            try:
                document = json.loads(content)
            except ValueError:
                document = None
        self._guard(method, path, document)
        headers = {"Content-Type": "application/json"} if content is not None else {}
        if key is not None:
            headers["API-Key"] = key
        pairs = list(query.items()) if isinstance(query, Mapping) else list(query)
        sent_s = time.monotonic()
        response = self._send(method, path, pairs, content, headers, cleanup=cleanup)
        received_s = time.monotonic()
        self.last_response = response
        try:
            body: Any = response.json() if response.content else None
        except ValueError:
            body = response.text
        exchange = Exchange.of(
            method, path, response.status_code, body, query=pairs, request_body=document,
            headers=dict(response.headers), contract=self.contract, api_key=bool(key),
            raw_body=content,
        )
        if self.admin is None or self.admin.clock != "virtual":
            exchange = replace(exchange, sent_s=sent_s, received_s=received_s)
        if not cleanup:
            self.coverage.record(exchange)
        if check:
            self.log.check(exchange)
        return exchange

    def _send(
        self, method: str, path: str, query: list[tuple[str, Any]], content: bytes | None,
        headers: dict[str, str], *, cleanup: bool,
    ) -> httpx.Response:
        attempt = 0
        while True:
            self.budget.spend(cleanup=cleanup)
            try:
                response = self.http.request(method, path, params=query, content=content,
                                             headers=headers)
            except httpx.TransportError:
                if method != "GET" or attempt >= self.retry.retries:
                    raise
                self.retry.sleep(self.retry.delay(attempt, None))
                attempt += 1
                continue
            if response.status_code in (429, 503) and attempt < self.retry.retries:
                self.retry.sleep(self.retry.delay(attempt, response))
                attempt += 1
                continue
            return response

    def mutate(
        self, method: str, path: str, body: Any = _UNSET, **options: bool | str | None
    ) -> Exchange:
        """A mutation: `client.mutate("POST", "/imgs", batch, strict=True, wait=True)`."""
        return self.request(method, path, query=flags(**options), json_body=body)

    def image_path(self, image_id: str) -> str:
        return "/imgs/" + quote(image_id, safe="")

    def get_image(self, image_id: str, fields: Iterable[str] = ()) -> Exchange:
        return self.request("GET", self.image_path(image_id), query=[("fields", f) for f in fields])

    def get_operation(self, op_id: int) -> Exchange:
        return self.request("GET", f"/ops/{op_id}")

    def list_operations(self) -> Exchange:
        return self.request("GET", "/ops")

    def cancel(self, op_id: int) -> Exchange:
        return self.request("DELETE", f"/ops/{op_id}")

    def wait_finished(self, op_id: int, *, timeout_s: float | None = None) -> Mapping[str, Any]:
        """The operation once finished: settled on a virtual clock, else polled to a deadline."""
        if self.admin is not None and self.admin.clock == "virtual":
            self.admin.settle()
        deadline = time.monotonic() + (self.poll_timeout_s if timeout_s is None else timeout_s)
        pause = 0.01
        while True:
            exchange = self.get_operation(op_id)
            if exchange.status == 200 and isinstance(exchange.body, dict):
                if exchange.body.get("is_finished") is True:
                    return exchange.body
            elif exchange.status != 404:
                raise DeadlineExceeded(f"operation {op_id}: {exchange.describe()}")
            virtual = self.admin is not None and self.admin.clock == "virtual"
            if virtual or time.monotonic() + pause > deadline:
                raise DeadlineExceeded(
                    f"operation {op_id} not finished " +
                    ("after settling the virtual clock" if virtual else "before the deadline")
                )
            self.retry.sleep(pause)
            pause = min(pause * 2, 1.0)

    def cleanup(self) -> list[str]:
        """Delete every prefixed id this client wrote; return what went wrong.

        The deletes are queued behind this tenant's earlier operations (one queue, in order),
        so they need no waiting; on the fake's virtual clock the queue is settled."""
        problems: list[str] = []
        ids = list(self.written)
        for start in range(0, len(ids), _CLEANUP_CHUNK):
            chunk = [{"id": image_id} for image_id in ids[start:start + _CLEANUP_CHUNK]]
            try:
                exchange = self.request("DELETE", "/imgs", query=flags(strict=False),
                                        json_body=chunk, check=False, cleanup=True)
            except (httpx.HTTPError, BudgetExhausted) as error:
                problems.append(f"cleanup of {len(chunk)} ids failed: {error}")
                continue
            if exchange.status not in (200, 202):
                problems.append(f"cleanup of {len(chunk)} ids: {exchange.describe()}")
        if ids and self.admin is not None and self.admin.clock == "virtual":
            self.admin.settle()
        self.written.clear()
        return problems
