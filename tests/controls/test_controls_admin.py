"""The admin API under /_mock/: every endpoint, its refusals, its document, and --no-admin."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import yaml
from controls_support import Fake, image
from openapi_spec_validator import validate
from starlette.routing import Route

from wesog_mock import MockConfig
from wesog_mock.controls.controller import Controller
from wesog_mock.domain.batch import SeedError
from wesog_mock.http.admin import ADMIN_PATH, admin_openapi_text, admin_routes

pytestmark = pytest.mark.anyio



@pytest.fixture
async def fake() -> AsyncIterator[Fake]:
    async with Fake() as made:
        yield made


def _problem(body: Any, field: str) -> None:
    assert isinstance(body, dict)
    assert body["field"] == field, body
    assert isinstance(body["detail"], str)
    assert body["detail"]


async def test_health(fake: Fake) -> None:
    response = await fake.admin("GET", "/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["clock"] == "virtual"
    assert body["now"].endswith("Z")


async def test_reset_one_tenant_leaves_the_others_intact(fake: Fake) -> None:
    await fake.add(image("a"), key="k1")
    await fake.add(image("b"), key="k2")
    assert (await fake.admin("POST", "/reset", params={"tenant": "k1"})).json() == {"reset": "k1"}
    assert fake.controller.images("k1") == {}
    assert fake.controller.operations("k1") == []
    assert list(fake.controller.images("k2")) == ["b"]
    assert len(fake.controller.operations("k2")) == 1
    assert (await fake.wesog("GET", "/imgs/b", key="k2")).status_code == 200


async def test_reset_everything_also_clears_journal_and_faults(fake: Fake) -> None:
    await fake.add(image("a"), key="k1")
    await fake.add(image("b"), key="k2")
    fake.controller.faults.add("status", status=500)
    assert (await fake.admin("POST", "/reset")).json() == {"reset": "all"}
    assert fake.controller.images("k1") == fake.controller.images("k2") == {}
    assert fake.controller.faults.list() == []
    assert fake.controller.journal.entries == []


async def test_state_shows_images_and_operations(fake: Fake) -> None:
    op = await fake.add(image("a", title="red car"))
    body = (await fake.admin("GET", "/state", params={"tenant": "k1"})).json()
    assert body["tenant"] == "k1"
    assert body["images"]["a"]["title"] == "red car"
    assert [o["op_id"] for o in body["operations"]] == [op["op_id"]]
    missing = await fake.admin("GET", "/state")
    assert missing.status_code == 422
    _problem(missing.json(), "tenant")


async def test_seed_images_without_operations(fake: Fake) -> None:
    response = await fake.admin(
        "PUT", "/images", params={"tenant": "k1"}, json=[image("a"), image("b")]
    )
    assert response.json() == {"seeded": 2}
    assert fake.controller.operations("k1") == []
    assert (await fake.wesog("GET", "/imgs/b")).json()["src"] == image("b")["src"]
    for bad in ([{"src": "x"}], {"id": "a"}, [{"id": ""}]):
        refused = await fake.admin("PUT", "/images", params={"tenant": "k1"}, json=bad)
        assert refused.status_code == 422
        _problem(refused.json(), "body")
    no_tenant = await fake.admin("PUT", "/images", json=[image("c")])
    _problem(no_tenant.json(), "tenant")
    assert list(fake.controller.images("k1")) == ["a", "b"]


DERIVED = {"height": 1080, "width": 1920, "n_faces": 2}


async def test_seeded_derived_fields_are_stored_and_read_back(fake: Fake) -> None:
    # The service derives these from the pixels and the fake computes none: a test seeds them.
    seeded = await fake.admin(
        "PUT", "/images", params={"tenant": "k1"}, json=[image("a", **DERIVED)]
    )
    assert seeded.json() == {"seeded": 1}
    read = (await fake.wesog("GET", "/imgs/a")).json()
    assert {name: read[name] for name in DERIVED} == DERIVED
    projected = await fake.wesog("GET", "/imgs/a", params=[("fields", "height"),
                                                            ("fields", "n_faces")])
    assert projected.json() == {"height": 1080, "n_faces": 2}
    [entry] = fake.controller.journal.filter(path="/imgs/a")[:1]
    assert entry.status == 200
    assert not entry.findings  # an answer the contract allows
    # PATCH keeps them; PUT clears every field it does not name, these too.
    await fake.wesog("PATCH", "/imgs/a", params={"wait": "true"}, json={"title": "t"})
    assert fake.controller.images("k1")["a"]["height"] == 1080
    await fake.wesog("PUT", "/imgs/a", params={"wait": "true"}, json={"src": "https://x/b.jpg"})
    assert fake.controller.images("k1")["a"]["height"] is None


@pytest.mark.parametrize("value", ["1080", 10.5, True, [1], {"px": 1}])
async def test_a_bad_derived_field_is_refused_and_nothing_is_seeded(
    fake: Fake, value: Any
) -> None:
    refused = await fake.admin(
        "PUT", "/images", params={"tenant": "k1"},
        json=[image("a", height=1), image("b", width=value)],
    )
    assert refused.status_code == 422
    _problem(refused.json(), "images[1].width")
    assert fake.controller.images("k1") == {}


def test_the_python_control_seeds_derived_fields_too() -> None:
    controller = Controller(MockConfig(clock="virtual"))
    seeded = [image("a", **DERIVED, height_cm=3), image("b", n_faces=None)]
    assert controller.seed("k1", seeded) == 2
    images = controller.images("k1")
    assert {name: images["a"][name] for name in DERIVED} == DERIVED
    assert "height_cm" not in images["a"]
    assert images["b"]["n_faces"] is None
    with pytest.raises(SeedError) as refused:
        controller.seed("k1", [image("c", n_faces="two")])
    assert refused.value.field == "images[0].n_faces"
    assert "c" not in controller.images("k1")


async def test_config_read_and_change(fake: Fake) -> None:
    config = (await fake.admin("GET", "/config")).json()
    assert config["journal_size"] == 1000
    assert config["clock"] == "virtual"
    changed = await fake.admin("PATCH", "/config", json={"item_ms": 25, "journal_size": 5})
    assert changed.status_code == 200
    assert changed.json()["item_ms"] == 25
    assert fake.controller.config.item_ms == 25
    assert fake.controller.journal.size == 5


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"item_ms": -1}, "item_ms"),
        ({"workers": 0}, "workers"),
        ({"journal_size": "many"}, "journal_size"),
        ({"journal_size": 0}, "journal_size"),
        ({"api_keys": 5}, "api_keys"),
        ({"seed": 1.5}, "seed"),
        ({"clock": "real"}, "clock"),
        ({"no_such_setting": 1}, "no_such_setting"),
        ({"item_ms": 10, "max_batch": 0}, "max_batch"),
    ],
)
async def test_a_bad_config_value_names_the_field_and_changes_nothing(
    fake: Fake, changes: dict[str, Any], field: str
) -> None:
    before = (await fake.admin("GET", "/config")).json()
    response = await fake.admin("PATCH", "/config", json=changes)
    assert response.status_code == 422
    _problem(response.json(), field)
    assert (await fake.admin("GET", "/config")).json() == before


async def test_clock_advance_and_settle(fake: Fake) -> None:
    fake.controller.configure(queue_delay_ms=1000)
    op = await fake.add(image("a"))
    start = fake.controller.now_ms()
    moved = await fake.admin("POST", "/clock/advance", params={"ms": "400"})
    assert moved.status_code == 200
    assert fake.controller.now_ms() == start + 400
    assert (await fake.wesog("GET", f"/ops/{op['op_id']}")).json()["is_started"] is False
    settled = (await fake.admin("POST", "/settle")).json()
    assert settled["advanced_ms"] == 600
    assert (await fake.wesog("GET", f"/ops/{op['op_id']}")).json()["is_finished"] is True
    for bad in ("-1", "soon", "inf", ""):
        refused = await fake.admin("POST", "/clock/advance", params={"ms": bad})
        assert refused.status_code == 422
        _problem(refused.json(), "ms")


async def test_a_real_clock_cannot_be_moved() -> None:
    async with Fake(clock="real") as fake:
        for path in ("/clock/advance?ms=5", "/settle"):
            response = await fake.admin("POST", path)
            assert response.status_code == 409
            _problem(response.json(), "clock")


async def test_journal_endpoints(fake: Fake) -> None:
    await fake.add(image("a"), key="k1")
    await fake.wesog("GET", "/imgs/zzz", key="k2")
    await fake.wesog("GET", "/ops")
    body = (await fake.admin("GET", "/requests")).json()
    assert (body["size"], body["dropped"], body["count"]) == (1000, 0, 3)
    assert [e["path"] for e in body["entries"]] == ["/imgs", "/imgs/zzz", "/ops"]
    by_tenant = (await fake.admin("GET", "/requests", params={"tenant": "k2"})).json()
    assert [e["path"] for e in by_tenant["entries"]] == ["/imgs/zzz"]
    by_status = (await fake.admin("GET", "/requests", params={"status": "404"})).json()
    assert [e["status"] for e in by_status["entries"]] == [404]
    by_path = (await fake.admin("GET", "/requests", params={"path": "/imgs*"})).json()
    assert by_path["count"] == 2
    since = (await fake.admin("GET", "/requests", params={"since": "2"})).json()
    assert [e["seq"] for e in since["entries"]] == [3]
    for name, bad in (("status", "teapot"), ("status", "42"), ("since", "-1")):
        refused = await fake.admin("GET", "/requests", params={name: bad})
        assert refused.status_code == 422
        _problem(refused.json(), name)
    assert (await fake.admin("DELETE", "/requests")).json() == {"cleared": True}
    assert (await fake.admin("GET", "/requests")).json()["count"] == 0


async def test_fault_endpoints(fake: Fake) -> None:
    created = await fake.admin(
        "POST", "/faults", json={"kind": "status", "status": 500, "path": "/ops*", "times": 2}
    )
    assert created.status_code == 201
    rule = created.json()
    assert (rule["id"], rule["kind"], rule["fired"], rule["remaining"]) == (1, "status", 0, 2)
    await fake.admin("POST", "/faults", json={"kind": "hold"})
    assert [r["id"] for r in (await fake.admin("GET", "/faults")).json()] == [1, 2]
    assert (await fake.wesog("GET", "/ops")).status_code == 500
    assert (await fake.admin("GET", "/faults/1")).json()["fired"] == 1
    assert (await fake.admin("DELETE", "/faults/1")).json()["id"] == 1
    assert (await fake.admin("GET", "/faults/1")).status_code == 404
    assert (await fake.admin("DELETE", "/faults/x")).status_code == 404
    assert (await fake.wesog("GET", "/ops")).status_code == 200
    assert (await fake.admin("DELETE", "/faults")).json() == {"cleared": True}
    assert (await fake.admin("GET", "/faults")).json() == []


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({}, "kind"),
        ({"kind": "explode"}, "kind"),
        ({"kind": "status", "status": 418}, "status"),
        ({"kind": "status", "status": 500, "retry_after_s": 3}, "retry_after_s"),
        ({"kind": "status", "status": 429, "retry_after_s": -1}, "retry_after_s"),
        ({"kind": "latency"}, "latency_ms"),
        ({"kind": "latency", "latency_ms": 0}, "latency_ms"),
        ({"kind": "drop", "message": "x"}, "message"),
        ({"kind": "hold", "status": 503}, "status"),
        ({"kind": "drop", "method": "BREW"}, "method"),
        ({"kind": "drop", "path": "imgs"}, "path"),
        ({"kind": "drop", "times": 0}, "times"),
        ({"kind": "drop", "probability": 0}, "probability"),
        ({"kind": "drop", "probability": 1.5}, "probability"),
        ({"kind": "drop", "tenant": ""}, "tenant"),
        ({"kind": "fail", "message": ""}, "message"),
        ({"kind": "drop", "id": 7}, "id"),
        ({"kind": "drop", "colour": "red"}, "colour"),
    ],
)
async def test_a_bad_fault_rule_names_the_field(
    fake: Fake, rule: dict[str, Any], field: str
) -> None:
    response = await fake.admin("POST", "/faults", json=rule)
    assert response.status_code == 422
    _problem(response.json(), field)
    assert fake.controller.faults.list() == []


async def test_a_fault_body_must_be_a_json_object(fake: Fake) -> None:
    for content in (b"not json", b"[1]"):
        response = await fake.admin("POST", "/faults", content=content)
        assert response.status_code == 422
        _problem(response.json(), "body")


async def test_release_refusals(fake: Fake) -> None:
    unknown = await fake.admin("POST", "/faults/release", params={"tenant": "k1", "op_id": "9"})
    assert unknown.status_code == 404
    _problem(unknown.json(), "op_id")
    no_tenant = await fake.admin("POST", "/faults/release", params={"op_id": "9"})
    _problem(no_tenant.json(), "tenant")
    bad = await fake.admin("POST", "/faults/release", params={"op_id": "0"})
    _problem(bad.json(), "op_id")
    nothing = await fake.admin("POST", "/faults/release")
    assert nothing.json() == {"released": []}


async def test_admin_calls_are_not_journaled(fake: Fake) -> None:
    await fake.admin("GET", "/health")
    await fake.admin("GET", "/state", params={"tenant": "k1"})
    assert fake.controller.journal.entries == []


def _documented() -> set[tuple[str, str]]:
    document = yaml.safe_load(admin_openapi_text())
    return {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }


def test_the_admin_document_is_valid_openapi_and_covers_every_route() -> None:
    document = yaml.safe_load(admin_openapi_text())
    validate(document)
    assert document["openapi"].startswith("3.1")
    routes = admin_routes(Controller(MockConfig(clock="virtual")))
    served = {
        (method, ADMIN_PATH + route.path)
        for route in routes
        if isinstance(route, Route)
        for method in route.methods or ()
        if method != "HEAD"
    }
    assert served == _documented()


async def test_the_admin_document_is_served(fake: Fake) -> None:
    response = await fake.admin("GET", "/openapi.yaml")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/yaml")
    assert response.content == admin_openapi_text()
    wesog = await fake.client.get("/openapi.yaml")
    assert "/_mock/" not in wesog.text


async def test_without_admin_every_mock_path_answers_404() -> None:
    async with Fake(admin=False) as fake:
        for method, path in sorted(_documented()):
            concrete = path.replace("{rule_id}", "1")
            response = await fake.client.request(method, concrete, json={})
            assert response.status_code == 404, (method, path)
            assert response.json() == {"detail": "Not Found"}
        assert (await fake.client.get("/_mock/anything/else")).status_code == 404
        assert (await fake.wesog("GET", "/ops")).status_code == 200  # the API itself is there
