"""The fake restates nothing of the contract: its image fields, operation methods, kinds and
languages are the contract's."""

from __future__ import annotations

from typing import get_args

import pytest

from contracts.model import image_fields
from contracts.spec import default_contract
from contracts.vocabulary import KINDS as CONTRACT_KINDS
from wesog_mock.controls.schema import image_schema
from wesog_mock.domain.batch import KINDS, ImageSchema, SeedError
from wesog_mock.domain.messages import LANGUAGES, Lang

CONTRACT = default_contract()
SCHEMAS = CONTRACT.document["components"]["schemas"]


def test_the_write_fields_are_the_contracts_image_write_fields() -> None:
    fields = image_schema().write_fields
    assert fields == tuple(image_fields())
    assert len(fields) == 26
    assert fields[0] == "src"
    metadata, required = SCHEMAS["NewImage"]["allOf"]
    assert metadata == {"$ref": "#/components/schemas/ImageMetadata"}
    new_image = {*SCHEMAS["ImageMetadata"]["properties"], *required["properties"]}
    assert set(fields) == new_image - {"id"}


def test_the_read_fields_are_the_contracts_image_fields() -> None:
    schema = image_schema()
    assert schema.read_fields == tuple(SCHEMAS["ImageField"]["enum"])
    image = CONTRACT.endpoint("getImage").responses[200]
    known = image.properties if image is not None else None
    assert known is not None
    assert set(schema.read_fields) == set(known)


def test_the_kinds_and_methods_are_the_contracts() -> None:
    assert KINDS == CONTRACT_KINDS
    assert dict(image_schema().method_of_kind) == dict(CONTRACT.vocabulary.label)


def test_the_messages_speak_the_contracts_languages() -> None:
    # The wording lives in the domain (five languages side by side); the set is checked here
    # rather than read at run time, so a new language in the contract fails this test.
    lang = next(p for p in CONTRACT.endpoint("createImages").parameters if p.name == "lang")
    assert set(LANGUAGES) == set(lang.schema["enum"]) == set(get_args(Lang))


def test_the_schema_is_read_once() -> None:
    assert image_schema() is image_schema()


def test_a_schema_needs_a_method_for_every_kind() -> None:
    schema = image_schema()
    with pytest.raises(ValueError, match="method for each"):
        ImageSchema(write_fields=schema.write_fields, read_fields=schema.read_fields,
                    method_of_kind={"create": "add"})
    with pytest.raises(ValueError, match="read fields"):
        ImageSchema(write_fields=schema.write_fields, read_fields=("image_id",),
                    method_of_kind=schema.method_of_kind)


def test_a_schema_of_other_fields_shapes_records_and_reads_by_them() -> None:
    # Not the packaged contract's (built once, and shared): a schema built here, from scratch.
    schema = ImageSchema(
        write_fields=("src", "title"), read_fields=("image_id", "src", "height", "title"),
        method_of_kind={"create": "add", "replace": "upd", "merge": "upd", "delete": "del"},
    )
    record = schema.new_record({"id": "a", "src": "s", "title": None, "colour": "red"})
    assert schema.fields_of(record) == {"src": "s"}  # no id, no null, nothing unknown
    titled = schema.new_record({"src": "s", "title": "T"})
    assert schema.fields_of(titled) == {"src": "s", "title": "T"}
    merged = schema.merged(record, {"title": "T", "height": 3})
    assert schema.fields_of(merged) == {"src": "s", "title": "T"}
    assert schema.read_view("a", titled) == {
        "image_id": "a", "src": "s", "height": None, "title": "T"}
    assert list(schema.read_view("a", record)) == ["image_id", "src", "height", "title"]
    assert schema.read_view("a", record, ["title", "image_id"]) == {"title": None, "image_id": "a"}
    with pytest.raises(ValueError, match=r"^the read fields must hold image_id") as refused:
        ImageSchema(write_fields=("src", "title"), read_fields=("src", "title"),
                    method_of_kind=schema.method_of_kind)
    assert str(refused.value) == "the read fields must hold image_id and every write field"


def test_a_schema_of_other_fields_derives_and_seeds_the_fields_nobody_writes() -> None:
    schema = ImageSchema(
        write_fields=("src", "title"), read_fields=("image_id", "src", "height", "title"),
        method_of_kind={"create": "add", "replace": "upd", "merge": "upd", "delete": "del"},
    )
    assert schema.derived_fields == ("height",)  # not the id, not a writable field
    # A seed copied from a read view holds `image_id`: it is the key, never a stored field.
    seeded = schema.seeded_record({"image_id": "a", "src": "s", "height": 3}, "images[0]")
    assert schema.fields_of(seeded) == {"src": "s", "height": 3}
    assert schema.read_view("a", seeded) == {
        "image_id": "a", "src": "s", "height": 3, "title": None}
    with pytest.raises(SeedError) as refused:
        schema.seeded_record({"src": "s", "height": "tall"}, "images[2]")
    assert (refused.value.field, str(refused.value)) == (
        "images[2].height", "images[2].height: must be an integer or null, not 'tall'")


def _fresh_schema() -> ImageSchema:
    # A schema of its own, with an empty table of plans: the packaged one's is shared (and
    # warmed) by the whole process.
    return ImageSchema(
        write_fields=("src", "title"), read_fields=("image_id", "src", "title"),
        method_of_kind={"create": "add", "replace": "upd", "merge": "upd", "delete": "del"},
    )


def test_bodies_of_one_field_or_none_make_records_of_that_many() -> None:
    schema = _fresh_schema()
    assert schema.new_record({"src": "s"}) == (("src",), "s")
    assert schema.new_record({"colour": "red"}) == ((),)
    assert schema.new_record({"src": "s", "title": None}) == (("src",), "s")


@pytest.mark.parametrize("orders", [
    [("src", "title"), ("title", "src")], [("title", "src"), ("src", "title")],
])
def test_records_of_one_shape_share_one_shape_object(orders: list[tuple[str, str]]) -> None:
    # The record's layout (see ImageSchema): the names tuple is shared, not one per record,
    # whatever the order of the body's keys.
    schema = _fresh_schema()
    values = {"src": "s", "title": "T"}
    first, second = (schema.new_record({k: values[k] for k in keys}) for keys in orders)
    merged = schema.merged(schema.new_record({"src": "s"}), {"title": "T"})
    assert first == second == merged == (("src", "title"), "s", "T")
    assert second[0] is first[0]
    assert merged[0] is first[0]
