"""The admin API under `/_mock/`: a thin HTTP layer over the `Controller` (no API-Key).

Every endpoint answers JSON; a bad value answers 422 naming the field and changes nothing.
Handlers raise (AdminProblem, ConfigError, ClockError, NotFound) and the mount's exception
handlers render them (`wesog_mock.http.answers`).
It is described by its own OpenAPI document, `admin-openapi.yaml` in this package, served at
`/_mock/openapi.yaml` (the Wesog contract, `/openapi.yaml`, does not mention it).
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from contracts.spec import parse_json_body
from wesog_mock.controls.controller import Controller
from wesog_mock.controls.faults import FaultRule
from wesog_mock.domain.clock import iso_ms
from wesog_mock.http.answers import ADMIN_HANDLERS, AdminProblem, json_response

__all__ = ["ADMIN_PATH", "admin_mount", "admin_openapi_text", "admin_routes"]

ADMIN_PATH = "/_mock"


async def _json_body(request: Request, expected: type, shape: str) -> Any:
    """The body as JSON of the `expected` type; an AdminProblem naming `shape` otherwise."""
    raw = await request.body()
    document = None
    if raw.strip():  # the Wesog API's decoder: nothing stored that cannot be sent back
        document, problem = parse_json_body(raw)
        if problem is not None:
            raise AdminProblem(422, "body", f"The body is not JSON the fake can keep: "
                               f"{problem.location}: {problem.message}")
    if not isinstance(document, expected):
        raise AdminProblem(422, "body", f"Send {shape}")
    return document


def _int_param(request: Request, name: str, minimum: int = 0) -> int | None:
    """The query parameter `name` as an integer, None when absent; AdminProblem when bad."""
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not raw.isdigit() or int(raw) < minimum:
        raise AdminProblem(422, name, f"{name}: must be an integer >= {minimum}, not {raw!r}")
    return int(raw)


def _tenant(request: Request) -> str:
    tenant = request.query_params.get("tenant")
    if not tenant:
        raise AdminProblem(422, "tenant", "Give the tenant's API key: ?tenant=KEY")
    return tenant


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
        return json_response(200, self.controller.state(_tenant(request)))

    async def seed(self, request: Request) -> Response:
        tenant = _tenant(request)
        shape = "a JSON array of images, each with a string `id`"
        images = await _json_body(request, list, shape)
        if not all(
            isinstance(i, dict) and isinstance(i.get("id"), str) and i["id"] for i in images
        ):
            raise AdminProblem(422, "body", f"Send {shape}")
        return json_response(200, {"seeded": self.controller.seed(tenant, images)})

    async def config(self, request: Request) -> Response:
        if request.method == "PATCH":
            changes = await _json_body(request, dict, "a JSON object of settings to change")
            return json_response(200, self.controller.configure(**changes).as_dict())
        return json_response(200, self.controller.config.as_dict())

    async def advance(self, request: Request) -> Response:
        raw = request.query_params.get("ms", "")
        try:
            ms = float(raw)
            if not ms >= 0 or ms == float("inf"):
                raise ValueError(raw)
        except ValueError:
            raise AdminProblem(
                422, "ms", f"ms must be a finite number >= 0, not {raw!r}"
            ) from None
        return json_response(200, {"now": iso_ms(self.controller.advance(ms))})

    async def settle(self, request: Request) -> Response:
        advanced = self.controller.settle()
        now = iso_ms(self.controller.now_ms())
        return json_response(200, {"advanced_ms": advanced, "now": now})


    # -- the journal ----------------------------------------------------------------------------

    async def requests(self, request: Request) -> Response:
        journal = self.controller.journal
        if request.method == "DELETE":
            journal.clear()
            return json_response(200, {"cleared": True})
        params = request.query_params
        status = _int_param(request, "status", 100)
        since = _int_param(request, "since")
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
            data = await _json_body(request, dict, "a JSON object: a fault rule")
            rule = faults.add_rule(FaultRule.from_dict(data))  # FaultError: a 422 naming it
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
            raise AdminProblem(404, "rule_id", f"No fault rule {raw}")
        if request.method == "DELETE":
            faults.remove(rule.id)
        return json_response(200, rule.as_dict())

    async def release(self, request: Request) -> Response:
        tenant = request.query_params.get("tenant") or None
        op_id = _int_param(request, "op_id", 1)
        if op_id is None:
            return json_response(200, {"released": self.controller.release_held(tenant)})
        if tenant is None:
            raise AdminProblem(
                422, "tenant", "Releasing one operation needs ?tenant=KEY&op_id=N"
            )
        self.controller.release(tenant, op_id)  # NotFound: a 404 naming op_id
        return json_response(200, {"released": [op_id]})

    async def openapi(self, request: Request) -> Response:
        return Response(admin_openapi_text(), media_type="application/yaml")


def admin_routes(controller: Controller) -> list[Route]:
    """The admin API's routes, relative to where `admin_app` mounts them (`/_mock`)."""
    admin = AdminApi(controller)
    return [
        Route("/health", admin.health, methods=["GET"]),
        Route("/reset", admin.reset, methods=["POST"]),
        Route("/state", admin.state, methods=["GET"]),
        Route("/images", admin.seed, methods=["PUT"]),
        Route("/config", admin.config, methods=["GET", "PATCH"]),
        Route("/clock/advance", admin.advance, methods=["POST"]),
        Route("/settle", admin.settle, methods=["POST"]),
        Route("/requests", admin.requests, methods=["GET", "DELETE"]),
        Route("/faults", admin.faults, methods=["GET", "POST", "DELETE"]),
        Route("/faults/release", admin.release, methods=["POST"]),
        Route("/faults/{rule_id}", admin.fault, methods=["GET", "DELETE"]),
        Route("/openapi.yaml", admin.openapi, methods=["GET"]),
    ]


def admin_mount(controller: Controller) -> Mount:
    """The admin API as one `Mount("/_mock")`, with its own error handlers: its refusals
    name the field at fault (`{"detail": ..., "field": ...}`)."""
    app = Starlette(routes=admin_routes(controller), exception_handlers=ADMIN_HANDLERS)
    app.router.redirect_slashes = False
    return Mount(ADMIN_PATH, app=app)
