"""The pytest plugin: a Wesog fake in any test suite, and a judge of the client under test.

Registered through the `pytest11` entry point; it imports only pytest until a fixture is used.

Fixtures (each fresh for every test: reset, not rebuilt):
- `wesog_mock`: the fake in-process; `.client()` / `.async_client()` are httpx clients on it
  that send the handle's `API-Key` for you (`.client(api_key=None)`: none).
- `wesog_server`: the fake under uvicorn in a thread, on a free port (`.url`), for any client.
- `wesog_respx`: httpx calls to `https://api.wesog.com` answered by the in-process fake; calls
  to other hosts go to the network.

`@pytest.mark.wesog(...)` configures the fake for one test: any MockConfig setting (`clock`,
`item_ms`, `queue_delay_ms`, `api_keys`, ...), plus `api_key` (the key the clients send),
`base_url` (what `wesog_respx` intercepts), `pass_through` (whether `wesog_respx` lets calls to
other hosts go to the network; default true) and `allow_violations`.

Every request that reaches the fake through a fixture is checked against the contract; a test
whose client sent something the contract does not allow fails, with a readable account. A test
that fails for another reason (often the same bug: a 401 raised by `raise_for_status`) carries
the account as a section of its report ("Wesog contract"), like captured output.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from wesog_mock.testing import LiveServer, WesogFake

__all__ = ["wesog_mock", "wesog_respx", "wesog_server"]

_USED = pytest.StashKey[list["WesogFake"]]()
_FAILED_BY_US = pytest.StashKey[bool]()
_SECTION = "Wesog contract"
_OWN_SETTINGS = ("allow_violations", "api_key", "base_url", "pass_through")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "wesog(**settings): configure the Wesog fake for this test; any MockConfig setting "
        "(clock, item_ms, queue_delay_ms, api_keys, max_batch, ...), api_key, base_url, "
        "allow_violations, pass_through",
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
    settings.pop("pass_through", None)  # the router's, read by wesog_respx
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

    settings = _settings(request)
    app = _wesog_apps.app(settings.get("clock", "real"))
    fake = _fresh(request, app, DEFAULT_BASE_URL)
    router = WesogRouter(app, fake.base_url, pass_through=settings.get("pass_through", True))
    fake.router = router
    with router:
        yield fake


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """After a test body that passed, fail the test if its client broke the contract."""
    result = yield  # a body that raised stands as it is; the report is attached to it below
    reports = [fake.violation_report() for fake in item.stash.get(_USED, [])
               if not fake.allow_violations]
    reports = [report for report in reports if report]
    if reports:
        item.stash[_FAILED_BY_US] = True
        pytest.fail("\n\n".join(reports), pytrace=False)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Attach the contract's account to the test's report, whatever its outcome.

    A client that broke the contract often fails the test itself, before the plugin can:
    `raise_for_status()` on a 401, an assertion on a field lost to a typo. The account is then
    a section of the report, like captured output, shown with the failure. It is attached to
    the phase that decided the outcome: the call, or a set-up that failed (a fixture of the
    user's that made the requests); not where the account is the failure itself.
    """
    report = yield
    decisive = report.when == "call" or (report.when == "setup" and not report.passed)
    fakes = item.stash.get(_USED, [])
    if decisive and fakes and not item.stash.get(_FAILED_BY_US, False):
        accounts = [account for account in (fake.violation_report() for fake in fakes)
                    if account]
        if accounts:
            report.sections.append((_SECTION, "\n\n".join(accounts)))
    return report
