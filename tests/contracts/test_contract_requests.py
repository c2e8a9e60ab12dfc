"""Request validation on hand-picked good and bad requests, for every endpoint of the contract."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from contracts import Finding, RequestReport, default_contract
from contracts.spec import QueryInput

CONTRACT = default_contract()
KEY = {"API-Key": "tenant-a"}
SRC = "https://example.com/1.jpg"
DEFAULTS = {"wait": False, "urgent": False, "strict": False, "lang": "es"}


@dataclass(frozen=True)
class Call:
    """A good request to one endpoint, which each test then spoils in one way."""

    operation_id: str
    method: str
    path: str
    body: Any = None

    @property
    def raw(self) -> bytes | None:
        return None if self.body is None else json.dumps(self.body).encode()

    def __str__(self) -> str:
        return self.operation_id


CALLS = [
    Call("createImages", "POST", "/imgs", [{"id": "img-1", "src": SRC, "keywords": ["a"]}]),
    Call("replaceImages", "PUT", "/imgs", [{"id": "img-1", "src": SRC, "title": None}]),
    Call("modifyImages", "PATCH", "/imgs", [{"id": "img-1", "caption": None}]),
    Call("deleteImages", "DELETE", "/imgs", [{"id": "img-1"}]),
    Call("createImage", "POST", "/imgs/img-1", {"src": SRC, "nsfw": False}),
    Call("replaceImage", "PUT", "/imgs/img-1", {"src": SRC, "categories": None}),
    Call("modifyImage", "PATCH", "/imgs/img-1", {"title": "A green car"}),
    Call("deleteImage", "DELETE", "/imgs/img-1"),
    Call("getImage", "GET", "/imgs/img-1"),
    Call("listOperations", "GET", "/ops"),
    Call("getOperation", "GET", "/ops/41"),
    Call("cancelOperation", "DELETE", "/ops/41"),
]
MUTATIONS = CALLS[:8]
WITH_BODY = [c for c in CALLS if c.body is not None]
BATCHES = [c for c in WITH_BODY if isinstance(c.body, list)]
SINGLES = [c for c in WITH_BODY if isinstance(c.body, dict)]
OPS = [c for c in CALLS if c.path.startswith("/ops/")]


def send(
    call: Call,
    *,
    body: Any = ...,
    raw: bytes | None = None,
    query: QueryInput = (),
    headers: dict[str, str] | None = None,
    path: str | None = None,
) -> RequestReport:
    """Validate `call`, with whatever the test changes (a body, raw bytes, query, headers)."""
    data = raw if raw is not None else call.raw if body is ... else json.dumps(body).encode()
    return CONTRACT.validate_request(
        call.method, path or call.path, query=query,
        headers=KEY if headers is None else headers, body=data,
    )


def only(report: RequestReport) -> Finding:
    """The one finding of `report` (a test that expects one finding says so)."""
    assert len(report.findings) == 1, [str(f) for f in report.findings]
    return report.findings[0]


def assert_readable(finding: Finding) -> None:
    """A message a person can act on: a sentence, no validator internals, located."""
    message = finding.message
    assert message[:1].isupper(), message
    for jargon in ("anyOf", "allOf", "$ref", "is not valid under", "Traceback"):
        assert jargon not in message, message
    assert str(finding) == f"{finding.location}: {message}"


# Good requests.

@pytest.mark.parametrize("call", CALLS, ids=str)
def test_a_good_request_matches_its_operation_with_no_findings(call: Call) -> None:
    report = send(call)
    assert report.endpoint is not None
    assert report.endpoint.operation_id == call.operation_id
    assert report.findings == ()
    assert report.ok
    assert report.body == call.body


@pytest.mark.parametrize("call", MUTATIONS, ids=str)
def test_mutation_query_parameters_take_their_defaults(call: Call) -> None:
    assert dict(send(call).params) == DEFAULTS


def test_path_parameters_are_parsed_to_their_types() -> None:
    assert send(CALLS[8]).path_params == {"image_id": "img-1"}
    assert send(CALLS[10]).path_params == {"op_id": 41}
    assert send(CALLS[11], path="/ops/-3").path_params == {"op_id": -3}


def test_the_method_is_case_insensitive_and_the_api_key_header_too() -> None:
    report = CONTRACT.validate_request("get", "/ops", headers={"api-key": "k"})
    assert report.endpoint is not None
    assert report.endpoint.operation_id == "listOperations"
    assert report.findings == ()


@pytest.mark.parametrize("call", BATCHES + SINGLES, ids=str)
def test_a_body_with_every_field_null_but_the_required_ones_is_fine(call: Call) -> None:
    endpoint = CONTRACT.endpoint(call.operation_id)
    metadata = CONTRACT.document["components"]["schemas"]["ImageMetadata"]["properties"]
    item = dict.fromkeys(metadata) if call.operation_id != "deleteImages" else {}
    template = call.body[0] if isinstance(call.body, list) else call.body
    item.update({k: v for k, v in template.items() if k in ("id", "src")})
    body = [item] if endpoint.is_batch else item
    assert send(call, body=body).findings == ()


# The API key (A10): every endpoint.

@pytest.mark.parametrize("call", CALLS, ids=str)
@pytest.mark.parametrize("headers", [{}, {"API-Key": ""}, {"API-Key": "  "}, {"X-Api-Key": "k"}])
def test_a_missing_or_empty_api_key_is_401(call: Call, headers: dict[str, str]) -> None:
    finding = only(send(call, headers=headers))
    assert (finding.code, finding.location, finding.status) == (
        "missing_api_key", "header.API-Key", 401
    )
    assert finding.message == "The API-Key header is required on every endpoint"


# Query parameters of the mutations.

@pytest.mark.parametrize("call", MUTATIONS, ids=str)
def test_lang_de_is_refused(call: Call) -> None:
    finding = only(send(call, query={"lang": "de"}))
    assert (finding.code, finding.location, finding.status) == ("enum", "query.lang", 422)
    assert finding.message == "Input should be 'en', 'es', 'pt', 'fr' or 'ru'"
    assert finding.input == "de"
    assert_readable(finding)


@pytest.mark.parametrize("lang", ["en", "es", "pt", "fr", "ru"])
def test_every_documented_lang_is_accepted(lang: str) -> None:
    report = send(MUTATIONS[0], query={"lang": lang})
    assert report.findings == ()
    assert report.params["lang"] == lang


@pytest.mark.parametrize("lang", ["EN", "es-ES", ""])
def test_lang_is_exact(lang: str) -> None:
    assert only(send(MUTATIONS[0], query={"lang": lang})).location == "query.lang"


@pytest.mark.parametrize("call", MUTATIONS, ids=str)
@pytest.mark.parametrize("name", ["wait", "urgent", "strict"])
def test_a_boolean_that_is_no_boolean_is_refused(call: Call, name: str) -> None:
    finding = only(send(call, query={name: "maybe"}))
    assert (finding.code, finding.location, finding.status) == (
        "bool_parsing", f"query.{name}", 422
    )
    assert finding.message == "Input should be a valid boolean, unable to interpret input"
    assert_readable(finding)


FASTAPI_TRUE = ["true", "1", "yes", "on", "t", "y"]
FASTAPI_FALSE = ["false", "0", "no", "off", "f", "n"]


@pytest.mark.parametrize("spelling", FASTAPI_TRUE + FASTAPI_FALSE)
@pytest.mark.parametrize("case", [str.lower, str.upper, str.title])
@pytest.mark.parametrize("name", ["wait", "urgent", "strict"])
def test_booleans_are_what_fastapi_accepts_in_any_case(
    spelling: str, case: Any, name: str
) -> None:
    report = send(MUTATIONS[4], query={name: case(spelling)})
    assert report.findings == ()
    assert report.params[name] is (spelling in FASTAPI_TRUE)


@pytest.mark.parametrize("raw", ["2", "tru", "yess", "none", "null", "-1", ""])
def test_near_booleans_are_refused(raw: str) -> None:
    assert only(send(MUTATIONS[0], query={"wait": raw})).code == "bool_parsing"


def test_a_repeated_scalar_parameter_keeps_its_last_value() -> None:
    report = send(MUTATIONS[0], query=[("wait", "maybe"), ("wait", "true")])
    assert report.findings == ()
    assert report.params["wait"] is True


def test_every_bad_query_parameter_is_reported() -> None:
    report = send(MUTATIONS[0], query={"wait": "x", "urgent": "yy", "strict": "z", "lang": "de"})
    assert sorted(f.location for f in report.findings) == [
        "query.lang", "query.strict", "query.urgent", "query.wait"
    ]


@pytest.mark.parametrize("call", CALLS, ids=str)
def test_an_unknown_query_parameter_is_a_warning(call: Call) -> None:
    report = send(call, query={"verbose": "1"})
    finding = only(report)
    assert (finding.code, finding.location, finding.severity) == (
        "unknown_parameter", "query.verbose", "warning"
    )
    assert report.ok


# The `fields` query of GET /imgs/{image_id}.

def test_fields_is_repeatable() -> None:
    report = send(CALLS[8], query=[("fields", "title"), ("fields", "n_faces")])
    assert report.findings == ()
    assert report.params["fields"] == ["title", "n_faces"]
    assert send(CALLS[8]).params["fields"] is None


@pytest.mark.parametrize("bad", ["titel", "TITLE", "", "op_id"])
def test_a_bad_fields_value_is_refused_at_its_index(bad: str) -> None:
    finding = only(send(CALLS[8], query=[("fields", "title"), ("fields", bad)]))
    assert (finding.code, finding.location, finding.status) == ("enum", "query.fields[1]", 422)
    assert finding.input == bad
    assert finding.message.startswith("Input should be 'image_id', 'src', ")
    assert finding.message.endswith(", 'width' or 'n_faces'")


# Path and method.

@pytest.mark.parametrize(
    "path", ["/", "/images", "/imgs/", "/imgs/a/b", "/ops/", "/ops/1/cancel", "/IMGS", "imgs"]
)
def test_an_unknown_path_is_404(path: str) -> None:
    report = CONTRACT.validate_request("GET", path, headers=KEY)
    assert report.endpoint is None
    finding = only(report)
    assert (finding.code, finding.location, finding.status) == ("unknown_path", "path", 404)
    assert finding.message == f"The contract has no path {path!r}"


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/imgs"), ("PUT", "/ops"), ("POST", "/ops/1"), ("PATCH", "/ops/1"),
     ("HEAD", "/imgs/a"), ("OPTIONS", "/imgs")],
)
def test_an_unknown_method_on_a_known_path_is_405(method: str, path: str) -> None:
    report = CONTRACT.validate_request(method, path, headers=KEY, body=b"[]")
    assert report.endpoint is None
    finding = only(report)
    assert (finding.code, finding.location, finding.status) == (
        "method_not_allowed", "method", 405
    )
    assert finding.message == f"The contract has no {method} on {path}"


@pytest.mark.parametrize("call", OPS, ids=str)
@pytest.mark.parametrize("op_id", ["abc", "1.5", "1e3", "0x10", "forty-two"])
def test_a_non_integer_op_id_is_refused(call: Call, op_id: str) -> None:
    finding = only(send(call, path=f"/ops/{op_id}"))
    assert (finding.code, finding.location, finding.status) == ("int_parsing", "path.op_id", 422)
    assert finding.input == op_id
    assert finding.message == (
        "Input should be a valid integer, unable to parse string as an integer"
    )


# Batch bodies.

def _batch(call: Call, size: int) -> list[dict[str, Any]]:
    return [{**call.body[0], "id": f"img-{n}"} for n in range(size)]


@pytest.mark.parametrize("call", BATCHES[:2], ids=str)
def test_a_missing_src_is_located_at_its_item(call: Call) -> None:
    body = _batch(call, 5)
    del body[3]["src"]
    finding = only(send(call, body=body))
    assert (finding.code, finding.location, finding.status) == ("missing", "body[3].src", 422)
    assert finding.message == "Field required"
    assert finding.input == body[3]


@pytest.mark.parametrize("call", BATCHES, ids=str)
def test_a_missing_id_is_located_at_its_item(call: Call) -> None:
    body = _batch(call, 3)
    del body[2]["id"]
    finding = only(send(call, body=body))
    assert (finding.code, finding.location) == ("missing", "body[2].id")


@pytest.mark.parametrize("call", BATCHES, ids=str)
def test_a_numeric_id_is_refused(call: Call) -> None:
    body = _batch(call, 2)
    body[1]["id"] = 7
    finding = only(send(call, body=body))
    assert (finding.code, finding.location, finding.status) == ("string_type", "body[1].id", 422)
    assert finding.message == "Input should be a valid string"
    assert finding.input == 7


@pytest.mark.parametrize("call", BATCHES, ids=str)
def test_an_empty_id_is_refused(call: Call) -> None:
    body = _batch(call, 1)
    body[0]["id"] = ""
    finding = only(send(call, body=body))
    assert (finding.code, finding.location) == ("string_too_short", "body[0].id")
    assert finding.message == "String should have at least 1 character"


@pytest.mark.parametrize("call", BATCHES, ids=str)
def test_an_empty_batch_is_refused(call: Call) -> None:
    finding = only(send(call, body=[]))
    assert (finding.code, finding.location, finding.status) == ("too_short", "body", 422)
    assert finding.message == "List should have at least 1 item after validation, not 0"


@pytest.mark.parametrize("call", BATCHES, ids=str)
@pytest.mark.parametrize("body", [{"id": "img-1", "src": SRC}, "img-1", 1, None, True])
def test_an_object_where_an_array_is_required_is_refused(call: Call, body: Any) -> None:
    finding = only(send(call, body=body))
    assert (finding.code, finding.location, finding.status) == ("list_type", "body", 422)
    assert finding.message == "Input should be a valid list"


@pytest.mark.parametrize("call", BATCHES, ids=str)
def test_an_item_that_is_no_object_is_refused_once(call: Call) -> None:
    finding = only(send(call, body=[*_batch(call, 1), "img-2"]))
    assert (finding.code, finding.location) == ("model_attributes_type", "body[1]")
    assert finding.message == "Input should be a valid dictionary or object"


@pytest.mark.parametrize("call", BATCHES, ids=str)
def test_a_batch_over_the_limit_is_413_before_its_items_are_checked(call: Call) -> None:
    body = [{"id": 1}] * 10_001  # every item bad too: A13 says the 413 comes alone
    finding = only(send(call, body=body))
    assert (finding.code, finding.location, finding.status) == ("too_many_items", "body", 413)
    assert finding.message == "The batch has 10001 items; the limit is 10000."
    assert finding.input == "<list of 10001 items>"


def test_a_batch_at_the_limit_is_fine() -> None:
    call = BATCHES[3]
    assert send(call, body=[{"id": f"img-{n}"} for n in range(10_000)]).findings == ()


@pytest.mark.parametrize("call", BATCHES, ids=str)
def test_an_unknown_field_is_a_warning_not_a_violation(call: Call) -> None:
    body = _batch(call, 3)
    body[1]["titel"] = "A red car"
    report = send(call, body=body)
    finding = only(report)
    assert (finding.code, finding.location, finding.severity, finding.status) == (
        "unknown_field", "body[1].titel", "warning", 200
    )
    assert finding.message == (
        "The contract knows no field 'titel'; the server ignores it, so its value is lost"
    )
    assert report.ok
    assert report.warnings == (finding,)
    assert report.violations == ()


@pytest.mark.parametrize("call", BATCHES[:3], ids=str)
def test_a_field_of_the_wrong_type_is_located(call: Call) -> None:
    body = _batch(call, 2)
    body[1].update(keywords="car", nsfw="no")
    report = send(call, body=body)
    assert {(f.code, f.location, f.message) for f in report.findings} == {
        ("list_type", "body[1].keywords", "Input should be a valid list or null"),
        ("bool_type", "body[1].nsfw", "Input should be a valid boolean or null"),
    }
    for finding in report.findings:
        assert_readable(finding)


def test_every_bad_item_of_a_batch_is_reported() -> None:
    body = [{"id": "a"}, {"id": 2, "src": SRC}, {"id": "c", "src": SRC}, {"src": SRC}]
    report = send(CALLS[0], body=body)
    assert [(f.code, f.location) for f in report.findings] == [
        ("missing", "body[0].src"), ("string_type", "body[1].id"), ("missing", "body[3].id"),
    ]


# Single-image bodies.

@pytest.mark.parametrize("call", SINGLES, ids=str)
def test_an_array_where_an_object_is_required_is_refused_once(call: Call) -> None:
    finding = only(send(call, body=[call.body]))
    assert (finding.code, finding.location, finding.status) == (
        "model_attributes_type", "body", 422
    )
    assert finding.message == "Input should be a valid dictionary or object"


@pytest.mark.parametrize("call", SINGLES[:2], ids=str)
def test_a_single_image_without_src_is_refused(call: Call) -> None:
    finding = only(send(call, body={"title": "A red car"}))
    assert (finding.code, finding.location, finding.status) == ("missing", "body.src", 422)


@pytest.mark.parametrize("call", SINGLES[:2], ids=str)
@pytest.mark.parametrize(("src", "code"), [(None, "string_type"), (1, "string_type"),
                                           ("", "string_too_short")])
def test_a_single_image_src_must_be_a_non_empty_string(call: Call, src: Any, code: str) -> None:
    finding = only(send(call, body={"src": src}))
    assert (finding.code, finding.location) == (code, "body.src")


@pytest.mark.parametrize("body", [{}, {"src": None}, {"src": SRC, "keywords": None}])
def test_a_single_patch_needs_no_field_and_may_clear_src(body: dict[str, Any]) -> None:
    assert send(SINGLES[2], body=body).findings == ()


@pytest.mark.parametrize("call", SINGLES, ids=str)
@pytest.mark.parametrize("name", ["titel", "id", "image_id"])
def test_an_unknown_single_image_field_is_a_warning(call: Call, name: str) -> None:
    report = send(call, body={**call.body, name: "x"})
    finding = only(report)
    assert (finding.code, finding.location, finding.severity) == (
        "unknown_field", f"body.{name}", "warning"
    )
    assert report.ok


# Raw bodies: every endpoint that takes one.

@pytest.mark.parametrize("call", WITH_BODY, ids=str)
@pytest.mark.parametrize("raw", [b"[{", b"{'src': 1}", b"[1,]", b"nul"])
def test_malformed_json_is_refused(call: Call, raw: bytes) -> None:
    finding = only(send(call, raw=raw))
    assert (finding.code, finding.location, finding.status) == ("json_invalid", "body", 422)
    assert finding.message.startswith("JSON decode error at line 1 column ")


@pytest.mark.parametrize("call", WITH_BODY, ids=str)
def test_a_body_that_is_not_utf8_is_refused(call: Call) -> None:
    finding = only(send(call, raw='[{"id": "café"}]'.encode("latin-1")))
    assert (finding.code, finding.location, finding.status) == ("json_invalid", "body", 422)
    assert finding.message == "JSON decode error: not UTF-8"


@pytest.mark.parametrize("call", WITH_BODY, ids=str)
def test_an_empty_body_is_missing(call: Call) -> None:
    finding = only(send(call, raw=b""))
    assert (finding.code, finding.location, finding.message) == (
        "missing", "body", "Field required"
    )


@pytest.mark.parametrize("call", WITH_BODY, ids=str)
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x"])
def test_a_wrong_content_type_is_refused(call: Call, content_type: str) -> None:
    finding = only(send(call, headers={**KEY, "Content-Type": content_type}))
    assert (finding.code, finding.location, finding.status) == (
        "content_type", "header.Content-Type", 422
    )
    media = content_type.split(";")[0]
    assert finding.message == f"Content-Type must be application/json, not {media!r}"


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8",
                                          "Application/JSON", "application/merge-patch+json"])
def test_json_content_types_are_accepted(content_type: str) -> None:
    report = send(CALLS[0], headers={**KEY, "Content-Type": content_type})
    assert report.findings == ()


@pytest.mark.parametrize("call", [c for c in CALLS if c.body is None], ids=str)
def test_a_body_on_an_endpoint_without_one_is_not_parsed(call: Call) -> None:
    report = send(call, raw=b"not json at all")
    assert report.findings == ()
    assert report.body is None


# Findings together.

def test_findings_of_several_kinds_are_all_reported_with_their_statuses() -> None:
    report = send(CALLS[0], headers={}, query={"lang": "de", "extra": "1"},
                  body=[{"id": "a", "src": SRC, "titel": "t"}, {"id": ""}])
    assert [(f.code, f.location, f.status) for f in report.findings] == [
        ("missing_api_key", "header.API-Key", 401),
        ("enum", "query.lang", 422),
        ("unknown_parameter", "query.extra", 200),
        ("missing", "body[1].src", 422),
        ("string_too_short", "body[1].id", 422),
        ("unknown_field", "body[0].titel", 200),
    ]
    assert len(report.violations) == 4
    assert not report.ok


def test_violations_render_as_a_422_body_the_contract_accepts() -> None:
    report = send(CALLS[0], query={"wait": "maybe"}, body=[{"id": 1}])
    detail = [finding.as_fastapi_error() for finding in report.violations]
    assert detail[0] == {"type": "bool_parsing", "loc": ["query", "wait"],
                         "msg": "Input should be a valid boolean, unable to interpret input",
                         "input": "maybe"}
    assert CONTRACT.validate_response("createImages", 422, {"detail": detail}) == []


BAD_REQUESTS: list[tuple[Call, dict[str, Any]]] = [
    (CALLS[0], {"headers": {}}),
    (CALLS[0], {"query": {"lang": "de", "wait": "maybe", "extra": "1"}}),
    (CALLS[0], {"body": [{"id": 1, "src": None, "keywords": "x", "titel": 1}, {}]}),
    (CALLS[0], {"body": []}),
    (CALLS[0], {"body": {}}),
    (CALLS[0], {"body": [{"id": "a"}] * 10_001}),
    (CALLS[2], {"body": [{"id": "", "nsfw": "yes", "src": 1}]}),
    (CALLS[3], {"body": [["img-1"]]}),
    (CALLS[4], {"body": [{"src": SRC}]}),
    (CALLS[6], {"body": {"src": 1, "date": 20260101, "categories": [1]}}),
    (CALLS[4], {"raw": b"{"}),
    (CALLS[4], {"raw": b"\xff"}),
    (CALLS[4], {"raw": b""}),
    (CALLS[4], {"headers": {**KEY, "Content-Type": "text/plain"}}),
    (CALLS[8], {"query": [("fields", "titel")]}),
    (CALLS[10], {"path": "/ops/x"}),
    (CALLS[10], {"path": "/ops/1/x"}),
    (CALLS[9], {"path": "/ops", "headers": {**KEY}, "query": {"page": "2"}}),
]


@pytest.mark.parametrize(("call", "changes"), BAD_REQUESTS, ids=[str(i) for i in
                                                                  range(len(BAD_REQUESTS))])
def test_every_finding_reads_as_a_located_sentence(call: Call, changes: dict[str, Any]) -> None:
    report = send(call, **changes)
    assert report.findings
    for finding in report.findings:
        assert_readable(finding)
        assert finding.location.split(".")[0].split("[")[0] in (
            "body", "query", "path", "header", "method"
        )
        assert finding.status in (200, 401, 404, 405, 413, 422)


# The Endpoint methods a server calls one by one.

def test_parse_query_applies_defaults_and_coerces() -> None:
    endpoint = CONTRACT.endpoint("deleteImage")
    values, findings = endpoint.parse_query({"wait": "ON", "lang": "fr"})
    assert values == {"wait": True, "urgent": False, "strict": False, "lang": "fr"}
    assert findings == []
    values, findings = endpoint.parse_query([("strict", "nope")])
    assert "strict" not in values
    assert [(f.code, f.location) for f in findings] == [("bool_parsing", "query.strict")]


def test_check_body_takes_the_servers_item_limit() -> None:
    endpoint = CONTRACT.endpoint("deleteImages")
    body = [{"id": "a"}, {"id": "b"}, {"id": 3}]
    assert [(f.code, f.status) for f in endpoint.check_body(body, max_items=2)] == [
        ("too_many_items", 413)
    ]
    assert endpoint.check_body(body, max_items=2)[0].message == (
        "The batch has 3 items; the limit is 2."
    )
    # No limit: the items themselves are checked, even past the contract's 10,000.
    big = [{"id": "a"}] * 10_001 + [{"id": 3}]
    assert [f.location for f in endpoint.check_body(big, max_items=None)] == ["body[10001].id"]
    assert endpoint.max_items == 10_000


def test_check_body_and_unknown_fields_know_single_and_batch_bodies() -> None:
    single = CONTRACT.endpoint("replaceImage")
    assert not single.is_batch
    assert single.check_body({"src": SRC}) == []
    assert [f.location for f in single.unknown_fields({"src": SRC, "x": 1, "a": 2})] == [
        "body.a", "body.x"
    ]
    batch = CONTRACT.endpoint("modifyImages")
    assert batch.is_batch
    warnings = batch.unknown_fields([{"id": "a"}, "junk", {"id": "b", "src": None, "zz": 0}])
    assert [(f.location, f.input, f.severity) for f in warnings] == [("body[2].zz", 0, "warning")]
    assert batch.unknown_fields({"not": "a list"}) == []
    no_body = CONTRACT.endpoint("getOperation")
    assert no_body.body is None
    assert no_body.check_body({"anything": 1}) == []
    assert no_body.unknown_fields({"anything": 1}) == []
