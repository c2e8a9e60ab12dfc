"""Large batches: accepted fast, judged once, and the garbage collector always back on."""

from __future__ import annotations

import gc
import json

import httpx
import orjson
import pytest
from starlette.applications import Starlette

from wesog_mock import MockConfig, create_app

pytestmark = pytest.mark.anyio



def _batch(count: int, bad_index: int | None = None) -> list[dict[str, object]]:
    items: list[dict[str, object]] = [
        {"id": f"img-{i}", "src": f"https://example.com/{i}.jpg", "caption": "x" * 100}
        for i in range(count)
    ]
    if bad_index is not None:
        items[bad_index] = {"id": f"img-{bad_index}", "titel": "lost", "src": 5}
    return items


async def test_a_large_batch_is_decoded_once_and_judged_from_that_document(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = create_app(MockConfig(clock="virtual"))
    controller = app.state.controller
    body = _batch(8_000, bad_index=4_321)
    assert len(json.dumps(body)) > 1024 * 1024  # over the size where the collector pauses
    decoded: list[int] = []
    loads, fast_loads = json.loads, orjson.loads

    def counting_loads(text: str | bytes, **kwargs: object) -> object:
        decoded.append(len(text))
        return loads(text, **kwargs)  # type: ignore[arg-type]

    def counting_fast_loads(text: bytes) -> object:  # the decoder tried first
        decoded.append(len(text))
        return fast_loads(text)

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://t", headers={"API-Key": "k"}) as http:
        monkeypatch.setattr(json, "loads", counting_loads)
        monkeypatch.setattr(orjson, "loads", counting_fast_loads)
        answer = await http.post("/imgs", json=body)
        entries = controller.journal.entries  # the contract check of the entry runs here
        monkeypatch.undo()
    assert [size > 1024 * 1024 for size in decoded] == [True]  # by the route, not again
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", 4321, "src"]
    assert gc.isenabled()
    [entry] = entries
    assert entry.body_checked
    assert {(f.location, f.severity) for f in entry.findings} == {
        ("body[4321].src", "violation"), ("body[4321].titel", "warning"),
    }


async def test_a_large_valid_batch_is_stored_whole_and_the_collector_is_back_on() -> None:
    app = create_app(MockConfig(clock="virtual"))
    controller = app.state.controller
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://t", headers={"API-Key": "k"}) as http:
        answer = await http.post("/imgs?wait=true", json=_batch(8_000))
    assert answer.status_code == 200
    assert answer.json()["num_good"] == 8_000
    assert gc.isenabled()
    assert len(controller.images("k")) == 8_000
    assert controller.journal.entries[0].findings == ()


async def test_the_collector_stays_off_if_someone_else_turned_it_off() -> None:
    app = create_app(MockConfig(clock="virtual"))
    gc.disable()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://t", headers={"API-Key": "k"}) as http:
            assert (await http.post("/imgs", json=_batch(8_000))).status_code == 202
        assert not gc.isenabled()
    finally:
        gc.enable()


async def test_a_large_batch_freezes_nothing_in_a_process_that_does_not_freeze() -> None:
    # The fixtures run in the user's test process: its collector is theirs.
    app = create_app(MockConfig(clock="virtual"))
    # This test plays a process that never froze (a runner such as mutmut freezes before it
    # forks the tests), and puts the runner's frozen objects back afterwards.
    was_frozen = gc.get_freeze_count()
    gc.unfreeze()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://t", headers={"API-Key": "k"}) as http:
            assert (await http.post("/imgs?wait=true", json=_batch(8_000))).status_code == 200
        assert gc.get_freeze_count() == 0
    finally:
        if was_frozen:
            gc.freeze()


async def _post_frozen(app: Starlette, body: bytes) -> tuple[httpx.Response, int]:
    """`POST /imgs?wait=true` of `body` in a process that freezes as serve does: the answer,
    and how many objects accepting it froze (what shows the paused, large-batch path)."""
    gc.freeze()
    try:
        before = gc.get_freeze_count()
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://t", headers={"API-Key": "k"}) as http:
            answer = await http.post("/imgs?wait=true", content=body,
                                     headers={"Content-Type": "application/json"})
        assert gc.isenabled()
        return answer, gc.get_freeze_count() - before
    finally:
        gc.unfreeze()


async def test_a_large_batch_is_frozen_in_a_process_that_freezes_as_serve_does() -> None:
    # `wesog-mock serve` freezes what startup made; a big batch's records are frozen after it,
    # so that the first collection does not walk them all again.
    app = create_app(MockConfig(clock="virtual"))
    answer, frozen = await _post_frozen(app, json.dumps(_batch(8_000)).encode())
    assert answer.status_code == 200
    assert frozen >= 8_000  # at least one tuple per record
    assert len(app.state.controller.images("k")) == 8_000


async def _freezes(body: bytes) -> bool:
    """Whether accepting `body` froze objects: whether it took the large-batch path."""
    answer, frozen = await _post_frozen(create_app(MockConfig(clock="virtual")), body)
    assert answer.status_code == 200, answer.text
    return frozen > 0


@pytest.mark.parametrize(("count", "frozen"), [(1_999, False), (2_000, True)])
async def test_a_batch_of_2000_items_takes_the_large_path_however_small_its_body(
    count: int, frozen: bool
) -> None:
    body = json.dumps([{"id": f"i{n}", "src": "https://example.com/1.jpg"}
                       for n in range(count)]).encode()
    assert len(body) < 1024 * 1024  # below the body size that pauses on its own
    assert await _freezes(body) is frozen


@pytest.mark.parametrize(("size", "frozen"), [(1024 * 1024 - 1, False), (1024 * 1024, True)])
async def test_a_body_of_1_mib_takes_the_large_path_however_few_its_items(
    size: int, frozen: bool
) -> None:
    items: list[dict[str, str]] = [
        {"id": f"i{n}", "src": "https://example.com/1.jpg", "caption": "x" * 10_000}
        for n in range(100)  # far below the 2,000 items that pause on their own
    ]
    short = len(json.dumps(items).encode())
    items[-1]["caption"] += "x" * (size - short)
    body = json.dumps(items).encode()
    assert len(body) == size
    assert await _freezes(body) is frozen
