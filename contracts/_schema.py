"""Compiled JSON Schema validators over the contract's components, with FastAPI-style errors.

OpenAPI 3.1 schemas are JSON Schema 2020-12, so each schema is compiled once by
`jsonschema_rs` inside a root document that carries the contract's `components`: every
`#/components/...` reference then resolves against the one loaded contract.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import jsonschema_rs

from contracts.findings import Finding, Location

_DIALECT = "https://json-schema.org/draft/2020-12/schema"

_TYPE_CODES = {
    "string": ("string_type", "Input should be a valid string"),
    "boolean": ("bool_type", "Input should be a valid boolean"),
    "integer": ("int_type", "Input should be a valid integer"),
    "number": ("float_type", "Input should be a valid number"),
    "array": ("list_type", "Input should be a valid list"),
    "object": ("model_attributes_type", "Input should be a valid dictionary or object"),
}


class CompiledSchema:
    """One schema of the contract, compiled once, validated many times."""

    __slots__ = ("_validator", "properties", "schema")

    def __init__(self, schema: Mapping[str, Any], components: Mapping[str, Any]) -> None:
        self.schema = schema
        root = {"$schema": _DIALECT, "components": components, **schema}
        self._validator = jsonschema_rs.validator_for(root)
        self.properties = known_properties(schema, components)

    def is_valid(self, instance: object) -> bool:
        return bool(self._validator.is_valid(instance))

    def findings(self, instance: object, prefix: Location, status: int = 422) -> list[Finding]:
        """Every violation in `instance`, each located under `prefix` (e.g. `("body",)`)."""
        if self._validator.is_valid(instance):
            return []
        # Each branch of an `allOf` reports the same wrong type (`{"type": "object"}` twice for
        # a list where an image belongs): keep one finding per code, location and message.
        unique: dict[tuple[str, Location, str], Finding] = {}
        for error in self._validator.iter_errors(instance):
            finding = _finding(error, prefix, status)
            unique.setdefault((finding.code, finding.loc, finding.message), finding)
        return list(unique.values())


def _finding(error: Any, prefix: Location, status: int) -> Finding:
    kind = error.kind
    name = kind.name
    loc: Location = prefix + tuple(error.instance_path)
    instance = error.instance
    if name == "required":
        return Finding("missing", (*loc, kind.property), "Field required", status, instance)
    if name == "type":
        wanted = [t for t in kind.types if t != "null"] or ["null"]
        code, message = _TYPE_CODES.get(wanted[0], ("type_error", error.message))
        if len(kind.types) > 1 and "null" in kind.types:
            message += " or null"
        return Finding(code, loc, message, status, instance)
    if name == "enum":
        options = [repr(option) for option in kind.options]
        listed = ", ".join(options[:-1]) + f" or {options[-1]}" if len(options) > 1 else options[0]
        return Finding("enum", loc, f"Input should be {listed}", status, instance)
    if name == "minLength":
        unit = "character" if kind.limit == 1 else "characters"
        return Finding(
            "string_too_short", loc, f"String should have at least {kind.limit} {unit}", status,
            instance,
        )
    if name == "minItems":
        return Finding(
            "too_short", loc,
            f"List should have at least {kind.limit} item after validation, not {len(instance)}",
            status, _summarize(instance),
        )
    if name == "maxItems":
        return Finding(
            "too_many_items", loc,
            f"The batch has {len(instance)} items; the limit is {kind.limit}.", 413,
            _summarize(instance),
        )
    return Finding(name, loc, error.message, status, _summarize(instance))


def _summarize(instance: object) -> object:
    """Keep findings small: a 10,000-item batch is not copied into every report."""
    if isinstance(instance, list) and len(instance) > 3:
        return f"<list of {len(instance)} items>"
    return instance


def resolve(schema: Mapping[str, Any], components: Mapping[str, Any]) -> Mapping[str, Any]:
    """Follow `$ref` chains to the referenced schema."""
    while "$ref" in schema:
        pointer = str(schema["$ref"]).removeprefix("#/components/").split("/")
        target: Any = components
        for part in pointer:
            target = target[part]
        schema = target
    return schema


def _subschemas(schema: Mapping[str, Any], components: Mapping[str, Any]) -> Iterator[Any]:
    schema = resolve(schema, components)
    yield schema
    for keyword in ("allOf", "anyOf", "oneOf"):
        for part in schema.get(keyword, ()):
            yield from _subschemas(part, components)


def known_properties(
    schema: Mapping[str, Any], components: Mapping[str, Any]
) -> frozenset[str] | None:
    """The property names an object schema knows (through allOf), or None if not an object."""
    names: set[str] = set()
    is_object = False
    for part in _subschemas(schema, components):
        if "properties" in part or part.get("type") == "object":
            is_object = True
            names.update(part.get("properties", {}))
    return frozenset(names) if is_object else None


def item_schema(
    schema: Mapping[str, Any], components: Mapping[str, Any]
) -> Mapping[str, Any] | None:
    """The `items` schema of an array schema, or None if `schema` is not an array."""
    resolved = resolve(schema, components)
    items = resolved.get("items")
    return items if resolved.get("type") == "array" and isinstance(items, Mapping) else None
