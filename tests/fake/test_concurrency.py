"""Many requests at once, from several tenants and threads: nothing lost, tenants kept apart."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import anyio.lowlevel
import httpx
import pytest

from contracts.spec import default_contract
from wesog_mock import Controller, MockConfig, create_app
from wesog_mock.domain.operations import Mutation

if TYPE_CHECKING:
    from conftest import MakeFake, Reply

CONTRACT = default_contract()
TENANTS = [f"tenant-{n}" for n in range(5)]
OPS_PER_TENANT = 600


def src(tenant: str, image_id: str) -> str:
    return f"https://example.com/{tenant}/{image_id}.jpg"


@pytest.mark.anyio
@pytest.mark.parametrize("delays", [{}, {"item_ms": 1, "queue_delay_ms": 3, "workers": 2}],
                         ids=["immediate", "queued"])
async def test_thousands_of_concurrent_requests_lose_nothing_and_keep_tenants_apart(
    make_fake: MakeFake, delays: dict[str, Any]
) -> None:
    fake = make_fake(**delays)

    async def send(tenant: str, n: int) -> Reply:
        # Every tenant uses the same ids, strictly: a leak between tenants would be a conflict.
        if n % 3 == 0:
            return await fake.call("POST", f"/imgs/n{n}", key=tenant, params={"strict": "true"},
                                   body={"src": src(tenant, f"n{n}")})
        body = [{"id": f"n{n}-{part}", "src": src(tenant, f"n{n}-{part}")} for part in "ab"]
        return await fake.call("POST", "/imgs", key=tenant, params={"strict": "true"},
                               body=body)

    replies = await asyncio.gather(
        *(send(tenant, n) for n in range(OPS_PER_TENANT) for tenant in TENANTS)
    )
    assert {reply.status for reply in replies} == {202}
    op_ids = [reply.body["op_id"] for reply in replies]
    assert len(set(op_ids)) == len(op_ids) == OPS_PER_TENANT * len(TENANTS)
    fake.controller.settle()

    expected_ids = {f"n{n}" for n in range(0, OPS_PER_TENANT, 3)} | {
        f"n{n}-{part}" for n in range(OPS_PER_TENANT) if n % 3 for part in "ab"
    }
    for tenant in TENANTS:
        ops = await fake.ops(key=tenant)
        assert len(ops) == OPS_PER_TENANT
        assert all(op["is_finished"] and op["all_good"] for op in ops), tenant
        assert [op["op_id"] for op in ops] == sorted(op["op_id"] for op in ops)
        stored = fake.controller.images(tenant)
        assert set(stored) == expected_ids
        assert all(image["src"] == src(tenant, image_id) for image_id, image in stored.items())
    mine = {op["op_id"] for op in await fake.ops(key=TENANTS[0])}
    theirs = [op_id for op_id in op_ids if op_id not in mine][:20]
    for op_id in theirs:
        (await fake.call("GET", f"/ops/{op_id}", key=TENANTS[0])).expect_detail(404)


def test_controller_methods_from_several_threads_at_once() -> None:
    controller = Controller(MockConfig(clock="virtual", item_ms=1, workers=2))
    per_thread = 250

    def work(tenant: str) -> list[int]:
        ids = []
        for n in range(per_thread):
            op = controller.submit(Mutation(tenant=tenant, kind="create",
                                            items=[(f"i{n}", {"src": tenant})],
                                            urgent=n % 7 == 0, strict=True, lang="en"))
            ids.append(op.op_id)
            if n % 10 == 0:
                controller.advance(1)
                assert all(image["src"] == tenant for image in controller.images(tenant).values())
                assert len(controller.operations(tenant)) == n + 1
        return ids

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = dict(zip(TENANTS[:4], pool.map(work, TENANTS[:4]), strict=True))
    controller.settle()
    every_id = [op_id for ids in results.values() for op_id in ids]
    assert len(set(every_id)) == len(every_id) == 4 * per_thread
    for tenant, ids in results.items():
        ops = controller.operations(tenant)
        assert sorted(op["op_id"] for op in ops) == sorted(ids)
        assert all(op["is_finished"] and op["all_good"] for op in ops)
        stored = controller.images(tenant)
        assert set(stored) == {f"i{n}" for n in range(per_thread)}
        assert {image["src"] for image in stored.values()} == {tenant}


def test_wait_true_requests_of_a_server_thread_are_woken_by_the_test_thread() -> None:
    app = create_app(MockConfig(clock="virtual", item_ms=10))
    controller: Controller = app.state.controller
    count, keys = 40, ["k0", "k1", "k2", "k3"]
    all_waiting = threading.Event()
    replies: list[tuple[int, Any]] = []

    async def serve() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            requests = [
                asyncio.ensure_future(client.post(
                    f"/imgs/i{n}", params={"wait": "true"}, json={"src": "s"},
                    headers={"API-Key": keys[n % 4]},
                ))
                for n in range(count)
            ]
            # Bounded: a regression that never queues them fails the test instead of spinning.
            deadline = time.monotonic() + 30
            while sum(len(controller.operations(key)) for key in keys) < count:
                if time.monotonic() > deadline:
                    raise AssertionError("the requests never all queued their operations")
                await anyio.lowlevel.checkpoint()
            all_waiting.set()
            for response in await asyncio.gather(*requests):
                replies.append((response.status_code, response.json()))

    # A daemon: should it hang, the worker still exits (the asserts below fail it first).
    server = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    server.start()
    assert all_waiting.wait(timeout=30)
    assert not any(op["is_finished"] for key in keys for op in controller.operations(key))
    assert replies == []
    controller.settle()
    server.join(timeout=30)
    assert not server.is_alive()
    assert [status for status, _ in replies] == [200] * count
    for status, body in replies:
        assert CONTRACT.validate_response("createImage", status, body) == []
        assert (body["is_finished"], body["all_good"]) == (True, True)
    assert sum(len(controller.images(key)) for key in keys) == count
