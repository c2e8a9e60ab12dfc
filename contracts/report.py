"""The suite's verdicts, rule by rule, for people (one table) and machines (JSON).

A test names the rules it checks (`rules("D1", "A3")`). A failure that is a
`ContractViolation` counts against the rule it names. Any other failure (a crash inside the
suite, an error of Hypothesis) is an error of the suite itself: it is listed on its own, with
its traceback in the JSON report, fails the run, and counts against no rule. Per rule, the
verdict is:

- `violated`: a documented rule (D, or OAS: the contract document) failed somewhere;
- `differs`: an assumption (A) failed: a discovery about the server, not a failure;
- `holds`: at least one test of it passed and none failed;
- `skipped`: nothing ran it (no admin API, no second key, deselected, budget spent, or its
  only tests ended in an error of the suite).

No pytest here: the suite's conftest feeds `RunRecord.add`, the CLI reads the verdicts.
"""

from __future__ import annotations

import textwrap
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from contracts.checks import EXTRA_RULES
from contracts.exchange import Coverage

__all__ = [
    "RuleVerdict",
    "RunRecord",
    "TestRecord",
    "Verdict",
]

Verdict = Literal["holds", "violated", "differs", "skipped"]
Outcome = Literal["passed", "failed", "skipped"]


@dataclass(frozen=True, slots=True)
class TestRecord:
    """One test's outcome, the rules it checks, and the rule its failure names (if typed)."""

    __test__ = False  # not a pytest test class, despite its name

    nodeid: str
    outcome: Outcome
    rules: tuple[str, ...]
    message: str = ""
    violated_rule: str | None = None
    duration_s: float = 0.0
    notes: str = ""  # a violation's notes: the steps or example that showed it
    traceback: str = ""  # an error of the suite: where it broke

    def fails(self, rule: str) -> bool:
        return self.outcome == "failed" and self.violated_rule == rule

    @property
    def suite_error(self) -> bool:
        """A failure that names no rule: the suite broke, not the server."""
        return self.outcome == "failed" and not self.violated_rule


@dataclass(frozen=True, slots=True)
class RuleVerdict:
    """A rule's verdict with its evidence: the first failing example, or why it was skipped."""

    rule: str
    kind: str
    summary: str
    verdict: Verdict
    passed: int
    failed: int
    skipped: int
    evidence: str = ""
    failures: tuple[str, ...] = ()
    skip_reasons: tuple[str, ...] = ()  # why its skipped tests were skipped, each reason once


def _skip_text(verdict: RuleVerdict) -> str:
    """The skip column of a rule's row: its reasons, and how many tests of it were skipped."""
    reasons = "; ".join(verdict.skip_reasons)
    if verdict.verdict == "skipped":
        return reasons or verdict.evidence
    return f"{verdict.skipped} skipped: {reasons}" if reasons else ""


def _rule_order(rule: str) -> tuple[int, int]:
    prefix = {"O": 0, "D": 1, "A": 2}.get(rule[:1], 3)
    digits = "".join(ch for ch in rule if ch.isdigit())
    return prefix, int(digits or 0)


