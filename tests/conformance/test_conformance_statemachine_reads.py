"""The state machine's image reads while operations are in flight (`WesogStateMachine._read`):
a state no point of the window explains is named by the reading of the last in-flight
operation on that image (A3, A16, A17), and D5 only when none read it; driven step by step
on the fake's virtual clock, so each case is the same on every run."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from alternative_readings import UpsertMerges
from wesog_mutants import fake

from contracts.client import InProcessTransport, WesogClient
from contracts.exchange import ContractViolation
from contracts.statemachine import WesogStateMachine


def machine_on(app: Any) -> WesogStateMachine:
    http = httpx.Client(transport=InProcessTransport(app), base_url="http://fake")
    return WesogStateMachine(WesogClient(http, api_key="k", prefix="reads-"))


def upsert_in_flight(app: Any, controller: Any) -> tuple[WesogStateMachine, str]:
    """A stored image with a title, then a relaxed add of it without one, queued; the server
    then runs the add, and the machine has not yet seen it finish."""
    machine = machine_on(app)
    image_id = machine.ids[0]
    stored = [{"id": image_id, "src": "https://x/1.jpg", "title": "kept?"}]
    machine._send("create", "/imgs", stored, stored, {"wait": "true"})
    assert not machine.pending
    controller.configure(queue_delay_ms=1000)
    again = [{"id": image_id, "src": "https://x/2.jpg"}]
    machine._send("create", "/imgs", again, again, {})
    assert machine.pending
    controller.advance(5000)  # the add has run on the server; the machine has not polled it
    return machine, image_id


def test_a_merging_upsert_read_in_flight_is_named_a16_not_d5() -> None:
    app = fake()
    machine, image_id = upsert_in_flight(UpsertMerges(app=app), app.state.controller)
    with pytest.raises(ContractViolation) as caught:
        machine._read(image_id)
    assert caught.value.rule == "A16"


def test_the_fakes_own_upsert_read_in_flight_is_in_the_window() -> None:
    app = fake()
    machine, image_id = upsert_in_flight(app, app.state.controller)
    machine._read(image_id)  # the state after the add: raises nothing


def test_a_state_no_in_flight_reading_explains_is_d5() -> None:
    # The image is touched by no in-flight operation, yet it changes: all or nothing broken.
    app = fake()
    controller = app.state.controller
    machine = machine_on(app)
    mine, other = machine.ids[0], machine.ids[1]
    first = [{"id": mine, "src": "https://x/1.jpg"}]
    machine._send("create", "/imgs", first, first, {"wait": "true"})
    controller.configure(queue_delay_ms=1000)
    pending = [{"id": other, "src": "https://x/2.jpg"}]
    machine._send("create", "/imgs", pending, pending, {})
    controller.seed("k", [{"id": mine, "src": "https://x/changed.jpg"}])  # behind its back
    with pytest.raises(ContractViolation) as caught:
        machine._read(mine)
    assert caught.value.rule == "D5"
