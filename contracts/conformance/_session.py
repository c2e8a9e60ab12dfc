"""The suite's session state: the target server, its clients, and the run's record.

Shared by the suite's `conftest.py` and by `contracts.cli`, which reads the run's `RunRecord`
from the pytest config's stash once the session is over.
"""

from __future__ import annotations

import importlib
import inspect
import itertools
import traceback
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import pytest

from contracts.checks import ContractViolation
from contracts.client import (
    Budget,
    BudgetExhausted,
    InProcessTransport,
    MockAdmin,
    RetryPolicy,
    WesogClient,
    run_prefix,
)
from contracts.exchange import Coverage
from contracts.report import Outcome, RunRecord, TestRecord

__all__ = [
    "DEFAULT_MAX_REQUESTS",
    "MARKERS",
    "OPTION_NAMES",
    "RECORD",
    "Target",
    "find_app",
    "load_app",
    "open_target",
    "option_name",
    "record_phase",
    "rules_of",
    "shrink_limit",
]

DEFAULT_MAX_REQUESTS = 20_000
MARKERS = (
    "contract: checks at least one documented rule (D): a failure is a violation",
    "assumption: checks only assumptions (A): a failure is a discovery, not a violation",
    "rules(*ids): the contract rules (D1..D9, A1..A14, OAS) a test checks",
    "mock_only: needs the fake's admin API (/_mock/); skipped, with a reason, elsewhere",
    "slow: a black-box version of a rule that needs a controlled queue; takes seconds",
)
RECORD = pytest.StashKey[RunRecord]()
# How a skip reason names an option: pytest's spelling unless a runner (the CLI) stashes its own.
OPTION_NAMES = pytest.StashKey[Mapping[str, str]]()
_PYTEST_OPTION_NAMES = {"api_key": "--wesog-api-key", "api_key_2": "--wesog-api-key-2",
                        "max_requests": "--wesog-max-requests"}
_E = TypeVar("_E", bound=BaseException)
# Per phase: when, outcome, message, the rule a violation names, its notes, a traceback.
_PHASES = pytest.StashKey[list[tuple[str, Outcome, str, str | None, str, str]]]()
_TRACEBACK_CHARS = 20_000
_DURATION = pytest.StashKey[float]()


