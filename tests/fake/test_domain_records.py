"""The stored record's layout: (shape, *values), as small as the fields set, read back whole."""

from __future__ import annotations

import sys

from wesog_mock.controls.schema import image_schema

SCHEMA = image_schema()


def test_a_record_holds_only_the_fields_set_and_reads_back_in_the_contracts_order() -> None:
    record = SCHEMA.new_record({"title": "t", "id": "a", "src": "s", "nsfw": None, "titel": 1})
    assert record[1:] == ("s", "t")  # src, title: no id, no null, nothing unknown
    view = SCHEMA.read_view("a", record)
    assert list(view) == list(SCHEMA.read_fields)
    assert (view["image_id"], view["src"], view["title"], view["nsfw"]) == ("a", "s", "t", None)
    assert SCHEMA.read_view("a", record, ["title", "image_id", "city"]) == {
        "title": "t", "image_id": "a", "city": None}


def test_records_of_one_shape_share_it_and_cost_less_than_a_dict() -> None:
    first = SCHEMA.new_record({"id": "a", "src": "s", "title": "t"})
    second = SCHEMA.new_record({"title": "u", "src": "v"})  # another key order, same fields
    assert first[0] is second[0]
    fields = {"src": "s", **dict.fromkeys(SCHEMA.write_fields[1:10], "x")}
    assert sys.getsizeof(SCHEMA.new_record(fields)) < sys.getsizeof(dict(fields)) / 2


def test_a_merge_keeps_seeded_derived_fields_and_a_replace_drops_them() -> None:
    seeded = SCHEMA.seeded_record({"id": "a", "src": "s", "height": 480}, "images[0]")
    assert SCHEMA.fields_of(seeded) == {"src": "s", "height": 480}
    merged = SCHEMA.merged(seeded, {"title": "t", "src": None, "height": 1})
    assert SCHEMA.fields_of(merged) == {"title": "t", "height": 480}  # not writable: kept
    assert SCHEMA.fields_of(SCHEMA.new_record({"src": "z"})) == {"src": "z"}
