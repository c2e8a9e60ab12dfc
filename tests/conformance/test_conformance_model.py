"""The reference model: the item semantics of D1-D5 and A1-A3, without a server."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.model import KINDS, ImageModel, Kind, image_fields, kind_of, method_label
from contracts.strategies import batches

SRC = "https://example.com/a.jpg"


def _stored(**fields: Any) -> dict[str, Any]:
    record = dict.fromkeys(image_fields())
    record.update(fields)
    return record


def _model(*ids: str, **fields: Any) -> ImageModel:
    return ImageModel({i: _stored(src=SRC, **fields) for i in ids})


def test_strict_add_of_an_existing_id_fails_and_stores_nothing() -> None:
    model = _model("a")
    outcome = model.apply("create", [{"id": "b", "src": SRC}, {"id": "a", "src": SRC}],
                          strict=True)
    assert outcome.failing == (1,)
    assert outcome.rule_for_item(1) == "D1"
    assert set(model.images) == {"a"}


def test_relaxed_add_replaces_the_whole_record() -> None:
    model = _model("a", title="old")
    outcome = model.apply("create", [{"id": "a", "src": "s2"}], strict=False)
    assert outcome.all_good
    assert model.get("a") == _stored(src="s2")


def test_a_duplicate_in_a_strict_add_batch_fails_the_second_copy() -> None:
    outcome = ImageModel().apply(
        "create", [{"id": "a", "src": SRC}, {"id": "a", "src": SRC}], strict=True
    )
    assert outcome.failing == (1,)
    assert outcome.rule_for_item(1) == "A3"
    assert outcome.after == {}


def test_put_replaces_and_the_last_copy_wins() -> None:
    model = _model("a", title="old", city="x")
    model.apply("replace", [{"id": "a", "src": "s1", "title": "t1"}, {"id": "a", "src": "s2"}],
                strict=True)
    assert model.get("a") == _stored(src="s2")


@pytest.mark.parametrize("kind", ["replace", "merge"])
def test_update_of_a_missing_id(kind: Kind) -> None:
    item = {"id": "x", "src": SRC}
    assert ImageModel().predict(kind, [item], strict=True).failing == (0,)
    relaxed = ImageModel().predict(kind, [item], strict=False)
    assert relaxed.all_good
    assert relaxed.after == {}


def test_patch_merges_and_an_explicit_null_clears() -> None:
    model = _model("a", title="t", city="c")
    model.apply("merge", [{"id": "a", "title": None, "country": "es"}], strict=True)
    assert model.get("a") == _stored(src=SRC, city="c", country="es")


def test_delete_of_a_missing_id_is_good_strict_or_not() -> None:
    for strict in (True, False):
        outcome = _model("a").predict("delete", [{"id": "a"}, {"id": "zz"}], strict=strict)
        assert outcome.all_good
        assert outcome.after == {}


def test_unknown_fields_are_not_stored() -> None:
    model = ImageModel()
    model.apply("create", [{"id": "a", "src": SRC, "titel": "typo"}], strict=False)
    assert "titel" not in (model.get("a") or {})


def test_labels_and_kinds() -> None:
    assert [method_label(k) for k in KINDS] == ["add", "upd", "upd", "del"]
    assert kind_of("patch") == "merge"
    with pytest.raises(ValueError, match="kind"):
        ImageModel().predict("patch", [], strict=False)  # type: ignore[arg-type]


POOL = st.sampled_from(["a", "b", "c"])


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_every_operation_is_all_or_nothing_and_counts_every_item(data: st.DataObject) -> None:
    model = ImageModel()
    for _ in range(3):
        kind = data.draw(st.sampled_from(KINDS))
        batch = data.draw(batches(kind, ids=POOL))
        before = model.copy().images
        strict = data.draw(st.booleans())
        existed = {str(item["id"]) for item in batch} & set(model.images)
        outcome = model.apply(kind, batch, strict=strict)
        assert outcome.num_good + outcome.num_bad == len(batch)
        # The rule a wrong state breaks: D5 for a batch with a failing item; else the kind's,
        # unless the state rests on a reading: a repeated id (A3), an upsert over a stored
        # record (A16), a strict delete (A17: of a missing id, the pages disagree), which a
        # repeated id is too: its copy finds the image the first one deleted gone.
        kinds_rule = {"create": "D1", "replace": "D4", "merge": "A1", "delete": "D3"}[kind]
        ids = [str(item["id"]) for item in batch]
        readings = {
            "A3": len(set(ids)) < len(ids) and kind != "merge",
            "A16": kind == "create" and not strict and (bool(existed) or len(set(ids)) < len(ids)),
            "A17": kind == "delete" and strict and (set(ids) - existed != set()
                                                     or len(set(ids)) < len(ids)),
        }
        if outcome.failing:
            assert outcome.state_rule == "D5"
        elif not any(readings.values()):
            assert outcome.state_rule == kinds_rule
        else:
            assert outcome.state_rule in {rule for rule, on in readings.items() if on}
        if outcome.failing:
            assert model.images == before


@pytest.mark.parametrize(("kind", "strict", "stored", "rule"), [
    ("replace", True, True, "A3"),     # only the order of the copies can explain a difference
    ("merge", True, True, "A1"),       # copies merged into each other: PATCH's own reading
    ("create", False, True, "A16"),    # copies upserted over a stored record: the upsert's
    ("create", False, False, "A16"),   # ... and over each other
])
def test_a_repeated_id_names_the_reading_that_explains_it(
    kind: Kind, strict: bool, stored: bool, rule: str,
) -> None:
    model = _model("a", title="old") if stored else ImageModel()
    outcome = model.apply(kind, [{"id": "a", "src": "s1", "city": "x"},
                                 {"id": "a", "src": "s2"}], strict=strict)
    assert outcome.rule_for_image("a") == rule
