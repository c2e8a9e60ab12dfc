"""Ways to put the fake in front of a client under test, usable with or without pytest.

- `LiveServer`: the fake under uvicorn in a background thread, on a free port, for clients that
  do not use httpx (requests, aiohttp, urllib, another language's SDK in a subprocess).
- `WesogRouter`: a respx router that answers httpx calls to the real base URL
  (`https://api.wesog.com`) from an in-process fake, for sync and async clients alike, so code
  that hard-codes the base URL runs unchanged and offline.
"""

from __future__ import annotations

import enum
import threading
from typing import Any, NoReturn

import httpx
import respx
import uvicorn
from respx.models import AllMockedAssertionError, PassThrough
from starlette.applications import Starlette

from contracts.client import InProcessTransport
from wesog_mock.controls.controller import Controller
from wesog_mock.controls.faults import FaultRegistry
from wesog_mock.controls.journal import Journal
from wesog_mock.controls.violations import violation_report
from wesog_mock.domain.config import MockConfig
from wesog_mock.http.listening import listening_socket
from wesog_mock.http.protocol import http_protocol

__all__ = ["DEFAULT_BASE_URL", "LiveServer", "WesogFake", "WesogRouter"]

DEFAULT_BASE_URL = "https://api.wesog.com"


class _Own(enum.Enum):
    """The default of `api_key`: the handle's own key (None means no key at all)."""

    KEY = enum.auto()

    def __repr__(self) -> str:
        return "<the handle's api_key>"


class LiveServer:
    """The app under uvicorn in a daemon thread; `url` once `start()` returns."""

    def __init__(
        self, app: Starlette, host: str = "127.0.0.1", startup_timeout_s: float = 20
    ) -> None:
        self.app = app
        self._sock = listening_socket(host, 0)
        port = self._sock.getsockname()[1]
        self.url = f"http://{host}:{port}"
        self._server = uvicorn.Server(
            uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False,
                           proxy_headers=False, http=http_protocol())
        )
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]},
            name=f"wesog-mock {self.url}", daemon=True,
        )
        self._startup_timeout_s = startup_timeout_s

    def start(self) -> LiveServer:
        self._thread.start()
        ready = threading.Event()
        # Polls uvicorn's own flag; each wait returns early if the thread has died.
        for _ in range(int(self._startup_timeout_s / 0.01)):
            if self._server.started or not self._thread.is_alive():
                break
            ready.wait(0.01)
        if not self._server.started:
            self.stop()
            raise RuntimeError(f"the fake did not start at {self.url}")
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class WesogRouter(respx.MockRouter):
    """A respx router whose requests to `base_url` are answered by an in-process ASGI app.

    Requests to other hosts go to this router's own routes first (add some, as to any respx
    router); one that matches none goes out to the network when `pass_through` is true (the
    default: a test's call to its own health endpoint or a local server just works), and is
    refused with respx's `AllMockedAssertionError` when it is false. Async clients are
    answered on their own event loop, sync clients through the conformance client's
    `InProcessTransport` (a private loop in a helper thread).
    """

    def __init__(
        self, app: Starlette, base_url: str = DEFAULT_BASE_URL, *, pass_through: bool = True
    ) -> None:
        super().__init__(assert_all_called=False, assert_all_mocked=True)
        self._sync = InProcessTransport(app)
        self._async = httpx.ASGITransport(app=app)
        self._target = httpx.URL(base_url)
        self.pass_through = pass_through
        # respx's PassThrough names the route that let a request through; ours is no route of
        # the user's, so it is one of its own, never added to the router.
        self._elsewhere = respx.Route()

    def _is_ours(self, request: httpx.Request) -> bool:
        url = request.url
        return url.scheme == self._target.scheme and url.netloc == self._target.netloc

    def _let_through(self, request: httpx.Request, refused: AllMockedAssertionError) -> NoReturn:
        if not self.pass_through:
            raise refused
        raise PassThrough(f"RESPX: {request!r} is not for the Wesog fake: passed through",
                          request=request, origin=self._elsewhere)

    def handler(self, request: httpx.Request) -> httpx.Response:
        if self._is_ours(request):
            return self._sync.handle_request(request)
        try:
            return super().handler(request)
        except AllMockedAssertionError as refused:
            self._let_through(request, refused)

    async def async_handler(self, request: httpx.Request) -> httpx.Response:
        if not self._is_ours(request):
            try:
                return await super().async_handler(request)
            except AllMockedAssertionError as refused:
                self._let_through(request, refused)
        answer = await self._async.handle_async_request(request)
        return httpx.Response(answer.status_code, headers=answer.headers,
                              content=await answer.aread(), request=request)

    def stop(self, clear: bool = True, reset: bool = True, quiet: bool = False) -> None:
        try:
            super().stop(clear=clear, reset=reset, quiet=quiet)
        finally:
            self._sync.close()


