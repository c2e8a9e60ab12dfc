"""Faults over a real socket: the fake under uvicorn in a thread, a real httpx client.

A dropped connection must look to the client like one (no status line, the socket closed),
and a latency fault must trip a client's timeout: both are wall-time, socket-level behaviour
that the in-process transport cannot show.
"""

from __future__ import annotations

import logging

import httpx
import pytest
from controls_support import Fake, image, serve_in_thread

pytestmark = pytest.mark.anyio



async def test_a_drop_fault_closes_the_connection_without_an_answer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    async with Fake() as fake:
        fake.controller.faults.add("drop", method="POST", path="/imgs", times=1)
        with serve_in_thread(fake.app) as url:
            async with httpx.AsyncClient(base_url=url, headers={"API-Key": "k1"}) as client:
                with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)) as raised:
                    await client.post("/imgs", json=[image("a")])
                assert not isinstance(raised.value, httpx.HTTPStatusError)
                # The server is fine, and the dropped request changed nothing.
                listed = await client.get("/ops")
                assert (listed.status_code, listed.json()) == (200, [])
                # Journaled before the answer's last bytes left: no wait for the server thread.
                assert fake.controller.journal.filter(path="/ops")[-1].status == 200
                accepted = await client.post("/imgs", json=[image("a")])
                assert accepted.status_code == 202
        dropped, listed_entry, accepted_entry = fake.controller.journal.entries
        assert (dropped.status, dropped.dropped, dropped.fault_kind) == (None, True, "drop")
        assert dropped.body_bytes > 0
        assert (listed_entry.status, accepted_entry.status) == (200, 202)
    # The drop waited for uvicorn to see the close: uvicorn neither answered nor logged anything.
    assert [r.getMessage() for r in caplog.records if r.name.startswith("uvicorn")] == []


async def test_a_latency_fault_trips_the_client_timeout() -> None:
    # The one test that spends wall time (0.3 s, in the server): a timeout is wall time.
    async with Fake() as fake:
        fake.controller.faults.add("latency", latency_ms=300, path="/ops", times=1)
        with serve_in_thread(fake.app) as url:
            async with httpx.AsyncClient(base_url=url, headers={"API-Key": "k1"}) as client:
                # Only the read is short: a connect slowed by a busy machine must not raise
                # ConnectTimeout instead.
                with pytest.raises(httpx.ReadTimeout):
                    await client.get("/ops", timeout=httpx.Timeout(10.0, read=0.05))
                assert (await client.get("/ops", timeout=5)).status_code == 200
