"""One operation of the contract (a method on a path), with its validators compiled once.

An `Endpoint` coerces query and path parameters as FastAPI does, checks a decoded body in the
order a server checks it (A13), warns of fields the contract does not know, and checks
responses against their documented statuses and schemas.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qsl

import orjson

from contracts._schema import CompiledSchema, item_schema, resolve
from contracts.findings import Finding, Location

__all__ = ["BOOLEAN_SPELLINGS", "Endpoint", "Parameter", "QueryInput", "parse_json_body"]

# FastAPI's (pydantic's) words for a boolean parameter, compared lower-cased (A9).
BOOLEAN_SPELLINGS: Mapping[bool, frozenset[str]] = MappingProxyType({
    True: frozenset({"1", "on", "t", "true", "y", "yes"}),
    False: frozenset({"0", "off", "f", "false", "n", "no"}),
})
_TRUE = BOOLEAN_SPELLINGS[True]
_FALSE = BOOLEAN_SPELLINGS[False]
_QUERY_CACHE_SIZE = 512
_PYDANTIC_INT = re.compile(r"^\s*[+-]?\d+(?:_\d+)*(?:\.0*)?\s*$", re.ASCII)

QueryInput = Mapping[str, str | Sequence[str]] | Iterable[tuple[str, str]]


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
        return Finding("enum", loc, f"Input should be {listed}", input=raw,
                       hint=_enum_hint(raw, schema["enum"], loc))
    return raw


_SEPARATORS = re.compile(r"[,;\s]+")


def _enum_hint(raw: str, options: Sequence[Any], loc: Location) -> str:
    """The fix for a known mistake with an enumerated parameter, or "".

    Known mistakes: several values in one (`fields=title,src`: a list parameter takes its key
    once per value, as FastAPI reads it) and the wrong case (`lang=EN`).
    """
    name = loc[1] if len(loc) > 1 else loc[0]
    known = {str(option) for option in options}
    by_case = {value.lower(): value for value in known}
    if raw.lower() in by_case:
        return f"Values are case-sensitive: send {name}={by_case[raw.lower()]}."
    parts = [part for part in _SEPARATORS.split(raw) if part]
    if len(parts) > 1 and all(part in known for part in parts):
        if len(loc) > 2:  # a list parameter: one key per value
            repeated = "&".join(f"{name}={part}" for part in parts)
            return f"Repeat the key for each value: {repeated}."
        return f"Send one value: {name} takes one, not {len(parts)}."
    return ""


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


# A JSON string escape of a UTF-16 surrogate (\uD800-\uDFFF). A valid pair decodes to one
# character; a lone one decodes to a str that cannot be encoded, stored or sent back, so a body
# with one is refused (A9). Bodies without such an escape (nearly all) skip the walk.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
# orjson decodes an integer past 64 bits as a float; the standard library keeps it exact. Such
# an integer has 19 digits in a row or more: found by mapping every digit to 0 and looking for
# nineteen (C speed; a regular expression took longer than decoding the body).
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_DIGITS = b"0" * 19


def _lone_surrogate(document: Any, loc: Location = ("body",)) -> Location | None:
    """Where the first string (or key) with a lone surrogate is, or None."""
    stack: list[tuple[Any, Location]] = [(document, loc)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, str):
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                return where
        elif isinstance(node, dict):
            for key, value in node.items():
                try:
                    key.encode("utf-8")
                except UnicodeEncodeError:
                    return where
                stack.append((value, (*where, key)))
        elif isinstance(node, list):
            stack.extend((value, (*where, index)) for index, value in enumerate(node))
    return None


def parse_json_body(raw: bytes, content_type: str | None = None) -> tuple[Any, Finding | None]:
    """Decode a JSON request body the way FastAPI does, or say why it cannot be.

    Where FastAPI would answer 400 or store what it cannot send back, the contract reads it
    as a 422 (A9): nesting past the decoder's limit (CPython's, about 1,000 levels), an
    integer of more than 4,300 digits, a lone UTF-16 surrogate in any string or key."""
    if content_type:
        media = content_type.split(";", 1)[0].strip().lower()
        if media != "application/json" and not media.endswith("+json"):
            return None, Finding(
                "content_type", ("header", "Content-Type"),
                f"Content-Type must be application/json, not {media!r}", input=content_type,
            )
    if not raw:
        return None, Finding("missing", ("body",), "Field required")
    if _LONG_DIGITS not in raw.translate(_DIGITS_AS_ZERO):
        # orjson decodes the same documents to the same values, several times faster, and
        # refuses what it does not (a BOM, NaN, a lone surrogate, deep nesting, not UTF-8):
        # those go to the standard library below, which decides them as before.
        try:
            return orjson.loads(raw), None
        except orjson.JSONDecodeError:
            pass
    try:
        document = json.loads(raw)
    except json.JSONDecodeError as error:
        where = f" at line {error.lineno} column {error.colno}: {error.msg}"
        return None, Finding("json_invalid", ("body",), f"JSON decode error{where}", input={})
    except UnicodeDecodeError:
        return None, Finding("json_invalid", ("body",), "JSON decode error: not UTF-8", input={})
    except RecursionError:
        return None, Finding(
            "json_invalid", ("body",),
            "JSON decode error: nested too deeply (the limit is about 1,000 levels)", input={},
        )
    except ValueError as error:  # an integer past Python's 4,300 digits
        return None, Finding("json_invalid", ("body",), f"JSON decode error: {error}", input={})
    if _SURROGATE_ESCAPE.search(raw):
        lone = _lone_surrogate(document)
        if lone is not None:
            return None, Finding(
                "string_unicode", lone,
                "Input should be a valid string: a lone UTF-16 surrogate (\\uD800-\\uDFFF "
                "without its pair) is not a character", input=None,
            )
    return document, None


# Suggestions are worked out for this many distinct unknown names per body, no more: a body
# of 100,000 made-up keys must not cost 100,000 fuzzy matches.
_SPELLING_HINTS = 32


def _spelling_hint(name: str, known: frozenset[str], already: int) -> str:
    """`Did you mean 'title'?` for a near miss of a known field (`titel`), or ""."""
    if already >= _SPELLING_HINTS:
        return ""
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
    return f"Did you mean {close[0]!r}?" if close else ""


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
        self.wesog_kind: str | None = spec.get("x-wesog-kind")
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
                # A server's configurable limit (A11), not a schema constraint: a longer batch
                # is not malformed, it answers 413 (so a fuzzer does not count it a rejection).
                self.max_items = resolve(body_schema, components).get("x-wesog-max-items")
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
        hints: dict[str, str] = {}
        for index, item in items:
            if isinstance(item, dict) and not known.issuperset(item):
                base: Location = (*prefix, index) if prefix else ("body",)
                for name in sorted(item.keys() - known):
                    if name not in hints:
                        hints[name] = _spelling_hint(name, known, len(hints))
                    findings.append(
                        Finding(
                            "unknown_field", (*base, name),
                            f"The contract knows no field {name!r}; the server ignores it, "
                            "so its value is lost",
                            status=200, input=item[name], severity="warning",
                            hint=hints[name],
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
