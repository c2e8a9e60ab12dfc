"""Schemathesis over `openapi.yaml`, sent through the suite's own careful client.

Schemathesis generates the cases (valid, and invalid in one place each) and follows the
contract's links (a mutation's `op_id` into `GET` and `DELETE /ops/{op_id}`); the suite sends
them with `WesogClient`, so its safety holds here too: every image id written is given the run
prefix, the API key is the run's (a case without one stays without one: it must be a 401),
and a cancel only ever names an operation this run created or one that cannot exist.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from typing import Any
from urllib.parse import quote, unquote

import httpx
import schemathesis
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core import NotSet
from schemathesis.core.failures import AcceptedNegativeData, Failure, FailureGroup
from schemathesis.core.transport import Response
from schemathesis.generation.stateful.state_machine import APIStateMachine
from schemathesis.schemas import BaseSchema
from schemathesis.specs.openapi import checks as oas

from contracts.client import WesogClient
from contracts.exchange import ContractViolation, Exchange
from contracts.spec import default_contract

__all__ = ["CHECKS", "judge", "load_schema", "make_stateful", "send"]

CHECKS = [not_a_server_error, oas.status_code_conformance, oas.content_type_conformance,
          oas.response_schema_conformance, oas.negative_data_rejection]
_NO_SUCH_OPERATION = 10**15
_PARAM = re.compile(r"\{(\w+)\}")


@functools.cache
def load_schema() -> BaseSchema:
    """The contract as a Schemathesis schema, loaded once.

    Without the batches' `maxItems`: a negative case of it is a 10,001-item batch, costly to
    send and to shrink, and the limit has tests of its own (A11)."""
    document = copy.deepcopy(dict(default_contract().document))
    for schema in document["components"]["schemas"].values():
        if schema.get("type") == "array":
            schema.pop("maxItems", None)
    return schemathesis.openapi.from_dict(document)


def _own_id(client: WesogClient, value: Any) -> Any:
    if isinstance(value, str) and value and not value.startswith(client.prefix):
        return client.prefix + value.replace("/", "_")
    return value


def _path(client: WesogClient, case: Case[Any], writes: bool) -> str:
    params = dict(case.path_parameters or {})

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        raw = params.get(name, "")
        if isinstance(raw, str):
            raw = unquote(raw)  # Schemathesis keeps path values quoted
        if name == "image_id" and writes:
            raw = _own_id(client, raw)
        if name == "op_id" and case.method.upper() == "DELETE" and isinstance(raw, int) \
                and not client.log.created(raw):
            # Never cancel an operation this run did not create (a link gives one it did).
            raw = _NO_SUCH_OPERATION + abs(raw) % _NO_SUCH_OPERATION
        return quote(str(raw), safe="")

    return _PARAM.sub(value, case.operation.path)


def _query(case: Case[Any]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for name, value in (case.query or {}).items():
        for one in value if isinstance(value, list) else [value]:
            if one is not None:
                pairs.append((str(name), str(one)))
    return pairs


def _body(client: WesogClient, case: Case[Any]) -> bytes | None:
    if isinstance(case.body, NotSet):
        return None
    body = case.body
    if isinstance(body, list):
        body = [{**item, "id": _own_id(client, item.get("id"))} if isinstance(item, dict)
                else item for item in body]
    try:
        return json.dumps(body, allow_nan=False).encode()
    except (TypeError, ValueError):
        return str(body).encode()


def send(client: WesogClient, case: Case[Any]) -> tuple[Exchange, httpx.Response]:
    """Send `case` with the run's key and prefixed ids; the answer is checked by the client."""
    method = case.method.upper()
    writes = method != "GET"
    headers: Any = case.headers or {}
    has_key = any(name.lower() == "api-key" for name in headers)
    in_positive = case.meta is None or case.meta.generation.mode == GenerationMode.POSITIVE
    key = client.api_key if has_key or in_positive else None
    exchange = client.request(method, _path(client, case, writes), query=_query(case),
                              content=_body(client, case), api_key=key)
    assert client.last_response is not None
    return exchange, client.last_response


def judge(case: Case[Any], exchange: Exchange, response: httpx.Response | Response) -> None:
    """Schemathesis's own checks on the answer; a failure becomes a `ContractViolation`."""
    try:
        case.validate_response(response, checks=CHECKS)
    except FailureGroup as group:
        # Any 4xx refuses: Schemathesis's list of refusals leaves out the contract's 413.
        failures = [f for f in group.exceptions
                    if not (isinstance(f, AcceptedNegativeData) and 400 <= exchange.status < 500)]
        if not failures:
            return
        failure: Failure = failures[0]
        rule = _rule(failure, exchange)
        raise ContractViolation(
            endpoint=exchange.operation_id, rule=rule, title=f"schemathesis: {failure.title}",
            message=" ".join(failure.message.split())[:300], exchange=exchange,
        ) from None


# The answers whose shape this project chose, by status (as `contracts.checks` reads them).
_RULE_BY_STATUS = {422: "A9", 401: "A10", 404: "A10", 413: "A11", 409: "A8"}


def _rule(failure: Failure, exchange: Exchange) -> str:
    """The rule a Schemathesis failure breaks: the document's (OAS) only for an answer whose
    status and shape a page documents."""
    if exchange.operation_id == "cancelOperation":
        return "A8"  # the cancel endpoint is this project's reading as a whole
    if isinstance(failure, AcceptedNegativeData):
        return "A9"
    if exchange.status in _RULE_BY_STATUS:
        return _RULE_BY_STATUS[exchange.status]
    if exchange.is_mutation and exchange.status == 202:
        return "A5"
    return "OAS"


def make_stateful(client: WesogClient, found: list[ContractViolation] | None = None
                  ) -> type[APIStateMachine]:
    """Schemathesis's state machine over the contract's links, sending through `client`.

    Every violation raised is appended to `found`: the links follow what the server answers,
    so a replay of a failure may draw differently (Hypothesis's `Flaky`), and the caller then
    reports the violation rather than Hypothesis's complaint."""
    base = load_schema().as_state_machine()
    seen = found if found is not None else []

    class Stateful(base):  # type: ignore[valid-type, misc]
        _exchange: Exchange

        def call(self, case: Case[Any], **kwargs: Any) -> Response:
            try:
                self._exchange, response = send(client, case)
            except ContractViolation as violation:
                seen.append(violation)
                raise
            return Response.from_any(response)

        def validate_response(self, response: Response, case: Case[Any],
                              additional_checks: Any = None, **kwargs: Any) -> None:
            try:
                judge(case, self._exchange, response)
            except ContractViolation as violation:
                seen.append(violation)
                raise

    return Stateful
