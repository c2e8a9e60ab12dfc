"""Response validation: documented statuses, the Operation shapes, timestamps, error bodies."""

from __future__ import annotations

from typing import Any

import pytest

from contracts import Finding, default_contract

CONTRACT = default_contract()
MUTATIONS = ["createImages", "replaceImages", "modifyImages", "deleteImages",
             "createImage", "replaceImage", "modifyImage", "deleteImage"]
# Operations answered without `op_id` (D8, A8).
BARE = ["getOperation", "cancelOperation"]

QUEUED: dict[str, Any] = {
    "method": "add", "resource": "image", "num_total": 2, "num_good": 0, "num_bad": 0,
    "is_started": False, "is_finished": False, "all_good": None,
    "do_wait": False, "do_urgent": False, "do_strict": False, "idle_ms": 0, "exec_ms": 0,
    "created_at": "2026-11-23T10:00:00.000Z", "started_at": None, "finished_at": None,
    "errors": [],
}
FINISHED: dict[str, Any] = {
    **QUEUED, "num_good": 1, "num_bad": 1, "is_started": True, "is_finished": True,
    "all_good": False, "idle_ms": 1.5, "exec_ms": 4,
    "started_at": "2026-11-23T10:00:00.002+00:00", "finished_at": "2026-11-23T10:00:00.006Z",
    "errors": [{"id": 1, "msg": "La imagen 'img-1' ya existe."}],
}


def check(operation_id: str, status: int, body: Any) -> list[tuple[str, str]]:
    return [(f.code, f.location) for f in CONTRACT.validate_response(operation_id, status, body)]


def only(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, [str(f) for f in findings]
    return findings[0]


@pytest.mark.parametrize("operation_id", MUTATIONS)
@pytest.mark.parametrize("status", [200, 202])
@pytest.mark.parametrize("operation", [QUEUED, FINISHED], ids=["queued", "finished"])
def test_a_mutation_answers_the_operation_with_its_op_id(
    operation_id: str, status: int, operation: dict[str, Any]
) -> None:
    assert check(operation_id, status, {**operation, "op_id": 42}) == []


@pytest.mark.parametrize("operation_id", MUTATIONS)
@pytest.mark.parametrize("status", [200, 202])
def test_a_mutation_answer_without_op_id_is_a_violation(operation_id: str, status: int) -> None:
    finding = only(CONTRACT.validate_response(operation_id, status, QUEUED))
    assert (finding.code, finding.location, finding.status) == ("missing", "response.op_id", status)
    assert finding.message == "Field required"


@pytest.mark.parametrize("op_id", ["42", 0, -1, 1.5, None])
def test_op_id_is_a_positive_integer(op_id: Any) -> None:
    assert check("createImages", 202, {**QUEUED, "op_id": op_id})[0][1] == "response.op_id"


@pytest.mark.parametrize("operation_id", BARE)
def test_an_operation_read_or_cancelled_needs_no_op_id(operation_id: str) -> None:
    assert check(operation_id, 200, FINISHED) == []
    # An extra `op_id` is not forbidden: the schema leaves additional properties open.
    assert check(operation_id, 200, {**FINISHED, "op_id": 42}) == []


def test_the_list_of_operations_needs_op_id_on_every_item() -> None:
    assert check("listOperations", 200, []) == []
    assert check("listOperations", 200, [{**QUEUED, "op_id": 1}, {**FINISHED, "op_id": 2}]) == []
    assert check("listOperations", 200, [{**QUEUED, "op_id": 1}, FINISHED]) == [
        ("missing", "response[1].op_id")
    ]
    assert check("listOperations", 200, {**QUEUED, "op_id": 1}) == [("list_type", "response")]


@pytest.mark.parametrize("field", sorted(QUEUED))
def test_an_operation_missing_a_field_is_a_violation(field: str) -> None:
    body = {k: v for k, v in FINISHED.items() if k != field}
    for operation_id in BARE:
        finding = only(CONTRACT.validate_response(operation_id, 200, body))
        assert (finding.code, finding.location, finding.message) == (
            "missing", f"response.{field}", "Field required"
        )
    assert check("createImages", 202, {**body, "op_id": 3}) == [("missing", f"response.{field}")]


@pytest.mark.parametrize(
    ("operation_id", "status"),
    [("createImages", 500), ("createImages", 404), ("createImages", 409), ("deleteImage", 413),
     ("getImage", 202), ("listOperations", 404), ("listOperations", 422), ("getOperation", 409),
     ("cancelOperation", 202), ("modifyImage", 204)],
)
def test_an_undocumented_status_is_a_violation(operation_id: str, status: int) -> None:
    finding = only(CONTRACT.validate_response(operation_id, status, {"detail": "x"}))
    assert (finding.code, finding.location, finding.status) == (
        "undocumented_status", "response.status", status
    )
    documented = ", ".join(str(s) for s in sorted(CONTRACT.endpoint(operation_id).responses))
    assert finding.message == f"{operation_id} documents {documented}, not {status}"


def test_an_endpoint_object_is_accepted_in_place_of_its_operation_id() -> None:
    endpoint = CONTRACT.endpoint("getOperation")
    assert CONTRACT.validate_response(endpoint, 200, FINISHED) == []
    assert CONTRACT.validate_response(endpoint, 200, QUEUED | {"errors": None}) != []


def test_an_unknown_operation_id_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        CONTRACT.validate_response("searchImages", 200, {})


@pytest.mark.parametrize("all_good", [None, True, False])
def test_all_good_may_be_null(all_good: bool | None) -> None:
    assert check("getOperation", 200, {**QUEUED, "all_good": all_good}) == []


@pytest.mark.parametrize("all_good", ["true", 1, 0, []])
def test_all_good_is_a_boolean_or_null(all_good: Any) -> None:
    body = {**QUEUED, "all_good": all_good}
    finding = only(CONTRACT.validate_response("getOperation", 200, body))
    assert (finding.code, finding.location, finding.message) == (
        "bool_type", "response.all_good", "Input should be a valid boolean or null"
    )


@pytest.mark.parametrize("field", ["created_at", "started_at", "finished_at"])
@pytest.mark.parametrize(
    "stamp",
    ["2026-11-23T10:00:00.000Z", "2026-11-23T10:00:00.999+00:00"],
)
def test_a_utc_timestamp_with_milliseconds_is_accepted(field: str, stamp: str) -> None:
    assert check("getOperation", 200, {**FINISHED, field: stamp}) == []


@pytest.mark.parametrize("field", ["created_at", "started_at", "finished_at"])
@pytest.mark.parametrize(
    "stamp",
    ["2026-11-23 10:00:00.000Z", "2026-11-23T10:00:00Z", "2026-11-23T10:00:00.000",
     "2026-11-23T10:00:00.000+01:00", "2026-11-23T10:00:00.000000Z", "23/11/2026",
     "yesterday", "", 1763892000000],
)
def test_a_bad_timestamp_is_a_violation(field: str, stamp: Any) -> None:
    findings = CONTRACT.validate_response("getOperation", 200, {**FINISHED, field: stamp})
    assert findings
    assert {f.location for f in findings} == {f"response.{field}"}


def test_created_at_is_never_null_but_started_and_finished_at_may_be() -> None:
    assert check("getOperation", 200, {**FINISHED, "started_at": None, "finished_at": None}) == []
    assert [loc for _, loc in check("getOperation", 200, {**FINISHED, "created_at": None})] == [
        "response.created_at"
    ]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"method": "get"}, ("enum", "response.method")),
        ({"resource": "images"}, ("enum", "response.resource")),
        ({"num_total": -1}, ("minimum", "response.num_total")),
        ({"num_good": "1"}, ("int_type", "response.num_good")),
        ({"num_bad": 1.5}, ("int_type", "response.num_bad")),
        ({"is_started": "false"}, ("bool_type", "response.is_started")),
        ({"do_urgent": None}, ("bool_type", "response.do_urgent")),
        ({"idle_ms": -0.5}, ("minimum", "response.idle_ms")),
        ({"exec_ms": "4"}, ("float_type", "response.exec_ms")),
        ({"errors": None}, ("list_type", "response.errors")),
        ({"errors": [{"id": 0}]}, ("missing", "response.errors[0].msg")),
        ({"errors": [{"id": -1, "msg": "x"}]}, ("minimum", "response.errors[0].id")),
        ({"errors": [{"id": "img-1", "msg": "x"}]}, ("int_type", "response.errors[0].id")),
    ],
)
def test_an_operation_field_off_its_schema_is_located(
    change: dict[str, Any], expected: tuple[str, str]
) -> None:
    finding = only(CONTRACT.validate_response("getOperation", 200, {**FINISHED, **change}))
    assert (finding.code, finding.location) == expected
    assert finding.status == 200


