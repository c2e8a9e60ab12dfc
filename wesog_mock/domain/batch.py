"""Item semantics: a batch applied item by item to a working copy of one tenant's images.

A stored record keeps only the fields that are set (a tuple of their values, after the shared
tuple of their names), so an image with ten fields costs ten slots, not thirty; reads fill the
rest with null. The working copy is an
overlay of changes over the tenant's images: nothing is copied, and nothing is committed
unless every item is good (D5).

The field names are the contract's: the domain imports no `contracts`, so a layer above reads
them from `openapi.yaml` once and hands them in as an `ImageSchema`.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from wesog_mock.domain.config import ConfigError
from wesog_mock.domain.messages import item_message

__all__ = [
    "KINDS",
    "BatchKind",
    "BatchOutcome",
    "ImageSchema",
    "Record",
    "SeedError",
    "evaluate_batch",
]

# (shape, *values): see ImageSchema.
Record = tuple[Any, ...]
_PLAN_CACHE_SIZE = 1024

# A type for mypy; `ImageSchema` refuses a contract whose kinds are not exactly these.
BatchKind = Literal["create", "replace", "merge", "delete"]
KINDS: tuple[BatchKind, ...] = get_args(BatchKind)


class SeedError(ConfigError):
    """A seeded image holds a value no read could return; `field` names it (`images[2].height`)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageSchema:
    """The contract's image fields and operation methods, as the domain needs them, and the
    stored record's layout.

    Built once per process from `openapi.yaml` (`wesog_mock.controls.schema.image_schema`).

    A record is a tuple `(shape, *values)`: `shape` the tuple of the names that are set, in
    the contract's order, one object shared by every record of that shape; `values` theirs.
    It holds no nulls and no dict: an image with ten fields set costs a tuple of ten slots
    (the dict it used to be cost three times that).
    """

    write_fields: tuple[str, ...]  # the writable fields, `src` first, in the contract's order
    # The read model: the id, the writable fields and what the service derives from the pixels
    # (height, width, n_faces, integers in the contract); the fake fetches no pixels, so those
    # read null unless a test seeds them (`seeded_record`).
    read_fields: tuple[str, ...]
    method_of_kind: Mapping[BatchKind, str]  # the operation's `method` (`add`, `upd`, `del`)
    _writable: frozenset[str] = field(init=False, repr=False)
    _stored: tuple[str, ...] = field(init=False, repr=False)
    _derived: tuple[str, ...] = field(init=False, repr=False)
    _template: dict[str, None] = field(init=False, repr=False)
    # A body's keys, in its order -> the shape they make and a getter of its values. Bodies of
    # one client have a few distinct key lists; a pure, bounded table.
    _plans: dict[tuple[str, ...], tuple[tuple[str, ...], Callable[[Mapping[str, Any]], Any]]] = (
        field(init=False, repr=False))

    def __post_init__(self) -> None:
        if set(self.method_of_kind) != set(KINDS):
            raise ValueError(f"need a method for each of {KINDS}, got {dict(self.method_of_kind)}")
        if "image_id" not in self.read_fields or not set(self.write_fields) <= set(
                self.read_fields):
            raise ValueError("the read fields must hold image_id and every write field")
        object.__setattr__(self, "_writable", frozenset(self.write_fields))
        stored = tuple(n for n in self.read_fields if n != "image_id")
        object.__setattr__(self, "_stored", stored)
        object.__setattr__(self, "_template", dict.fromkeys(self.read_fields))
        object.__setattr__(self, "_plans", {})
        object.__setattr__(self, "_derived",
                           tuple(n for n in self._stored if n not in self._writable))

    def _plan(
        self, keys: tuple[str, ...]
    ) -> tuple[tuple[str, ...], Callable[[Mapping[str, Any]], Any]]:
        plan = self._plans.get(keys)
        if plan is None:
            given = set(keys)
            shape = tuple(n for n in self._stored if n in given and n in self._writable)
            take: Callable[[Mapping[str, Any]], Any] = (
                operator.itemgetter(*shape) if len(shape) > 1
                else (lambda fields: (fields[shape[0]],)) if shape else (lambda fields: ())
            )
            if len(self._plans) >= _PLAN_CACHE_SIZE:
                self._plans.clear()
            plan = self._plans[keys] = (self._plans.get(shape, (shape, take))[0], take)
            self._plans.setdefault(shape, plan)  # so that equal shapes are one object
        return plan

    @property
    def derived_fields(self) -> tuple[str, ...]:
        """The fields the service derives from the pixels: read, never written by a client."""
        return self._derived

    def seeded_record(self, image: Mapping[str, Any], where: str) -> Record:
        """A stored record for test set-up: the writable fields and the derived ones.

        A client's reading of `height`, `width` and `n_faces` can only be tested with values
        in them, and the fake computes none, so a test seeds them. They are integers or null,
        as a read returns them; anything else raises SeedError naming `where` and the field.
        """
        record = self.new_record(image)
        derived = {}
        for name in self._derived:
            value = image.get(name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int):
                raise SeedError(f"{where}.{name}", f"must be an integer or null, not {value!r}")
            derived[name] = value
        if not derived:
            return record
        return self._record_of({**self.fields_of(record), **derived})

    def _record_of(self, fields: Mapping[str, Any]) -> Record:
        """A record of any stored fields, derived ones too (`fields` holds no null)."""
        shape = tuple(n for n in self._stored if n in fields)
        known = self._plans.get(shape)
        if known is not None and known[0] == shape:
            shape = known[0]  # the one object records of this shape share
        return (shape, *(fields[n] for n in shape))

    def new_record(self, fields: Mapping[str, Any]) -> Record:
        """A stored record from a body: known fields only (unknown ones are ignored, A9), no
        nulls."""
        shape, take = self._plan(tuple(fields))
        values = take(fields)
        if None in values:  # an explicit null: the field is not set
            kept = {n: v for n, v in zip(shape, values, strict=True) if v is not None}
            shape, take = self._plan(tuple(kept))
            values = take(kept)
        return (shape, *values)

    def fields_of(self, record: Record) -> dict[str, Any]:
        """The fields a record has set, by name."""
        return dict(zip(record[0], record[1:], strict=True))

    def merged(self, record: Record, fields: Mapping[str, Any]) -> Record:
        """PATCH: the fields present change; an explicit null clears one (A1)."""
        merged = self.fields_of(record)
        writable = self._writable
        for name, value in fields.items():
            if name not in writable:
                continue
            if value is None:
                merged.pop(name, None)
            else:
                merged[name] = value
        return self._record_of(merged)  # derived fields a test seeded stay

    def read_view(
        self, image_id: str, record: Record, fields: Iterable[str] | None = None
    ) -> dict[str, Any]:
        """The image as read back: the id and every read field in the contract's order (null
        when unset), or only `fields`."""
        if fields is None:
            view: dict[str, Any] = dict(self._template)
            view["image_id"] = image_id
            view.update(zip(record[0], record[1:], strict=True))
            return view
        present = self.fields_of(record)
        return {name: image_id if name == "image_id" else present.get(name) for name in fields}


