"""Bad input over HTTP: each gets its documented 4xx, never a 500, and changes nothing (A9)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import FakeServer, MakeFake, Reply

pytestmark = pytest.mark.anyio

SRC = "https://example.com/1.jpg"
GOOD = [{"id": "x", "src": SRC}]
ABSENT: Any = object()  # in the table below: send no body at all
Loc = list[str | int]
# (method, path, params, body or raw bytes, expected FastAPI errors as (type, loc) pairs)
Case = tuple[str, str, dict[str, str], Any, list[tuple[str, Loc]]]


@pytest.fixture
async def lived_in(fake: FakeServer) -> FakeServer:
    """A fake with one stored image and one finished operation, so "unchanged" means much."""
    reply = await fake.call("POST", "/imgs", params={"wait": "true"},
                            body=[{"id": "a", "src": SRC, "title": "T"}])
    assert reply.status == 200
    return fake


async def assert_unchanged_by(
    fake: FakeServer, method: str, path: str, **request: Any
) -> Reply:
    """Send one request; it must leave every tenant's images and operations as they were."""
    before, ops_before = fake.state(), await fake.ops()
    reply = await fake.call(method, path, **request)
    assert fake.state() == before
    assert await fake.ops() == ops_before
    return reply


NOT_A_LIST: list[Case] = [
    (m, "/imgs", {}, {"id": "x", "src": SRC}, [("list_type", ["body"])])
    for m in ("POST", "PUT", "PATCH", "DELETE")
]
EMPTY: list[Case] = [
    (m, "/imgs", {}, [], [("too_short", ["body"])]) for m in ("POST", "PUT", "PATCH", "DELETE")
]
INVALID: list[Case] = [
    *NOT_A_LIST,
    *EMPTY,
    ("POST", "/imgs", {}, b'[{"id": "x",', [("json_invalid", ["body"])]),
    ("POST", "/imgs", {}, b"\xff\xfe\x00", [("json_invalid", ["body"])]),
    ("POST", "/imgs", {}, b"", [("missing", ["body"])]),
    ("POST", "/imgs/x", {}, b"", [("missing", ["body"])]),
    ("POST", "/imgs", {}, None, [("list_type", ["body"])]),
    ("POST", "/imgs", {}, [{"id": "x"}], [("missing", ["body", 0, "src"])]),
    ("PUT", "/imgs", {}, [{"id": "x", "src": None}], [("string_type", ["body", 0, "src"])]),
    ("POST", "/imgs", {}, [{"id": "x", "src": 7}], [("string_type", ["body", 0, "src"])]),
    ("POST", "/imgs", {}, [{"id": "x", "src": ""}], [("string_too_short", ["body", 0, "src"])]),
    ("POST", "/imgs/x", {}, {}, [("missing", ["body", "src"])]),
    ("PUT", "/imgs/x", {}, {"src": None}, [("string_type", ["body", "src"])]),
    ("PATCH", "/imgs/x", {}, {"src": 5}, [("string_type", ["body", "src"])]),
    ("POST", "/imgs/x", {}, [{"src": SRC}], [("model_attributes_type", ["body"])]),
    ("POST", "/imgs", {}, [{"id": 5, "src": SRC}], [("string_type", ["body", 0, "id"])]),
    ("DELETE", "/imgs", {}, [{"id": 5}], [("string_type", ["body", 0, "id"])]),
    ("PATCH", "/imgs", {}, [{"title": "t"}], [("missing", ["body", 0, "id"])]),
    ("POST", "/imgs", {}, [{"id": "", "src": SRC}], [("string_too_short", ["body", 0, "id"])]),
    ("POST", "/imgs", {}, [5], [("model_attributes_type", ["body", 0])]),
    ("POST", "/imgs", {}, [{"id": "y", "src": SRC}, {"id": "x", "src": SRC, "nsfw": "maybe"}],
     [("bool_type", ["body", 1, "nsfw"])]),
    ("POST", "/imgs", {}, [{"id": "x", "src": SRC, "keywords": "red"}],
     [("list_type", ["body", 0, "keywords"])]),
    ("POST", "/imgs", {}, [{"id": 1}, {"id": "x", "src": None}],
     [("string_type", ["body", 0, "id"]), ("missing", ["body", 0, "src"]),
      ("string_type", ["body", 1, "src"])]),
    ("POST", "/imgs", {"wait": "maybe"}, GOOD, [("bool_parsing", ["query", "wait"])]),
    ("DELETE", "/imgs/a", {"urgent": "2"}, ABSENT, [("bool_parsing", ["query", "urgent"])]),
    ("PATCH", "/imgs", {"strict": ""}, GOOD, [("bool_parsing", ["query", "strict"])]),
    ("PUT", "/imgs/a", {"lang": "de"}, {"src": SRC}, [("enum", ["query", "lang"])]),
    ("POST", "/imgs", {"lang": "EN"}, GOOD, [("enum", ["query", "lang"])]),
    ("POST", "/imgs", {"wait": "x"}, b"[1,", [("bool_parsing", ["query", "wait"]),
                                              ("json_invalid", ["body"])]),
    ("GET", "/ops/abc", {}, ABSENT, [("int_parsing", ["path", "op_id"])]),
    ("DELETE", "/ops/1.5", {}, ABSENT, [("int_parsing", ["path", "op_id"])]),
    ("GET", "/imgs/a", {"fields": "titel"}, ABSENT, [("enum", ["query", "fields", 0])]),
]


