"""The contract document itself: valid OpenAPI 3.1, complete, and consistent with its rules."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any

import jsonschema_rs
import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator, validate

from contracts import default_contract
from contracts._schema import resolve

DOCUMENT: Mapping[str, Any] = default_contract().document
COMPONENTS: Mapping[str, Any] = DOCUMENT["components"]
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")

BODY_MUTATION = {200, 202, 401, 413, 422}
# The twelve endpoints of the API reference (`api-reference/images`, `api-reference/operations`),
# written out here rather than read from openapi.yaml, with the statuses each may answer.
ENDPOINT_TABLE: dict[tuple[str, str], tuple[str, set[int]]] = {
    ("post", "/imgs"): ("createImages", BODY_MUTATION),
    ("put", "/imgs"): ("replaceImages", BODY_MUTATION),
    ("patch", "/imgs"): ("modifyImages", BODY_MUTATION),
    ("delete", "/imgs"): ("deleteImages", BODY_MUTATION),
    ("post", "/imgs/{image_id}"): ("createImage", BODY_MUTATION),
    ("put", "/imgs/{image_id}"): ("replaceImage", BODY_MUTATION),
    ("patch", "/imgs/{image_id}"): ("modifyImage", BODY_MUTATION),
    ("delete", "/imgs/{image_id}"): ("deleteImage", {200, 202, 401, 422}),
    ("get", "/imgs/{image_id}"): ("getImage", {200, 401, 404, 422}),
    ("get", "/ops"): ("listOperations", {200, 401}),
    ("get", "/ops/{op_id}"): ("getOperation", {200, 401, 404, 422}),
    ("delete", "/ops/{op_id}"): ("cancelOperation", {200, 401, 404, 409, 422}),
}
MUTATIONS = {
    "createImages": "add", "replaceImages": "upd", "modifyImages": "upd", "deleteImages": "del",
    "createImage": "add", "replaceImage": "upd", "modifyImage": "upd", "deleteImage": "del",
}
D_RULES = {f"D{n}" for n in range(1, 10)}
A_RULES = {f"A{n}" for n in range(1, 18)}


def _operations() -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield method, path, operation


OPERATIONS = list(_operations())
OPERATION_IDS = [f"{method.upper()} {path}" for method, path, _ in OPERATIONS]


def _media_examples() -> Iterator[tuple[str, Mapping[str, Any], Any]]:
    """Every (where, schema, example) of a media type in request bodies and responses."""
    for method, path, operation in OPERATIONS:
        body = operation.get("requestBody")
        if body is not None:
            for media_type, media in resolve(body, COMPONENTS).get("content", {}).items():
                yield from _media_example(f"{method} {path} body {media_type}", media)
        for status, response in operation["responses"].items():
            for media_type, media in resolve(response, COMPONENTS).get("content", {}).items():
                yield from _media_example(f"{method} {path} {status} {media_type}", media)


def _media_example(where: str, media: Mapping[str, Any]) -> Iterator[tuple[str, Any, Any]]:
    if "example" in media:
        yield where, media["schema"], media["example"]
    for name, example in media.get("examples", {}).items():
        yield f"{where} ({name})", media["schema"], resolve(example, COMPONENTS)["value"]


EXAMPLES = list(_media_examples())


def _walk(node: object, key: str) -> Iterator[tuple[str, Any]]:
    """Every value of `key` anywhere in `node`, with the path that leads to it."""
    stack: list[tuple[str, object]] = [("#", node)]
    while stack:
        where, current = stack.pop()
        if isinstance(current, Mapping):
            for name, value in current.items():
                if name == key:
                    yield f"{where}/{name}", value
                stack.append((f"{where}/{name}", value))
        elif isinstance(current, list):
            stack.extend((f"{where}/{index}", value) for index, value in enumerate(current))


def test_the_contract_is_valid_openapi_3_1() -> None:
    assert DOCUMENT["openapi"].startswith("3.1.")
    validate(DOCUMENT, cls=OpenAPIV31SpecValidator)


def test_the_openapi_validator_rejects_a_broken_copy() -> None:
    # Guards the test above: the validator really looks at the document it is given.
    broken = copy.deepcopy(dict(DOCUMENT))
    broken["components"]["schemas"]["Detail"]["properties"]["detail"]["type"] = "strin"
    assert list(OpenAPIV31SpecValidator(broken).iter_errors())


def _schemas() -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every schema object of the contract, nested ones included, with where it is."""
    roots: list[tuple[str, Any]] = [
        (f"#/components/schemas/{name}", schema)
        for name, schema in COMPONENTS["schemas"].items()
    ]
    roots += [(f"#/components/parameters/{name}/schema", parameter["schema"])
              for name, parameter in COMPONENTS["parameters"].items()]
    roots += [(f"{where}/schema", media["schema"]) for where, media in _media_objects()]
    while roots:
        where, schema = roots.pop()
        yield where, schema
        for name, sub in schema.get("properties", {}).items():
            roots.append((f"{where}/properties/{name}", sub))
        if isinstance(schema.get("items"), Mapping):
            roots.append((f"{where}/items", schema["items"]))
        for keyword in ("allOf", "anyOf", "oneOf"):
            roots += [(f"{where}/{keyword}/{i}", s) for i, s in enumerate(schema.get(keyword, ()))]


