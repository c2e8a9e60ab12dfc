"""Fault rules as values: every refusal word for word, the edges of each range, the wire shape.

The admin API answers a refused rule with this message, so it is part of what a user reads.
"""

from __future__ import annotations

import dataclasses
import math
import random
from typing import Any

import pytest

from wesog_mock import FaultError, FaultRule
from wesog_mock.controls.faults import FaultRegistry


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({},
         'kind: is required: one of status, latency, drop, hold, fail, vanish'),
        ({'kind': 'explode'},
         "kind: must be one of status, latency, drop, hold, fail, vanish, not 'explode'"),
        ({'kind': 'drop', 'method': 'BREW'},
         "method: must be an HTTP method or '*', not 'BREW'"),
        ({'kind': 'drop', 'path': 'imgs'},
         "path: must be '*' or a glob starting with '/', not 'imgs'"),
        ({'kind': 'drop', 'tenant': ''},
         'tenant: must be a non-empty API key, or null for every tenant'),
        ({'kind': 'drop', 'times': 0},
         'times: must be an integer >= 1, or null, not 0'),
        ({'kind': 'drop', 'times': 1.5},
         'times: must be an integer >= 1, or null, not 1.5'),
        ({'kind': 'drop', 'times': True},
         'times: must be an integer >= 1, or null, not True'),
        ({'kind': 'drop', 'probability': 0},
         'probability: must be a number in (0, 1], not 0'),
        ({'kind': 'drop', 'probability': True},
         'probability: must be a number in (0, 1], not True'),
        ({'kind': 'drop', 'probability': '1'},
         "probability: must be a number in (0, 1], not '1'"),
        ({'kind': 'drop', 'message': 'x'},
         'message: does not apply to a drop fault'),
        ({'kind': 'status', 'status': 418},
         'status: must be one of 429, 500, 502, 503, 504, not 418'),
        ({'kind': 'status', 'status': '503'},
         "status: must be one of 429, 500, 502, 503, 504, not '503'"),
        ({'kind': 'status', 'status': 500, 'retry_after_s': 3},
         'retry_after_s: only a 429 or a 503 carries Retry-After'),
        ({'kind': 'status', 'status': 429, 'retry_after_s': -1},
         'retry_after_s: must be an integer >= 0, not -1'),
        ({'kind': 'status', 'retry_after_s': 1.5},
         'retry_after_s: must be an integer >= 0, not 1.5'),
        ({'kind': 'latency'},
         'latency_ms: must be a number in (0, 600000], not None'),
        ({'kind': 'latency', 'latency_ms': 0},
         'latency_ms: must be a number in (0, 600000], not 0'),
        ({'kind': 'latency', 'latency_ms': 600001},
         'latency_ms: must be a number in (0, 600000], not 600001'),
        ({'kind': 'latency', 'latency_ms': True},
         'latency_ms: must be a number in (0, 600000], not True'),
        ({'kind': 'fail', 'message': ''},
         'message: must be a non-empty string'),
        ({'kind': 'drop', 'id': 7},
         'id: is kept by the fake, not given'),
        ({'kind': 'drop', 'fired': 7},
         'fired: is kept by the fake, not given'),
        ({'kind': 'drop', 'colour': 'red'},
         'colour: is not a field of a fault rule'),
    ],
)
def test_a_refused_rule_says_which_field_and_why(data: dict[str, Any], message: str) -> None:
    with pytest.raises(FaultError) as raised:
        FaultRule.from_dict(data)
    assert str(raised.value) == message
    assert raised.value.field == message.split(":")[0]


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "latency", "latency_ms": 0.5},
        {"kind": "latency", "latency_ms": 600_000},
        {"kind": "status", "status": 503, "retry_after_s": 0},
        {"kind": "drop", "probability": 1},
        {"kind": "drop", "probability": 0.001},
        {"kind": "drop", "times": 1},
        {"kind": "drop", "method": "get"},
        {"kind": "drop", "tenant": "k1"},
        {"kind": "fail", "message": "disk full"},
    ],
)
def test_the_edges_of_each_range_are_accepted(data: dict[str, Any]) -> None:
    rule = FaultRule.from_dict(data)
    for name, value in data.items():
        assert getattr(rule, name) == (value.upper() if name == "method" else value)


