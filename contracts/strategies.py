"""Hypothesis strategies for the Wesog contract: ids, images, batches, flags, bad requests, and
operations in every lifecycle state.

Each function validates its arguments when called (not when drawn) and returns a
`SearchStrategy`. Field names and types come from `openapi.yaml`, never restated here.

    @given(batches("create", ids=image_ids(prefix="run1-")), query_flags())
    def test_batch(batch, flags): ...
"""

from __future__ import annotations

import functools
import json
import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from contracts._extra import suite_import_error

try:
    from hypothesis import strategies as st
except ModuleNotFoundError as error:  # the base install, without the contracts extra
    raise suite_import_error(error, __name__) from None

from contracts.endpoint import BOOLEAN_SPELLINGS
from contracts.model import KINDS, Kind, image_fields
from contracts.spec import default_contract

__all__ = [
    "LIFECYCLE_STATES",
    "InvalidRequest",
    "batches",
    "image_ids",
    "images",
    "invalid_requests",
    "operations",
    "partial_images",
    "query_flags",
]

LIFECYCLE_STATES = ("queued", "running", "finished", "failed", "cancelled")
_ID_ALPHABET = string.ascii_letters + string.digits + "-_."
_ABSENT = object()
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def _spellings(words: frozenset[str], plain: str) -> tuple[str, ...]:
    """Every spelling the contract's booleans take, `plain` first (it shrinks there), then the
    rest, then the plain word capitalized and in capitals (the parser ignores case)."""
    return (plain, *sorted(words - {plain}), plain.capitalize(), plain.upper())


_TRUE = _spellings(BOOLEAN_SPELLINGS[True], "true")
_FALSE = _spellings(BOOLEAN_SPELLINGS[False], "false")


@dataclass(frozen=True, slots=True)
class _MutationQuery:
    flags: tuple[str, ...]  # the boolean parameters (wait, urgent, strict)
    langs: tuple[str, ...]  # the values of `lang`


@functools.cache
def _mutation_query() -> _MutationQuery:
    """The query parameters every mutation takes, as the contract lists them."""
    endpoint = next(e for e in default_contract().endpoints if e.wesog_kind is not None)
    query = [p for p in endpoint.parameters if p.location == "query"]
    flags = tuple(p.name for p in query if p.schema.get("type") == "boolean")
    [langs] = [tuple(p.schema["enum"]) for p in query if p.name == "lang"]
    return _MutationQuery(flags, langs)


def _field_named(kind: str) -> str:
    """The first image metadata field of a JSON type (`string`, `array`), for defects."""
    return next(name for name, schema in image_fields().items()
                if name != "src" and kind in schema.get("type", ()))


def _check_size(min_size: int, max_size: int) -> None:
    if not (isinstance(min_size, int) and isinstance(max_size, int)):
        raise TypeError("min_size and max_size must be integers")
    if min_size < 0 or max_size < min_size:
        raise ValueError(f"need 0 <= min_size <= max_size, got {min_size}, {max_size}")


def image_ids(*, prefix: str = "", min_size: int = 1, max_size: int = 12) -> st.SearchStrategy[str]:
    """Image ids: `prefix` followed by `min_size` to `max_size` letters, digits, `-`, `_`, `.`.

    Safe in a URL path segment (never `.` or `..`, never `/`). Shrinks toward `prefix + "0"`.
    """
    if not isinstance(prefix, str) or "/" in prefix:
        raise ValueError(f"prefix must be a string without '/', not {prefix!r}")
    _check_size(min_size, max_size)
    if min_size < 1 and not prefix:
        raise ValueError("an id cannot be empty: min_size must be >= 1 without a prefix")
    tails = st.text(_ID_ALPHABET, min_size=min_size, max_size=max_size)
    return tails.map(lambda tail: prefix + tail).filter(lambda i: i not in (".", ".."))


def _values(schema: Mapping[str, Any], *, nullable: bool = True) -> st.SearchStrategy[Any]:
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else list(types)
    text = st.text(string.ascii_letters + string.digits + " -", max_size=12)
    options: list[st.SearchStrategy[Any]] = []
    if "string" in types:
        options.append(text)
    if "boolean" in types:
        options.append(st.booleans())
    if "array" in types:
        options.append(st.lists(text, max_size=3))
    if nullable and "null" in types:
        options.append(st.none())
    return st.one_of(options)


