"""The account of a client's contract violations: grouped findings, repeated requests, fixes."""

from __future__ import annotations

import json
import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from contracts.findings import Finding
from wesog_mock import MockConfig, create_app
from wesog_mock.controls.violations import finding_lines, violation_report
from wesog_mock.testing import WesogFake


def _titel(index: int, value: object = "dup") -> Finding:
    return Finding("unknown_field", ("body", index, "titel"), "No field 'titel'", status=200,
                   input=value, severity="warning")


def test_fifty_alike_findings_are_one_line() -> None:
    lines = finding_lines(_titel(n) for n in range(50))
    assert lines == ["body[0..49].titel (×50) (warning): No field 'titel' (sent 'dup')"]


def test_findings_differing_in_more_than_an_index_stay_apart() -> None:
    missing = [Finding("missing", ("body", n, "src"), "Field required") for n in (0, 1)]
    lines = finding_lines([_titel(0, "a"), _titel(1, "b"), *missing, _titel(7, "c")])
    assert lines == [
        "body[0, 1, 7].titel (×3) (warning): No field 'titel'",  # no single value was sent
        "body[0, 1].src (×2): Field required",
    ]


def test_nested_indices_are_shown_per_position() -> None:
    found = [Finding("string_type", ("body", item, "keywords", word), "Input should be a "
                     "valid string", input=5) for item in (3, 4, 5) for word in (0, 2)]
    assert finding_lines(found) == [
        "body[3..5].keywords[0, 2] (×6): Input should be a valid string (sent 5)"
    ]


def test_long_inputs_are_cut_and_structures_not_shown() -> None:
    [long] = finding_lines([Finding("string_type", ("body", 0, "id"), "Bad", input="x" * 500)])
    assert long.endswith("(sent 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…)")
    [structure] = finding_lines([Finding("list_type", ("body",), "Bad", input={"id": "a"})])
    assert structure == "body: Bad"


def _expand(runs: str) -> set[int]:
    indices: set[int] = set()
    for run in runs.split(", "):
        first, _, last = run.partition("..")
        indices.update(range(int(first), int(last or first) + 1))
    return indices


@given(st.sets(st.integers(0, 300), min_size=1, max_size=60))
def test_a_group_names_exactly_its_indices_and_counts_them(indices: set[int]) -> None:
    [line] = finding_lines(_titel(n) for n in sorted(indices, key=lambda n: -n))
    match = re.fullmatch(r"body\[(.*)\]\.titel(?: \(×(\d+)\))? \(warning\): .*", line)
    assert match is not None, line
    assert int(match[2] or 1) == len(indices)
    shown = match[1]
    if shown.endswith(", …"):  # too many runs to list: the ones listed are the first ones
        listed = _expand(shown.removesuffix(", …"))
        assert listed < indices
        assert max(listed) < min(indices - listed)
    else:
        assert _expand(shown) == indices


def test_repeated_identical_requests_are_one_entry() -> None:
    fake = WesogFake(create_app(MockConfig(clock="virtual")), base_url="http://wesog.test")
    with fake.client() as http:
        for _ in range(3):
            http.get("/ops/latest")
        http.get("/ops/1?lang=de")
        http.get("/ops/latest")
    report = fake.violation_report()
    assert report.splitlines()[:6] == [
        "The client under test broke the Wesog contract in 5 requests to the fake at "
        "http://wesog.test:",
        "  1. GET /ops/latest -> 422 (×3)",
        "       path.op_id: Input should be a valid integer, unable to parse string as an "
        "integer (sent 'latest')",
        "  2. GET /ops/1?lang=de -> 404",
        "       query.lang (warning): The contract knows no query parameter 'lang'; the server "
        "ignores it (sent 'de')",
        "  3. GET /ops/latest -> 422",
    ]
    assert violation_report([], "http://x") == ""


def test_the_readmes_journal_finding_is_what_the_journal_shows() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    [sample] = [json.loads(block) for block in re.findall(r"```json\n(.*?)```", readme,
                                                          flags=re.DOTALL)
                if '"unknown_field"' in block]
    fake = WesogFake(create_app(MockConfig(clock="virtual")), base_url="http://wesog.test")
    with fake.client() as http:
        http.post("/imgs", json=[{"id": "a", "src": "https://x/a.jpg", "titel": "x"}])
    [entry] = fake.journal.entries
    assert [finding.as_dict() for finding in entry.findings] == [sample]