def _media_objects() -> Iterator[tuple[str, Mapping[str, Any]]]:
    for where, value in _walk(DOCUMENT, "content"):
        for media_type, media in value.items():
            yield f"{where}/{media_type}", media


SCHEMA_KEYWORDS = {
    "$ref", "type", "properties", "required", "items", "enum", "const", "default", "format",
    "minLength", "maxLength", "minItems", "maxItems", "minimum", "maximum", "pattern",
    "allOf", "anyOf", "oneOf", "additionalProperties", "description", "title", "examples",
}


def test_every_schema_uses_only_known_keywords() -> None:
    # A YAML flow mapping splits an unquoted description at its comma
    # (`{description: Creation date, YYYY-MM-DD.}`) into a junk key; JSON Schema ignores
    # unknown keywords, so only this test notices.
    schemas = list(_schemas())
    assert len(schemas) > 80
    for where, schema in schemas:
        unknown = {k for k in schema if k not in SCHEMA_KEYWORDS and not k.startswith("x-")}
        assert unknown == set(), f"{where}: unknown keywords {sorted(unknown)}"


def test_every_request_body_and_response_with_content_has_an_example() -> None:
    missing = []
    for method, path, operation in OPERATIONS:
        parts = [("body", operation.get("requestBody"))]
        parts += [(status, response) for status, response in operation["responses"].items()]
        for label, part in parts:
            if part is None:
                continue
            for media_type, media in resolve(part, COMPONENTS).get("content", {}).items():
                if "example" not in media and not media.get("examples"):
                    missing.append(f"{method.upper()} {path} {label} {media_type}")
    assert missing == []
    assert len(EXAMPLES) >= 40


