"""The admin API under `/_mock/`: a thin HTTP layer over the `Controller` (no API-Key).

Every endpoint answers JSON; a bad value answers 422 naming the field and changes nothing.
It is described by its own OpenAPI document, `admin-openapi.yaml` in this package, served at
`/_mock/openapi.yaml` (the Wesog contract, `/openapi.yaml`, does not mention it).
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from wesog_mock.controls.controller import ClockError, Controller
from wesog_mock.controls.faults import FaultError, FaultRule
from wesog_mock.domain.clock import iso_ms
from wesog_mock.domain.config import ConfigError
from wesog_mock.domain.engine import NotFound
from wesog_mock.http.api import json_response

__all__ = ["admin_routes"]


def _problem(status: int, field: str, message: str) -> Response:
    return json_response(status, {"detail": message, "field": field})


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    return json.loads(raw) if raw.strip() else None


def _int_param(request: Request, name: str, minimum: int = 0) -> int | None:
    """The query parameter `name` as an integer, None when absent; ConfigError when bad."""
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not raw.isdigit() or int(raw) < minimum:
        raise ConfigError(name, f"must be an integer >= {minimum}, not {raw!r}")
    return int(raw)


@functools.cache
def admin_openapi_text() -> bytes:
    """The admin API's own OpenAPI 3.1 document, shipped in this package."""
    return resources.files("wesog_mock.http").joinpath("admin-openapi.yaml").read_bytes()


class AdminApi:
    def __init__(self, controller: Controller) -> None:
        self.controller = controller

    async def health(self, request: Request) -> Response:
        controller = self.controller
        return json_response(200, {
            "status": "ok",
            "clock": controller.config.clock,
            "now": iso_ms(controller.now_ms()),
        })

    async def reset(self, request: Request) -> Response:
        tenant = request.query_params.get("tenant")
        self.controller.reset(tenant)
        return json_response(200, {"reset": tenant if tenant is not None else "all"})

    async def state(self, request: Request) -> Response:
        tenant = request.query_params.get("tenant")
        if not tenant:
            return _problem(422, "tenant", "Give the tenant's API key: ?tenant=KEY")
        return json_response(200, self.controller.state(tenant))

    async def seed(self, request: Request) -> Response:
        tenant = request.query_params.get("tenant")
        if not tenant:
            return _problem(422, "tenant", "Give the tenant's API key: ?tenant=KEY")
        try:
            images = await _json_body(request)
        except ValueError:
            return _problem(422, "body", "The body is not JSON")
        if not isinstance(images, list) or not all(
            isinstance(i, dict) and isinstance(i.get("id"), str) and i["id"] for i in images
        ):
            return _problem(422, "body", "Send a JSON array of images, each with a string `id`")
        return json_response(200, {"seeded": self.controller.seed(tenant, images)})

    async def config(self, request: Request) -> Response:
        if request.method == "PATCH":
            try:
                changes = await _json_body(request)
            except ValueError:
                return _problem(422, "body", "The body is not JSON")
            if not isinstance(changes, dict):
                return _problem(422, "body", "Send a JSON object of settings to change")
            try:
                self.controller.configure(**changes)
            except ConfigError as error:
                return _problem(422, error.field, str(error))
        return json_response(200, self.controller.config.as_dict())

    async def advance(self, request: Request) -> Response:
        raw = request.query_params.get("ms", "")
        try:
            ms = float(raw)
            if not ms >= 0 or ms == float("inf"):
                raise ValueError(raw)
        except ValueError:
            return _problem(422, "ms", f"ms must be a finite number >= 0, not {raw!r}")
        try:
            now = self.controller.advance(ms)
        except ClockError as error:
            return _problem(409, "clock", str(error))
        return json_response(200, {"now": iso_ms(now)})

    async def settle(self, request: Request) -> Response:
        try:
            advanced = self.controller.settle()
        except ClockError as error:
            return _problem(409, "clock", str(error))
        now = iso_ms(self.controller.now_ms())
        return json_response(200, {"advanced_ms": advanced, "now": now})


    # -- the journal ----------------------------------------------------------------------------

    async def requests(self, request: Request) -> Response:
        journal = self.controller.journal
        if request.method == "DELETE":
            journal.clear()
            return json_response(200, {"cleared": True})
        params = request.query_params
        try:
            status = _int_param(request, "status", 100)
            since = _int_param(request, "since")
        except ConfigError as error:
            return _problem(422, error.field, str(error))
        entries = journal.filter(
            tenant=params.get("tenant"), path=params.get("path"), status=status, since=since
        )
        return json_response(200, {
            "size": journal.size,
            "dropped": journal.dropped,
            "count": len(entries),
            "entries": [entry.as_dict() for entry in entries],
        })

    # -- faults -----------------------------------------------------------------------------

    async def faults(self, request: Request) -> Response:
        faults = self.controller.faults
        if request.method == "POST":
            try:
                data = await _json_body(request)
            except ValueError:
                return _problem(422, "body", "The body is not JSON")
            if not isinstance(data, dict):
                return _problem(422, "body", "Send a JSON object: a fault rule")
            try:
                rule = faults.add_rule(FaultRule.from_dict(data))
            except FaultError as error:
                return _problem(422, error.field, str(error))
            return json_response(201, rule.as_dict())
        if request.method == "DELETE":
            faults.clear()
            return json_response(200, {"cleared": True})
        return json_response(200, [rule.as_dict() for rule in faults.list()])

    async def fault(self, request: Request) -> Response:
        raw = request.path_params["rule_id"]
        faults = self.controller.faults
        rule = faults.get(int(raw)) if raw.isdigit() else None
        if rule is None:
            return _problem(404, "rule_id", f"No fault rule {raw}")
        if request.method == "DELETE":
            faults.remove(rule.id)
        return json_response(200, rule.as_dict())

    async def release(self, request: Request) -> Response:
        tenant = request.query_params.get("tenant") or None
        try:
            op_id = _int_param(request, "op_id", 1)
        except ConfigError as error:
            return _problem(422, error.field, str(error))
        if op_id is None:
            return json_response(200, {"released": self.controller.release_held(tenant)})
        if tenant is None:
            return _problem(422, "tenant", "Releasing one operation needs ?tenant=KEY&op_id=N")
        try:
            self.controller.release(tenant, op_id)
        except NotFound:
            return _problem(404, "op_id", f"Operation {op_id} of that tenant not found")
        return json_response(200, {"released": [op_id]})

    async def openapi(self, request: Request) -> Response:
        return Response(admin_openapi_text(), media_type="application/yaml")


def admin_routes(controller: Controller) -> list[Route]:
    admin = AdminApi(controller)
    return [
        Route("/_mock/health", admin.health, methods=["GET"]),
        Route("/_mock/reset", admin.reset, methods=["POST"]),
        Route("/_mock/state", admin.state, methods=["GET"]),
        Route("/_mock/images", admin.seed, methods=["PUT"]),
        Route("/_mock/config", admin.config, methods=["GET", "PATCH"]),
        Route("/_mock/clock/advance", admin.advance, methods=["POST"]),
        Route("/_mock/settle", admin.settle, methods=["POST"]),
        Route("/_mock/requests", admin.requests, methods=["GET", "DELETE"]),
        Route("/_mock/faults", admin.faults, methods=["GET", "POST", "DELETE"]),
        Route("/_mock/faults/release", admin.release, methods=["POST"]),
        Route("/_mock/faults/{rule_id}", admin.fault, methods=["GET", "DELETE"]),
        Route("/_mock/openapi.yaml", admin.openapi, methods=["GET"]),
    ]
