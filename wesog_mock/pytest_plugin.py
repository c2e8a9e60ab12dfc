"""The pytest plugin: a Wesog fake in any test suite, and a judge of the client under test.

Registered through the `pytest11` entry point; it imports only pytest until a fixture is used.

Fixtures (each fresh for every test: reset, not rebuilt):
- `wesog_mock`: the fake in-process; `.client()` / `.async_client()` are httpx clients on it.
- `wesog_server`: the fake under uvicorn in a thread, on a free port (`.url`), for any client.
- `wesog_respx`: httpx calls to `https://api.wesog.com` answered by the in-process fake.

`@pytest.mark.wesog(...)` configures the fake for one test: any MockConfig setting (`clock`,
`item_ms`, `queue_delay_ms`, `api_keys`, ...), plus `api_key` (the key the clients send),
`base_url` (what `wesog_respx` intercepts) and `allow_violations`.

Every request that reaches the fake through a fixture is checked against the contract; a test
whose client sent something the contract does not allow fails, with a readable account.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from wesog_mock.testing import LiveServer, WesogFake

__all__ = ["wesog_mock", "wesog_respx", "wesog_server"]

_USED = pytest.StashKey[list["WesogFake"]]()
_OWN_SETTINGS = ("api_key", "base_url", "allow_violations")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "wesog(**settings): configure the Wesog fake for this test; any MockConfig setting "
        "(clock, item_ms, queue_delay_ms, api_keys, max_batch, ...), api_key, base_url, "
        "allow_violations",
    )


def _settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The marker's settings, nearest marker winning, checked against MockConfig's fields."""
    from wesog_mock.domain.config import MockConfig

    settings: dict[str, Any] = {}
    for marker in reversed(list(request.node.iter_markers("wesog"))):
        if marker.args:
            raise pytest.UsageError("@pytest.mark.wesog takes keyword settings only")
        settings.update(marker.kwargs)
    known = set(MockConfig.__dataclass_fields__) | set(_OWN_SETTINGS)
    unknown = sorted(settings.keys() - known)
    if unknown:
        raise pytest.UsageError(
            f"@pytest.mark.wesog: unknown setting(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(known))}"
        )
    return settings


class _Apps:
    """One in-process app per clock mode, built on first use (the mode is fixed per app)."""

    def __init__(self) -> None:
        self.apps: dict[str, Starlette] = {}
        self.servers: dict[str, LiveServer] = {}

    def app(self, clock: str) -> Starlette:
        from wesog_mock import MockConfig, create_app

        if clock not in self.apps:
            self.apps[clock] = create_app(MockConfig(clock=clock))  # type: ignore[arg-type]
        return self.apps[clock]

    def server(self, clock: str) -> LiveServer:
        from wesog_mock import MockConfig, create_app
        from wesog_mock.testing import LiveServer

        if clock not in self.servers:
            app = create_app(MockConfig(clock=clock))  # type: ignore[arg-type]
            self.servers[clock] = LiveServer(app).start()
        return self.servers[clock]

    def close(self) -> None:
        for server in self.servers.values():
            server.stop()
        self.servers.clear()


@pytest.fixture(scope="session")
def _wesog_apps() -> Iterator[_Apps]:
    apps = _Apps()
    yield apps
    apps.close()


def _fresh(
    request: pytest.FixtureRequest, app: Starlette, base_url: str, *, live: bool = False
) -> WesogFake:
    from wesog_mock.testing import WesogFake

    settings = _settings(request)
    fake = WesogFake(
        app,
        base_url=settings.pop("base_url", base_url),
        api_key=settings.pop("api_key", "test-key"),
        allow_violations=settings.pop("allow_violations", False),
        live=live,
    )
    settings.pop("clock", None)
    fake.restart(**settings)
    request.node.stash.setdefault(_USED, []).append(fake)
    return fake


@pytest.fixture
def wesog_mock(request: pytest.FixtureRequest, _wesog_apps: _Apps) -> WesogFake:
    """The Wesog fake in-process, fresh for this test."""
    app = _wesog_apps.app(_settings(request).get("clock", "real"))
    return _fresh(request, app, "http://wesog.test")


@pytest.fixture
def wesog_server(request: pytest.FixtureRequest, _wesog_apps: _Apps) -> WesogFake:
    """The Wesog fake on a real port (`.url`), started once per session, fresh for this test."""
    server = _wesog_apps.server(_settings(request).get("clock", "real"))
    return _fresh(request, server.app, server.url, live=True)


@pytest.fixture
def wesog_respx(request: pytest.FixtureRequest, _wesog_apps: _Apps) -> Iterator[WesogFake]:
    """httpx calls to the real base URL, answered by the in-process fake (sync and async)."""
    from wesog_mock.testing import DEFAULT_BASE_URL, WesogRouter

    app = _wesog_apps.app(_settings(request).get("clock", "real"))
    fake = _fresh(request, app, DEFAULT_BASE_URL)
    router = WesogRouter(app, fake.base_url)
    fake.router = router
    with router:
        yield fake


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """After the test body, fail the test if its client broke the contract."""
    result = yield
    fakes = item.stash.get(_USED, [])
    reports = [fake.violation_report() for fake in fakes if not fake.allow_violations]
    reports = [report for report in reports if report]
    if reports:
        pytest.fail("\n\n".join(reports), pytrace=False)
    return result