@dataclass(slots=True)
class BatchOutcome:
    """What a batch would do: which items failed (and why), and the changes to commit."""

    bad_indices: list[int] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    # image id -> new record, or None for a deletion; applied only if `all_good`.
    changes: dict[str, Record | None] = field(default_factory=dict)

    @property
    def all_good(self) -> bool:
        return not self.bad_indices

    def fail(self, index: int, message: str) -> None:
        self.bad_indices.append(index)
        self.errors.append({"id": index, "msg": message})


def evaluate_batch(
    images: Mapping[str, Record],
    kind: BatchKind,
    items: Sequence[tuple[str, Mapping[str, Any]]],
    *,
    schema: ImageSchema,
    strict: bool,
    lang: str,
    forced_failure: str | None = None,
) -> BatchOutcome:
    """Apply `items` (id, fields) in order to an overlay of `images`; report every failing item.

    Every item is evaluated, so one operation reports every failure (A2), and later items see
    earlier ones (A3). `forced_failure` (an injected fault) fails every item with that reason.
    """
    outcome = BatchOutcome()
    changes = outcome.changes
    new_record = schema.new_record
    for index, (image_id, fields) in enumerate(items):
        if forced_failure is not None:
            outcome.fail(index, item_message("injected_failure", lang, image_id, forced_failure))
            continue
        current = changes[image_id] if image_id in changes else images.get(image_id)
        if kind == "delete":  # D3: a missing id is ignored, strict or not
            if current is not None:
                changes[image_id] = None
        elif kind == "create":  # D1: strict refuses an existing id; non-strict upserts
            if strict and current is not None:
                outcome.fail(index, item_message("already_exists", lang, image_id))
            else:
                changes[image_id] = new_record(fields)
        elif current is None:  # D2: upd of a missing id fails in strict mode, else is ignored
            if strict:
                outcome.fail(index, item_message("does_not_exist", lang, image_id))
        elif kind == "replace":  # D4: fields left out become null
            changes[image_id] = new_record(fields)
        else:  # merge, A1
            changes[image_id] = schema.merged(current, fields)
    return outcome
