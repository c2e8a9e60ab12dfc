"""Fixtures, markers and the end-of-run summary of the conformance suite.

Fixtures (all prefixed `wesog_`): `wesog_target` (session: the server, its budget and
coverage), `wesog_client` (a checked client for `--wesog-api-key` that deletes what it wrote
when the test ends, pass or fail), `wesog_client_2` (the second tenant, or a skip),
`wesog_mock` (the fake's admin API with its config restored after the test, or a skip).
"""

from __future__ import annotations

import json
import time
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from contracts._extra import missing_suite_packages, needs
from contracts.client import MockAdmin, WesogClient
from contracts.conformance._session import (
    MARKERS,
    RECORD,
    Target,
    find_app,
    open_target,
    option_name,
    record_phase,
    rules_of,
    shrink_limit,
)
from contracts.report import RunRecord
from contracts.spec import default_contract

# `pytest --pyargs contracts.conformance` without the extra: one error that names it, not a
# `No module named 'hypothesis'` per test module.
if missing_suite_packages():
    raise ModuleNotFoundError(needs("contracts.conformance", missing_suite_packages()))

_SUITE_DIR = Path(__file__).resolve().parent


def _in_suite(item: pytest.Item) -> bool:
    return _SUITE_DIR in Path(str(item.path)).resolve().parents


def pytest_configure(config: pytest.Config) -> None:
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    if RECORD not in config.stash:
        config.stash[RECORD] = RunRecord(rules=default_contract().rules)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    suite = [item for item in items if _in_suite(item)]
    if not suite:
        return
    for item in suite:  # JUnit XML (`--junitxml`) names each test case's rules
        item.user_properties.extend(("rule", rule) for rule in rules_of(item))
    app = config.getoption("wesog_app")
    if not config.getoption("wesog_base_url") and not app:
        raise pytest.UsageError(
            "contracts.conformance needs a server: --wesog-base-url URL --wesog-api-key KEY, "
            "or --wesog-app MODULE:FACTORY"
        )
    if app:
        find_app(app)  # a wrong import string is a usage error, not 60 failed tests
    elif not config.getoption("wesog_api_key"):
        raise pytest.UsageError("--wesog-base-url needs --wesog-api-key KEY")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if _in_suite(item):
        record_phase(item, report, call)
    return report


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    record = config.stash.get(RECORD, None)
    if record is None or not record.tests:
        return
    record.finished = time.monotonic()
    terminalreporter.section("wesog contract summary")
    terminalreporter.write_line(record.format_summary())
    path = config.getoption("wesog_report_json")
    if path:
        Path(path).write_text(json.dumps(record.to_json(), indent=2) + "\n", encoding="utf-8")


@pytest.fixture(scope="session")
def wesog_target(pytestconfig: pytest.Config) -> Iterator[Target]:
    """The server under judgement, connected once per session."""
    with open_target(pytestconfig) as target, shrink_limit(
        pytestconfig.getoption("wesog_shrink_seconds")
    ):
        record = pytestconfig.stash[RECORD]
        record.target = target.description
        record.coverage = target.coverage
        yield target
        record.notes.append(f"{target.budget.used} requests sent "
                            f"(budget {target.budget.limit}, run prefix {target.prefix})")


def _client(target: Target, key: str, config: pytest.Config) -> Iterator[WesogClient]:
    if target.admin is not None and target.reset:
        target.admin.reset(tenant=key)
    client = target.client(key)
    try:
        yield client
    finally:
        config.stash[RECORD].notes.extend(client.cleanup())


@pytest.fixture
def wesog_client(wesog_target: Target, pytestconfig: pytest.Config) -> Iterator[WesogClient]:
    """A checked client for the first tenant; what it writes is deleted after the test."""
    yield from _client(wesog_target, wesog_target.api_key, pytestconfig)


@pytest.fixture
def wesog_client_2(wesog_target: Target, pytestconfig: pytest.Config) -> Iterator[WesogClient]:
    """A checked client for the second tenant (`--wesog-api-key-2`), or a skip."""
    key = wesog_target.api_key_2
    if not key:
        pytest.skip("tenant isolation needs a second tenant: "
                    f"{option_name(pytestconfig, 'api_key_2')} KEY")
    if key == wesog_target.api_key:
        pytest.skip(f"{option_name(pytestconfig, 'api_key_2')} is the same key as "
                    f"{option_name(pytestconfig, 'api_key')}: pass another tenant's key")
    yield from _client(wesog_target, key, pytestconfig)


@pytest.fixture
def wesog_mock(wesog_target: Target) -> Iterator[MockAdmin]:
    """The fake's admin API, its config restored after the test; a skip on other servers."""
    admin = wesog_target.admin
    if admin is None:
        pytest.skip("needs the fake's admin API (GET /_mock/health did not answer)")
    original = admin.config()
    try:
        yield admin
    finally:
        current = admin.config()
        changed = {k: v for k, v in original.items() if current.get(k) != v}
        if changed:
            admin.configure(**changed)
        if admin.clock == "virtual":
            admin.settle()


@pytest.fixture(autouse=True)
def _wesog_mock_only(request: pytest.FixtureRequest, wesog_target: Target) -> None:
    if request.node.get_closest_marker("mock_only") and wesog_target.admin is None:
        pytest.skip("needs the fake's admin API (GET /_mock/health did not answer)")
