"""Small helpers the suite's test modules share: rule marks, running and reading."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, settings

from contracts.client import WesogClient
from contracts.conformance._session import Target
from contracts.exchange import Exchange, fail
from contracts.statemachine import expect_accepted

__all__ = ["SRC", "body_of", "check", "finish", "op_id_of", "properties", "read", "rules", "run",
           "seed"]

SRC = "https://example.com/wesog-contracts.jpg"
_F = TypeVar("_F", bound=Callable[..., Any])


def rules(*ids: str) -> Callable[[_F], _F]:
    """Mark a test with the rules it checks, and as `contract` (any D rule) or `assumption`."""
    kind = pytest.mark.assumption if all(i.startswith("A") for i in ids) else pytest.mark.contract

    def mark(test: _F) -> _F:
        marked: _F = kind(pytest.mark.rules(*ids)(test))
        return marked

    return mark


def properties(target: Target, default: int, **extra: Any) -> settings:
    """Hypothesis settings for a property of the suite (`--wesog-max-examples` caps it)."""
    quiet = {HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
             HealthCheck.filter_too_much, *extra.pop("suppress_health_check", ())}
    return settings(
        max_examples=target.examples(default), deadline=None, database=None,
        report_multiple_bugs=False, suppress_health_check=sorted(quiet, key=str), **extra,
    )


def check(exchange: Exchange, ok: bool, rule: str, title: str, message: str, **values: Any) -> None:
    """Raise a `ContractViolation` about `exchange` unless `ok`."""
    if not ok:
        fail(exchange, rule, title, message, **values)


def body_of(exchange: Exchange) -> Mapping[str, Any]:
    """The answer's body as an object; empty when it is anything else (the checks say why)."""
    return exchange.body if isinstance(exchange.body, Mapping) else {}


def op_id_of(exchange: Exchange) -> int:
    """The `op_id` of a mutation's answer: the 202 and the sync 200 both carry it (A5).

    Take it from the answer, never from the finished operation `finish` returns: that may be
    `GET /ops/{op_id}`'s body, which leaves it out (D8)."""
    op_id = expect_accepted(exchange).get("op_id")
    if not isinstance(op_id, int) or isinstance(op_id, bool):
        fail(exchange, "A5", "no op_id", "a mutation's answer carries its op_id",
             expected="an integer op_id", got=op_id)
    return op_id


def finish(client: WesogClient, exchange: Exchange) -> Mapping[str, Any]:
    """The finished operation of a mutation's answer (polling, or settling, when it is not)."""
    op = expect_accepted(exchange)
    if op.get("is_finished") is True:
        return op
    return client.wait_finished(op_id_of(exchange))


def run(
    client: WesogClient, method: str, path: str, body: Any = None, **options: Any
) -> tuple[Exchange, Mapping[str, Any]]:
    """Send a mutation (wait=true unless told) and return its answer and finished operation."""
    options.setdefault("wait", True)
    if body is None:
        exchange = client.request(method, path, query=_flags(options))
    else:
        exchange = client.request(method, path, query=_flags(options), json_body=body)
    return exchange, finish(client, exchange)


def _flags(options: Mapping[str, Any]) -> dict[str, str]:
    return {k: ("true" if v else "false") if isinstance(v, bool) else str(v)
            for k, v in options.items() if v is not None}


def read(client: WesogClient, image_id: str) -> Mapping[str, Any] | None:
    """The image as stored, or None when the server answers 404."""
    exchange = client.get_image(image_id)
    if exchange.status == 404:
        return None
    check(exchange, exchange.status == 200, "OAS", "image read failed", f"GET {image_id}",
          expected="200 or 404", got=exchange.status)
    return exchange.body if isinstance(exchange.body, Mapping) else {}


def seed(client: WesogClient, count: int, label: str = "seed", **fields: Any) -> list[str]:
    """Store `count` fresh images (relaxed add, wait) and return their ids."""
    ids = [client.new_id(label) for _ in range(count)]
    exchange, op = run(client, "POST", "/imgs", [{"id": i, "src": SRC, **fields} for i in ids],
                       strict=False)
    check(exchange, op.get("all_good") is True, "D1", "seeding failed",
          "a relaxed add of fresh ids succeeds", expected=True, got=op.get("errors"))
    return ids