@pytest.mark.parametrize(
    ("method", "path", "params", "body", "errors"), INVALID,
    ids=[f"{n}-{case[0]}-{case[4][0][0]}" for n, case in enumerate(INVALID)],
)
async def test_a9_invalid_requests_answer_422_and_create_nothing(
    lived_in: FakeServer, method: str, path: str, params: dict[str, str], body: Any,
    errors: list[tuple[str, Loc]],
) -> None:
    request: dict[str, Any] = {"params": params}
    if isinstance(body, bytes):
        request.update(content=body, headers={"Content-Type": "application/json"})
    elif body is not ABSENT:
        request["body"] = body
    reply = await assert_unchanged_by(lived_in, method, path, **request)
    reply.expect_422(*errors)


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
async def test_a9_a_wrong_content_type_is_422(lived_in: FakeServer, content_type: str) -> None:
    reply = await assert_unchanged_by(
        lived_in, "POST", "/imgs", body=GOOD, headers={"Content-Type": content_type}
    )
    reply.expect_422(("content_type", ["header", "Content-Type"]))


async def test_a9_a_json_suffix_content_type_is_accepted(fake: FakeServer) -> None:
    reply = await fake.call(
        "POST", "/imgs", body=[{"id": "x", "src": SRC, "title": "T"}],
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert reply.status == 202
    assert (reply.body["num_total"], reply.body["method"]) == (1, "add")
    fake.controller.settle()
    assert (await fake.op(reply.body["op_id"]))["all_good"] is True
    image = (await fake.call("GET", "/imgs/x")).body
    assert (image["image_id"], image["src"], image["title"]) == ("x", SRC, "T")  # read as JSON


async def test_a9_unknown_fields_are_ignored_and_not_stored(fake: FakeServer) -> None:
    body = [{"id": "x", "src": SRC, "titel": "typo", "height": 5, "image_id": "y"}]
    assert (await fake.call("POST", "/imgs", body=body)).status == 202
    patched = await fake.call("PATCH", "/imgs/x", body={"bogus": [1], "title": "T"})
    assert patched.status == 202
    image = (await fake.call("GET", "/imgs/x")).body
    assert (image["image_id"], image["title"], image["height"]) == ("x", "T", None)
    assert "titel" not in image
    assert "bogus" not in image
    assert (await fake.call("GET", "/imgs/y")).status == 404


@pytest.mark.parametrize(
    ("raw_path", "image_id"),
    [("/imgs/caf%C3%A9", "café"), ("/imgs/a%20b", "a b"), ("/imgs/日本", "日本"),
     ("/imgs/123", "123")],
)
async def test_ids_with_unicode_spaces_or_digits_work_on_single_image_paths(
    fake: FakeServer, raw_path: str, image_id: str
) -> None:
    created = await fake.call("PUT", raw_path, params={"wait": "true"}, body={"src": SRC})
    assert created.status == 200
    assert fake.controller.images("k1") == {}  # non-strict PUT of a missing id is ignored
    await fake.call("POST", raw_path, body={"src": SRC})
    read = await fake.call("GET", raw_path)
    assert read.status == 200
    assert read.body["image_id"] == image_id
    assert set(fake.controller.images("k1")) == {image_id}


@pytest.mark.parametrize("path", ["/imgs/a/b", "/imgs/a%2Fb", "/imgs/a%2fb", "/imgs/"])
@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
async def test_ids_with_a_slash_answer_404_json_and_store_nothing(
    lived_in: FakeServer, method: str, path: str
) -> None:
    request: dict[str, Any] = {} if method in ("GET", "DELETE") else {"body": {"src": SRC}}
    reply = await assert_unchanged_by(lived_in, method, path, **request)
    assert reply.expect_detail(404) == "Not Found"


@pytest.mark.parametrize(("method", "op_id"), [("GET", 424242), ("DELETE", 424242),
                                               ("GET", -1), ("GET", 0)])
async def test_a10_an_unknown_operation_is_404(
    lived_in: FakeServer, method: str, op_id: int
) -> None:
    reply = await assert_unchanged_by(lived_in, method, f"/ops/{op_id}")
    reply.expect_detail(404, str(op_id), "not found")


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_a11_a_batch_over_max_batch_is_413_and_stores_nothing(
    make_fake: MakeFake, method: str
) -> None:
    fake = make_fake(max_batch=3)
    fake.controller.seed("k1", [{"id": "a", "src": SRC}])
    body = [{"id": f"i{n}", "src": SRC} for n in range(4)]
    reply = await assert_unchanged_by(fake, method, "/imgs", body=body)
    reply.expect_detail(413, "4 items", "limit is 3")
    assert (await fake.call(method, "/imgs", body=body[:3])).status == 202


async def test_a11_a_body_over_the_limit_with_content_length_is_413(make_fake: MakeFake) -> None:
    fake = make_fake(max_body_bytes=200)
    body = [{"id": "x", "src": SRC, "title": "t" * 200}]
    reply = await assert_unchanged_by(fake, "POST", "/imgs", body=body)
    reply.expect_detail(413, "200 bytes")


async def test_a11_a_body_of_exactly_the_limit_is_accepted(make_fake: MakeFake) -> None:
    raw = b'[{"id": "x", "src": "s"}]'
    fake = make_fake(max_body_bytes=len(raw))
    reply = await fake.call("POST", "/imgs", content=raw,
                            headers={"Content-Type": "application/json"})
    assert reply.status == 202


class Chunks:
    """A streamed body (no Content-Length: chunked) that counts how much was read."""

    def __init__(self, total: int, size: int = 100) -> None:
        self.total, self.size, self.sent = total, size, 0

    async def __aiter__(self) -> Any:
        yield b"["
        for n in range(self.total):
            self.sent += 1
            item = f'{{"id": "i{n}", "src": "{"s" * self.size}"}}'
            yield (item if n == self.total - 1 else item + ",").encode()
        yield b"]"


async def test_a11_a_streamed_body_over_the_limit_is_413_without_reading_it_all(
    make_fake: MakeFake,
) -> None:
    fake = make_fake(max_body_bytes=1000)
    chunks = Chunks(total=1000)
    reply = await assert_unchanged_by(
        fake, "POST", "/imgs", content=chunks, headers={"Content-Type": "application/json"}
    )
    reply.expect_detail(413, "1000 bytes")
    assert chunks.sent < 20  # it stopped at the limit, far from the end of the stream


async def test_a11_a_streamed_body_under_the_limit_is_accepted(make_fake: MakeFake) -> None:
    fake = make_fake(max_body_bytes=10_000)
    reply = await fake.call("POST", "/imgs", params={"wait": "1"}, content=Chunks(total=5),
                            headers={"Content-Type": "application/json"})
    assert reply.status == 200
    assert len(fake.controller.images("k1")) == 5


async def test_a13_a_declared_length_over_the_limit_is_refused_before_reading(
    make_fake: MakeFake,
) -> None:
    fake = make_fake(max_body_bytes=1000)
    chunks = Chunks(total=1000)
    reply = await fake.call("POST", "/imgs", content=chunks, headers={
        "Content-Type": "application/json", "Content-Length": "1000000"})
    assert reply.status == 413
    assert chunks.sent == 0
    assert fake.state() == {}


async def test_a13_the_api_key_is_checked_before_the_body_size(make_fake: MakeFake) -> None:
    fake = make_fake(max_body_bytes=10)
    reply = await fake.call("POST", "/imgs", key="", body=GOOD)
    assert reply.status == 401


async def test_a13_the_body_size_is_checked_before_the_query(make_fake: MakeFake) -> None:
    fake = make_fake(max_body_bytes=10)
    reply = await fake.call("POST", "/imgs", params={"wait": "maybe"}, body=GOOD)
    assert reply.status == 413


async def test_a13_the_query_is_checked_before_the_batch_size(make_fake: MakeFake) -> None:
    fake = make_fake(max_batch=1)
    reply = await fake.call("POST", "/imgs", params={"lang": "de"}, body=GOOD * 2)
    reply.expect_422(("enum", ["query", "lang"]))


async def test_a13_the_batch_size_is_checked_before_the_items(make_fake: MakeFake) -> None:
    fake = make_fake(max_batch=1)
    reply = await fake.call("POST", "/imgs", body=[{"id": 1}, {"src": None}])
    assert reply.status == 413
    shape = await fake.call("POST", "/imgs", body={"not": "a list"})
    shape.expect_422(("list_type", ["body"]))


async def test_a9_delete_one_image_has_no_body_so_any_body_is_ignored(
    make_fake: MakeFake,
) -> None:
    # deleteImage documents no body and no 413: like FastAPI, the fake never reads one there.
    fake = make_fake(max_body_bytes=10)
    fake.controller.seed("k1", [{"id": "a", "src": SRC}])
    reply = await fake.call("DELETE", "/imgs/a", params={"wait": "true"}, content=b"x" * 100)
    assert reply.status == 200
    assert fake.controller.images("k1") == {}


@pytest.mark.parametrize("encoding", ["gzip", "br"])
async def test_a_declared_content_encoding_is_a_422_naming_the_header(
    lived_in: FakeServer, encoding: str
) -> None:
    # The body is plain JSON: the header alone is refused, before the body is decoded.
    reply = await assert_unchanged_by(lived_in, "POST", "/imgs", body=GOOD,
                                      headers={"Content-Encoding": encoding.upper()})
    assert reply.status == 422
    assert reply.body == {"detail": [{
        "type": "content_encoding", "loc": ["header", "Content-Encoding"],
        "msg": f"Content-Encoding {encoding!r} is not supported: send the body uncompressed",
        "input": encoding,
    }]}


@pytest.mark.parametrize("encoding", ["", "identity", "Identity"])
async def test_an_identity_or_empty_content_encoding_is_no_encoding(
    fake: FakeServer, encoding: str
) -> None:
    reply = await fake.call("POST", "/imgs", params={"wait": "true"}, body=GOOD,
                            headers={"Content-Encoding": encoding})
    assert reply.status == 200
    assert fake.state()["k1"][0]["x"]["src"] == SRC


async def test_a_content_encoding_on_a_bodiless_delete_is_not_read(fake: FakeServer) -> None:
    reply = await fake.call("DELETE", "/imgs/x", params={"wait": "true"},
                            headers={"Content-Encoding": "gzip"})
    assert (reply.status, reply.body["is_finished"]) == (200, True)  # not a 422
