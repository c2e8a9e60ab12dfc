"""The suite on servers that read one undocumented point otherwise (`alternative_readings`):
each passes (exit 0 without `--strict-assumptions`) with exactly its rule reported `differs`,
and every A rule of the contract has such a server."""

from __future__ import annotations

import json
from typing import Any

import pytest
from alternative_readings import READINGS

from contracts.cli import main
from contracts.spec import default_contract

# As the mutants run (test_conformance_suite), but with a second tenant, without the slow
# black-box queue tests (which skip on the fake anyway), and a one-second shrink: a reading
# fails several tests by design, and only which rule they name matters here.
LEAN = ["--pyargs", "contracts.conformance", "-p", "no:cacheprovider", "--wesog-forbid-sleep",
        "--wesog-max-examples", "5", "--wesog-shrink-seconds", "1", "--wesog-api-key-2", "k2",
        "-m", "not slow"]


def test_every_assumption_has_an_alternative_reading() -> None:
    assumptions = {rule for rule, info in default_contract().rules.items()
                   if info["kind"] == "assumption"}
    assert set(READINGS.values()) == assumptions


@pytest.mark.parametrize("name", sorted(READINGS))
def test_a_server_reading_one_assumption_otherwise_passes_with_it_differing(
    pytester: pytest.Pytester, name: str
) -> None:
    path = pytester.path / "report.json"
    result = pytester.runpytest_inprocess(*LEAN, "--wesog-app", f"alternative_readings:{name}",
                                          "--wesog-report-json", str(path))
    report: dict[str, Any] = json.loads(path.read_text())
    verdicts = {r["rule"]: r["verdict"] for r in report["rules"]}
    off = {rule: verdict for rule, verdict in verdicts.items()
           if verdict in ("violated", "differs")}
    assert off == {READINGS[name]: "differs"}, (off, [r["failures"] for r in report["rules"]
                                                      if r["failures"]])
    assert not report["suite_errors"], report["suite_errors"]
    assert report["exit_code"] == 0, result.stdout.str()[-2000:]


def test_the_cli_exits_0_on_a_differing_assumption_and_1_when_strict(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The issue's own example: a cancel answer that carries op_id is A8's, not D8's.
    argv = ["--app", "alternative_readings:cancel_answer_with_op_id", "--max-examples", "3",
            "-k", "cancelled"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "A8    assumption differs" in out
    assert "wesog-contracts: pass (A8 not as the contract says)" in out
    assert main([*argv, "--strict-assumptions"]) == 1
