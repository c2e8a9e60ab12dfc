"""A small client with retry and backoff, tested the way a user of the fake would test theirs.

Injected 429s, 503s and dropped connections; the client must get through, honour
`Retry-After`, back off exponentially where there is none, and never repeat a mutation that
was carried out. Its sleep is injected, so the test records the delays instead of waiting.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from controls_support import Fake, image

pytestmark = pytest.mark.anyio

RETRIED = frozenset({429, 500, 502, 503, 504})



@pytest.fixture
async def fake() -> AsyncIterator[Fake]:
    async with Fake() as made:
        yield made


class RetryingClient:
    """Retries transport errors and 429/5xx answers: `Retry-After` when given, else backoff."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        sleep: Callable[[float], Awaitable[None]],
        attempts: int = 5,
        backoff_s: float = 0.5,
        max_delay_s: float = 30.0,
    ) -> None:
        self._client = client
        self._sleep = sleep
        self._attempts = attempts
        self._backoff_s = backoff_s
        self._max_delay_s = max_delay_s

    async def request(self, method: str, url: str, **options: Any) -> httpx.Response:
        for attempt in range(self._attempts):
            last = attempt == self._attempts - 1
            try:
                response = await self._client.request(method, url, **options)
            except httpx.TransportError:
                if last:
                    raise
                delay = self._backoff(attempt)
            else:
                if response.status_code not in RETRIED or last:
                    return response
                retry_after = response.headers.get("retry-after", "")
                delay = (
                    min(float(retry_after), self._max_delay_s)
                    if retry_after.isdigit() else self._backoff(attempt)
                )
            await self._sleep(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _backoff(self, attempt: int) -> float:
        return float(min(self._backoff_s * 2**attempt, self._max_delay_s))


class SleepRecorder:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


async def test_retries_through_429s_and_503s_honouring_retry_after(fake: Fake) -> None:
    faults = fake.controller.faults
    faults.add("status", status=429, retry_after_s=3, method="POST", path="/imgs", times=2)
    faults.add("status", status=503, method="POST", path="/imgs", times=1)
    sleep = SleepRecorder()
    client = RetryingClient(fake.client, sleep=sleep)
    response = await client.request(
        "POST", "/imgs", json=[image("a")], headers={"API-Key": "k1"}, params={"wait": "true"}
    )
    assert response.status_code == 200
    assert response.json()["all_good"] is True
    # Two Retry-After: 3, then the 503 without one: backoff for the third attempt (0.5 * 2**2).
    assert sleep.delays == [3.0, 3.0, 2.0]
    assert len(fake.controller.operations("k1")) == 1  # the refused attempts changed nothing
    statuses = [entry.status for entry in fake.controller.journal.entries]
    assert statuses == [429, 429, 503, 200]


async def test_retries_a_dropped_connection(fake: Fake) -> None:
    fake.controller.faults.add("drop", path="/ops", times=1)
    fake.controller.faults.add("status", status=503, retry_after_s=1, path="/ops", times=1)
    sleep = SleepRecorder()
    client = RetryingClient(fake.client, sleep=sleep)
    response = await client.request("GET", "/ops", headers={"API-Key": "k1"})
    assert response.status_code == 200
    assert sleep.delays == [0.5, 1.0]
    assert [e.dropped for e in fake.controller.journal.entries] == [True, False, False]


async def test_gives_up_after_its_attempts(fake: Fake) -> None:
    fake.controller.faults.add("status", status=502)
    sleep = SleepRecorder()
    client = RetryingClient(fake.client, sleep=sleep, attempts=4)
    response = await client.request("GET", "/ops", headers={"API-Key": "k1"})
    assert response.status_code == 502
    assert sleep.delays == [0.5, 1.0, 2.0]
    assert fake.controller.faults.list()[0].fired == 4


async def test_a_long_retry_after_is_capped(fake: Fake) -> None:
    fake.controller.faults.add("status", status=429, retry_after_s=3600, times=1)
    sleep = SleepRecorder()
    client = RetryingClient(fake.client, sleep=sleep, max_delay_s=10)
    assert (await client.request("GET", "/ops", headers={"API-Key": "k1"})).status_code == 200
    assert sleep.delays == [10.0]
