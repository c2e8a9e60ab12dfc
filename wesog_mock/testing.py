"""Ways to put the fake in front of a client under test, usable with or without pytest.

- `LiveServer`: the fake under uvicorn in a background thread, on a free port, for clients that
  do not use httpx (requests, aiohttp, urllib, another language's SDK in a subprocess).
- `WesogRouter`: a respx router that answers httpx calls to the real base URL
  (`https://api.wesog.com`) from an in-process fake, for sync and async clients alike, so code
  that hard-codes the base URL runs unchanged and offline.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx
import respx
import uvicorn
from starlette.applications import Starlette

from contracts.client import InProcessTransport
from contracts.findings import format_location
from wesog_mock.controls.controller import Controller
from wesog_mock.controls.faults import FaultRegistry
from wesog_mock.controls.journal import Journal
from wesog_mock.domain.config import MockConfig
from wesog_mock.http.listening import listening_socket
from wesog_mock.http.protocol import http_protocol

__all__ = ["DEFAULT_BASE_URL", "LiveServer", "WesogFake", "WesogRouter"]

DEFAULT_BASE_URL = "https://api.wesog.com"


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

    Other hosts behave as in any respx router (add routes to it, or they are reported as not
    mocked). Async clients are answered on their own event loop, sync clients through the
    conformance client's `InProcessTransport` (a private loop in a helper thread).
    """

    def __init__(self, app: Starlette, base_url: str = DEFAULT_BASE_URL) -> None:
        super().__init__(assert_all_called=False, assert_all_mocked=True)
        self._sync = InProcessTransport(app)
        self._async = httpx.ASGITransport(app=app)
        self._target = httpx.URL(base_url)

    def _is_ours(self, request: httpx.Request) -> bool:
        url = request.url
        return url.scheme == self._target.scheme and url.netloc == self._target.netloc

    def handler(self, request: httpx.Request) -> httpx.Response:
        if not self._is_ours(request):
            return super().handler(request)
        return self._sync.handle_request(request)

    async def async_handler(self, request: httpx.Request) -> httpx.Response:
        if not self._is_ours(request):
            return await super().async_handler(request)
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

    def _headers(self, api_key: str | None) -> dict[str, str]:
        key = self.api_key if api_key is None else api_key
        return {"API-Key": key} if key else {}

    def client(self, api_key: str | None = None, **kwargs: Any) -> httpx.Client:
        """A sync httpx client on the fake, sending `API-Key` (pass `api_key=""` for none)."""
        headers = {**self._headers(api_key), **kwargs.pop("headers", {})}
        if not self._live:
            kwargs.setdefault("transport", InProcessTransport(self.app))
        return httpx.Client(base_url=self.base_url, headers=headers, **kwargs)

    def async_client(self, api_key: str | None = None, **kwargs: Any) -> httpx.AsyncClient:
        """An async httpx client on the fake, sending `API-Key` (pass `api_key=""` for none)."""
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
        offending = [entry for entry in self.journal.entries if entry.findings]
        if not offending:
            return ""
        lines = [f"The client under test broke the Wesog contract in {len(offending)} "
                 f"request{'s' if len(offending) > 1 else ''} to the fake at {self.base_url}:"]
        for number, entry in enumerate(offending, 1):
            query = "&".join(f"{k}={v}" for k, v in entry.query)
            status = "dropped" if entry.status is None else entry.status
            lines.append(f"  {number}. {entry.method} {entry.path}{'?' + query if query else ''}"
                         f" -> {status}")
            for finding in entry.findings:
                kind = "" if finding.is_violation else " (warning)"
                lines.append(f"       {format_location(finding.loc)}{kind}: {finding.message}")
        lines.append("The contract is openapi.yaml. To allow this in a test that means it, mark "
                     "it @pytest.mark.wesog(allow_violations=True); the findings stay in "
                     ".journal.")
        return "\n".join(lines)
