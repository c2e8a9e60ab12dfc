"""The suite's black-box queue tests, judged for once: against the unbroken fake they skip as
inconclusive (its queue empties before the next request), so here they run against fakes on
their real clock whose items take long enough that the next request finds the load running.

Each must then pass on the unbroken fake and fail, under its rule, on a server that breaks it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from mutant_base import Ans, Mutant, Req
from wesog_mutants import UrgentIgnored

from wesog_mock import MockConfig, create_app

_BLACK_BOX = "black_box"
# A 2,000-item load then runs for a second of wall time: the suite's next requests arrive
# while it runs, however busy the machine.
_SLOW_ITEMS = MockConfig(clock="real", item_ms=0.5)


def slow_fake() -> Any:
    """The unbroken fake, each item taking half a millisecond of wall time."""
    return create_app(_SLOW_ITEMS)


def slow_urgent_ignored() -> Any:
    """Urgent operations join the back of the queue (D6), on the slow fake."""
    return UrgentIgnored(app=create_app(_SLOW_ITEMS))


class CancelRefused(Mutant):
    """A queued operation cannot be cancelled: every cancel answers 409, as for a started one."""

    async def handle(self, req: Req) -> Ans:
        if req.method == "DELETE" and req.path.startswith("/ops/"):
            op_id = req.path.rsplit("/", 1)[1]
            body = json.dumps({"detail": f"Operation {op_id} has already started."}).encode()
            return Ans(409, [(b"content-type", b"application/json")], body)
        return await self.forward(req)


def slow_cancel_refused() -> Any:
    return CancelRefused(app=create_app(_SLOW_ITEMS))


def _run(pytester: pytest.Pytester, app: str) -> tuple[pytest.RunResult, dict[str, Any]]:
    report = pytester.path / "report.json"
    result = pytester.runpytest_inprocess(
        "--pyargs", "contracts.conformance", "-p", "no:cacheprovider", "-k", _BLACK_BOX,
        "--wesog-app", f"{__name__}:{app}", "--wesog-report-json", str(report))
    return result, json.loads(report.read_text()) if report.exists() else {}


@pytest.mark.slow
def test_the_black_box_queue_tests_judge_a_fake_whose_queue_shows(
    pytester: pytest.Pytester,
) -> None:
    result, report = _run(pytester, "slow_fake")
    assert result.ret == 0, result.stdout.str()[-3000:]
    outcomes = {t["nodeid"].split("::")[-1]: t["outcome"] for t in report["tests"]}
    assert outcomes == {
        "test_urgent_operations_go_to_the_head_black_box": "passed",
        "test_a_queued_operation_can_be_cancelled_black_box": "passed",
    }


@pytest.mark.slow
@pytest.mark.parametrize(
    ("app", "test", "rule"),
    [("slow_urgent_ignored", "test_urgent_operations_go_to_the_head_black_box", "D6"),
     ("slow_cancel_refused", "test_a_queued_operation_can_be_cancelled_black_box", "A8")],
)
def test_the_black_box_queue_tests_catch_a_broken_queue(
    pytester: pytest.Pytester, app: str, test: str, rule: str,
) -> None:
    result, report = _run(pytester, app)
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()[-3000:]
    failed = {t["nodeid"].split("::")[-1]: t for t in report["tests"]
              if t["outcome"] == "failed"}
    assert set(failed) == {test}
    assert failed[test]["violated_rule"] == rule
