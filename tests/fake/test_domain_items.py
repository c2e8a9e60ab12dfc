"""Item semantics (D1-D5, A1-A3), through the Controller and Engine with no HTTP."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from wesog_mock.controls.schema import image_schema
from wesog_mock.domain.batch import BatchKind
from wesog_mock.domain.messages import LANGUAGES

if TYPE_CHECKING:
    from conftest import Domain, Items, MakeDomain

WRITE_FIELDS = image_schema().write_fields
RED = {"src": "s-red", "title": "Red", "keywords": ["red"], "nsfw": False}


def test_d1_strict_add_conflict_fails_item(domain: Domain) -> None:
    domain.seed([{"id": "a", **RED}])
    view = domain.run("create", [("b", {"src": "s-b"}), ("a", {"src": "s-new"})], strict=True)
    assert (view["num_good"], view["num_bad"], view["all_good"]) == (1, 1, False)
    assert view["errors"] == [{"id": 1, "msg": "Image 'a' already exists."}]
    assert domain.images() == {"a": RED}  # b was not added either (D5)


def test_d1_nonstrict_add_upserts_replacing_the_whole_record(domain: Domain) -> None:
    domain.seed([{"id": "a", **RED}])
    view = domain.run("create", [("a", {"src": "s-new", "caption": "c"})], strict=False)
    assert (view["num_good"], view["num_bad"], view["all_good"]) == (1, 0, True)
    assert domain.images() == {"a": {"src": "s-new", "caption": "c"}}


def test_d1_strict_add_of_a_new_id_stores_it(domain: Domain) -> None:
    view = domain.run("create", [("a", RED)], strict=True)
    assert view["all_good"] is True
    assert domain.images() == {"a": RED}


@pytest.mark.parametrize("kind", ["replace", "merge"])
def test_d2_strict_upd_of_a_missing_id_fails_item(domain: Domain, kind: BatchKind) -> None:
    domain.seed([{"id": "a", **RED}])
    view = domain.run(kind, [("a", {"src": "s2"}), ("zz", {"src": "s3"})], strict=True)
    assert (view["num_good"], view["num_bad"], view["all_good"]) == (1, 1, False)
    assert view["errors"] == [{"id": 1, "msg": "Image 'zz' does not exist."}]
    assert domain.images() == {"a": RED}


@pytest.mark.parametrize("kind", ["replace", "merge"])
def test_d2_nonstrict_upd_of_a_missing_id_is_ignored_and_good(
    domain: Domain, kind: BatchKind
) -> None:
    domain.seed([{"id": "a", **RED}])
    view = domain.run(kind, [("zz", {"src": "s3"}), ("a", {"src": "s2"})], strict=False)
    assert (view["num_good"], view["num_bad"], view["all_good"]) == (2, 0, True)
    assert view["errors"] == []
    assert set(domain.images()) == {"a"}  # the missing id was not created
    assert domain.images()["a"]["src"] == "s2"


@pytest.mark.parametrize("strict", [True, False])
def test_d3_del_of_a_missing_id_is_ignored_and_good(domain: Domain, strict: bool) -> None:
    domain.seed([{"id": "a", **RED}, {"id": "b", **RED}])
    view = domain.run("delete", [("zz", {}), ("a", {})], strict=strict)
    assert (view["num_good"], view["num_bad"], view["all_good"]) == (2, 0, True)
    assert domain.images() == {"b": RED}


def test_d4_put_nulls_left_out_fields(domain: Domain) -> None:
    full = {name: f"v-{name}" for name in WRITE_FIELDS if name not in ("keywords", "nsfw")}
    domain.seed([{"id": "a", **full, "keywords": ["k"], "nsfw": True}])
    domain.run("replace", [("a", {"src": "s2", "title": "T2"})], strict=True)
    stored = domain.controller.images("t1")["a"]
    assert stored["src"] == "s2"
    assert stored["title"] == "T2"
    left_out = [name for name in WRITE_FIELDS if name not in ("src", "title")]
    assert all(stored[name] is None for name in left_out), stored


def test_a1_patch_changes_only_the_fields_present(domain: Domain) -> None:
    domain.seed([{"id": "a", **RED}])
    domain.run("merge", [("a", {"title": "Blue", "caption": "new"})], strict=True)
    assert domain.images() == {"a": {**RED, "title": "Blue", "caption": "new"}}


def test_a1_patch_explicit_null_clears_a_field(domain: Domain) -> None:
    domain.seed([{"id": "a", **RED}])
    domain.run("merge", [("a", {"title": None, "keywords": None})], strict=True)
    assert domain.images() == {"a": {"src": "s-red", "nsfw": False}}


def test_a1_patch_with_no_fields_changes_nothing(domain: Domain) -> None:
    domain.seed([{"id": "a", **RED}])
    view = domain.run("merge", [("a", {})], strict=True)
    assert view["all_good"] is True
    assert domain.images() == {"a": RED}


BATCHES: list[tuple[BatchKind, Items]] = [
    ("create", [("new", {"src": "n"}), ("a", {"src": "x"})]),
    ("replace", [("a", {"src": "x"}), ("missing", {"src": "x"})]),
    ("merge", [("a", {"title": None}), ("b", {"caption": "c"}), ("missing", {})]),
    ("delete", [("a", {})]),
]


@pytest.mark.parametrize(("kind", "items"), BATCHES, ids=[b[0] for b in BATCHES])
def test_d5_a_failed_batch_leaves_images_exactly_as_before(
    domain: Domain, kind: BatchKind, items: Items
) -> None:
    domain.seed([{"id": "a", **RED}, {"id": "b", "src": "s-b"}])
    before = domain.controller.images("t1")
    failing = [*items, ("a", {"src": "dup"})] if kind == "delete" else items
    # A delete never fails by itself; an injected failure stands in for the failing item.
    op = domain.submit(kind, failing, strict=True, fault="fail" if kind == "delete" else None)
    domain.controller.settle()
    view = domain.view(op)
    assert view["all_good"] is False
    assert view["num_good"] + view["num_bad"] == view["num_total"] == len(failing)
    assert domain.controller.images("t1") == before


def test_d5_reads_never_see_a_half_applied_operation(make_domain: MakeDomain) -> None:
    domain = make_domain(item_ms=10)
    domain.seed([{"id": "a", **RED}])
    op = domain.submit("replace", [("a", {"src": "s2"}), ("b", {"src": "s3"})], strict=False)
    domain.controller.advance(15)  # the first item is processed, the second is not
    assert domain.view(op)["num_good"] == 1
    assert domain.images() == {"a": RED}
    domain.controller.advance(5)
    assert domain.view(op)["is_finished"] is True
    assert domain.images() == {"a": {"src": "s2"}}


def test_a2_every_item_is_evaluated_and_each_failure_reported(domain: Domain) -> None:
    domain.seed([{"id": "a", "src": "s"}, {"id": "c", "src": "s"}])
    items = [(image_id, {"src": "n"}) for image_id in ["a", "b", "c", "d", "a"]]
    view = domain.run("create", items, strict=True)
    assert view["num_total"] == 5
    assert (view["num_good"], view["num_bad"]) == (2, 3)
    assert view["num_good"] + view["num_bad"] == view["num_total"]
    assert [error["id"] for error in view["errors"]] == [0, 2, 4]
    assert [error["msg"] for error in view["errors"]] == [
        "Image 'a' already exists.", "Image 'c' already exists.", "Image 'a' already exists.",
    ]


# A word of each language's message, so a message in the wrong language cannot pass.
EXISTS_WORDS = {"en": "already exists", "es": "ya existe", "pt": "já existe",
                "fr": "existe déjà", "ru": "уже существует"}
MISSING_WORDS = {"en": "does not exist", "es": "no existe", "pt": "não existe",
                 "fr": "n'existe pas", "ru": "не существует"}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a2_messages_are_in_the_request_lang_and_name_the_id(domain: Domain, lang: str) -> None:
    image_id = "café 7"
    domain.seed([{"id": image_id, "src": "s"}])
    added = domain.run("create", [(image_id, {"src": "s"})], strict=True, lang=lang)
    updated = domain.run("merge", [("ghost-9", {"title": "t"})], strict=True, lang=lang)
    [exists] = added["errors"]
    [missing] = updated["errors"]
    assert exists["id"] == missing["id"] == 0
    assert image_id in exists["msg"]
    assert EXISTS_WORDS[lang] in exists["msg"]
    assert "ghost-9" in missing["msg"]
    assert MISSING_WORDS[lang] in missing["msg"]


def test_a2_messages_differ_between_langs(domain: Domain) -> None:
    domain.seed([{"id": "a", "src": "s"}])
    messages = {
        domain.run("create", [("a", {"src": "s"})], strict=True, lang=lang)["errors"][0]["msg"]
        for lang in LANGUAGES
    }
    assert len(messages) == len(LANGUAGES)


def test_a3_duplicate_in_a_strict_add_batch_fails_the_second_copy(domain: Domain) -> None:
    view = domain.run("create", [("a", {"src": "1"}), ("a", {"src": "2"})], strict=True)
    assert view["errors"] == [{"id": 1, "msg": "Image 'a' already exists."}]
    assert domain.images() == {}


def test_a3_nonstrict_add_duplicate_last_copy_wins(domain: Domain) -> None:
    view = domain.run("create", [("a", {"src": "1", "title": "t"}), ("a", {"src": "2"})])
    assert view["all_good"] is True
    assert domain.images() == {"a": {"src": "2"}}


def test_a3_put_batch_last_copy_wins(domain: Domain) -> None:
    domain.seed([{"id": "a", **RED}])
    items = [("a", {"src": "1", "title": "first"}), ("a", {"src": "2"})]
    view = domain.run("replace", items, strict=True)
    assert (view["num_good"], view["all_good"]) == (2, True)
    assert domain.images() == {"a": {"src": "2"}}


def test_a3_later_patch_items_see_earlier_ones(domain: Domain) -> None:
    domain.seed([{"id": "a", "src": "s"}])
    items: Items = [("a", {"title": "t"}), ("a", {"caption": "c"}), ("a", {"title": None})]
    domain.run("merge", items, strict=True)
    assert domain.images() == {"a": {"src": "s", "caption": "c"}}


def test_a3_delete_then_strict_delete_again_in_one_batch_is_good(domain: Domain) -> None:
    domain.seed([{"id": "a", "src": "s"}])
    view = domain.run("delete", [("a", {}), ("a", {})], strict=True)
    assert (view["num_good"], view["all_good"]) == (2, True)
    assert domain.images() == {}


def test_a9_unknown_fields_are_not_stored(domain: Domain) -> None:
    domain.run("create", [("a", {"src": "s", "titel": "typo", "image_id": "x", "height": 3})])
    domain.run("merge", [("a", {"bogus": 1, "title": "t"})])
    assert domain.images() == {"a": {"src": "s", "title": "t"}}
