"""Verdicts per rule, the exit code, the summary and the JSON report."""

from __future__ import annotations

from contracts.exchange import Exchange
from contracts.report import RunRecord, TestRecord

RULES = {"D1": {"kind": "documented", "summary": "strict add"},
         "A2": {"kind": "assumption", "summary": "errors"},
         "A6": {"kind": "assumption", "summary": "order"}}


def record(*tests: TestRecord) -> RunRecord:
    run = RunRecord(target="http://x", rules=RULES)
    for test in tests:
        run.add(test)
    return run


def test_verdicts_follow_the_rule_a_failure_names() -> None:
    run = record(
        TestRecord("t1", "passed", ("D1", "A2")),
        TestRecord("t2", "failed", ("D1", "A2"), "[A2] boom", violated_rule="A2"),
        TestRecord("t3", "skipped", ("A6",), "needs --wesog-api-key-2"),
    )
    verdicts = {v.rule: v for v in run.verdicts()}
    assert [v.rule for v in run.verdicts()] == ["OAS", "D1", "A2", "A6"]
    assert (verdicts["D1"].verdict, verdicts["A2"].verdict) == ("holds", "differs")
    assert verdicts["A2"].evidence == "[A2] boom"
    assert (verdicts["A6"].verdict, verdicts["A6"].evidence) == (
        "skipped", "needs --wesog-api-key-2")
    assert verdicts["OAS"].verdict == "holds"
    assert run.exit_code() == 0
    assert run.exit_code(strict_assumptions=True) == 1


def test_an_untyped_failure_is_an_error_of_the_suite_and_counts_against_no_rule() -> None:
    run = record(
        TestRecord("t", "failed", ("D1", "A2"), "suite error: KeyError: 'op_id'",
                   traceback="Traceback (most recent call last):\nKeyError: 'op_id'\n"),
        TestRecord("u", "passed", ("A2",)),
    )
    verdicts = {v.rule: v for v in run.verdicts()}
    assert (verdicts["D1"].verdict, verdicts["D1"].failed) == ("skipped", 0)
    assert verdicts["D1"].evidence == "inconclusive: suite error in t"
    assert (verdicts["A2"].verdict, verdicts["A2"].failed) == ("holds", 0)
    assert run.exit_code() == 1  # the run is not a pass, though no rule is against the server
    lines = run.format_summary().splitlines()
    assert "  t: suite error: KeyError: 'op_id'" in lines
    report = run.to_json()
    assert report["suite_errors"] == [{
        "nodeid": "t", "reason": "suite error: KeyError: 'op_id'",
        "traceback": "Traceback (most recent call last):\nKeyError: 'op_id'\n"}]
    assert not any(r["failures"] for r in report["rules"])


def test_the_summary_has_a_row_per_rule_and_the_coverage() -> None:
    run = record(TestRecord("t", "passed", ("D1",)))
    run.coverage.record(Exchange.of("POST", "/imgs", 202, query={"urgent": "1"},
                                    request_body=[{"id": "a", "src": "s"}]))
    run.coverage.record(Exchange.of("GET", "/ops", 401))
    lines = run.format_summary().splitlines()
    assert lines[0].startswith("wesog-contracts: http://x: 1 tests (1 passed, 0 failed")
    assert [line.split()[0] for line in lines[2:6]] == ["OAS", "D1", "A2", "A6"]
    assert "  createImages      202 (async relaxed urgent x1)" in lines
    assert "  listOperations    401 (x1)" in lines
    report = run.to_json()
    assert report["coverage"][0] == {"endpoint": "createImages", "status": 202,
                                     "mode": "async relaxed urgent", "count": 1}
    assert [r["verdict"] for r in report["rules"]] == ["holds", "holds", "skipped", "skipped"]


def test_skips_give_their_reasons_once_each_wrapped_and_whole() -> None:
    long = "needs a second tenant: pass --api-key-2 KEY, " + "so that isolation is tested " * 4
    run = record(
        TestRecord("t1", "passed", ("D1",)),
        TestRecord("t2", "skipped", ("D1",), long),
        TestRecord("t3", "skipped", ("D1", "A6"), long),
        TestRecord("t4", "skipped", ("A6",), "inconclusive"),
    )
    verdicts = {v.rule: v for v in run.verdicts()}
    assert verdicts["D1"].skip_reasons == (long,)
    assert verdicts["A6"].skip_reasons == (long, "inconclusive")
    lines = run.format_summary(width=100).splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("D1 "))
    rows = [lines[start]]
    rows += [line for line in lines[start + 1:] if line.startswith(" " * 41)][:2]
    assert all(len(row) <= 100 for row in rows)
    assert " ".join(row[41:] for row in rows).split() == f"2 skipped: {long}".split()
    assert list(run.to_json()["rules"][1]["skip_reasons"]) == [long]