def _sources() -> st.SearchStrategy[str]:
    return st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=8).map(
        lambda name: f"https://example.com/{name}.jpg"
    )


def _metadata(*, explicit_nulls: bool) -> st.SearchStrategy[dict[str, Any]]:
    fields = {name: schema for name, schema in image_fields().items() if name != "src"}
    return st.fixed_dictionaries(
        {},
        optional={
            name: _values(schema, nullable=explicit_nulls) for name, schema in fields.items()
        },
    )


def _with_id(
    bodies: st.SearchStrategy[dict[str, Any]], ids: st.SearchStrategy[str] | None, with_id: bool
) -> st.SearchStrategy[dict[str, Any]]:
    if not with_id:
        if ids is not None:
            raise ValueError("ids given but with_id=False")
        return bodies
    id_strategy = image_ids() if ids is None else ids
    if not isinstance(id_strategy, st.SearchStrategy):
        raise TypeError(f"ids must be a SearchStrategy, not {type(ids).__name__}")
    return st.tuples(id_strategy, bodies).map(lambda pair: {"id": pair[0], **pair[1]})


def images(
    *, ids: st.SearchStrategy[str] | None = None, with_id: bool = True
) -> st.SearchStrategy[dict[str, Any]]:
    """Whole images, as `POST`/`PUT` take them: `src` and any subset of the metadata fields.

    With `with_id` (batch items) an `id` is drawn from `ids` (default `image_ids()`); without it
    (single-image paths) there is none. Values are of the contract's types, null included.
    Shrinks toward `{"id": ..., "src": ...}` with the shortest values.
    """
    bodies = st.tuples(_sources(), _metadata(explicit_nulls=True)).map(
        lambda pair: {"src": pair[0], **pair[1]}
    )
    return _with_id(bodies, ids, with_id)


def partial_images(
    *, ids: st.SearchStrategy[str] | None = None, with_id: bool = True
) -> st.SearchStrategy[dict[str, Any]]:
    """Partial images, as `PATCH` takes them: any subset of the fields, explicit nulls included.

    `src` may be absent, a string, or null (A1: an explicit null clears the field). Shrinks
    toward `{"id": ...}` (or `{}` without an id).
    """
    src = st.one_of(st.just(_ABSENT), st.none(), _sources())
    bodies = st.tuples(_metadata(explicit_nulls=True), src).map(
        lambda pair: pair[0] if pair[1] is _ABSENT else {"src": pair[1], **pair[0]}
    )
    return _with_id(bodies, ids, with_id)


def batches(
    kind: Kind,
    *,
    ids: st.SearchStrategy[str] | None = None,
    min_size: int = 1,
    max_size: int = 8,
    unique: bool = False,
) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Batch bodies of one kind: `create`/`replace` take images, `merge` partial images,
    `delete` ids.

    Ids come from `ids` (default `image_ids()`); draw them from a small pool
    (`st.sampled_from([...])`) to get duplicates within a batch (A3) and conflicts with stored
    images (D1, D2). `unique=True` keeps one item per id. Shrinks toward one item.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    _check_size(min_size, max_size)
    if min_size < 1:
        raise ValueError("a batch has at least one item (A9): min_size must be >= 1")
    id_strategy = image_ids() if ids is None else ids
    items: st.SearchStrategy[dict[str, Any]]
    if kind in ("create", "replace"):
        items = images(ids=id_strategy)
    elif kind == "merge":
        items = partial_images(ids=id_strategy)
    else:
        items = id_strategy.map(lambda i: {"id": i})
    unique_by = (lambda item: item["id"]) if unique else None
    return st.lists(items, min_size=min_size, max_size=max_size, unique_by=unique_by)