def find_app(spec: str) -> Any:
    """The object named by `module:attribute` (a factory or an app); a UsageError if none."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise pytest.UsageError(f"--wesog-app takes MODULE:FACTORY, not {spec!r}")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as error:
        raise pytest.UsageError(f"--wesog-app {spec}: {error}") from None


def option_name(config: pytest.Config, name: str) -> str:
    """The option `name` (`api_key_2`) as the user spells it: `--wesog-api-key-2`, `--api-key-2`."""
    return config.stash.get(OPTION_NAMES, _PYTEST_OPTION_NAMES)[name]


def load_app(spec: str) -> Any:
    """The ASGI app named by `module:attribute`; a function or class there is called first."""
    target = find_app(spec)
    return target() if inspect.isfunction(target) or inspect.isclass(target) else target


@dataclass
class Target:
    """The server under judgement and everything its clients share."""

    http: httpx.Client
    description: str
    api_key: str
    api_key_2: str | None
    admin: MockAdmin | None
    budget: Budget
    prefix: str = field(default_factory=run_prefix)
    coverage: Coverage = field(default_factory=Coverage)
    poll_timeout_s: float = 60.0
    reset: bool = True
    max_examples: int | None = None
    forbid_sleep: bool = False
    # One counter for every client of the session: image ids never repeat across tests.
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def client(self, api_key: str | None) -> WesogClient:
        retry = RetryPolicy(sleep=_no_sleep) if self.forbid_sleep else RetryPolicy()
        return WesogClient(
            self.http, api_key=api_key, prefix=self.prefix, budget=self.budget,
            retry=retry, coverage=self.coverage, admin=self.admin,
            poll_timeout_s=self.poll_timeout_s, ids=self.ids,
        )

    def examples(self, default: int) -> int:
        """Hypothesis examples for a test whose default is `default` (`--wesog-max-examples`)."""
        return self.max_examples if self.max_examples is not None else default


def _no_sleep(seconds: float) -> None:
    raise RuntimeError(f"the suite tried to sleep {seconds:g} s (--wesog-forbid-sleep)")


@contextmanager
def open_target(config: pytest.Config) -> Iterator[Target]:
    """Connect to `--wesog-base-url`, or start `--wesog-app` in process, for one session."""
    base_url = config.getoption("wesog_base_url")
    app_spec = config.getoption("wesog_app")
    limit = config.getoption("wesog_max_requests") or DEFAULT_MAX_REQUESTS
    budget = Budget(limit=limit, reserve=max(limit // 10, 10))
    with ExitStack() as stack:
        if app_spec:
            http: httpx.Client = stack.enter_context(httpx.Client(
                transport=InProcessTransport(load_app(app_spec)), base_url="http://testserver"
            ))
            description = f"in-process {app_spec}"
            api_key = config.getoption("wesog_api_key") or "k"
        else:
            http = stack.enter_context(httpx.Client(base_url=base_url, timeout=60.0))
            description = str(base_url)
            api_key = config.getoption("wesog_api_key")
            if not api_key:
                raise pytest.UsageError("--wesog-base-url needs --wesog-api-key")
        admin = MockAdmin.probe(http, budget)
        if admin is not None:
            description += f" (wesog-mock, {admin.clock} clock)"
        yield Target(
            http=http, description=description, api_key=api_key,
            api_key_2=config.getoption("wesog_api_key_2"), admin=admin, budget=budget,
            poll_timeout_s=config.getoption("wesog_poll_timeout"),
            reset=not config.getoption("wesog_no_reset"),
            max_examples=config.getoption("wesog_max_examples"),
            forbid_sleep=config.getoption("wesog_forbid_sleep"),
        )


@contextmanager
def shrink_limit(seconds: float) -> Iterator[None]:
    """Cap the time Hypothesis spends shrinking one failure, for this session only.

    Every shrinking step is a round trip to the server, so Hypothesis's own five minutes per
    failure can turn one broken rule into a long wait. There is no setting for it: the
    engine's constant is patched, and put back afterwards (left alone if it is gone).
    """
    from hypothesis.internal.conjecture import engine

    previous = getattr(engine, "MAX_SHRINKING_SECONDS", None)
    if previous is None:
        yield
        return
    engine.MAX_SHRINKING_SECONDS = seconds  # type: ignore[assignment]
    try:
        yield
    finally:
        engine.MAX_SHRINKING_SECONDS = previous


def _find(error: BaseException | None, kind: type[_E],
          seen: set[int] | None = None) -> _E | None:
    """The exception of `kind` behind a failure (Hypothesis may wrap or group them)."""
    seen = set() if seen is None else seen  # a group may hold the error it is the cause of
    while error is not None and id(error) not in seen and len(seen) < 50:
        seen.add(id(error))
        if isinstance(error, kind):
            return error
        if isinstance(error, BaseExceptionGroup):
            found = [v for e in error.exceptions if (v := _find(e, kind, seen)) is not None]
            return found[0] if found else None
        error = error.__cause__ or error.__context__
    return None


def rules_of(item: pytest.Item) -> tuple[str, ...]:
    """The rules a test of the suite checks (its `rules` marks)."""
    return tuple(rule for mark in item.iter_markers("rules") for rule in mark.args)


def record_phase(item: pytest.Item, report: pytest.TestReport, call: pytest.CallInfo[None]) -> None:
    """Note one phase of a test; after teardown, add the test's record to the run's."""
    error = call.excinfo.value if call.excinfo is not None else None
    spent = _find(error, BudgetExhausted)
    if spent is not None:
        report.outcome = "skipped"
        report.longrepr = (str(item.path), item.location[1] or 0,
                           f"Skipped: {spent}: pass a larger "
                           f"{option_name(item.config, 'max_requests')} N")
    phases = item.stash.setdefault(_PHASES, [])
    item.stash[_DURATION] = item.stash.get(_DURATION, 0.0) + report.duration
    violation = _find(error, ContractViolation)
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(error or "")
        phases.append((report.when, "skipped", str(reason).removeprefix("Skipped: "), None, "",
                       ""))
    elif report.failed:
        if violation is not None:
            item.user_properties.append(("violated_rule", violation.rule))  # for JUnit XML
            notes = "\n".join(getattr(violation, "__notes__", ()))  # the steps, the example
            phases.append((report.when, "failed", violation.one_line(), violation.rule, notes,
                           ""))
        else:  # an error of the suite itself: its traceback goes to the report, not a rule
            phases.append((report.when, "failed", f"suite error: {_first_line(error, report)}",
                           None, "", _traceback(error, report)))
    if report.when != "teardown" or RECORD not in item.config.stash:
        return
    failed = [p for p in phases if p[1] == "failed"]
    skipped = [p for p in phases if p[1] == "skipped"]
    outcome: Outcome = "failed" if failed else "skipped" if skipped else "passed"
    first = (failed or skipped or [("", "passed", "", None, "", "")])[0]
    item.config.stash[RECORD].add(TestRecord(
        nodeid=item.nodeid, outcome=outcome, rules=rules_of(item), message=first[2],
        violated_rule=first[3], duration_s=round(float(item.stash[_DURATION]), 3),
        notes=first[4], traceback=first[5],
    ))


def _traceback(error: BaseException | None, report: pytest.TestReport) -> str:
    text = ("".join(traceback.format_exception(error)) if error is not None
            else str(report.longreprtext))
    return text if len(text) <= _TRACEBACK_CHARS else "...\n" + text[-_TRACEBACK_CHARS:]


def _first_line(error: BaseException | None, report: pytest.TestReport) -> str:
    if error is not None:
        text = f"{type(error).__name__}: {error}".strip()
    else:
        text = str(report.longreprtext)
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[0][:300] if lines else "failed"
