"""The Wesog contract (`openapi.yaml`), loaded once, compiled once, and checked against.

`load_contract()` reads the contract packaged inside `contracts` (an installed wheel carries it)
or, in a source checkout, the single copy at the repository root. A `Contract` matches
requests to its `Endpoint`s and reports `Finding`s: located, readable, each with the status a
conforming server answers.

    contract = load_contract()
    report = contract.validate_request("POST", "/imgs", query={"lang": "de"},
                                       headers={"API-Key": "k"}, body=b'[{"id": 1}]')
    for finding in report.findings:
        print(finding)          # query.lang: Input should be 'en', 'es', 'pt', 'fr' or 'ru'
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import yaml

from contracts._schema import CompiledSchema, item_schema, resolve
from contracts.findings import Finding, Location

__all__ = [
    "Contract",
    "Endpoint",
    "Parameter",
    "RequestReport",
    "contract_text",
    "default_contract",
    "load_contract",
    "parse_json_body",
]

_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})
_CONTRACT_FILE = "openapi.yaml"
_QUERY_CACHE_SIZE = 512
_PYDANTIC_INT = re.compile(r"^\s*[+-]?\d+(?:_\d+)*(?:\.0*)?\s*$", re.ASCII)

QueryInput = Mapping[str, str | Sequence[str]] | Iterable[tuple[str, str]]


def contract_text() -> bytes:
    """The contract's bytes: the packaged copy, else the checkout's root copy."""
    packaged = resources.files("contracts").joinpath(_CONTRACT_FILE)
    if packaged.is_file():
        return packaged.read_bytes()
    return (Path(__file__).resolve().parent.parent / _CONTRACT_FILE).read_bytes()


def load_contract(path: str | Path | None = None) -> Contract:
    """Load and compile a contract: `path`, or the packaged `openapi.yaml`."""
    text = Path(path).read_bytes() if path is not None else contract_text()
    # libyaml's loader, when present, parses the contract several times faster.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return Contract(yaml.load(text, Loader=loader))


@functools.cache
def default_contract() -> Contract:
    """The packaged contract, compiled once per process (it is immutable, so sharing is safe)."""
    return load_contract()


@dataclass(frozen=True, slots=True)
class Parameter:
    """A query or path parameter, with the schema its (string) values are coerced to."""

    name: str
    location: str
    schema: Mapping[str, Any]
    required: bool
    default: Any


def _coerce_scalar(raw: str, schema: Mapping[str, Any], loc: Location) -> Any | Finding:
    kind = schema.get("type")
    if kind == "boolean":
        lowered = raw.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        return Finding(
            "bool_parsing", loc, "Input should be a valid boolean, unable to interpret input",
            input=raw,
        )
    if kind == "integer":
        # Pydantic's lax integers: ASCII digits, a sign, `_` between digits, a zero fraction.
        if _PYDANTIC_INT.match(raw):
            return int(raw.strip().split(".", 1)[0])
        return Finding(
            "int_parsing", loc,
            "Input should be a valid integer, unable to parse string as an integer", input=raw,
        )
    if "enum" in schema and raw not in schema["enum"]:
        options = [repr(option) for option in schema["enum"]]
        listed = ", ".join(options[:-1]) + f" or {options[-1]}"
        return Finding("enum", loc, f"Input should be {listed}", input=raw)
    return raw


def _parameter_schema(
    schema: Mapping[str, Any], components: Mapping[str, Any]
) -> Mapping[str, Any]:
    """A parameter's schema with its `items` resolved too (`fields` items are a `$ref`)."""
    resolved = resolve(schema, components)
    items = resolved.get("items")
    if isinstance(items, Mapping):
        return {**resolved, "items": resolve(items, components)}
    return resolved


def _query_items(query: QueryInput) -> list[tuple[str, str]]:
    if isinstance(query, Mapping):
        items: list[tuple[str, str]] = []
        for key, value in query.items():
            if isinstance(value, str):
                items.append((key, value))
            else:
                items.extend((key, v) for v in value)
        return items
    return list(query)


