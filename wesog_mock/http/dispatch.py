"""The Wesog routes answered straight from the ASGI call, past Starlette's router and layers.

A request to one of the contract's paths, with a method its route takes, goes to its handler
here: the same `Request`, the same handler, the same exception renderers as through
Starlette, without the router's scan of every route and its regular expressions or the two
exception middlewares with their wrapped `send`s (a third of a small request's time). Every
other request (the admin API, `/openapi.yaml`, an unknown path or method: 404, 405 with
`Allow`) goes to Starlette's stack unchanged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["ApiDispatch", "Handler"]

Handler = Callable[[Request], Awaitable[Response]]
Renderer = Callable[[Request, Exception], Awaitable[Response]]


class ApiDispatch:
    """Route `/imgs`, `/imgs/{image_id}`, `/ops` and `/ops/{op_id}` to their handlers.

    `routes` maps (method, path template) to a handler, as Starlette's routes would (a GET
    route takes HEAD too); `handlers` are the app's exception renderers; `app` gets the rest.
    """

    def __init__(
        self, app: ASGIApp, routes: Mapping[tuple[str, str], Handler],
        handlers: Mapping[Any, Renderer],
    ) -> None:
        self.app = app
        self._exact = {(m, p): h for (m, p), h in routes.items() if "{" not in p}
        # "/imgs/{image_id}" -> ("/imgs/", "image_id"): one parameter, the last segment.
        self._prefixed: dict[tuple[str, str], tuple[str, Handler]] = {}
        for (method, template), handler in routes.items():
            if "{" in template:
                prefix, _, name = template.partition("{")
                self._prefixed[(method, prefix)] = (name.rstrip("}"), handler)
        self._handlers = dict(handlers)

    def _route(self, method: str, path: str) -> tuple[Handler | None, dict[str, str]]:
        handler = self._exact.get((method, path))
        if handler is not None:
            return handler, {}
        slash = path.rfind("/")
        value = path[slash + 1:]
        if slash > 0 and value:  # Starlette's `str` parameter: one or more characters, no `/`
            found = self._prefixed.get((method, path[:slash + 1]))
            if found is not None:
                return found[1], {found[0]: value}
        return None, {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = None
        if scope["type"] == "http" and not scope.get("root_path"):
            handler, params = self._route(scope["method"], scope["path"])
        if handler is None:
            await self.app(scope, receive, send)
            return
        scope["path_params"] = params
        request = Request(scope, receive, send)
        try:
            response = await handler(request)
        except Exception as error:
            kind = next(k for k in type(error).__mro__ if k in self._handlers)
            await (await self._handlers[kind](request, error))(scope, receive, send)
            if kind is Exception:  # unexpected: answered 500 as Starlette's
                raise  # ServerErrorMiddleware does, then re-raised so the server logs it
            return
        await response(scope, receive, send)
