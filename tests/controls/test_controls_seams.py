"""The controller is the only door: build-time settings stay fixed, no clock or engine reachable
around it, and the configuration read back is always the one in force."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import httpx
import pytest
from controls_support import Fake, image

from wesog_mock import ConfigError, Controller, MockConfig

pytestmark = pytest.mark.anyio


@pytest.fixture
async def fake() -> AsyncIterator[Fake]:
    async with Fake() as made:
        yield made


@pytest.mark.parametrize(("name", "other"), [("admin", False), ("clock", "real")])
async def test_a_build_time_setting_cannot_change_at_run_time(
    fake: Fake, name: str, other: object
) -> None:
    before = fake.controller.config
    with pytest.raises(ConfigError) as refused:
        fake.controller.configure(**{name: other})
    assert refused.value.field == name
    assert "fixed when the fake is built" in str(refused.value)
    answer = await fake.admin("PATCH", "/config", json={name: other, "item_ms": 5})
    assert answer.status_code == 422
    assert answer.json()["field"] == name
    # Nothing changed, not even the valid part of the request, and the admin API still serves.
    assert fake.controller.config == before
    assert (await fake.admin("GET", "/config")).json()[name] == getattr(before, name)
    assert (await fake.admin("GET", "/health")).status_code == 200


async def test_setting_a_build_time_value_to_what_it_is_is_accepted(fake: Fake) -> None:
    assert fake.controller.configure(admin=True, clock="virtual").item_ms == 0


def test_the_engine_and_the_clock_are_not_reachable_around_the_controller() -> None:
    controller = Controller(MockConfig(clock="virtual"))
    public = {name for name in dir(controller) if not name.startswith("_")}
    assert not public & {"clock", "engine", "locked"}


async def test_advancing_the_clock_answers_a_waiting_request_at_once(fake: Fake) -> None:
    fake.controller.configure(item_ms=1000)
    answers: list[httpx.Response] = []

    async def post() -> None:
        answers.append(await fake.wesog("POST", "/imgs", json=[image("a")],
                                        params={"wait": "true"}))

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(post)
        for _ in range(1000):  # until the request waits on its operation (yields, no sleep)
            if fake.controller.operations("k1"):
                break
            await anyio.lowlevel.checkpoint()
        assert answers == []
        with anyio.fail_after(5):  # wall time: a stranded request would hang here
            fake.controller.advance(1000)
            while not answers:
                await anyio.lowlevel.checkpoint()
    [answer] = answers
    assert (answer.status_code, answer.json()["is_finished"]) == (200, True)


async def test_stop_waiting_answers_every_waiting_request_at_once_and_later_ones_too(
    fake: Fake,
) -> None:
    fake.controller.configure(item_ms=100_000)
    answers: list[httpx.Response] = []

    async def post(image_id: str) -> None:
        answers.append(await fake.wesog("POST", "/imgs", json=[image(image_id)],
                                        params={"wait": "true"}))

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(post, "a")
        tasks.start_soon(post, "b")
        for _ in range(1000):  # until both wait on their operations (yields, no sleep)
            if len(fake.controller.operations("k1")) == 2:
                break
            await anyio.lowlevel.checkpoint()
        assert answers == []
        assert not fake.controller.stopping
        with anyio.fail_after(5):  # wall time: a stranded request would hang here
            fake.controller.stop_waiting()
            while len(answers) < 2:
                await anyio.lowlevel.checkpoint()
    assert fake.controller.stopping
    with anyio.fail_after(5):
        await post("c")  # a wait that starts after the stop does not wait at all
    for answer in answers:
        body = answer.json()
        assert (answer.status_code, body["is_finished"]) == (202, False)
        assert isinstance(body["op_id"], int)
    # The queue is untouched: the operations go on and finish on the clock as before.
    fake.controller.settle()
    assert [op["is_finished"] for op in fake.controller.operations("k1")] == [True] * 3


async def test_the_configuration_read_back_is_always_the_current_one(fake: Fake) -> None:
    assert not hasattr(fake.app.state, "config")  # no second copy that could go stale
    fake.controller.configure(item_ms=7, api_keys=["k1", "k2"])
    assert fake.controller.config.item_ms == 7
    assert fake.controller.config.api_keys == ("k1", "k2")  # normalised, frozen
    served = (await fake.admin("GET", "/config")).json()
    assert (served["item_ms"], served["api_keys"]) == (7, ["k1", "k2"])
    assert (await fake.admin("PATCH", "/config", json={"item_ms": 3})).json()["item_ms"] == 3
    assert fake.controller.config.item_ms == 3


def test_a_list_of_keys_is_normalised_to_a_tuple() -> None:
    config = MockConfig(api_keys=["a", "b"])  # type: ignore[arg-type]
    assert config.api_keys == ("a", "b")
    assert hash(config) == hash(MockConfig(api_keys=("a", "b")))
