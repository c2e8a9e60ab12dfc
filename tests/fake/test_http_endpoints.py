"""Every endpoint over HTTP (ASGI): the happy paths, statuses and the answers' shapes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import yaml

from contracts.spec import contract_text

if TYPE_CHECKING:
    from conftest import FakeServer, MakeFake

pytestmark = pytest.mark.anyio

SRC = "https://example.com/1.jpg"
BATCH_BODIES: dict[str, list[dict[str, Any]]] = {
    "POST": [{"id": "a", "src": SRC, "title": "T"}, {"id": "b", "src": SRC}],
    "PUT": [{"id": "a", "src": SRC, "title": "T"}, {"id": "b", "src": SRC}],
    "PATCH": [{"id": "a", "title": "T"}, {"id": "b", "caption": None}],
    "DELETE": [{"id": "a"}, {"id": "b"}],
}
METHOD_LABEL = {"POST": "add", "PUT": "upd", "PATCH": "upd", "DELETE": "del"}
SINGLE_BODIES: dict[str, Any] = {
    "POST": {"src": SRC}, "PUT": {"src": SRC}, "PATCH": {"title": "T"}, "DELETE": None,
}
# Every endpoint of the contract, as (method, path, body) that would otherwise succeed.
ENDPOINTS: list[tuple[str, str, Any]] = [
    *[(method, "/imgs", body) for method, body in BATCH_BODIES.items()],
    *[(method, "/imgs/a", body) for method, body in SINGLE_BODIES.items()],
    ("GET", "/imgs/a", None), ("GET", "/ops", None), ("GET", "/ops/1", None),
    ("DELETE", "/ops/1", None),
]


@pytest.mark.parametrize("method", list(BATCH_BODIES))
async def test_d7_a5_batch_wait_false_answers_202_with_the_queued_operation(
    fake: FakeServer, method: str
) -> None:
    reply = await fake.call(method, "/imgs", body=BATCH_BODIES[method])
    assert reply.status == 202
    op = reply.body
    assert (op["method"], op["resource"], op["num_total"]) == (METHOD_LABEL[method], "image", 2)
    assert (op["is_started"], op["is_finished"], op["all_good"]) == (False, False, None)
    assert (op["do_wait"], op["do_urgent"], op["do_strict"]) == (False, False, False)
    assert [o["op_id"] for o in await fake.ops()] == [op["op_id"]]


@pytest.mark.parametrize("method", list(BATCH_BODIES))
async def test_d7_a5_batch_wait_true_answers_200_with_the_finished_operation(
    fake: FakeServer, method: str
) -> None:
    reply = await fake.call(method, "/imgs", params={"wait": "true"}, body=BATCH_BODIES[method])
    assert reply.status == 200
    op = reply.body
    assert (op["is_finished"], op["all_good"], op["num_good"], op["do_wait"]) == (
        True, True, 2, True,
    )
    assert isinstance(op["op_id"], int)


# After a strict single-image call on the stored {"src": "old", "caption": "c"}: the image
# (its non-null fields, or None once deleted) and the operation's errors.
SINGLE_OUTCOMES: dict[str, tuple[dict[str, Any] | None, list[dict[str, Any]]]] = {
    "POST": ({"src": "old", "caption": "c"}, [{"id": 0, "msg": "La imagen 'a' ya existe."}]),
    "PUT": ({"src": SRC}, []),
    "PATCH": ({"src": "old", "caption": "c", "title": "T"}, []),
    "DELETE": (None, []),
}


@pytest.mark.parametrize("method", list(SINGLE_BODIES))
async def test_single_image_mutations_make_one_item_operations(
    fake: FakeServer, method: str
) -> None:
    fake.controller.seed("k1", [{"id": "a", "src": "old", "caption": "c"}])
    body = SINGLE_BODIES[method]
    reply = await fake.call(
        method, "/imgs/a", params={"wait": "1", "strict": "1"},
        **({} if body is None else {"body": body}),
    )
    assert reply.status == 200
    assert (reply.body["num_total"], reply.body["method"]) == (1, METHOD_LABEL[method])
    image, errors = SINGLE_OUTCOMES[method]
    assert reply.body["errors"] == errors
    stored = fake.controller.images("k1").get("a")
    assert (None if stored is None else {k: v for k, v in stored.items() if v is not None}) == (
        None if image is None else {"image_id": "a", **image}
    )


async def test_get_image_answers_every_read_field_or_only_the_fields_asked(
    fake: FakeServer,
) -> None:
    await fake.call("POST", "/imgs", params={"wait": "true"},
                    body=[{"id": "a", "src": SRC, "keywords": ["x"], "nsfw": True}])
    whole = await fake.call("GET", "/imgs/a")
    assert whole.status == 200
    assert whole.body["image_id"] == "a"
    assert (whole.body["src"], whole.body["keywords"], whole.body["nsfw"]) == (SRC, ["x"], True)
    assert (whole.body["title"], whole.body["height"], whole.body["n_faces"]) == (None, None, None)
    some = await fake.call("GET", "/imgs/a", params={"fields": ["src", "title"]})
    assert some.body == {"src": SRC, "title": None}


async def test_get_image_of_an_unknown_id_is_404(fake: FakeServer) -> None:
    reply = await fake.call("GET", "/imgs/nope")
    assert reply.status == 404
    assert reply.body == {"detail": "Image 'nope' not found."}


async def test_d8_get_operation_has_no_op_id_and_the_list_has_it_oldest_first(
    fake: FakeServer,
) -> None:
    ids = [(await fake.call("DELETE", f"/imgs/i{n}")).body["op_id"] for n in range(3)]
    single = await fake.op(ids[1])
    assert "op_id" not in single
    assert single["is_finished"] is True
    listed = await fake.ops()
    assert [op["op_id"] for op in listed] == ids
    assert {k: v for k, v in listed[1].items() if k != "op_id"} == single


async def test_d8_unknown_or_other_tenants_operation_is_404(fake: FakeServer) -> None:
    theirs = (await fake.call("DELETE", "/imgs/a", key="k2")).body["op_id"]
    for method in ("GET", "DELETE"):
        for op_id in (theirs, 999_999):
            reply = await fake.call(method, f"/ops/{op_id}", key="k1")
            assert reply.status == 404
            assert reply.body == {"detail": f"Operation {op_id} not found."}
    assert (await fake.op(theirs, key="k2"))["is_finished"] is True


async def test_a8_cancel_answers_200_then_409_after_the_start(make_fake: MakeFake) -> None:
    fake = make_fake(queue_delay_ms=100)
    first = (await fake.call("DELETE", "/imgs/a")).body["op_id"]
    second = (await fake.call("DELETE", "/imgs/b")).body["op_id"]
    cancelled = await fake.call("DELETE", f"/ops/{first}")
    assert cancelled.status == 200
    assert "op_id" not in cancelled.body
    assert (cancelled.body["is_started"], cancelled.body["is_finished"]) == (False, True)
    fake.controller.settle()
    for op_id in (first, second):
        refused = await fake.call("DELETE", f"/ops/{op_id}")
        assert refused.status == 409
        assert refused.body == {
            "detail": f"Operation {op_id} has already started and cannot be cancelled."
        }


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
@pytest.mark.parametrize("key", [None, "", "   "], ids=["missing", "empty", "blank"])
async def test_a10_missing_or_empty_api_key_is_401_on_every_endpoint(
    fake: FakeServer, method: str, path: str, body: Any, key: str | None
) -> None:
    reply = await fake.call(method, path, key=key, **({} if body is None else {"body": body}))
    assert reply.status == 401
    assert reply.body == {"detail": "Missing or unknown API-Key header."}
    assert fake.state() == {}


async def test_a10_configured_api_keys_reject_every_other_key(make_fake: MakeFake) -> None:
    fake = make_fake(api_keys=("good",))
    refused = await fake.call("POST", "/imgs/a", key="bad", body={"src": SRC})
    assert refused.status == 401
    assert (await fake.call("GET", "/ops", key="bad")).status == 401
    assert fake.state() == {}
    accepted = await fake.call("POST", "/imgs/a", key="good", body={"src": SRC})
    assert accepted.status == 202


@pytest.mark.parametrize(
    "raw", ["true", "TRUE", "tRuE", "yes", "Yes", "on", "ON", "1", "t", "T", "y"]
)
async def test_a9_true_booleans_as_fastapi_reads_them(fake: FakeServer, raw: str) -> None:
    params = {"wait": raw, "urgent": raw, "strict": raw}
    reply = await fake.call("DELETE", "/imgs/a", params=params)
    assert reply.status == 200  # wait: finished with zero delays
    assert (reply.body["do_wait"], reply.body["do_urgent"], reply.body["do_strict"]) == (
        True, True, True,
    )


@pytest.mark.parametrize(
    "raw", ["false", "False", "fAlSe", "no", "NO", "off", "oFF", "0", "f", "F", "n"]
)
async def test_a9_false_booleans_as_fastapi_reads_them(fake: FakeServer, raw: str) -> None:
    params = {"wait": raw, "urgent": raw, "strict": raw}
    reply = await fake.call("DELETE", "/imgs/a", params=params)
    assert reply.status == 202
    assert (reply.body["do_wait"], reply.body["do_urgent"], reply.body["do_strict"]) == (
        False, False, False,
    )


@pytest.mark.parametrize(
    ("lang", "message"),
    [(None, "La imagen 'a' ya existe."), ("en", "Image 'a' already exists."),
     ("pt", "A imagem 'a' já existe."), ("fr", "L'image 'a' existe déjà."),
     ("ru", "Изображение 'a' уже существует."), ("es", "La imagen 'a' ya existe.")],
)
async def test_lang_picks_the_messages_language_and_defaults_to_es(
    fake: FakeServer, lang: str | None, message: str
) -> None:
    params = {"wait": "true", "strict": "true", **({} if lang is None else {"lang": lang})}
    body = [{"id": "a", "src": SRC}, {"id": "a", "src": SRC}]
    reply = await fake.call("POST", "/imgs", params=params, body=body)
    assert reply.body["errors"] == [{"id": 1, "msg": message}]


async def test_a12_wait_and_strict_default_to_false(fake: FakeServer) -> None:
    fake.controller.seed("k1", [{"id": "a", "src": "old"}])
    reply = await fake.call("POST", "/imgs/a", body={"src": "new"})
    assert reply.status == 202
    assert (reply.body["do_wait"], reply.body["do_strict"]) == (False, False)
    assert fake.controller.images("k1")["a"]["src"] == "new"  # non-strict: an upsert


async def test_a12_guide_defaults_make_wait_and_strict_true(make_fake: MakeFake) -> None:
    fake = make_fake(guide_defaults=True)
    fake.controller.seed("k1", [{"id": "a", "src": "old"}])
    reply = await fake.call("POST", "/imgs/a", body={"src": "new"})
    assert reply.status == 200
    assert (reply.body["do_wait"], reply.body["do_strict"], reply.body["all_good"]) == (
        True, True, False,
    )
    assert fake.controller.images("k1")["a"]["src"] == "old"
    explicit = await fake.call("POST", "/imgs/a", params={"wait": "no", "strict": "no"},
                               body={"src": "new"})
    assert explicit.status == 202
    assert (explicit.body["do_wait"], explicit.body["do_strict"]) == (False, False)


async def test_the_contract_is_served_at_openapi_yaml(fake: FakeServer) -> None:
    reply = await fake.call("GET", "/openapi.yaml", key=None)
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("application/yaml")
    assert reply.body.encode() == contract_text()
    assert yaml.safe_load(reply.body)["openapi"] == "3.1.0"


@pytest.mark.parametrize("path", ["/openapi.yaml", "/ops", "/imgs/a", "/ops/1"])
async def test_head_answers_like_get_without_a_body(fake: FakeServer, path: str) -> None:
    fake.controller.seed("k1", [{"id": "a", "src": SRC}])
    await fake.call("DELETE", "/imgs/zz")
    head = await fake.call("HEAD", path)  # `call` asserts that it has no body
    get = await fake.client.get(path, headers={"API-Key": "k1"})
    assert head.status == get.status_code == 200
    # The headers of the GET's answer, the length of the body it would have sent included.
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers["content-length"] == str(len(get.content))
    assert len(get.content) > 2


@pytest.mark.parametrize(
    ("method", "path"),
    [("PUT", "/ops"), ("POST", "/ops/1"), ("PATCH", "/ops/1"), ("GET", "/imgs"),
     ("POST", "/openapi.yaml")],
)
async def test_methods_off_the_contract_are_405(fake: FakeServer, method: str, path: str) -> None:
    reply = await fake.call(method, path, body=[{"id": "a", "src": SRC}])
    assert reply.status == 405
    assert reply.body == {"detail": "Method Not Allowed"}
    assert "allow" in reply.headers
    assert fake.state() == {}


@pytest.mark.parametrize("path", ["/nothing", "/imgs/", "/ops/1/x", "/imgs/a/b"])
async def test_unknown_paths_are_404_json(fake: FakeServer, path: str) -> None:
    reply = await fake.call("POST", path, body={"src": SRC})
    assert reply.status == 404
    assert reply.body == {"detail": "Not Found"}
    assert fake.state() == {}


async def test_d8_each_tenant_lists_only_its_own_operations(fake: FakeServer) -> None:
    mine = (await fake.call("DELETE", "/imgs/a", key="k1")).body["op_id"]
    theirs = (await fake.call("DELETE", "/imgs/a", key="k2")).body["op_id"]
    assert [op["op_id"] for op in await fake.ops("k1")] == [mine]
    assert [op["op_id"] for op in await fake.ops("k2")] == [theirs]
    assert await fake.ops("k3") == []


async def test_a11_limits_changed_at_run_time_apply_to_the_next_request(
    fake: FakeServer,
) -> None:
    body = [{"id": f"i{n}", "src": SRC} for n in range(3)]
    fake.controller.configure(max_batch=2)
    (await fake.call("POST", "/imgs", body=body)).expect_detail(413, "3 items", "limit is 2")
    fake.controller.configure(max_batch=3, max_body_bytes=50)
    (await fake.call("POST", "/imgs", body=body)).expect_detail(413, "50 bytes")
    fake.controller.configure(max_body_bytes=10_000)
    assert (await fake.call("POST", "/imgs", body=body)).status == 202


async def test_on_a_real_clock_with_zero_delays_wait_true_answers_finished(
    make_fake: MakeFake,
) -> None:
    fake = make_fake(clock="real")
    body = [{"id": "a", "src": SRC}]
    reply = await fake.call("POST", "/imgs", params={"wait": "true"}, body=body)
    assert reply.status == 200
    assert (reply.body["is_finished"], reply.body["all_good"]) == (True, True)
    assert (await fake.op(reply.body["op_id"]))["is_finished"] is True
    assert (await fake.call("GET", "/imgs/a")).body["src"] == SRC