@dataclass(frozen=True, slots=True)
class RequestReport:
    """What `Contract.validate_request` found: the endpoint, the parsed inputs, the findings."""

    endpoint: Endpoint | None
    path_params: Mapping[str, Any] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)
    body: Any = None
    findings: tuple[Finding, ...] = ()

    @property
    def violations(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.is_violation)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if not f.is_violation)

    @property
    def ok(self) -> bool:
        return not self.violations


def parse_json_body(raw: bytes, content_type: str | None = None) -> tuple[Any, Finding | None]:
    """Decode a JSON request body the way FastAPI does, or say why it cannot be."""
    if content_type:
        media = content_type.split(";", 1)[0].strip().lower()
        if media != "application/json" and not media.endswith("+json"):
            return None, Finding(
                "content_type", ("header", "Content-Type"),
                f"Content-Type must be application/json, not {media!r}", input=content_type,
            )
    if not raw:
        return None, Finding("missing", ("body",), "Field required")
    try:
        return json.loads(raw), None
    except json.JSONDecodeError as error:
        where = f" at line {error.lineno} column {error.colno}: {error.msg}"
        return None, Finding("json_invalid", ("body",), f"JSON decode error{where}", input={})
    except ValueError:  # bytes that are not UTF-8 (UnicodeDecodeError)
        return None, Finding("json_invalid", ("body",), "JSON decode error: not UTF-8", input={})


