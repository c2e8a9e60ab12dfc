"""The shipped suite, run as a user runs it (`pytest --pyargs contracts.conformance`): the
unbroken fake passes every test, and every mutant in `wesog_mutants` (ASGI wrappers, and
engines from `engine_mutants`) is caught under the rule it breaks, every rule having one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from engine_mutants import EngineMutant
from wesog_mutants import MUTANTS, REAL_CLOCK_MUTANTS

from contracts.spec import default_contract

# Few examples and a short shrink: the project's CI runs this suite two dozen times. Nothing
# sleeps: the fake's clock is virtual and the suite is told to fail rather than wait.
LEAN = ["--pyargs", "contracts.conformance", "-p", "no:cacheprovider", "--wesog-forbid-sleep",
        "--wesog-max-examples", "5", "--wesog-shrink-seconds", "5"]


def run_suite(pytester: pytest.Pytester, app: str, *extra: str
              ) -> tuple[pytest.RunResult, dict[str, Any]]:
    report = pytester.path / "report.json"
    result = pytester.runpytest_inprocess(*LEAN, "--wesog-app", f"wesog_mutants:{app}",
                                          "--wesog-report-json", str(report), *extra)
    return result, json.loads(report.read_text()) if report.exists() else {}


def run_real_clock(pytester: pytest.Pytester, app: str, *extra: str
                   ) -> tuple[pytest.RunResult, dict[str, Any]]:
    """The suite against a wrapper of the fake on its real clock: the suite polls (sleeps
    between polls, queues of a few ms), and what the server answers differs between replays."""
    report = pytester.path / "report.json"
    result = pytester.runpytest_inprocess(
        "--pyargs", "contracts.conformance", "-p", "no:cacheprovider", "--wesog-max-examples",
        "10", "--wesog-shrink-seconds", "10", "--wesog-app", f"wesog_mutants:{app}",
        "--wesog-report-json", str(report), *extra)
    return result, json.loads(report.read_text()) if report.exists() else {}


def test_the_unbroken_fake_passes_every_test(pytester: pytest.Pytester) -> None:
    result, report = run_suite(pytester, "fake", "--wesog-api-key-2", "k2")
    assert result.ret == 0, result.stdout.str()[-3000:]
    assert {r["rule"]: r["verdict"] for r in report["rules"]} == {
        r["rule"]: "holds" for r in report["rules"]
    }
    skipped = [t for t in report["tests"] if t["outcome"] == "skipped"]
    assert {t["nodeid"].split("::")[-1] for t in skipped} == {
        "test_urgent_operations_go_to_the_head_black_box",
        "test_a_queued_operation_can_be_cancelled_black_box",
    }
    assert all(t["message"].startswith("inconclusive") for t in skipped)
    exercised = {(c["endpoint"], c["status"]) for c in report["coverage"]}
    # What the example tests exercise every time (the properties add more, at random).
    assert {("createImages", 202), ("cancelOperation", 200), ("getOperation", 404),
            ("createImages", 401), ("listOperations", 401), ("createImages", 413),
            ("cancelOperation", 409), ("replaceImage", 200)} <= exercised
    assert "wesog contract summary" in result.stdout.str()


def test_every_rule_has_a_mutant_that_breaks_it() -> None:
    rules = {rule for rule in default_contract().rules if rule[0] in "DA"}
    assert rules == {f"D{n}" for n in range(1, 10)} | {f"A{n}" for n in range(1, 18)}
    assert {rule for _, rule in MUTANTS.values()} >= rules
    engine = [name for name, (cls, _) in MUTANTS.items() if issubclass(cls, EngineMutant)]
    assert len(engine) >= 7  # bugs of the queue, workers, retention and timing, not only HTTP


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_every_mutant_is_caught_under_the_rule_it_breaks(pytester: pytest.Pytester,
                                                         name: str) -> None:
    rule = MUTANTS[name][1]
    result, report = run_suite(pytester, name, "--wesog-api-key-2", "k2", "-x",
                               "-m", "not slow")
    failed = [t for t in report.get("tests", []) if t["outcome"] == "failed"]
    assert failed, f"the mutant {name} survived the suite"
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    # The failure is a typed ContractViolation (never a crash of the suite, a KeyError), and
    # it names the rule this mutant breaks, not one it trips over on the way (-x: the first
    # failure ends the run, so an accidental rule would be the one reported).
    assert not report["suite_errors"], report["suite_errors"][0]["traceback"][-2000:]
    assert failed[0]["violated_rule"] == rule, failed[0]["message"]
    verdicts = {r["rule"]: r["verdict"] for r in report["rules"]}
    assert verdicts[rule] == ("differs" if rule.startswith("A") else "violated")
    assert {r for r, v in verdicts.items() if v in ("violated", "differs")} == {rule}


@pytest.mark.parametrize("name", sorted(REAL_CLOCK_MUTANTS))
def test_a_real_clock_server_that_misbehaves_subtly_is_named_by_one_rule(
    pytester: pytest.Pytester, name: str
) -> None:
    result, report = run_real_clock(pytester, name, "-k", "random_sequences")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    # The run ends in the server's violation, never in Hypothesis's Flaky (which a diverging
    # replay may raise, and which is then only mentioned in a note).
    result.stdout.no_re_match_line(r"E\s+hypothesis\.errors\.Flaky")
    result.stdout.fnmatch_lines(["E *contracts.exchange.ContractViolation: [[]A7[]]*"])
    assert not report["suite_errors"], report["suite_errors"]
    broken = {r["rule"] for r in report["rules"] if r["verdict"] in ("violated", "differs")}
    assert broken == {REAL_CLOCK_MUTANTS[name][1]}
    (test,) = report["tests"]
    assert test["violated_rule"] == REAL_CLOCK_MUTANTS[name][1]
    assert "Flaky" not in test["message"]
    assert "steps: " in test["notes"]  # the sequence that showed it


def test_the_unbroken_fake_on_its_real_clock_passes_the_timing_bound_tests(
    pytester: pytest.Pytester,
) -> None:
    result, report = run_real_clock(pytester, "real_clock_fake", "-k",
                                    "test_model or test_operations or test_queue")
    assert result.ret == 0, result.stdout.str()[-3000:]
    assert not report["suite_errors"]


def test_an_error_of_the_suite_is_reported_as_such_and_counts_against_no_rule(
    pytester: pytest.Pytester,
) -> None:
    # Hypothesis refuses max_examples=0 inside each property: an error of the suite, not a
    # finding about the (unbroken) server.
    result, report = run_suite(pytester, "fake", "-k", "test_model", "--wesog-max-examples", "0")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    errors = report["suite_errors"]
    assert [e["nodeid"].split("::")[-1] for e in errors] == [
        "test_batches_do_what_the_model_says", "test_random_sequences_agree_with_the_model"]
    assert all(e["reason"].startswith("suite error: InvalidArgument: max_examples=0")
               for e in errors)
    assert all("Traceback (most recent call last)" in e["traceback"] for e in errors)
    assert {r["verdict"] for r in report["rules"]} == {"skipped"}
    assert not any(r["failures"] for r in report["rules"])
    assert report["exit_code"] == 1
    result.stdout.fnmatch_lines(["suite errors (2, counted against no rule*",
                                 "  *test_batches_do_what_the_model_says: suite error: *"])


def test_the_admin_tests_are_skipped_with_a_reason_on_a_server_without_one(
    pytester: pytest.Pytester,
) -> None:
    result, report = run_suite(pytester, "no_admin", "-m", "mock_only")
    assert result.ret == 0
    reasons = {t["message"] for t in report["tests"]}
    assert reasons == {"needs the fake's admin API (GET /_mock/health did not answer)"}
    verdicts = {r["rule"]: r["verdict"] for r in report["rules"]}
    assert verdicts["A14"] == "skipped"


def test_tenant_isolation_needs_a_second_key(pytester: pytest.Pytester) -> None:
    result, report = run_suite(pytester, "fake", "-k", "tenants")
    assert result.ret == 0
    assert {t["message"] for t in report["tests"]} == {
        "tenant isolation needs a second tenant: --wesog-api-key-2 KEY"
    }


def test_the_suite_needs_a_server(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess("--pyargs", "contracts.conformance",
                                          "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*contracts.conformance needs a server*"])


def test_the_options_are_registered_by_the_entry_point(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess("--help")
    result.stdout.fnmatch_lines(["*--wesog-base-url=URL*", "*--wesog-app=MODULE:FACTORY*",
                                 "*--wesog-api-key-2=KEY*", "*--wesog-max-requests=N*"])


def test_a_wrong_app_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess(*LEAN, "--wesog-app", "no_such_module:app")
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_the_plugin_imports_nothing_heavy() -> None:
    source = Path(__import__("contracts.conformance.plugin").conformance.plugin.__file__)
    imports = [line for line in source.read_text().splitlines()
               if line.startswith(("import ", "from "))]
    assert imports == ["from __future__ import annotations", "import pytest"]


def test_a_spent_budget_skips_the_rest(pytester: pytest.Pytester) -> None:
    result, report = run_suite(pytester, "fake", "--wesog-max-requests", "150")
    assert result.ret == 0
    skipped = [t for t in report["tests"] if t["outcome"] == "skipped"]
    assert skipped
    assert all("request budget is spent" in t["message"] or "inconclusive" in t["message"]
               for t in skipped)
    assert report["notes"][-1].startswith("1")  # "1xx requests sent (budget 150, ...)"
