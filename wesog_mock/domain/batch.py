"""Item semantics: a batch applied item by item to a working copy of one tenant's images.

A stored record keeps only the fields that are set (a sparse dict), so an image with ten
fields costs ten entries, not thirty; reads fill the rest with null. The working copy is an
overlay of changes over the tenant's images: nothing is copied, and nothing is committed
unless every item is good (D5).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from wesog_mock.domain.messages import item_message

__all__ = [
    "READ_FIELDS",
    "WRITE_FIELDS",
    "BatchKind",
    "BatchOutcome",
    "Record",
    "evaluate_batch",
    "new_record",
    "read_view",
]

Record = dict[str, Any]

# The writable fields (API reference), in the contract's order.
WRITE_FIELDS: tuple[str, ...] = (
    "src", "url_img_watermark", "url_img_thumbnail", "title", "headline", "caption", "alt_text",
    "ai_generated", "model_release", "property_release", "nsfw", "status", "date", "location",
    "city", "country", "event", "author", "provider", "shot", "scene", "technique", "medium",
    "keywords", "categories", "collections",
)
_WRITABLE = frozenset(WRITE_FIELDS)
# The read model: the id, the writable fields and what the service derives from the pixels
# (height, width, n_faces); the fake fetches no pixels, so those read null.
READ_FIELDS: tuple[str, ...] = ("image_id", *WRITE_FIELDS, "height", "width", "n_faces")

BatchKind = Literal["create", "replace", "merge", "delete"]


def new_record(fields: Mapping[str, Any]) -> Record:
    """A stored record from a body: known fields only (unknown ones are ignored, A9), no nulls."""
    record = dict(fields)
    record.pop("id", None)
    # The common case, checked at C speed: nothing unknown and nothing null to drop.
    if _WRITABLE.issuperset(record) and None not in record.values():
        return record
    return {
        name: value for name, value in record.items() if name in _WRITABLE and value is not None
    }


def _merged(record: Record, fields: Mapping[str, Any]) -> Record:
    """PATCH: the fields present change; an explicit null clears one (A1)."""
    merged = dict(record)
    for name, value in fields.items():
        if name not in _WRITABLE:
            continue
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    return merged


def read_view(image_id: str, record: Record, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The image as read back: every read field (null when unset), or only `fields`."""
    names = READ_FIELDS if fields is None else fields
    return {
        name: image_id if name == "image_id" else record.get(name) for name in names
    }


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
            changes[image_id] = _merged(current, fields)
    return outcome