class Endpoint:
    """One operation of the contract (a method on a path), with its validators compiled."""

    def __init__(
        self,
        method: str,
        path: str,
        spec: Mapping[str, Any],
        shared_parameters: Sequence[Mapping[str, Any]],
        components: Mapping[str, Any],
    ) -> None:
        self.method = method.upper()
        self.path = path
        self.operation_id: str = spec["operationId"]
        self.summary: str = spec.get("summary", "")
        self.wesog_method: str | None = spec.get("x-wesog-method")
        self.rules: tuple[str, ...] = tuple(spec.get("x-wesog-rules", ()))
        declared = (*shared_parameters, *spec.get("parameters", ()))
        self.parameters = tuple(
            Parameter(
                name=p["name"],
                location=p["in"],
                schema=_parameter_schema(p["schema"], components),
                required=bool(p.get("required", False)),
                default=resolve(p["schema"], components).get("default"),
            )
            for p in (resolve(raw, components) for raw in declared)
        )
        self._query_cache: dict[bytes, tuple[dict[str, Any], list[Finding]]] = {}
        self._pattern = re.compile(
            "^" + re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(path)) + "$"
        )
        body_schema = (
            spec.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        )
        self.body: CompiledSchema | None = None
        self.items: CompiledSchema | None = None
        self.max_items: int | None = None
        if body_schema is not None:
            self.body = CompiledSchema(body_schema, components)
            items = item_schema(body_schema, components)
            if items is not None:
                self.items = CompiledSchema(
                    {"type": "array", "items": items}, components
                )
                self._item_properties = CompiledSchema(items, components).properties
                self.max_items = resolve(body_schema, components).get("maxItems")
        self.responses: dict[int, CompiledSchema | None] = {}
        for status, response in spec.get("responses", {}).items():
            response = resolve(response, components)
            schema = response.get("content", {}).get("application/json", {}).get("schema")
            self.responses[int(status)] = (
                CompiledSchema(schema, components) if schema is not None else None
            )

    @property
    def is_batch(self) -> bool:
        return self.items is not None

    @property
    def is_mutation(self) -> bool:
        return self.wesog_method is not None

    def __repr__(self) -> str:
        return f"<Endpoint {self.operation_id}: {self.method} {self.path}>"

    def match(self, path: str) -> dict[str, str] | None:
        found = self._pattern.match(path)
        return found.groupdict() if found else None

    def parse_path(self, raw: Mapping[str, str]) -> tuple[dict[str, Any], list[Finding]]:
        """Coerce path parameters to their types (`op_id` to an integer)."""
        values: dict[str, Any] = {}
        findings: list[Finding] = []
        for parameter in self.parameters:
            if parameter.location == "path" and parameter.name in raw:
                loc: Location = ("path", parameter.name)
                value = _coerce_scalar(raw[parameter.name], parameter.schema, loc)
                if isinstance(value, Finding):
                    findings.append(value)
                else:
                    values[parameter.name] = value
        return values, findings

    def parse_query(self, query: QueryInput) -> tuple[dict[str, Any], list[Finding]]:
        """Coerce query parameters as FastAPI does; apply defaults; warn of unknown names."""
        given: dict[str, list[str]] = {}
        for key, value in _query_items(query):
            given.setdefault(key, []).append(value)
        values: dict[str, Any] = {}
        findings: list[Finding] = []
        known: set[str] = set()
        for parameter in self.parameters:
            if parameter.location != "query":
                continue
            known.add(parameter.name)
            raws = given.get(parameter.name)
            loc: Location = ("query", parameter.name)
            if raws is None:
                values[parameter.name] = parameter.default
                continue
            if parameter.schema.get("type") == "array":
                item = parameter.schema.get("items", {})
                # FastAPI locates a bad list item by its index: `query.fields[1]`.
                coerced = [
                    _coerce_scalar(raw, item, (*loc, index)) for index, raw in enumerate(raws)
                ]
                findings.extend(v for v in coerced if isinstance(v, Finding))
                values[parameter.name] = [v for v in coerced if not isinstance(v, Finding)]
                continue
            # FastAPI keeps the last of repeated scalar values.
            scalar = _coerce_scalar(raws[-1], parameter.schema, loc)
            if isinstance(scalar, Finding):
                findings.append(scalar)
            else:
                values[parameter.name] = scalar
        for name in given.keys() - known:
            findings.append(
                Finding(
                    "unknown_parameter", ("query", name),
                    f"The contract knows no query parameter {name!r}; the server ignores it",
                    status=200, input=given[name][-1], severity="warning",
                )
            )
        return values, findings

    def parse_query_string(self, raw: bytes) -> tuple[dict[str, Any], list[Finding]]:
        """`parse_query` of a raw query string (`b"wait=true"`), remembered per endpoint.

        Clients send the same few query strings over and over; parsing one costs more than the
        rest of a small request's validation, so the (pure) result is kept, in a bounded table.
        """
        cached = self._query_cache.get(raw)
        if cached is None:
            items = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
            cached = self.parse_query(items)
            if len(self._query_cache) >= _QUERY_CACHE_SIZE:
                self._query_cache.clear()
            self._query_cache[raw] = cached
        values, findings = cached
        return dict(values), list(findings)

    def check_body(self, document: Any, *, max_items: int | None = -1) -> list[Finding]:
        """Violations in a decoded body, in the order a server checks them (A13).

        Shape problems (not an array, empty batch) come alone; then a batch over `max_items`
        (413; `-1` means the contract's own limit, `None` no limit); then the items (422).
        """
        if self.body is None:
            return []
        if self.items is None:
            return self.body.findings(document, ("body",))
        if not isinstance(document, list):
            return [Finding("list_type", ("body",), "Input should be a valid list", input=document)]
        if not document:
            return [
                Finding("too_short", ("body",),
                        "List should have at least 1 item after validation, not 0", input=[])
            ]
        limit = self.max_items if max_items == -1 else max_items
        if limit is not None and len(document) > limit:
            return [
                Finding("too_many_items", ("body",),
                        f"The batch has {len(document)} items; the limit is {limit}.",
                        status=413, input=f"<list of {len(document)} items>")
            ]
        return self.items.findings(document, ("body",))

    def unknown_fields(self, document: Any) -> list[Finding]:
        """Warnings for body fields the contract does not know (the server ignores them)."""
        if self.body is None:
            return []
        if self.items is not None:
            known = self._item_properties
            items = enumerate(document) if isinstance(document, list) else ()
            prefix: Location = ("body",)
        else:
            known = self.body.properties
            items = enumerate([document])
            prefix = ()
        if known is None:
            return []
        findings = []
        for index, item in items:
            if isinstance(item, dict) and not known.issuperset(item):
                base: Location = (*prefix, index) if prefix else ("body",)
                for name in sorted(item.keys() - known):
                    findings.append(
                        Finding(
                            "unknown_field", (*base, name),
                            f"The contract knows no field {name!r}; the server ignores it, "
                            "so its value is lost",
                            status=200, input=item[name], severity="warning",
                        )
                    )
        return findings

    def check_response(self, status: int, body: Any) -> list[Finding]:
        """Violations in a response: an undocumented status, or a body off its schema."""
        if status not in self.responses:
            documented = ", ".join(str(s) for s in sorted(self.responses))
            return [
                Finding("undocumented_status", ("response", "status"),
                        f"{self.operation_id} documents {documented}, not {status}",
                        status=status, input=status)
            ]
        schema = self.responses[status]
        return [] if schema is None else schema.findings(body, ("response",), status)


