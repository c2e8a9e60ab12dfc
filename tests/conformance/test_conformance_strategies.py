"""The public strategies: eager validation, and what they draw is what the contract says."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts import default_contract
from contracts.model import KINDS
from contracts.strategies import (
    LIFECYCLE_STATES,
    InvalidRequest,
    batches,
    image_ids,
    images,
    invalid_requests,
    operations,
    partial_images,
    query_flags,
)

CONTRACT = default_contract()
HEADERS = {"API-Key": "k", "Content-Type": "application/json"}
FEW = settings(max_examples=30, deadline=None)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: image_ids(prefix="a/b"), ValueError),
        (lambda: image_ids(min_size=0), ValueError),
        (lambda: image_ids(min_size=3, max_size=2), ValueError),
        (lambda: batches("patch"), ValueError),  # type: ignore[arg-type]
        (lambda: batches("create", min_size=0), ValueError),
        (lambda: images(ids="a"), TypeError),  # type: ignore[arg-type]
        (lambda: partial_images(ids=st.just("a"), with_id=False), ValueError),
        (lambda: query_flags(spellings="yes"), TypeError),  # type: ignore[arg-type]
        (lambda: invalid_requests(ids=["a"]), TypeError),  # type: ignore[arg-type]
        (lambda: operations(state="paused"), ValueError),
        (lambda: operations(with_id=1), TypeError),  # type: ignore[arg-type]
    ],
)
def test_arguments_are_validated_when_called(call: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        call()


@FEW
@given(image_ids(prefix="run-"))
def test_ids_carry_the_prefix_and_fit_a_path(image_id: str) -> None:
    assert image_id.startswith("run-")
    assert "/" not in image_id


@FEW
@given(st.data())
def test_batches_are_valid_requests(data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(KINDS))
    batch = data.draw(batches(kind, ids=st.sampled_from(["a", "b"])))
    flags = data.draw(query_flags())
    method = CONTRACT.vocabulary.http_method[kind]
    report = CONTRACT.validate_request(method, "/imgs", query=flags, headers=HEADERS,
                                       body=json.dumps(batch).encode())
    assert report.ok, report.findings


@FEW
@given(images(with_id=False), partial_images(with_id=False))
def test_single_image_bodies_are_valid(image: dict[str, Any], partial: dict[str, Any]) -> None:
    for method, body in (("PUT", image), ("PATCH", partial)):
        report = CONTRACT.validate_request(method, "/imgs/x", headers=HEADERS,
                                           body=json.dumps(body).encode())
        assert report.ok, report.findings


def test_unique_batches_have_one_item_per_id() -> None:
    @FEW
    @given(batches("replace", ids=st.sampled_from(["a", "b", "c"]), unique=True))
    def check(batch: list[dict[str, Any]]) -> None:
        assert len({item["id"] for item in batch}) == len(batch)

    check()


@settings(max_examples=80, deadline=None)
@given(invalid_requests(ids=image_ids(prefix="run-")))
def test_invalid_requests_have_exactly_the_defect_they_name(request: InvalidRequest) -> None:
    report = CONTRACT.validate_request(request.method, request.path, query=request.query,
                                       headers=HEADERS, body=request.body)
    assert report.violations, request.describe()
    assert {f.status for f in report.violations} == {request.status}
    assert request.defect in request.describe()


@FEW
@given(st.sampled_from(LIFECYCLE_STATES).flatmap(
    lambda s: st.tuples(st.just(s), operations(state=s, with_id=True))))
def test_operations_match_the_schema(pair: tuple[str, dict[str, Any]]) -> None:
    state, op = pair
    assert CONTRACT.validate_response("listOperations", 200, [op]) == []
    assert op["is_finished"] == (state in ("finished", "failed", "cancelled"))
