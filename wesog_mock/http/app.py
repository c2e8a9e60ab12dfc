"""`create_app(config)`: one fake, sharing nothing with any other in the same process."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from contracts.spec import contract_text, default_contract
from wesog_mock.controls.controller import Controller
from wesog_mock.domain.config import MockConfig
from wesog_mock.http.admin import admin_routes
from wesog_mock.http.api import json_response, wesog_routes
from wesog_mock.http.middleware import ControlsMiddleware

__all__ = ["create_app"]


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    # FastAPI's shape, which the real service shows: {"detail": "Not Found"}.
    return json_response(exc.status_code, {"detail": exc.detail}, dict(exc.headers or {}))


async def _server_error(request: Request, exc: Exception) -> Response:
    return json_response(500, {"detail": "Internal Server Error"})


class _MockApp(Starlette):
    """Starlette with the fake's controls (request faults, journal) outside everything else."""

    def build_middleware_stack(self) -> ASGIApp:
        # Outside Starlette's ServerErrorMiddleware, which `add_middleware` cannot reach: the
        # journal then records the 500s it renders, and a drop fault gets the server's `send`.
        return ControlsMiddleware(super().build_middleware_stack(), self.state.controller)


def create_app(config: MockConfig | None = None) -> Starlette:
    """A Starlette app serving the Wesog API from memory.

    Its controls (reset, seed, clock, config) are `app.state.controller`."""
    config = config or MockConfig()
    controller = Controller(config)
    contract = default_contract()
    text = contract_text()

    async def openapi(request: Request) -> Response:
        return Response(text, media_type="application/yaml")

    routes = [*wesog_routes(controller, contract), Route("/openapi.yaml", openapi, methods=["GET"])]
    if config.admin:
        routes += admin_routes(controller)
    app = _MockApp(
        routes=routes,
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
    )
    # /imgs/ is not /imgs: no redirects a client might follow with the wrong body.
    app.router.redirect_slashes = False
    app.state.controller = controller
    app.state.config = config
    return app