class Contract:
    """The compiled contract: its endpoints, its rules, and request/response validation."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        components = document.get("components", {})
        self.rules: Mapping[str, Mapping[str, str]] = document.get("x-wesog-rules", {})
        endpoints = []
        for path, item in document.get("paths", {}).items():
            shared = item.get("parameters", ())
            for method, spec in item.items():
                if method in {"get", "post", "put", "patch", "delete"}:
                    endpoints.append(Endpoint(method, path, spec, shared, components))
        self.endpoints: tuple[Endpoint, ...] = tuple(endpoints)
        self._by_id = {e.operation_id: e for e in endpoints}

    def endpoint(self, operation_id: str) -> Endpoint:
        return self._by_id[operation_id]

    def match(self, method: str, path: str) -> tuple[Endpoint, dict[str, str]] | Finding:
        """The endpoint for `method` and `path`, or a 404/405 finding."""
        method = method.upper()
        path_known = False
        for endpoint in self.endpoints:
            params = endpoint.match(path)
            if params is None:
                continue
            if endpoint.method == method:
                return endpoint, params
            path_known = True
        if path_known:
            return Finding("method_not_allowed", ("method",),
                           f"The contract has no {method} on {path}", status=405, input=method)
        return Finding("unknown_path", ("path",),
                       f"The contract has no path {path!r}", status=404, input=path)

    def validate_request(
        self,
        method: str,
        path: str,
        *,
        query: QueryInput = (),
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
    ) -> RequestReport:
        """Every finding in one request, as a client sends it (raw query strings, raw body)."""
        matched = self.match(method, path)
        if isinstance(matched, Finding):
            return RequestReport(None, findings=(matched,))
        endpoint, raw_path_params = matched
        findings: list[Finding] = []
        lowered = {k.lower(): v for k, v in (headers or {}).items()}
        if not lowered.get("api-key", "").strip():
            findings.append(Finding("missing_api_key", ("header", "API-Key"),
                                    "The API-Key header is required on every endpoint", 401))
        path_params, path_findings = endpoint.parse_path(raw_path_params)
        params, query_findings = endpoint.parse_query(query)
        findings += path_findings + query_findings
        document = None
        if endpoint.body is not None:
            document, problem = parse_json_body(body or b"", lowered.get("content-type"))
            if problem is not None:
                findings.append(problem)
            else:
                findings += endpoint.check_body(document)
                findings += endpoint.unknown_fields(document)
        return RequestReport(endpoint, path_params, params, document, tuple(findings))

    def validate_response(
        self, endpoint: Endpoint | str, status: int, body: Any
    ) -> list[Finding]:
        """Violations in a response of `endpoint` (an `Endpoint` or an operationId)."""
        if isinstance(endpoint, str):
            endpoint = self.endpoint(endpoint)
        return endpoint.check_response(status, body)