def query_flags(*, spellings: bool = True, lang: bool = True) -> st.SearchStrategy[dict[str, str]]:
    """Raw query parameters of a mutation: any subset of `wait`, `urgent`, `strict`, `lang`.

    Booleans use every spelling FastAPI accepts when `spellings` (`1`, `yes`, `On`, ...), else
    `true`/`false`. Absent keys take their defaults (A12). Shrinks toward `{}`.
    """
    if not isinstance(spellings, bool) or not isinstance(lang, bool):
        raise TypeError("spellings and lang must be booleans")
    truth = st.sampled_from(_TRUE) if spellings else st.just("true")
    falsity = st.sampled_from(_FALSE) if spellings else st.just("false")
    boolean = falsity | truth
    query = _mutation_query()
    optional: dict[str, st.SearchStrategy[str]] = dict.fromkeys(query.flags, boolean)
    if lang:
        optional["lang"] = st.sampled_from(query.langs)
    return st.fixed_dictionaries({}, optional=optional)


@dataclass(frozen=True, slots=True)
class InvalidRequest:
    """A request with exactly one defect, and the status a conforming server answers (A9)."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    body: bytes | None
    defect: str
    status: int = 422

    def describe(self) -> str:
        query = "&".join(f"{k}={v}" for k, v in self.query)
        return f"{self.method} {self.path}{'?' + query if query else ''} ({self.defect})"

    def rule_for(self, status: int) -> str:
        """The rule an answer of `status` instead of `self.status` breaks: a 404 for a read of
        an unknown image with a bad query is the order of the checks (A13), anything else
        how invalid input is refused (A9)."""
        if status == 404 and self.method == "GET" and self.path.startswith("/imgs/"):
            return "A13"
        return "A9"


def _dumps(value: Any) -> bytes:
    return json.dumps(value).encode()


def _batch_defects(
    kind: Kind, item: dict[str, Any], image_id: str
) -> list[tuple[str, Any]]:
    defects: list[tuple[str, Any]] = [
        ("not_array", item),
        ("empty_batch", []),
        ("item_not_object", [image_id]),
        ("missing_id", [{k: v for k, v in item.items() if k != "id"}]),
        ("empty_id", [{**item, "id": ""}]),
        ("mistyped_id", [{**item, "id": 7}]),
    ]
    if kind != "delete":
        defects.append(("mistyped_field", [{**item, _field_named("string"): 5}]))
        defects.append(("mistyped_list", [{**item, _field_named("array"): "not-a-list"}]))
    if kind in ("create", "replace"):
        defects.append(("missing_src", [{"id": image_id}]))
        defects.append(("empty_src", [{**item, "src": ""}]))
    return defects


@st.composite
def _invalid(draw: st.DrawFn, ids: st.SearchStrategy[str]) -> InvalidRequest:
    image_id = draw(ids)
    kind: Kind = draw(st.sampled_from(KINDS))
    method = default_contract().vocabulary.http_method[kind]
    item: dict[str, Any] = {"id": image_id}
    if kind in ("create", "replace"):
        item["src"] = "https://example.com/x.jpg"
    query_defects = [
        ("bad_boolean", (draw(st.sampled_from(_mutation_query().flags)), "maybe")),
        ("bad_lang", ("lang", draw(st.sampled_from(("de", "EN", "english", ""))))),
    ]
    body_defects = _batch_defects(kind, item, image_id)
    where = draw(st.sampled_from(("query", "body", "raw", "single", "read")))
    if where == "query":
        defect, pair = draw(st.sampled_from(query_defects))
        return InvalidRequest(method, "/imgs", (pair,), _dumps([item]), defect)
    if where == "body":
        defect, body = draw(st.sampled_from(body_defects))
        return InvalidRequest(method, "/imgs", (), _dumps(body), defect)
    if where == "raw":
        raw = draw(st.sampled_from((b"", b"{not json", b"[{\"id\": ")))
        return InvalidRequest(method, "/imgs", (), raw, "empty_body" if not raw else "not_json")
    path = f"/imgs/{image_id}"
    if where == "single":
        method = draw(st.sampled_from(("POST", "PUT", "PATCH")))
        single: list[tuple[str, Any]] = [
            ("body_not_object", ["x"]),
            ("mistyped_field", {"src": "https://example.com/a.jpg", "nsfw": "x"}),
        ]
        if method != "PATCH":
            single += [("missing_src", {"title": "t"}), ("empty_src", {"src": ""})]
        defect, body = draw(st.sampled_from(single))
        return InvalidRequest(method, path, (), _dumps(body), defect)
    read = draw(st.sampled_from((
        ("GET", path, (("fields", "nope"),), "bad_field_name"),
        ("GET", "/ops/not-a-number", (), "op_id_not_integer"),
        ("DELETE", "/ops/1.5", (), "op_id_not_integer"),
    )))
    return InvalidRequest(read[0], read[1], read[2], None, read[3])


def invalid_requests(
    *, ids: st.SearchStrategy[str] | None = None
) -> st.SearchStrategy[InvalidRequest]:
    """Requests with one defect each that a conforming server answers 422 without storing (A9).

    Defects: a bad boolean or `lang`; a body that is not JSON, empty, not an array, an empty
    batch; an item that is not an object, lacks `id` or `src`, has an empty or mistyped field;
    an unknown `fields` name; an `op_id` that is not an integer. Ids come from `ids` so a
    server that wrongly accepts one still stores only ids the caller can clean up. Shrinks
    toward a bad query flag on `POST /imgs`.
    """
    id_strategy = image_ids() if ids is None else ids
    if not isinstance(id_strategy, st.SearchStrategy):
        raise TypeError(f"ids must be a SearchStrategy, not {type(ids).__name__}")
    return _invalid(id_strategy)


def operations(
    *, state: str | None = None, with_id: bool = False
) -> st.SearchStrategy[dict[str, Any]]:
    """Operation objects as a conforming server sends them, in `state` (default: any).

    States: `queued`, `running`, `finished` (all good), `failed` (finished with errors),
    `cancelled` (finished, never started, A8). Counts, `all_good`, timestamps and durations
    agree with each other (D9, A2, A7). `with_id` adds `op_id` (A5, A6). For testing how a
    client reads answers. Shrinks toward a one-item operation created at the epoch of 2026.
    """
    if state is not None and state not in LIFECYCLE_STATES:
        raise ValueError(f"state must be one of {LIFECYCLE_STATES} or None, not {state!r}")
    if not isinstance(with_id, bool):
        raise TypeError("with_id must be a boolean")
    states = st.sampled_from(LIFECYCLE_STATES) if state is None else st.just(state)
    return states.flatmap(lambda s: _operation(s, with_id))


def _stamp(ms: int) -> str:
    moment = _EPOCH + timedelta(milliseconds=ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@st.composite
def _operation(draw: st.DrawFn, state: str, with_id: bool) -> dict[str, Any]:
    total = draw(st.integers(1, 50))
    created, idle, run = (draw(st.integers(0, 10**8)) for _ in range(3))
    wait, urgent, strict = (draw(st.booleans()) for _ in range(3))
    started = state in ("running", "finished", "failed")
    finished = state in ("finished", "failed", "cancelled")
    bad = 0
    if state == "failed":
        bad = draw(st.integers(1, total))
    elif state == "running":
        bad = draw(st.integers(0, total - 1))
    good = total - bad if state in ("finished", "failed") else 0
    if state == "running":
        good = draw(st.integers(0, total - 1 - bad))
    failing = sorted(draw(st.sets(st.integers(0, total - 1), min_size=bad, max_size=bad)))
    op: dict[str, Any] = {
        "method": draw(st.sampled_from(("add", "upd", "del"))),
        "resource": "image",
        "num_total": total,
        "num_good": good,
        "num_bad": bad,
        "is_started": started,
        "is_finished": finished,
        "all_good": None if state == "queued" else (False if state == "cancelled" else bad == 0),
        "do_wait": wait,
        "do_urgent": urgent,
        "do_strict": strict,
        "idle_ms": idle,
        "exec_ms": run if started else 0,
        "created_at": _stamp(created),
        "started_at": _stamp(created + idle) if started else None,
        "finished_at": None,
        "errors": [{"id": i, "msg": f"Image 'img-{i}' failed."} for i in failing],
    }
    if state in ("finished", "failed"):
        op["finished_at"] = _stamp(created + idle + run)
    elif state == "cancelled":
        op["finished_at"] = _stamp(created + idle)
    if with_id:
        return {"op_id": draw(st.integers(1, 2**31 - 1)), **op}
    return op
