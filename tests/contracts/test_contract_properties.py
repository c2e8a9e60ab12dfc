"""Hypothesis: what the contract's schemas generate validates; one change away does not.

The strategies are derived from `openapi.yaml` itself by `from_schema`, a small translator of
the JSON Schema subset the contract uses (`$ref`, `allOf`, `anyOf`, `type` lists, `properties`,
`required`, `items`, `enum`, `minLength`, `minItems`, `maxItems`, `minimum`, `pattern`). An
unknown keyword fails loudly, so a contract that grows a new constraint grows a strategy too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts import Endpoint, RequestReport, default_contract
from contracts._schema import CompiledSchema, resolve

CONTRACT = default_contract()
COMPONENTS: Mapping[str, Any] = CONTRACT.document["components"]
KEY = {"API-Key": "tenant-a"}

PROPERTY_SETTINGS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
_IGNORED = {"description", "default", "title", "examples"}
_HANDLED = {"$ref", "allOf", "anyOf", "type", "properties", "required", "items", "enum",
            "minLength", "minItems", "maxItems", "minimum", "pattern"}
JSON_TYPES = ("null", "boolean", "integer", "number", "string", "array", "object")
# One value of each JSON type, to put where the schema wants another.
WRONG_VALUES: dict[str, Any] = {
    "null": None, "boolean": True, "integer": 7, "number": 2.5, "string": "seven",
    "array": ["seven"], "object": {"seven": 7},
}
_TYPE_CODES = {"string": "string_type", "boolean": "bool_type", "integer": "int_type",
               "number": "float_type", "array": "list_type", "object": "model_attributes_type"}


def _merged(schema: Mapping[str, Any]) -> dict[str, Any]:
    """`schema` with `$ref` and `allOf` folded in: one object schema, properties united."""
    schema = resolve(schema, COMPONENTS)
    merged: dict[str, Any] = {k: v for k, v in schema.items()
                              if k not in ("allOf", "properties", "required")}
    properties: dict[str, Any] = dict(schema.get("properties", {}))
    required: set[str] = set(schema.get("required", ()))
    for part in schema.get("allOf", ()):
        sub = _merged(part)
        for name, value in sub.pop("properties", {}).items():
            assert name not in properties, f"{name} is defined twice under allOf"
            properties[name] = value
        required |= set(sub.pop("required", ()))
        merged.update(sub)
    if properties or required:
        merged["properties"] = properties
        merged["required"] = sorted(required)
    return merged


def _types(schema: Mapping[str, Any]) -> list[str]:
    kind = schema.get("type", list(JSON_TYPES))
    return [kind] if isinstance(kind, str) else list(kind)


# Any JSON value, for a schema without a type (`input` of a 422 item): small and finite.
ANY_JSON: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=5), inner,
                                                                 max_size=2),
    max_leaves=4,
)


def from_schema(schema: Mapping[str, Any], max_items: int = 3) -> st.SearchStrategy[Any]:
    """Values valid under `schema` (a schema of the contract, `$ref`s resolved in place).

    Strings are short, lists hold at most `max_items` items (or `minItems`), optional
    properties are present or not independently; Hypothesis shrinks towards the fewest
    optional properties, empty strings where allowed, and nulls.
    """
    schema = _merged(schema)
    unknown = set(schema) - _HANDLED - _IGNORED - {k for k in schema if k.startswith("x-")}
    assert not unknown, f"from_schema does not know {sorted(unknown)}"
    if "anyOf" in schema:
        return st.one_of([from_schema(part, max_items) for part in schema["anyOf"]])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "type" not in schema:
        return ANY_JSON
    return st.one_of([_of_type(kind, schema, max_items) for kind in _types(schema)])


def _of_type(kind: str, schema: Mapping[str, Any], max_items: int) -> st.SearchStrategy[Any]:
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind in ("integer", "number"):
        low = schema.get("minimum")
        integers = st.integers(min_value=low, max_value=10**9)
        if kind == "integer":
            return integers
        floats = st.floats(min_value=low, max_value=1e9, allow_nan=False, allow_infinity=False)
        return integers | floats
    if kind == "string":
        if "pattern" in schema:
            # ASCII only: JSON Schema's `\d` is ECMA-262's, not Python's Unicode one.
            return st.from_regex(schema["pattern"], fullmatch=True,
                                 alphabet=st.characters(codec="ascii"))
        return st.text(min_size=schema.get("minLength", 0), max_size=12)
    if kind == "array":
        low = schema.get("minItems", 0)
        return st.lists(from_schema(schema.get("items", {}), max_items), min_size=low,
                        max_size=max(low, min(max_items, schema.get("maxItems", max_items))))
    if kind == "object":
        properties = schema.get("properties", {})
        required = set(schema.get("required", ()))
        return st.fixed_dictionaries(
            {name: from_schema(properties[name], max_items) for name in sorted(required)},
            optional={name: from_schema(sub, max_items)
                      for name, sub in sorted(properties.items()) if name not in required},
        )
    raise AssertionError(f"unknown type {kind}")  # pragma: no cover


def _operation_id(endpoint: Endpoint) -> str:
    return endpoint.operation_id


def _body_schema(endpoint: Endpoint) -> Mapping[str, Any]:
    assert endpoint.body is not None
    return endpoint.body.schema


BODY_ENDPOINTS = [e for e in CONTRACT.endpoints if e.body is not None]
SCHEMA_VALUES = {name: from_schema(schema) for name, schema in COMPONENTS["schemas"].items()}
COMPILED = {name: CompiledSchema({"$ref": f"#/components/schemas/{name}"}, COMPONENTS)
            for name in COMPONENTS["schemas"]}
BODIES = {e.operation_id: from_schema(_body_schema(e)) for e in BODY_ENDPOINTS}
RESPONSES = [(e, status) for e in CONTRACT.endpoints
             for status, schema in sorted(e.responses.items()) if schema is not None]
# What FastAPI reads as a boolean, in any case (A9).
BOOLEAN_WORDS = st.sampled_from(
    ["true", "false", "1", "0", "yes", "no", "on", "off", "t", "f", "y", "n"]
).flatmap(lambda word: st.sampled_from([word, word.upper(), word.title()]))


def _items_and_prefix(endpoint: Endpoint, body: Any) -> tuple[list[dict[str, Any]], str]:
    if endpoint.is_batch:
        return body, "body[{index}]"
    return [body], "body"


def _item_schema(endpoint: Endpoint) -> dict[str, Any]:
    schema = resolve(_body_schema(endpoint), COMPONENTS)
    return _merged(schema["items"] if endpoint.is_batch else schema)


WITH_REQUIRED = [e for e in BODY_ENDPOINTS if _item_schema(e).get("required")]


def _send(
    endpoint: Endpoint, body: Any, query: Mapping[str, str] | None = None
) -> RequestReport:
    path = endpoint.path.replace("{image_id}", "img-1")
    return CONTRACT.validate_request(endpoint.method, path, query=query or {}, headers=KEY,
                                     body=json.dumps(body).encode())


@pytest.mark.parametrize("endpoint", BODY_ENDPOINTS, ids=_operation_id)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_generated_requests_validate(endpoint: Endpoint, data: st.DataObject) -> None:
    body = data.draw(BODIES[endpoint.operation_id], label="body")
    query: dict[str, str] = {}
    for parameter in endpoint.parameters:
        if parameter.location == "query" and data.draw(st.booleans()):
            assert parameter.schema["type"] in ("boolean", "string"), parameter
            values = (BOOLEAN_WORDS if parameter.schema["type"] == "boolean"
                      else st.sampled_from(parameter.schema["enum"]))
            query[parameter.name] = data.draw(values, label=parameter.name)
    report = _send(endpoint, body, query)
    assert report.findings == (), [str(f) for f in report.findings]
    assert report.body == body


@pytest.mark.parametrize("endpoint", WITH_REQUIRED, ids=_operation_id)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_a_request_without_one_required_field_does_not_validate(
    endpoint: Endpoint, data: st.DataObject
) -> None:
    required = _item_schema(endpoint)["required"]
    body = data.draw(BODIES[endpoint.operation_id], label="body")
    items, prefix = _items_and_prefix(endpoint, body)
    index = data.draw(st.integers(0, len(items) - 1), label="index")
    name = data.draw(st.sampled_from(required), label="removed")
    del items[index][name]
    report = _send(endpoint, body)
    assert not report.ok
    assert [(f.code, f.location) for f in report.findings] == [
        ("missing", f"{prefix.format(index=index)}.{name}")
    ]


@pytest.mark.parametrize("endpoint", BODY_ENDPOINTS, ids=_operation_id)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_a_request_with_one_field_of_the_wrong_type_does_not_validate(
    endpoint: Endpoint, data: st.DataObject
) -> None:
    properties = _item_schema(endpoint)["properties"]
    body = data.draw(BODIES[endpoint.operation_id], label="body")
    items, prefix = _items_and_prefix(endpoint, body)
    index = data.draw(st.integers(0, len(items) - 1), label="index")
    name = data.draw(st.sampled_from(sorted(properties)), label="field")
    allowed = _types(resolve(properties[name], COMPONENTS))
    if "number" in allowed:
        allowed.append("integer")
    wrong = data.draw(st.sampled_from([t for t in JSON_TYPES if t not in allowed]), label="type")
    items[index][name] = WRONG_VALUES[wrong]
    report = _send(endpoint, body)
    assert not report.ok
    finding = report.findings[0]
    assert len(report.findings) == 1, [str(f) for f in report.findings]
    assert finding.location == f"{prefix.format(index=index)}.{name}"
    wanted = next(t for t in allowed if t != "null")
    assert finding.code == _TYPE_CODES[wanted]
    assert finding.message.startswith("Input should be a valid ")


@pytest.mark.parametrize(("endpoint", "status"), RESPONSES,
                         ids=[f"{e.operation_id}-{s}" for e, s in RESPONSES])
@settings(max_examples=8, deadline=None)
@given(data=st.data())
def test_generated_responses_validate(endpoint: Endpoint, status: int, data: st.DataObject) -> None:
    compiled = endpoint.responses[status]
    assert compiled is not None
    body = data.draw(from_schema(compiled.schema), label="body")
    assert CONTRACT.validate_response(endpoint, status, body) == []


@PROPERTY_SETTINGS
@given(data=st.data())
def test_an_operation_without_one_required_field_does_not_validate(data: st.DataObject) -> None:
    schema = COMPONENTS["schemas"]["OperationWithId"]
    body = data.draw(from_schema(schema), label="operation")
    name = data.draw(st.sampled_from(_merged(schema)["required"]), label="removed")
    del body[name]
    operation_id = data.draw(st.sampled_from(["createImages", "deleteImage"]))
    status = data.draw(st.sampled_from([200, 202]))
    assert [(f.code, f.location) for f in CONTRACT.validate_response(operation_id, status, body)
            ] == [("missing", f"response.{name}")]


@pytest.mark.parametrize("name", sorted(COMPONENTS["schemas"]))
@settings(max_examples=5, deadline=None)
@given(data=st.data())
def test_every_component_schema_generates_values_it_accepts(
    name: str, data: st.DataObject
) -> None:
    # The translator is only as good as the contract it reads: each schema translates, and
    # what it generates passes the project's own compiled validator.
    value = data.draw(SCHEMA_VALUES[name], label=name)
    assert COMPILED[name].findings(value, ("value",)) == []


def test_wrong_values_cover_every_json_type() -> None:
    assert set(WRONG_VALUES) == set(JSON_TYPES) == set(_TYPE_CODES) | {"null"}
    for kind, value in WRONG_VALUES.items():
        others = [k for k in JSON_TYPES if k != kind and not (kind == "integer" and k == "number")]
        for other in others:
            schema = CompiledSchema({"type": other}, COMPONENTS)
            assert not schema.is_valid(value), (kind, other)
