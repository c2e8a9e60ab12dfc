"""The suite's client, without a server: retries, budget, the run prefix, cleanup, polling."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from contracts.checks import ContractViolation
from contracts.client import (
    Budget,
    BudgetExhausted,
    DeadlineExceeded,
    InProcessTransport,
    RetryPolicy,
    WesogClient,
    flags,
)

OP = {"op_id": 1, "method": "del", "resource": "image", "num_total": 1, "num_good": 0,
      "num_bad": 0, "is_started": False, "is_finished": False, "all_good": None,
      "do_wait": False, "do_urgent": False, "do_strict": False, "idle_ms": 0, "exec_ms": 0,
      "created_at": "2026-01-01T00:00:00.000Z", "started_at": None, "finished_at": None,
      "errors": []}


class Server:
    """A scripted server: answers from a list, records what it was sent."""

    def __init__(self, *answers: httpx.Response) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.answers:
            return self.answers.pop(0)
        if request.method == "GET":
            return httpx.Response(404, json={"detail": "Not Found"})
        body = json.loads(request.content) if request.content else None
        total = len(body) if isinstance(body, list) else 1
        method = {"POST": "add", "DELETE": "del"}.get(request.method, "upd")
        return httpx.Response(202, json={**OP, "num_total": total, "method": method,
                                         "op_id": len(self.requests)})


def client_for(server: Server, slept: list[float], **options: Any) -> WesogClient:
    http = httpx.Client(transport=httpx.MockTransport(server), base_url="http://test")
    return WesogClient(http, api_key="k", prefix="run-", retry=RetryPolicy(sleep=slept.append),
                       **options)


def test_429_and_503_are_retried_after_retry_after() -> None:
    server = Server(httpx.Response(429, headers={"Retry-After": "3"}),
                    httpx.Response(503), httpx.Response(200, json=[]))
    slept: list[float] = []
    exchange = client_for(server, slept).list_operations()
    assert exchange.status == 200
    assert slept == [3.0, 0.5]  # Retry-After, then the second step of the backoff
    assert len(server.requests) == 3


def test_writes_are_not_retried_after_a_dropped_connection() -> None:
    def drop(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError("dropped", request=request)

    http = httpx.Client(transport=httpx.MockTransport(drop), base_url="http://test")
    slept: list[float] = []
    client = WesogClient(http, api_key="k", prefix="run-", retry=RetryPolicy(sleep=slept.append))
    with pytest.raises(httpx.RemoteProtocolError):
        client.mutate("DELETE", "/imgs", [{"id": "run-1"}])
    assert slept == []
    with pytest.raises(httpx.RemoteProtocolError):
        client.list_operations()
    assert len(slept) == 4  # reads are retried, then the error is raised


def test_the_budget_keeps_a_reserve_for_the_cleanup() -> None:
    slept: list[float] = []
    client = client_for(Server(), slept, budget=Budget(limit=3, reserve=1))
    client.mutate("DELETE", "/imgs", [{"id": "run-a"}])
    client.mutate("DELETE", "/imgs", [{"id": "run-b"}])
    with pytest.raises(BudgetExhausted, match="2 of 3 requests, 1 kept for the cleanup"):
        client.list_operations()
    assert client.cleanup() == []
    assert client.budget.used == 3


def test_only_prefixed_ids_are_written_and_exactly_those_are_cleaned_up() -> None:
    server = Server()
    client = client_for(server, [])
    with pytest.raises(ValueError, match="refusing to write image 'theirs'"):
        client.mutate("POST", "/imgs", [{"id": "theirs", "src": "s"}])
    with pytest.raises(ValueError, match="refusing"):
        client.mutate("DELETE", "/imgs/theirs")
    client.mutate("DELETE", "/imgs", [{"id": "run-1"}, {"id": ""}, {"id": 5}])
    client.mutate("DELETE", client.image_path("run-2"))
    client.get_image("anyone's")  # reads are harmless
    assert client.cleanup() == []
    cleanup = server.requests[-1]
    assert (cleanup.method, json.loads(cleanup.content)) == (
        "DELETE", [{"id": "run-1"}, {"id": "run-2"}])
    assert client.written == {}


def test_every_answer_is_checked() -> None:
    client = client_for(Server(httpx.Response(202, json={**OP, "do_urgent": True})), [])
    with pytest.raises(ContractViolation, match=r"\[D9\].*do_urgent"):
        client.mutate("DELETE", "/imgs", [{"id": "run-1"}])


def test_a_poll_has_a_deadline() -> None:
    slept: list[float] = []
    client = client_for(Server(*[httpx.Response(200, json={k: v for k, v in OP.items()
                                                           if k != "op_id"})] * 50), slept,
                        poll_timeout_s=0.05)
    with pytest.raises(DeadlineExceeded, match="not finished before the deadline"):
        client.wait_finished(1)
    assert slept[:1] == [0.01]


def test_an_app_that_raises_answers_500_in_process() -> None:
    async def broken(scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError("boom")

    with httpx.Client(transport=InProcessTransport(broken), base_url="http://x") as http:
        response = http.get("/ops")
    assert response.status_code == 500
    assert response.elapsed.total_seconds() >= 0


def test_flags_spell_booleans_as_the_contract_does() -> None:
    assert flags(wait=True, strict=False, lang="en", urgent=None) == {
        "wait": "true", "strict": "false", "lang": "en"}


def test_image_ids_never_repeat_across_the_clients_of_a_run() -> None:
    # Each test of the suite has its own client; one counter serves the whole run, so a test
    # never writes an id an earlier test left on a server that did not forget it.
    first = client_for(Server(), [])
    other_tenant = first.with_key("k2")
    next_test = client_for(Server(), [], ids=first.ids)
    made = [first.new_id(), other_tenant.new_id("seed"), next_test.new_id(), first.new_id()]
    assert made == ["run-img-1", "run-seed-2", "run-img-3", "run-img-4"]
    assert client_for(Server(), []).new_id() == "run-img-1"  # a client of its own starts afresh
