"""The admin API under `/_mock/`: a thin HTTP layer over the `Controller` (no API-Key).

Every endpoint answers JSON; a bad value answers 422 naming the field and changes nothing.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from wesog_mock.api import json_response
from wesog_mock.clock import iso_ms
from wesog_mock.config import ConfigError
from wesog_mock.controller import ClockError, Controller

__all__ = ["admin_routes"]


def _problem(status: int, field: str, message: str) -> Response:
    return json_response(status, {"detail": message, "field": field})


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    return json.loads(raw) if raw.strip() else None


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
    ]
