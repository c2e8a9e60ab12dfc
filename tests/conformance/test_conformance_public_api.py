"""The conformance toolkit's public modules: sorted `__all__`, no pytest where none belongs,
and the state machine usable as a library, without the suite's plugin."""

from __future__ import annotations

import subprocess
import sys
from types import ModuleType

import httpx
import pytest
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test
from wesog_mutants import fake

from contracts import checks, client, exchange, model, report, statemachine, strategies
from contracts.client import InProcessTransport, WesogClient
from contracts.statemachine import make_state_machine

PUBLIC = [checks, client, exchange, model, report, statemachine, strategies]


@pytest.mark.parametrize("module", PUBLIC, ids=lambda m: m.__name__)
def test_all_is_sorted_unique_and_importable(module: ModuleType) -> None:
    names = module.__all__
    # Sorted as ruff's RUF022 sorts it: CONSTANTS, then Classes, then functions.
    assert names == sorted(names, key=lambda n: (not n.isupper(), not n[0].isupper(), n))
    assert len(names) == len(set(names))
    for name in names:
        assert getattr(module, name) is not None, name


def test_the_library_imports_neither_pytest_nor_the_fake() -> None:
    code = ("import sys, contracts.checks, contracts.model, contracts.statemachine, "
            "contracts.client, contracts.strategies, contracts.report; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('pytest', '_pytest', 'wesog_mock')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=60)
    assert done.stdout.strip() == "[]"


def test_the_state_machine_runs_from_a_script() -> None:
    with httpx.Client(transport=InProcessTransport(fake()), base_url="http://fake") as http:
        wesog = WesogClient(http, api_key="k", prefix="lib-")
        machine = make_state_machine(wesog)
        run_state_machine_as_test(machine, settings=settings(
            max_examples=3, stateful_step_count=10, deadline=None, database=None))
        assert wesog.written
        assert all(image_id.startswith("lib-") for image_id in wesog.written)
        assert wesog.cleanup() == []