@dataclass
class RunRecord:
    """Everything one run of the suite saw: its tests, what they exercised, what was left."""

    target: str = ""
    rules: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    tests: list[TestRecord] = field(default_factory=list)
    coverage: Coverage = field(default_factory=Coverage)
    notes: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None

    def add(self, record: TestRecord) -> None:
        self.tests.append(record)

    def all_rules(self) -> dict[str, Mapping[str, str]]:
        merged: dict[str, Mapping[str, str]] = dict(EXTRA_RULES)
        merged.update(self.rules)
        return {rule: merged[rule] for rule in sorted(merged, key=_rule_order)}

    def verdicts(self) -> list[RuleVerdict]:
        verdicts = []
        ran = [t for t in self.tests if t.outcome != "skipped"]
        for rule, info in self.all_rules().items():
            kind = info.get("kind", "documented")
            # Every answer of every test is checked against the document itself.
            mine = [t for t in self.tests if rule in t.rules or rule == "OAS" or t.fails(rule)]
            failed = [t for t in mine if t.fails(rule)]
            passed = [t for t in mine if t.outcome == "passed"]
            skipped = [t for t in mine if t.outcome == "skipped"]
            if rule == "OAS":
                skipped = [] if ran else skipped
            verdict: Verdict
            if failed:
                verdict = "differs" if kind == "assumption" else "violated"
                evidence = failed[0].message
            elif passed:
                verdict, evidence = "holds", ""
            else:
                verdict = "skipped"
                errored = [t for t in mine if t.suite_error]
                evidence = (skipped[0].message if skipped
                            else f"inconclusive: suite error in {errored[0].nodeid}" if errored
                            else "no test of this rule was selected")
            verdicts.append(RuleVerdict(
                rule, kind, info.get("summary", ""), verdict, len(passed), len(failed),
                len(skipped), evidence, tuple(f"{t.nodeid}: {t.message}" for t in failed),
                tuple(dict.fromkeys(t.message or "no reason given" for t in skipped)),
            ))
        return verdicts

    def exit_code(self, *, strict_assumptions: bool = False) -> int:
        """0 when no documented rule failed (and, if strict, no assumption differs), else 1."""
        bad: set[str] = {"violated", "differs"} if strict_assumptions else {"violated"}
        if any(v.verdict in bad for v in self.verdicts()):
            return 1
        return 1 if self.suite_errors() else 0

    def suite_errors(self) -> list[TestRecord]:
        """The tests that ended in an error of the suite itself (no rule named)."""
        return [t for t in self.tests if t.suite_error]

    def counts(self) -> dict[str, int]:
        totals: dict[str, int] = defaultdict(int)
        for test in self.tests:
            totals[test.outcome] += 1
        return {k: totals[k] for k in ("passed", "failed", "skipped")}

    def format_summary(self, *, width: int = 100) -> str:
        """The table a person reads at a glance: one row per rule, then the coverage."""
        counts = self.counts()
        elapsed = (self.finished or time.monotonic()) - self.started
        lines = [
            f"wesog-contracts: {self.target or 'target'}: {len(self.tests)} tests "
            f"({counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped)"
            f" in {elapsed:.1f} s",
            f"{'rule':<5} {'kind':<10} {'verdict':<8} {'pass/fail/skip':<14} "
            "first failing example, or why skipped",
        ]
        for v in self.verdicts():
            tally = f"{v.passed}/{v.failed}/{v.skipped}"
            row = f"{v.rule:<5} {v.kind:<10} {v.verdict:<8} {tally:<14} "
            if v.failed:  # the first failing example, in one line (whole in the JSON report)
                first = row + v.evidence
                lines.append(first if len(first) <= width else first[: width - 3] + "...")
            # Why tests were skipped, never cut off: it says what to pass to have them run.
            why = _skip_text(v)
            wrapped = textwrap.wrap(why, width=max(width - len(row), 20),
                                    break_long_words=False, break_on_hyphens=False)
            if not v.failed:
                lines.append((row + (wrapped.pop(0) if wrapped else "")).rstrip())
            lines.extend(" " * len(row) + part for part in wrapped)
        errors = self.suite_errors()
        if errors:
            lines.append(f"suite errors ({len(errors)}, counted against no rule; "
                         "tracebacks in the JSON report):")
            for test in errors:
                row = f"  {test.nodeid}: {test.message}"
                lines.append(row if len(row) <= width else row[: width - 3] + "...")
        lines.append("exercised: endpoint: status (mode x count)")
        lines.extend(self._coverage_lines(width))
        lines.extend(f"note: {note}" for note in self.notes)
        return "\n".join(lines)

    def _coverage_lines(self, width: int) -> list[str]:
        by_endpoint: dict[str, dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
        for (endpoint, status, mode), count in sorted(self.coverage.seen.items()):
            by_endpoint[endpoint][status].append(f"{mode} x{count}" if mode else f"x{count}")
        lines = []
        for endpoint in sorted(by_endpoint):
            groups = [f"{status} ({', '.join(modes)})"
                      for status, modes in sorted(by_endpoint[endpoint].items())]
            lines.extend(textwrap.wrap(
                "; ".join(groups), width=width, initial_indent=f"  {endpoint:<17} ",
                subsequent_indent=" " * 20, break_long_words=False, break_on_hyphens=False,
            ))
        return lines

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "counts": self.counts(),
            "exit_code": self.exit_code(),
            "rules": [asdict(v) for v in self.verdicts()],
            "coverage": [
                {"endpoint": e, "status": s, "mode": m, "count": c}
                for (e, s, m), c in sorted(self.coverage.seen.items())
            ],
            "suite_errors": [
                {"nodeid": t.nodeid, "reason": t.message, "traceback": t.traceback}
                for t in self.suite_errors()
            ],
            "tests": [asdict(t) for t in self.tests],
            "notes": list(self.notes),
        }

