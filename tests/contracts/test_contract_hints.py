"""The fix a finding suggests for a known mistake, and none for the rest."""

from __future__ import annotations

import difflib
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts import Finding, default_contract

CONTRACT = default_contract()
KEY = {"API-Key": "k"}
FIELDS = CONTRACT.document["components"]["schemas"]["ImageField"]["enum"]


def _fields(*values: str) -> list[Finding]:
    report = CONTRACT.validate_request(
        "GET", "/imgs/a", query=[("fields", value) for value in values], headers=KEY
    )
    return list(report.findings)


@pytest.mark.parametrize(("sent", "fix"), [
    ("title,src", "Repeat the key for each value: fields=title&fields=src."),
    ("title, src", "Repeat the key for each value: fields=title&fields=src."),
    ("title src n_faces", "Repeat the key for each value: fields=title&fields=src&fields=n_faces."),
    ("Title", "Values are case-sensitive: send fields=title."),
])
def test_a_known_fields_mistake_keeps_its_input_and_names_the_fix(sent: str, fix: str) -> None:
    [finding] = _fields("image_id", sent)
    assert (finding.location, finding.code, finding.input, finding.hint) == (
        "query.fields[1]", "enum", sent, fix)
    # The wire stays FastAPI's: the hint is the report's, not part of a 422's `detail` item.
    assert set(finding.as_fastapi_error()) == {"type", "loc", "msg", "input"}
    assert finding.as_dict()["hint"] == fix


def test_a_scalar_with_several_values_is_told_it_takes_one() -> None:
    report = CONTRACT.validate_request("POST", "/imgs", query={"lang": "en,es"}, headers=KEY,
                                       body=b'[{"id": "a", "src": "s"}]')
    [finding] = report.findings
    assert finding.hint == "Send one value: lang takes one, not 2."
    report = CONTRACT.validate_request("POST", "/imgs", query={"lang": "EN"}, headers=KEY,
                                       body=b'[{"id": "a", "src": "s"}]')
    assert report.findings[0].hint == "Values are case-sensitive: send lang=en."


@given(st.text(min_size=1, max_size=12).filter(
    lambda raw: raw.lower() not in FIELDS
    and not any(part in FIELDS for part in raw.replace(",", " ").split())))
def test_an_unknown_value_gets_no_made_up_fix(raw: str) -> None:
    [finding] = _fields(raw)
    assert finding.hint == ""
    assert "hint" not in finding.as_dict()


@pytest.mark.parametrize(("name", "hint"), [
    ("titel", "Did you mean 'title'?"),
    ("keyword", "Did you mean 'keywords'?"),
    ("colour", ""),
])
def test_an_unknown_field_near_a_known_one_suggests_it(name: str, hint: str) -> None:
    body = json.dumps([{"id": "a", "src": "s", name: "x"}]).encode()
    report = CONTRACT.validate_request("POST", "/imgs", headers=KEY, body=body)
    [finding] = report.findings
    assert (finding.code, finding.hint) == ("unknown_field", hint)


def test_suggestions_are_bounded_for_a_body_of_made_up_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    matched: list[str] = []
    close_matches = difflib.get_close_matches

    def counting(word: str, *args: Any, **kwargs: Any) -> list[str]:
        matched.append(word)
        return close_matches(word, *args, **kwargs)

    monkeypatch.setattr(difflib, "get_close_matches", counting)
    items = [{"id": f"i{i}", "src": "s", "titel": 1, **{f"x{n}": n for n in range(500)}}
             for i in range(20)]
    report = CONTRACT.validate_request("POST", "/imgs", headers=KEY,
                                       body=json.dumps(items).encode())
    assert len(report.findings) == 20 * 501
    assert len(matched) == 32  # distinct names only, and no more than 32 of them
    assert report.findings[-1].hint == ""