def test_a_status_rule_fills_in_its_defaults() -> None:
    assert FaultRule(kind="status").status == 503
    assert (FaultRule(kind="status").retry_after_s, FaultRule(kind="status").detail()) == (
        None, "Service Unavailable")
    too_many = FaultRule(kind="status", status=429)
    assert (too_many.retry_after_s, too_many.detail()) == (1, "Too Many Requests")
    assert FaultRule(kind="status", status=429, retry_after_s=7).retry_after_s == 7
    assert FaultRule(kind="status", status=502, message="upstream").detail() == "upstream"


def test_a_rule_as_json_has_every_field_and_what_remains() -> None:
    rule = FaultRule(kind="status", method="post", path="/imgs*", tenant="k1", times=3,
                     probability=0.5, status=429, id=4, fired=1)
    assert rule.as_dict() == {
        "id": 4, "kind": "status", "method": "POST", "path": "/imgs*", "tenant": "k1",
        "times": 3, "probability": 0.5, "status": 429, "retry_after_s": 1, "latency_ms": None,
        "message": None, "fired": 1, "remaining": 2,
    }
    assert FaultRule(kind="hold").as_dict()["remaining"] is None


def test_the_first_rule_that_matches_fires_past_every_one_that_does_not() -> None:
    faults = FaultRegistry(seed=1)
    spent = faults.add("status", status=500, path="/imgs/x", times=1)
    assert faults.for_request("GET", "/imgs/x", "k1") == dataclasses.replace(spent, fired=1)
    faults.add("hold")  # an operation fault: never a request's
    faults.add("status", status=500, method="POST")
    faults.add("status", status=500, path="/imgs*")
    faults.add("status", status=500, tenant="k2")
    last = faults.add("status", status=502)
    fired = faults.for_request("GET", "/ops", "k1")
    assert fired is not None
    assert (fired.id, fired.status, fired.fired) == (last.id, 502, 1)
    assert [rule.fired for rule in faults.list()] == [1, 0, 0, 0, 0, 1]
    assert faults.for_operation("POST", "/imgs", "k1") is not None  # the hold, for an operation


def test_a_rule_added_starts_uncounted_with_the_next_id() -> None:
    faults = FaultRegistry()
    first = faults.add_rule(FaultRule(kind="drop", id=40, fired=5))
    second = faults.add("drop")
    assert [(first.id, first.fired), (second.id, second.fired)] == [(1, 0), (2, 0)]


def test_a_new_seed_is_kept_for_the_next_restart() -> None:
    def draws(faults: FaultRegistry) -> list[bool]:
        faults.add("drop", probability=0.5)
        return [faults.for_request("GET", "/ops", None) is not None for _ in range(30)]

    faults = FaultRegistry(seed=1)
    faults.reseed(9)
    faults.clear()  # restarts the generator: from the new seed
    assert draws(faults) == draws(FaultRegistry(seed=9))


def test_a_rule_fires_when_its_draw_is_below_its_probability_and_never_at_it() -> None:
    # The generator draws from [0, 1); firing below `probability` makes that the chance exactly.
    # A rule whose probability is the seed's first draw does not fire on it; one just above does.
    draw = random.Random(7).random()
    at = FaultRegistry(seed=7)
    at.add("drop", probability=draw)
    assert at.for_request("GET", "/ops", None) is None
    above = FaultRegistry(seed=7)
    above.add("drop", probability=math.nextafter(draw, 1.0))
    assert above.for_request("GET", "/ops", None) is not None


def test_a_registry_says_which_kinds_of_rule_it_has() -> None:
    # The flags the middleware and the controller read on every request, before any lookup.
    faults = FaultRegistry()
    assert (faults.has_request_faults, faults.has_operation_faults) == (False, False)
    hold = faults.add("hold")
    assert (faults.has_request_faults, faults.has_operation_faults) == (False, True)
    faults.add("drop", times=1)
    assert (faults.has_request_faults, faults.has_operation_faults) == (True, True)
    assert faults.for_request("GET", "/ops", None) is not None  # spent: no request rule left
    faults.remove(hold.id)
    assert (faults.has_request_faults, faults.has_operation_faults) == (False, False)
