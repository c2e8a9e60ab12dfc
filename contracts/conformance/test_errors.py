"""Refusals: invalid input is a 422 in FastAPI's shape that creates nothing, keys and unknown
ids are 401 and 404, limits are 413, and the checks come in order (A9-A11, A13)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given

from contracts.client import WesogClient
from contracts.conformance._helpers import SRC, check, properties, read, rules, run
from contracts.conformance._session import Target
from contracts.strategies import InvalidRequest, image_ids, invalid_requests


@rules("A9", "A13")
def test_invalid_requests_are_422_and_create_nothing(wesog_client: WesogClient,
                                                     wesog_target: Target) -> None:
    ids = image_ids(prefix=f"{wesog_client.prefix}bad-", max_size=6)

    @properties(wesog_target, 60)
    @given(request=invalid_requests(ids=ids))
    def refused(request: InvalidRequest) -> None:
        before = {s.op_id for s in wesog_client.list_operations().operations()}
        exchange = wesog_client.request(request.method, request.path, query=request.query,
                                        content=request.body)
        check(exchange, exchange.status == request.status, request.rule_for(exchange.status),
              "invalid input accepted",
              request.defect, expected=request.status, got=exchange.status)
        after = wesog_client.list_operations()
        new = sorted({s.op_id for s in after.operations()} - before, key=str)
        check(after, not new, "A9", "operation created",
              f"a refused request ({request.defect}) creates no operation", expected=[], got=new)

    refused()


@rules("A13")
def test_a_bad_query_is_refused_before_an_unknown_image(wesog_client: WesogClient) -> None:
    # An example, not left to the draws above: with few examples none may read a missing image
    # with a bad query, and a server that looks the image up first would go unnoticed.
    missing = wesog_client.new_id("missing")
    exchange = wesog_client.request("GET", f"/imgs/{missing}", query={"fields": "no-such-field"})
    check(exchange, exchange.status == 422, "A13", "check order",
          "the query (422) before whether the image exists (404)", expected=422,
          got=exchange.status)


@rules("A9")
def test_unknown_fields_are_ignored(wesog_client: WesogClient) -> None:
    image_id = wesog_client.new_id()
    exchange, op = run(wesog_client, "POST", "/imgs",
                       [{"id": image_id, "src": SRC, "titel": "typo"}])
    check(exchange, op["all_good"] is True, "A9", "unknown field refused",
          "unknown fields are ignored", expected=True, got=op["errors"])
    image = read(wesog_client, image_id) or {}
    check(exchange, "titel" not in image, "A9", "unknown field stored", "it is ignored",
          expected="absent", got=image.get("titel"))


@rules("A10")
@pytest.mark.parametrize("key", [None, ""], ids=["missing", "empty"])
def test_requests_without_an_api_key_are_401(wesog_client: WesogClient, key: str | None) -> None:
    image_id = wesog_client.new_id()
    requests = [("POST", "/imgs", [{"id": image_id, "src": SRC}]), ("GET", "/ops", None),
                ("GET", wesog_client.image_path(image_id), None), ("GET", "/ops/1", None),
                ("DELETE", "/ops/1", None), ("DELETE", wesog_client.image_path(image_id), None)]
    for method, path, body in requests:
        content = None if body is None else json.dumps(body).encode()
        exchange = wesog_client.request(method, path, content=content, api_key=key)
        check(exchange, exchange.status == 401, "A10", "no API key",
              "a request without API-Key answers 401", expected=401, got=exchange.status)
    check(exchange, read(wesog_client, image_id) is None, "A10", "stored without a key",
          "a 401 stores nothing", expected=None, got="stored")


@rules("A10")
def test_unknown_images_are_404(wesog_client: WesogClient) -> None:
    exchange = wesog_client.get_image(wesog_client.new_id("never"))
    check(exchange, exchange.status == 404, "A10", "unknown image", "answers 404",
          expected=404, got=exchange.status)


@rules("A11")
@pytest.mark.slow
def test_a_batch_over_the_default_limit_is_413(wesog_client: WesogClient) -> None:
    batch = [{"id": wesog_client.new_id("big"), "src": SRC} for _ in range(10_001)]
    exchange = wesog_client.request("POST", "/imgs", query={"wait": "true"}, json_body=batch)
    check(exchange, exchange.status == 413, "A11", "batch limit",
          "more than 10,000 items answers 413", expected=413, got=exchange.status)
    check(exchange, read(wesog_client, batch[0]["id"]) is None, "A11", "half-stored",
          "nothing of a 413 is stored", expected=None, got="stored")


@rules("A9")
def test_empty_ids_and_sources_are_refused(wesog_client: WesogClient) -> None:
    # The schemas' minLength, said once by example: a property draws these only sometimes.
    image_id = wesog_client.new_id("empty")
    for path, body in (("/imgs", [{"id": image_id, "src": ""}]),
                       ("/imgs", [{"id": "", "src": SRC}]),
                       (wesog_client.image_path(image_id), {"src": ""})):
        exchange = wesog_client.request("POST", path, query={"wait": "true"}, json_body=body)
        check(exchange, exchange.status == 422, "A9", "empty string accepted",
              "an empty id or src is refused", expected=422, got=exchange.status)
    check(exchange, read(wesog_client, image_id) is None, "A9", "stored",
          "a refused request stores nothing", expected=None, got="stored")