@pytest.mark.parametrize("method", ["add", "upd", "del", "multiple"])
def test_every_documented_operation_method_is_accepted(method: str) -> None:
    assert check("getOperation", 200, {**FINISHED, "method": method}) == []


@pytest.mark.parametrize(
    ("operation_id", "status"),
    [("createImages", 401), ("createImages", 413), ("getImage", 404), ("deleteImage", 401),
     ("listOperations", 401), ("getOperation", 404), ("cancelOperation", 409),
     ("cancelOperation", 404)],
)
def test_plain_errors_are_a_detail_string(operation_id: str, status: int) -> None:
    assert check(operation_id, status, {"detail": "Operation 7 not found."}) == []
    assert check(operation_id, status, {}) == [("missing", "response.detail")]
    assert check(operation_id, status, {"detail": ["x"]}) == [("string_type", "response.detail")]
    assert check(operation_id, status, "Not found") == [
        ("model_attributes_type", "response")
    ]


@pytest.mark.parametrize("operation_id", [*MUTATIONS, "getImage", "getOperation",
                                          "cancelOperation"])
def test_validation_errors_have_fastapis_shape(operation_id: str) -> None:
    item = {"type": "missing", "loc": ["body", 0, "src"], "msg": "Field required", "input": {}}
    assert check(operation_id, 422, {"detail": [item]}) == []
    assert check(operation_id, 422, {"detail": [{**item, "input": None}]}) == []
    assert check(operation_id, 422, {"detail": "Field required"}) == [
        ("list_type", "response.detail")
    ]
    no_msg = {k: v for k, v in item.items() if k != "msg"}
    assert check(operation_id, 422, {"detail": [no_msg]}) == [("missing", "response.detail[0].msg")]
    assert check(operation_id, 422, {"detail": [{**item, "loc": "body"}]}) == [
        ("list_type", "response.detail[0].loc")
    ]


def test_an_image_is_any_projection_of_its_nullable_fields() -> None:
    assert check("getImage", 200, {}) == []
    assert check("getImage", 200, {"title": None, "height": 480, "keywords": ["car"]}) == []
    assert check("getImage", 200, {"height": "480"}) == [("int_type", "response.height")]
    assert check("getImage", 200, {"keywords": ["car", 1]}) == [
        ("string_type", "response.keywords[1]")
    ]
    assert check("getImage", 200, [{}]) == [("model_attributes_type", "response")]
