"""`create_app(config)`: one fake, sharing nothing with any other in the same process."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from contracts.spec import contract_text, default_contract
from wesog_mock.controls.controller import Controller
from wesog_mock.domain.config import MockConfig
from wesog_mock.http.admin import admin_mount
from wesog_mock.http.answers import API_HANDLERS
from wesog_mock.http.api import wesog_routes
from wesog_mock.http.dispatch import ApiDispatch, Handler
from wesog_mock.http.middleware import ControlsMiddleware

__all__ = ["create_app"]


class _MockApp(Starlette):
    """Starlette with the fake's controls (request faults, journal) outside everything else,
    and the Wesog routes dispatched straight to their handlers (`ApiDispatch`)."""

    api_routes: dict[tuple[str, str], Handler]

    def build_middleware_stack(self) -> ASGIApp:
        # Outside Starlette's ServerErrorMiddleware, which `add_middleware` cannot reach: the
        # journal then records the 500s it renders, and a drop fault gets the server's `send`.
        dispatch = ApiDispatch(super().build_middleware_stack(), self.api_routes, API_HANDLERS)
        return ControlsMiddleware(dispatch, self.state.controller)


def create_app(config: MockConfig | None = None) -> Starlette:
    """A Starlette app serving the Wesog API from memory.

    Its controls (reset, seed, clock, config, faults, journal) are `app.state.controller`;
    the settings in force are `app.state.controller.config`. The admin API is mounted at
    `/_mock` only when `config.admin` is on (it is fixed for the app's life)."""
    config = config or MockConfig()
    controller = Controller(config)
    text = contract_text()

    async def openapi(request: Request) -> Response:
        return Response(text, media_type="application/yaml")

    api = wesog_routes(controller, default_contract())
    routes: list[BaseRoute] = [*api, Route("/openapi.yaml", openapi, methods=["GET"])]
    if config.admin:
        routes.append(admin_mount(controller))
    app = _MockApp(routes=routes, exception_handlers=API_HANDLERS)
    app.api_routes = {(method, route.path): route.endpoint
                      for route in api for method in route.methods or ()}
    # /imgs/ is not /imgs: no redirects a client might follow with the wrong body.
    app.router.redirect_slashes = False
    app.state.controller = controller
    return app
