"""A Hypothesis property: random batches over HTTP agree with a small model of the rules.

The model below is written from the rules alone (D1-D6 and A1-A4 of `x-wesog-rules` in
openapi.yaml), not from `wesog_mock.domain.batch`: a batch applies its items in order to a copy
of the images (later items see earlier ones), and the copy replaces the images only when no
item failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

if TYPE_CHECKING:
    from conftest import MakeFake

pytestmark = pytest.mark.anyio

Kind = Literal["POST", "PUT", "PATCH", "DELETE"]
Images = dict[str, dict[str, Any]]
IDS = ["a", "b", "c", "d"]
KNOWN = ("src", "title", "nsfw", "keywords")  # the fields generated below that the API knows
LANGS = ["en", "es", "pt", "fr", "ru"]
METHOD = {"POST": "add", "PUT": "upd", "PATCH": "upd", "DELETE": "del"}


@dataclass(frozen=True)
class Batch:
    kind: Kind
    items: list[dict[str, Any]]
    strict: bool
    urgent: bool
    wait: bool
    lang: str
    single: bool  # sent to /imgs/{id} (only with one item)


@dataclass(frozen=True)
class Scenario:
    seeded: Images
    deferred: bool  # everything queued first, then run: the queue order shows (A4)
    batches: list[Batch]


def _fields(*, patch: bool) -> st.SearchStrategy[dict[str, Any]]:
    optional = {
        "title": st.none() | st.sampled_from(["T1", "T2"]),
        "nsfw": st.none() | st.booleans(),
        "keywords": st.none() | st.lists(st.sampled_from(["x", "y"]), max_size=2),
        "zz_unknown": st.integers(0, 3),
    }
    src = st.sampled_from(["s1", "s2"])
    if patch:
        return st.fixed_dictionaries({}, optional={**optional, "src": st.none() | src})
    return st.fixed_dictionaries({"src": src}, optional=optional)


@st.composite
def batches(draw: st.DrawFn, *, deferred: bool) -> Batch:
    kind: Kind = draw(st.sampled_from(["POST", "PUT", "PATCH", "DELETE"]))
    ids = draw(st.lists(st.sampled_from(IDS), min_size=1, max_size=4))
    items = [
        {"id": image_id, **({} if kind == "DELETE" else draw(_fields(patch=kind == "PATCH")))}
        for image_id in ids
    ]
    return Batch(
        kind=kind, items=items, strict=draw(st.booleans()), urgent=draw(st.booleans()),
        # wait=true would block on a deferred queue until the clock moves.
        wait=not deferred and draw(st.booleans()), lang=draw(st.sampled_from(LANGS)),
        single=len(items) == 1 and draw(st.booleans()),
    )


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    seeded = {
        image_id: {"src": "s0", "title": "T0"}
        for image_id in draw(st.lists(st.sampled_from(IDS), unique=True))
    }
    deferred = draw(st.booleans())
    return Scenario(seeded, deferred, draw(st.lists(batches(deferred=deferred), max_size=8)))


def _known(fields: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if name in KNOWN}


def _set(fields: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if value is not None}


def model_apply(images: Images, batch: Batch) -> tuple[Images, list[tuple[int, str]]]:
    """The images after `batch`, and its failing items as (index, image id)."""
    work = {image_id: dict(fields) for image_id, fields in images.items()}
    failures: list[tuple[int, str]] = []
    for index, item in enumerate(batch.items):
        image_id, fields = item["id"], _known(item)
        present = image_id in work
        if batch.kind == "DELETE":
            work.pop(image_id, None)
        elif batch.kind == "POST":
            if batch.strict and present:
                failures.append((index, image_id))
            else:
                work[image_id] = _set(fields)
        elif not present:
            if batch.strict:
                failures.append((index, image_id))
        elif batch.kind == "PUT":
            work[image_id] = _set(fields)
        else:
            work[image_id] = _set({**work[image_id], **fields})
    return (images if failures else work), failures


def run_order(scenario: Scenario) -> list[int]:
    """Indices of the batches in the order they run: submission order, or the queue's."""
    if not scenario.deferred:
        return list(range(len(scenario.batches)))
    queue: list[int] = []
    for index, batch in enumerate(scenario.batches):
        if batch.urgent:
            queue.insert(0, index)
        else:
            queue.append(index)
    return queue


def _request(batch: Batch) -> tuple[str, dict[str, Any]]:
    flags = {"strict": batch.strict, "urgent": batch.urgent, "wait": batch.wait}
    params = {name: str(value).lower() for name, value in flags.items()}
    request: dict[str, Any] = {"params": {**params, "lang": batch.lang}}
    if not batch.single:
        request["body"] = batch.items
        return "/imgs", request
    item = batch.items[0]
    if batch.kind != "DELETE":
        request["body"] = {name: value for name, value in item.items() if name != "id"}
    return f"/imgs/{item['id']}", request


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scenario=scenarios())
async def test_random_batches_agree_with_the_model(
    make_fake: MakeFake, scenario: Scenario
) -> None:
    fake = make_fake(**({"queue_delay_ms": 10, "item_ms": 1} if scenario.deferred else {}))
    fake.controller.seed("k1", [{"id": i, **f} for i, f in scenario.seeded.items()])
    op_ids = []
    for batch in scenario.batches:
        path, request = _request(batch)
        reply = await fake.call(batch.kind, path, **request)
        assert reply.status == (200 if batch.wait else 202)
        op_ids.append(reply.body["op_id"])
    fake.controller.settle()

    images = scenario.seeded
    expected: dict[int, list[tuple[int, str]]] = {}
    for index in run_order(scenario):
        images, expected[index] = model_apply(images, scenario.batches[index])

    stored = {
        image_id: _set({name: image[name] for name in KNOWN})
        for image_id, image in fake.controller.images("k1").items()
    }
    assert stored == images
    for image_id in IDS:
        read = await fake.call("GET", f"/imgs/{image_id}")
        assert read.status == (200 if image_id in images else 404)
    listed = await fake.ops()
    assert [op["op_id"] for op in listed] == op_ids
    for index, (batch, op) in enumerate(zip(scenario.batches, listed, strict=True)):
        failures = expected[index]
        assert op["method"] == METHOD[batch.kind]
        assert op["is_finished"] is True
        assert (op["do_strict"], op["do_urgent"], op["do_wait"]) == (
            batch.strict, batch.urgent, batch.wait,
        )
        assert op["num_total"] == len(batch.items)
        assert op["num_bad"] == len(failures)
        assert op["num_good"] == len(batch.items) - len(failures)
        assert op["all_good"] is (not failures)
        assert [error["id"] for error in op["errors"]] == [i for i, _ in failures]
        for error, (_, image_id) in zip(op["errors"], failures, strict=True):
            assert f"'{image_id}'" in error["msg"]
    if scenario.deferred:  # each item takes 1 ms, so the start times show the queue's order
        started = sorted(range(len(listed)), key=lambda i: listed[i]["started_at"])
        assert started == run_order(scenario)
    await fake.aclose()
