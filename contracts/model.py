"""A small reference model of the contract's item semantics (D1-D5, A1-A3), for one tenant.

It is deliberately separate from the fake (`wesog_mock`): the judge shares no code with the
judged. It knows images and batches, nothing of HTTP, queues or time:

    model = ImageModel()
    outcome = model.apply("create", [{"id": "a", "src": "s"}, {"id": "a", "src": "t"}],
                          strict=True)
    outcome.failing            # (1,): the second copy fails (A3), so nothing is stored (D5)
    model.images               # {}

Every item outcome names the rule that decided it, and every image the rule its state after
the operation rests on, so a difference between the model and a server is reported against
the rule a page states (D) or the reading this project chose (A):

- PATCH is an update (strict fails a missing id, relaxed ignores it) by analogy with PUT: no
  page says so (A1);
- a relaxed add of an existing id is allowed (D1), but that it replaces the whole record
  rather than merging is A16;
- a strict delete of a missing id is ignored as the overview's table says, where the delete
  guide says it fails (A17);
- a batch that names one id twice rests on A3.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from contracts.spec import default_contract
from contracts.vocabulary import KINDS, Kind

__all__ = [
    "KINDS",
    "ImageModel",
    "ItemOutcome",
    "Kind",
    "Outcome",
    "image_fields",
    "kind_of",
    "method_label",
]

_DECIDING_RULE: Mapping[Kind, str] = {
    "create": "D1", "replace": "D2", "merge": "A1", "delete": "D3",
}
_STATE_RULE: Mapping[Kind, str] = {
    "create": "D1", "replace": "D4", "merge": "A1", "delete": "D3",
}


@functools.cache
def image_fields() -> Mapping[str, Mapping[str, Any]]:
    """The writable image fields and their schemas, read from the contract (`src` included)."""
    schemas = default_contract().document["components"]["schemas"]
    fields: dict[str, Mapping[str, Any]] = {"src": {"type": ["string", "null"]}}
    fields.update(schemas["ImageMetadata"]["properties"])
    return fields


def method_label(kind: Kind) -> str:
    """The operation's `method` for a kind of mutation (`replace` and `merge` are both `upd`)."""
    return default_contract().vocabulary.label[kind]


def kind_of(http_method: str) -> Kind:
    """The kind of mutation an HTTP method on `/imgs` performs."""
    return default_contract().vocabulary.kind_of(http_method)


@dataclass(frozen=True, slots=True)
class ItemOutcome:
    """What one item of a batch did: its index, whether it failed, and the rule that decided."""

    index: int
    image_id: str
    ok: bool
    rule: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """The predicted result of one operation: counts, failing items and the images after it."""

    kind: Kind
    strict: bool
    items: tuple[ItemOutcome, ...]
    before: Mapping[str, Mapping[str, Any]]
    after: Mapping[str, Mapping[str, Any]]
    # Images whose state after the operation rests on a reading (A3, A16, A17), by id.
    readings: Mapping[str, str] = field(default_factory=dict)

    @property
    def num_total(self) -> int:
        return len(self.items)

    @property
    def num_good(self) -> int:
        return sum(item.ok for item in self.items)

    @property
    def num_bad(self) -> int:
        return self.num_total - self.num_good

    @property
    def all_good(self) -> bool:
        return self.num_bad == 0

    @property
    def failing(self) -> tuple[int, ...]:
        """Indexes of the failing items, in request order (A2: one error each)."""
        return tuple(item.index for item in self.items if not item.ok)

    @property
    def method(self) -> str:
        return method_label(self.kind)

    def rule_for_item(self, index: int) -> str:
        return self.items[index].rule if 0 <= index < len(self.items) else "A2"

    @property
    def state_rule(self) -> str:
        """The rule a difference in the images after this operation breaks (any image)."""
        if not self.all_good:
            return "D5"
        return next(iter(self.readings.values()), _STATE_RULE[self.kind])

    def rule_for_image(self, image_id: str) -> str:
        """The rule a difference in `image_id` after this operation breaks."""
        if not self.all_good:
            return "D5"
        return self.readings.get(image_id, _STATE_RULE[self.kind])


def _record(item: Mapping[str, Any]) -> dict[str, Any]:
    """A whole record (D4): every field, left-out ones null; unknown fields dropped (A9)."""
    return {name: item.get(name) for name in image_fields()}


def _merged(stored: Mapping[str, Any], item: Mapping[str, Any]) -> dict[str, Any]:
    """PATCH (A1): only the fields present change; an explicit null clears."""
    merged = dict(stored)
    merged.update((name, value) for name, value in item.items() if name in image_fields())
    return merged


@dataclass
class ImageModel:
    """One tenant's images as the contract says they must be; `apply` runs one operation."""

    images: dict[str, dict[str, Any]] = field(default_factory=dict)

    def copy(self) -> ImageModel:
        return ImageModel({key: dict(value) for key, value in self.images.items()})

    def predict(self, kind: Kind, items: Sequence[Mapping[str, Any]], *, strict: bool) -> Outcome:
        """The outcome of an operation, without applying it.

        Items apply one by one, in request order, to a working copy (A3); the copy is kept only
        if every item succeeds (D5). Every item is evaluated, even after a failure (A2).
        """
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
        work = {key: dict(value) for key, value in self.images.items()}
        seen: set[str] = set()
        outcomes = []
        readings: dict[str, str] = {}
        for index, item in enumerate(items):
            image_id = str(item["id"])
            rule = "A3" if image_id in seen else _DECIDING_RULE[kind]
            # Where two readings could explain a difference (a repeated id, A3, whose copies
            # are merged, A1, or upserted over each other, A16), the item's own kind names it:
            # a server that merges or keeps fields does so with one copy as with two.
            if image_id in seen and kind != "merge":
                readings.setdefault(image_id, "A3")
            seen.add(image_id)
            exists = image_id in work
            if kind == "create" and exists and not strict:
                readings[image_id] = "A16"
            if kind == "delete" and strict and not exists:
                rule = "A17"
            ok = True
            if kind == "create":
                if exists and strict:
                    ok = False
                else:
                    work[image_id] = _record(item)
            elif kind in ("replace", "merge"):
                if not exists:
                    ok = not strict
                elif kind == "replace":
                    work[image_id] = _record(item)
                else:
                    work[image_id] = _merged(work[image_id], item)
            else:
                work.pop(image_id, None)
            outcomes.append(ItemOutcome(index, image_id, ok, rule))
        before = {key: dict(value) for key, value in self.images.items()}
        after = work if all(o.ok for o in outcomes) else before
        if any(o.rule == "A17" for o in outcomes):
            # A server that fails the missing id fails the batch: every image of it rests on A17.
            readings.update(dict.fromkeys(seen, "A17"))
        return Outcome(kind, strict, tuple(outcomes), before, after, readings)

    def apply(self, kind: Kind, items: Sequence[Mapping[str, Any]], *, strict: bool) -> Outcome:
        """Predict an operation and commit its effect."""
        outcome = self.predict(kind, items, strict=strict)
        self.images = {key: dict(value) for key, value in outcome.after.items()}
        return outcome

    def get(self, image_id: str) -> dict[str, Any] | None:
        """The stored record, as `GET /imgs/{id}` must show it (its writable fields), or None."""
        stored = self.images.get(image_id)
        return None if stored is None else dict(stored)
