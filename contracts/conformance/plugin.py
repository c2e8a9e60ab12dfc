"""The suite's pytest options, registered through the `pytest11` entry point.

Options must be registered before any conftest below the rootdir is read, so they live here;
everything else (fixtures, markers, the summary) is in the suite's own `conftest.py` and costs
nothing in a run that does not collect the suite. This module imports nothing but pytest.
"""

from __future__ import annotations

import pytest

__all__ = ["pytest_addoption"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("wesog-contracts", "Wesog conformance suite (contracts.conformance)")
    group.addoption("--wesog-base-url", metavar="URL",
                    help="judge the server at URL (e.g. http://127.0.0.1:8080)")
    group.addoption("--wesog-app", metavar="MODULE:FACTORY",
                    help="judge an in-process ASGI app built by calling FACTORY()")
    group.addoption("--wesog-api-key", metavar="KEY", default=None,
                    help="the API key (tenant) to test with (default for --wesog-app: 'k')")
    group.addoption("--wesog-api-key-2", metavar="KEY", default=None,
                    help="a second tenant's key: enables the tenant-isolation tests")
    group.addoption("--wesog-max-requests", metavar="N", type=int, default=None,
                    help="request budget of the run (default 20000; a tenth kept for cleanup)")
    group.addoption("--wesog-max-examples", metavar="N", type=int, default=None,
                    help="Hypothesis examples per property, state machine and schema test")
    group.addoption("--wesog-shrink-seconds", metavar="SECONDS", type=float, default=60.0,
                    help="time Hypothesis may spend shrinking one failure (each step is a "
                         "round trip to the server; Hypothesis's own limit is 300 s)")
    group.addoption("--wesog-poll-timeout", metavar="SECONDS", type=float, default=60.0,
                    help="deadline of every poll for an operation to finish")
    group.addoption("--wesog-forbid-sleep", action="store_true", default=False,
                    help="fail a test that would sleep (polling, backoff): for judging a fake "
                         "on a virtual clock, where nothing needs to wait")
    group.addoption("--wesog-no-reset", action="store_true", default=False,
                    help="never reset the fake's tenant between tests (admin API only)")
    group.addoption("--wesog-report-json", metavar="FILE", default=None,
                    help="write the per-rule verdicts and coverage as JSON to FILE")