class WesogFake:
    """A fake as a test sees it: clients that carry an API key, and the fake's controls.

    `base_url` is where its clients send requests: a made-up host served in-process, a live
    server's URL, or the real base URL that a `WesogRouter` intercepts.
    """

    def __init__(
        self,
        app: Starlette,
        *,
        base_url: str,
        api_key: str = "test-key",
        allow_violations: bool = False,
        live: bool = False,
    ) -> None:
        self.app = app
        self.controller: Controller = app.state.controller
        self.base_url = base_url
        self.api_key = api_key
        self.allow_violations = allow_violations
        self.router: WesogRouter | None = None
        self._live = live or base_url == DEFAULT_BASE_URL  # a real URL: plain httpx clients

    @property
    def url(self) -> str:
        return self.base_url

    def restart(self, **settings: Any) -> None:
        """Forget all state, journal and faults; take the default settings plus `settings`."""
        defaults = MockConfig(clock=self.controller.config.clock).as_dict()
        defaults.pop("clock")
        self.controller.reset()  # everything, the journal and the fault rules included
        self.controller.configure(**{**defaults, **settings})

    def _headers(self, api_key: str | _Own | None) -> dict[str, str]:
        key = self.api_key if api_key is _Own.KEY else api_key
        return {"API-Key": key} if key else {}

    def client(self, api_key: str | _Own | None = _Own.KEY, **kwargs: Any) -> httpx.Client:
        """A sync httpx client on the fake that sends `API-Key: <.api_key>` on every request.

        `api_key="other"` sends that key instead; `api_key=None` sends none, for a client
        under test that must add the key itself (as it must against the real service).
        """
        headers = {**self._headers(api_key), **kwargs.pop("headers", {})}
        if not self._live:
            kwargs.setdefault("transport", InProcessTransport(self.app))
        return httpx.Client(base_url=self.base_url, headers=headers, **kwargs)

    def async_client(
        self, api_key: str | _Own | None = _Own.KEY, **kwargs: Any
    ) -> httpx.AsyncClient:
        """An async httpx client on the fake; `api_key` as for `client()`."""
        headers = {**self._headers(api_key), **kwargs.pop("headers", {})}
        if not self._live:
            kwargs.setdefault("transport", httpx.ASGITransport(app=self.app))
        return httpx.AsyncClient(base_url=self.base_url, headers=headers, **kwargs)

    # -- the controls, for the key this fake's clients send by default ---------------------

    def seed(self, images: list[dict[str, Any]], tenant: str | None = None) -> int:
        return self.controller.seed(tenant or self.api_key, images)

    def images(self, tenant: str | None = None) -> dict[str, dict[str, Any]]:
        return self.controller.images(tenant or self.api_key)

    def operations(self, tenant: str | None = None) -> list[dict[str, Any]]:
        return self.controller.operations(tenant or self.api_key)

    def state(self, tenant: str | None = None) -> dict[str, Any]:
        return self.controller.state(tenant or self.api_key)

    def configure(self, **changes: Any) -> MockConfig:
        return self.controller.configure(**changes)

    def advance(self, ms: float) -> float:
        return self.controller.advance(ms)

    def settle(self) -> float:
        return self.controller.settle()

    def release(self, op_id: int, tenant: str | None = None) -> None:
        self.controller.release(tenant or self.api_key, op_id)

    @property
    def faults(self) -> FaultRegistry:
        return self.controller.faults

    @property
    def journal(self) -> Journal:
        return self.controller.journal

    def violation_report(self) -> str:
        """What the client sent that the contract does not allow, readably; "" if nothing."""
        return violation_report(self.journal.entries, self.base_url,
                                allowed=self.allow_violations)
