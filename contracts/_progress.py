"""`wesog-contracts`' progress on stderr: how far the run is, while it runs.

A run over HTTP takes minutes, so silence reads as a hang. Two forms, chosen by where stderr
goes: on a terminal one status line, rewritten in place, names the test that is running (a
long state machine shows as such) and a failure stays on screen as a line of its own; in a CI
log, where `\\r` leaves garbage, one line per finished test. stdout stays the report's alone.
"""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING, TextIO

from contracts.report import RunRecord, TestRecord

if TYPE_CHECKING:
    import pytest

__all__ = ["Progress"]

_CLEAR = "\r\x1b[K"  # back to the line's start, erase to its end


class Progress:
    """A pytest plugin object that writes the run's progress to `stream`."""

    def __init__(self, stream: TextIO, record: RunRecord, *, live: bool | None = None) -> None:
        self.stream = stream
        self.record = record
        self.live = stream.isatty() if live is None else live
        self.total = 0
        self.done = 0
        self._status = False  # a status line is on screen, to be erased before any other line

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.total = len(session.items)
        self._line(f"wesog-contracts: {self.total} test{'s' if self.total != 1 else ''} "
                   "(progress on stderr; --quiet hides it)")

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        if self.live:
            self._show(f"{self._counter(self.done + 1)} running {nodeid}")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "teardown":
            return
        self.done += 1
        test = next((t for t in reversed(self.record.tests) if t.nodeid == report.nodeid), None)
        outcome = test.outcome if test is not None else report.outcome
        seconds = test.duration_s if test is not None else report.duration  # all phases
        line = f"{self._counter(self.done)} {outcome:<7} {report.nodeid} ({seconds:.1f} s)"
        if test is not None and outcome != "passed":
            line += f": {_why(test)}"
        if not self.live or outcome == "failed":
            self._line(line)

    def pytest_sessionfinish(self) -> None:
        if self._status:
            self.stream.write(_CLEAR)
            self.stream.flush()
            self._status = False

    def _counter(self, number: int) -> str:
        width = len(str(self.total))
        return f"[{number:>{width}}/{self.total}]"

    def _line(self, text: str) -> None:
        self.stream.write((_CLEAR if self._status else "") + text + "\n")
        self.stream.flush()
        self._status = False

    def _show(self, text: str) -> None:
        # Cut to the terminal's width: a status line that wraps cannot be rewritten in place.
        columns = shutil.get_terminal_size().columns - 1
        self.stream.write(_CLEAR + (text if len(text) <= columns else text[: columns - 3] + "..."))
        self.stream.flush()
        self._status = True


def _why(test: TestRecord) -> str:
    if test.outcome == "skipped":
        return test.message
    if test.violated_rule is None:
        return "an error of the suite itself"
    verdict = "differs" if test.violated_rule.startswith("A") else "violated"
    return f"{test.violated_rule} {verdict}"