@pytest.mark.parametrize(("where", "schema", "example"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_every_example_validates_against_its_own_schema(
    where: str, schema: Mapping[str, Any], example: Any
) -> None:
    # An independent compilation (not the project's CompiledSchema): components as the root.
    root = {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "components": COMPONENTS, **schema}
    validator = jsonschema_rs.validator_for(root)
    errors = [f"{'/'.join(map(str, e.instance_path))}: {e.message}"
              for e in validator.iter_errors(example)]
    assert errors == [], where


def test_example_validation_would_catch_a_bad_example() -> None:
    wanted = "get /ops/{op_id} 200 application/json"
    _, schema, example = next(e for e in EXAMPLES if e[0] == wanted)
    validator = jsonschema_rs.validator_for(
        {"$schema": "https://json-schema.org/draft/2020-12/schema",
         "components": COMPONENTS, **schema}
    )
    assert validator.is_valid(example)
    assert not validator.is_valid({**example, "num_good": "1"})
    assert not validator.is_valid({**example, "created_at": "2026-11-23"})


def test_every_operation_of_the_endpoint_table_is_there_and_nothing_else() -> None:
    found = {(method, path): op["operationId"] for method, path, op in OPERATIONS}
    expected = {key: operation_id for key, (operation_id, _) in ENDPOINT_TABLE.items()}
    assert found == expected


@pytest.mark.parametrize(("method", "path"), list(ENDPOINT_TABLE), ids=str)
def test_every_operation_answers_exactly_its_status_codes(method: str, path: str) -> None:
    _, statuses = ENDPOINT_TABLE[(method, path)]
    responses = DOCUMENT["paths"][path][method]["responses"]
    assert {int(status) for status in responses} == statuses
    compiled = default_contract().endpoint(ENDPOINT_TABLE[(method, path)][0])
    assert set(compiled.responses) == statuses


def test_operation_ids_are_unique_and_every_operation_has_a_summary() -> None:
    ids = [operation["operationId"] for _, _, operation in OPERATIONS]
    assert len(ids) == len(set(ids)) == 12
    for method, path, operation in OPERATIONS:
        assert operation.get("summary", "").strip(), f"{method.upper()} {path} has no summary"


@pytest.mark.parametrize("operation_id", sorted(MUTATIONS))
def test_mutations_name_their_wesog_method(operation_id: str) -> None:
    endpoint = default_contract().endpoint(operation_id)
    assert endpoint.wesog_method == MUTATIONS[operation_id]
    assert endpoint.is_mutation
    assert [p.name for p in endpoint.parameters if p.location == "query"] == [
        "wait", "urgent", "strict", "lang"
    ]


def test_mutation_query_parameters_have_the_documented_defaults() -> None:
    endpoint = default_contract().endpoint("createImages")
    defaults = {p.name: p.default for p in endpoint.parameters if p.location == "query"}
    assert defaults == {"wait": False, "urgent": False, "strict": False, "lang": "es"}


def test_the_rules_are_d1_to_d9_and_a1_to_a17_with_their_kind() -> None:
    rules = DOCUMENT["x-wesog-rules"]
    assert set(rules) == D_RULES | A_RULES
    for rule_id, rule in rules.items():
        assert rule["kind"] == ("documented" if rule_id in D_RULES else "assumption"), rule_id
        assert rule["summary"].strip(), rule_id


def test_every_assumption_marker_names_an_existing_a_rule() -> None:
    markers = list(_walk(DOCUMENT, "x-wesog-assumption"))
    assert len(markers) >= 20
    rules = DOCUMENT["x-wesog-rules"]
    for where, value in markers:
        names = value if isinstance(value, list) else [value]
        for name in names:
            assert name in rules, f"{where}: {name!r} is not in x-wesog-rules"
            assert rules[name]["kind"] == "assumption", f"{where}: {name} is not an A-rule"


def test_every_rule_an_operation_lists_exists() -> None:
    rules = DOCUMENT["x-wesog-rules"]
    for method, path, operation in OPERATIONS:
        for name in operation.get("x-wesog-rules", ()):
            assert name in rules, f"{method.upper()} {path} lists unknown rule {name}"


@pytest.mark.parametrize("operation_id", sorted(MUTATIONS))
def test_mutation_answers_link_to_get_and_cancel_operation(operation_id: str) -> None:
    operation = next(op for _, _, op in OPERATIONS if op["operationId"] == operation_id)
    for status in ("200", "202"):
        response = resolve(operation["responses"][status], COMPONENTS)
        links = {link["operationId"]: link for link in response.get("links", {}).values()}
        assert set(links) == {"getOperation", "cancelOperation"}, (operation_id, status)
        for link in links.values():
            assert link["parameters"] == {"op_id": "$response.body#/op_id"}
        schema = resolve(response["content"]["application/json"]["schema"], COMPONENTS)
        assert schema is COMPONENTS["schemas"]["OperationWithId"]


def test_links_point_at_operations_that_exist_and_take_op_id() -> None:
    by_id = {op["operationId"]: (path, op) for _, path, op in OPERATIONS}
    links = list(_walk(COMPONENTS["responses"], "links"))
    assert links
    for where, group in links:
        for link in group.values():
            path, _ = by_id[link["operationId"]]
            for name in link["parameters"]:
                assert f"{{{name}}}" in path, f"{where}: {path} has no {name}"


def test_the_api_key_scheme_applies_globally() -> None:
    assert DOCUMENT["security"] == [{"ApiKey": []}]
    scheme = COMPONENTS["securitySchemes"]["ApiKey"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "API-Key")
    for method, path, operation in OPERATIONS:
        # An operation-level `security` would override the global one (e.g. `[]` = no auth).
        assert "security" not in operation, f"{method.upper()} {path} overrides security"


def test_the_batch_limit_is_a_server_setting_not_a_schema_constraint() -> None:
    # A configurable limit (A11) in `maxItems` would make a 10,001-item batch "schema-violating",
    # and a fuzzer (Schemathesis' ST201) would count the server's 413 as accepting it.
    schemas = DOCUMENT["components"]["schemas"]
    for name in ("NewImageBatch", "ImagePatchBatch", "DeleteBatch"):
        assert "maxItems" not in schemas[name]
        assert schemas[name]["x-wesog-max-items"] == 10_000
        assert schemas[name]["x-wesog-assumption"] == "A11"
    limits = {e.operation_id: e.max_items for e in default_contract().endpoints if e.items}
    assert set(limits.values()) == {10_000}
