"""The account of what a client under test sent that the contract does not allow.

The pytest plugin prints it when a test's client broke the contract, and attaches it to the
report of a test that failed for another reason (a 401 that `raise_for_status` turned into an
`HTTPStatusError`, an assertion on a field lost to a typo): that is where it is needed most.

It is written to be read: the findings of one request that differ only by an item's index are
one line (`body[0..49].titel (×50)`), repeated identical requests are one entry, and a finding
shows what was sent and, where the contract knows the mistake, the fix.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from contracts.findings import Finding, Location
from wesog_mock.controls.journal import JournalEntry

__all__ = ["finding_lines", "violation_report"]

_SHOWN_INPUT_CHARS = 60
_SHOWN_RUNS = 6


def _shape(loc: Location) -> tuple[str | None, ...]:
    return tuple(None if isinstance(part, int) else part for part in loc)


def _runs(indices: Iterable[int]) -> str:
    """`0..49` for a run, `0, 1, 5..7` otherwise; at most a few runs, then `…`."""
    ordered = sorted(set(indices))
    runs: list[tuple[int, int]] = []
    for index in ordered:
        if runs and index == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], index)
        else:
            runs.append((index, index))
    shown = [f"{a}" if a == b else f"{a}, {b}" if b == a + 1 else f"{a}..{b}"
             for a, b in runs[:_SHOWN_RUNS]]
    if len(runs) > _SHOWN_RUNS:
        shown.append("…")
    return ", ".join(shown)


def _location(shape: tuple[str | None, ...], members: Sequence[Finding]) -> str:
    """The shared location, each index position showing the indices it takes."""
    text = ""
    for position, part in enumerate(shape):
        if part is None:
            indices = (f.loc[position] for f in members)
            text += f"[{_runs(i for i in indices if isinstance(i, int))}]"
        elif text:
            text += f".{part}"
        else:
            text = part
    return text or "request"


def _sent(findings: Sequence[Finding]) -> str:
    """` (sent 'title,src')` for a short scalar input the findings share; "" otherwise."""
    first = findings[0].input
    if first is None or isinstance(first, dict | list) or findings[0].code == "missing":
        return ""
    if any(f.input != first for f in findings[1:]):
        return ""
    shown = repr(first)
    if len(shown) > _SHOWN_INPUT_CHARS:
        shown = shown[: _SHOWN_INPUT_CHARS - 1] + "…"
    return f" (sent {shown})"


def finding_lines(findings: Iterable[Finding]) -> list[str]:
    """One line per group of findings alike but for their indices, in first-seen order."""
    groups: dict[tuple[tuple[str | None, ...], str, str, str, str], list[Finding]] = {}
    for finding in findings:
        key = (_shape(finding.loc), finding.code, finding.message, finding.severity,
               finding.hint)
        groups.setdefault(key, []).append(finding)
    lines = []
    for (shape, _code, message, severity, hint), members in groups.items():
        count = f" (×{len(members)})" if len(members) > 1 else ""
        kind = "" if severity == "violation" else " (warning)"
        line = f"{_location(shape, members)}{count}{kind}: {message}{_sent(members)}"
        if hint:
            line += f"{'' if line.endswith('.') else '.'} {hint}"
        lines.append(line)
    return lines


def _request_line(entry: JournalEntry) -> str:
    query = "&".join(f"{k}={v}" for k, v in entry.query)
    status = "dropped" if entry.status is None else entry.status
    return f"{entry.method} {entry.path}{'?' + query if query else ''} -> {status}"


def violation_report(
    entries: Iterable[JournalEntry], base_url: str, *, allowed: bool = False
) -> str:
    """The account of every entry with findings, readably; "" if there is none.

    `allowed`: the test allows violations, so the account says so instead of failing it.
    """
    offending = [entry for entry in entries if entry.findings]
    if not offending:
        return ""
    # Identical requests with identical findings (a loop polling `/ops/latest`) are one entry.
    blocks: list[tuple[str, list[str], int]] = []
    for entry in offending:
        block = (_request_line(entry), finding_lines(entry.findings))
        if blocks and blocks[-1][:2] == block:
            blocks[-1] = (*block, blocks[-1][2] + 1)
        else:
            blocks.append((*block, 1))
    requests = f"{len(offending)} request{'s' if len(offending) > 1 else ''}"
    lines = [
        f"The client under test sent {requests} the Wesog contract does not allow to the fake "
        f"at {base_url} (this test allows them):" if allowed else
        f"The client under test broke the Wesog contract in {requests} to the fake at "
        f"{base_url}:"
    ]
    for number, (request, found, times) in enumerate(blocks, 1):
        lines.append(f"  {number}. {request}{f' (×{times})' if times > 1 else ''}")
        lines.extend(f"       {line}" for line in found)
    if not allowed:
        lines.append("The contract is openapi.yaml. To allow this in a test that means it, mark "
                     "it @pytest.mark.wesog(allow_violations=True); the findings stay in "
                     ".journal.")
    return "\n".join(lines)
