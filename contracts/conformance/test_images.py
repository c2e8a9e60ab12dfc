"""Item semantics, by example: strict and relaxed add and update, delete, replace and merge,
all or nothing, one error per failing item, batches that see themselves (D1-D5, A1-A3,
A15-A17).

Each check names the rule a page states (D) only for what the page states: that an item
fails, not which `errors[].id` names it (A2); that a relaxed add is allowed, not that it
replaces (A16); that relaxed deletes ignore missing ids, not strict ones (A17)."""

from __future__ import annotations

from typing import Any

import pytest

from contracts.client import WesogClient
from contracts.conformance._helpers import SRC, check, read, rules, run, seed
from contracts.model import image_fields
from contracts.spec import default_contract


def _errors(op: Any) -> list[int]:
    """The indices of the failing items (an error without one is check_counts's to report)."""
    errors = op.get("errors")
    ids = [e.get("id") for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []
    return sorted(i for i in ids if isinstance(i, int))


@rules("D1", "D5", "A2")
def test_strict_add_of_an_existing_id_fails_and_changes_nothing(wesog_client: WesogClient) -> None:
    [old] = seed(wesog_client, 1, title="kept")
    new = wesog_client.new_id()
    exchange, op = run(wesog_client, "POST", "/imgs",
                       [{"id": new, "src": SRC}, {"id": old, "src": SRC, "title": "lost"}],
                       strict=True)
    check(exchange, op["all_good"] is False, "D1", "strict add",
          "an existing id fails its item", expected=False, got=op["all_good"])
    check(exchange, _errors(op) == [1], "A2", "error id", "the error names the item's index",
          expected=[1], got=_errors(op))
    image = read(wesog_client, old) or {}
    check(exchange, image.get("title") == "kept", "D5", "failed add changed the image",
          f"{old} keeps its title", expected="kept", got=image.get("title"))
    check(exchange, read(wesog_client, new) is None, "D5", "failed batch half-applied",
          f"{new} of a failed batch must not exist", expected=None, got="stored")


@rules("D1", "A16")
def test_relaxed_add_replaces_the_stored_record(wesog_client: WesogClient) -> None:
    [image_id] = seed(wesog_client, 1, title="old", city="Lima")
    exchange, op = run(wesog_client, "POST", "/imgs",
                       [{"id": image_id, "src": SRC, "title": "new"}], strict=False)
    check(exchange, op["all_good"] is True, "D1", "relaxed add", "an existing id is upserted",
          expected=True, got=op["errors"])
    image = read(wesog_client, image_id) or {}
    check(exchange, image.get("title") == "new", "D1", "upsert not applied",
          "the item's fields are stored", expected="new", got=image.get("title"))
    # "allows upsert" (the upload guide) says nothing of the fields the item leaves out.
    check(exchange, image.get("city") is None, "A16", "upsert is a merge",
          "the item replaces the stored record", expected=None, got=image.get("city"))


@rules("D2", "A1", "A2")
@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_update_of_a_missing_id(wesog_client: WesogClient, method: str) -> None:
    # The update guide documents PUT; that PATCH's strict mode is the same is A1's reading.
    rule = "D2" if method == "PUT" else "A1"
    missing = wesog_client.new_id("missing")
    exchange, op = run(wesog_client, method, "/imgs", [{"id": missing, "src": SRC}], strict=True)
    check(exchange, op["all_good"] is False, rule, "strict update of a missing id",
          "the item fails", expected=False, got=op["all_good"])
    check(exchange, _errors(op) == [0], "A2", "error id", "the error names the item's index",
          expected=[0], got=_errors(op))
    exchange, op = run(wesog_client, method, "/imgs", [{"id": missing, "src": SRC}],
                       strict=False)
    check(exchange, op["all_good"] is True, rule, "relaxed update of a missing id",
          "it is ignored", expected=True, got=op["all_good"])
    check(exchange, op["num_good"] == 1, "A2", "ignored item not counted",
          "an ignored item counts as good", expected=1, got=op["num_good"])
    check(exchange, read(wesog_client, missing) is None, rule, "ignored id created",
          "a relaxed update does not create", expected=None, got="stored")


@pytest.mark.parametrize("strict", [
    pytest.param(True, marks=[pytest.mark.assumption, pytest.mark.rules("A17", "A2")]),
    pytest.param(False, marks=[pytest.mark.contract, pytest.mark.rules("D3", "A2")]),
])
def test_delete_of_a_missing_id_is_good(wesog_client: WesogClient, strict: bool) -> None:
    # Relaxed: the delete guide says missing ids are ignored (D3). Strict: the overview's
    # table says ignored, the delete guide says it fails; ignoring is A17's reading.
    rule = "A17" if strict else "D3"
    [present] = seed(wesog_client, 1)
    missing = wesog_client.new_id("missing")
    exchange, op = run(wesog_client, "DELETE", "/imgs", [{"id": missing}, {"id": present}],
                       strict=strict)
    check(exchange, op["all_good"] is True, rule, "delete",
          "a missing id is ignored", expected=True, got=op["errors"])
    check(exchange, op["num_good"] == 2, "A2", "ignored item not counted",
          "an ignored item counts as good", expected=2, got=op["num_good"])
    check(exchange, read(wesog_client, present) is None, rule, "not deleted",
          f"{present} is gone", expected=None, got="stored")
    exchange, op = run(wesog_client, "DELETE", wesog_client.image_path(missing), strict=strict)
    check(exchange, op["all_good"] is True, rule, "single delete of a missing id",
          "it is ignored", expected=True, got=op["errors"])


@rules("D4")
@pytest.mark.parametrize("path", ["batch", "single"])
def test_put_replaces_the_whole_record(wesog_client: WesogClient, path: str) -> None:
    [image_id] = seed(wesog_client, 1, title="old", keywords=["a"], nsfw=True)
    read(wesog_client, image_id)  # read, replace, read back: the second read shows the PUT
    body: Any = {"src": SRC, "caption": "new"}
    if path == "batch":
        exchange, _ = run(wesog_client, "PUT", "/imgs", [{"id": image_id, **body}])
    else:
        exchange, _ = run(wesog_client, "PUT", wesog_client.image_path(image_id), body)
    image = read(wesog_client, image_id) or {}
    left_out = {k: image.get(k) for k in image_fields() if k not in body and image.get(k)}
    check(exchange, not left_out and image.get("caption") == "new", "D4", "PUT did not replace",
          "fields left out of the body become null", expected={}, got=left_out)


@rules("A1")
@pytest.mark.parametrize("path", ["batch", "single"])
def test_patch_changes_only_the_fields_present(wesog_client: WesogClient, path: str) -> None:
    [image_id] = seed(wesog_client, 1, title="old", city="Lima", country="PE")
    body: Any = {"title": "new", "city": None}
    if path == "batch":
        exchange, _ = run(wesog_client, "PATCH", "/imgs", [{"id": image_id, **body}])
    else:
        exchange, _ = run(wesog_client, "PATCH", wesog_client.image_path(image_id), body)
    image = read(wesog_client, image_id) or {}
    got = {k: image.get(k) for k in ("src", "title", "city", "country")}
    wanted = {"src": SRC, "title": "new", "city": None, "country": "PE"}
    check(exchange, got == wanted, "A1", "PATCH is not a merge",
          "only the fields present change; an explicit null clears", expected=wanted, got=got)


@rules("D5", "A2")
def test_a_batch_with_failing_items_reports_each_and_stores_nothing(
    wesog_client: WesogClient,
) -> None:
    a, b = seed(wesog_client, 2)
    fresh = [wesog_client.new_id("fresh") for _ in range(3)]
    batch = [{"id": fresh[0], "src": SRC}, {"id": a, "src": SRC}, {"id": fresh[1], "src": SRC},
             {"id": b, "src": SRC}, {"id": fresh[2], "src": SRC}]
    exchange, op = run(wesog_client, "POST", "/imgs", batch, strict=True, lang="en")
    got = (op["num_good"], op["num_bad"], _errors(op))
    check(exchange, got == (3, 2, [1, 3]), "A2", "not every item evaluated",
          "one error per failing item, by index", expected=(3, 2, [1, 3]), got=got)
    stored = [i for i in fresh if read(wesog_client, i) is not None]
    check(exchange, not stored, "D5", "half-applied batch", "a failed batch stores nothing",
          expected=[], got=stored)


@rules("A2")
def test_error_messages_name_the_image_and_follow_lang(wesog_client: WesogClient) -> None:
    [image_id] = seed(wesog_client, 1)
    messages = {}
    for lang in ("en", "es"):
        exchange, op = run(wesog_client, "POST", "/imgs", [{"id": image_id, "src": SRC}],
                           strict=True, lang=lang)
        errors = op["errors"]
        messages[lang] = errors[0].get("msg", "") if errors else ""
    check(exchange, messages["en"] != messages["es"], "A2", "lang ignored",
          "the message is in the request's lang", expected="two languages", got=messages)


@rules("A3")
def test_later_items_see_earlier_ones(wesog_client: WesogClient) -> None:
    image_id = wesog_client.new_id("dup")
    exchange, op = run(wesog_client, "POST", "/imgs",
                       [{"id": image_id, "src": SRC}, {"id": image_id, "src": SRC}], strict=True)
    check(exchange, _errors(op) == [1], "A3", "duplicate not seen",
          "a duplicate in a strict add fails the second copy", expected=[1], got=_errors(op))
    [stored] = seed(wesog_client, 1)
    exchange, _ = run(wesog_client, "PUT", "/imgs", [{"id": stored, "src": SRC, "title": "1"},
                                                     {"id": stored, "src": SRC, "title": "2"}])
    title = (read(wesog_client, stored) or {}).get("title")
    check(exchange, title == "2", "A3", "PUT batch", "the last copy wins", expected="2",
          got=title)


@rules("D9", "A1")
@pytest.mark.parametrize(("method", "label"), [
    (e.method, e.wesog_method) for e in default_contract().endpoints
    if e.path == "/imgs/{image_id}" and e.wesog_method is not None
])
def test_single_image_paths_are_one_item_operations(
    wesog_client: WesogClient, method: str, label: str
) -> None:
    [image_id] = seed(wesog_client, 1)
    body = None if method == "DELETE" else {"src": SRC}
    exchange, op = run(wesog_client, method, wesog_client.image_path(image_id), body,
                       strict=False)
    got = (op["method"], op["num_total"], op["resource"])
    # `method` is "based on the HTTP method" (API reference); PATCH as `upd` is A1's reading.
    rule = "A1" if method == "PATCH" and got[1:] == (1, "image") else "D9"
    check(exchange, got == (label, 1, "image"), rule, "single-image operation",
          "method label, one item, resource image", expected=(label, 1, "image"), got=got)


@rules("OAS", "A15")
def test_fields_projects_the_image(wesog_client: WesogClient) -> None:
    [image_id] = seed(wesog_client, 1, title="t", city="c")
    exchange = wesog_client.get_image(image_id, fields=["title", "src"])
    body = exchange.body if isinstance(exchange.body, dict) else {}
    # get-1-image documents `fields` ("fields to return"): the named ones come back.
    named = (body.get("title"), body.get("src"))
    check(exchange, exchange.status == 200 and named == ("t", SRC), "OAS", "fields",
          "with fields, the named ones are returned", expected=("t", SRC), got=named)
    # What else a projection includes is not documented (A15: nothing).
    extra = sorted(k for k, v in body.items() if k not in ("title", "src") and v is not None)
    check(exchange, not extra, "A15", "fields", "with fields, only the named ones",
          expected=[], got=extra)
