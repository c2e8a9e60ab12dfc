"""The request journal: what it records, the contract's findings, its bound, its filters."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from controls_support import Fake, image

from contracts.spec import Contract, RequestReport, default_contract
from wesog_mock import Journal, JournalEntry, MockConfig
from wesog_mock.controls.context import RequestContext
from wesog_mock.domain.clock import iso_ms

pytestmark = pytest.mark.anyio



@pytest.fixture
async def fake() -> AsyncIterator[Fake]:
    async with Fake() as made:
        yield made


def _codes(entry: JournalEntry) -> list[tuple[str, str, str]]:
    return [(f.severity, f.code, f.location) for f in entry.findings]


async def test_an_entry_records_the_request_and_its_answer(fake: Fake) -> None:
    fake.controller.advance(1234)
    now = iso_ms(fake.controller.now_ms())
    body = json.dumps([image("a", title="red car")]).encode()
    await fake.wesog(
        "POST", "/imgs?lang=en&wait=true&lang=fr", content=body,
        headers={"Content-Type": "application/json"},
    )
    [entry] = fake.controller.journal.entries
    assert entry.seq == 1
    assert entry.at == now  # the fake's clock, not the wall
    assert 0 < entry.latency_ms < 60_000  # measured (a perf_counter difference), in ms
    assert entry.tenant == "k1"
    assert (entry.method, entry.path) == ("POST", "/imgs")
    assert entry.query == (("lang", "en"), ("wait", "true"), ("lang", "fr"))
    assert entry.body_bytes == len(body)
    assert entry.body_checked is True
    assert entry.status == 200
    assert entry.dropped is False
    assert entry.operation_id == "createImages"
    assert entry.fault_id is None


async def test_an_entry_as_json_has_every_field(fake: Fake) -> None:
    rule = fake.controller.faults.add("status", status=502, path="/ops", times=1)
    fake.controller.advance(5)
    at = iso_ms(fake.controller.now_ms())
    await fake.wesog("GET", "/ops", params={"x": "1"})
    await fake.wesog("GET", "/imgs/a", key=None)
    faulted, plain = (await fake.admin("GET", "/requests")).json()["entries"]
    assert 0 < faulted.pop("latency_ms") < 60_000
    assert faulted == {
        "seq": 1, "at": at, "tenant": "k1", "method": "GET", "path": "/ops",
        "query": [["x", "1"]], "body_bytes": 0, "body_checked": True, "status": 502,
        "dropped": False, "operation_id": "listOperations",
        "findings": [f.as_dict() for f in fake.controller.journal.entries[0].findings],
        "fault": {"id": rule.id, "kind": "status"},
    }
    assert faulted["findings"][0]["code"] == "unknown_parameter"
    assert (plain["tenant"], plain["status"], plain["fault"]) == (None, 401, None)


async def test_findings_carry_warnings_and_violations(fake: Fake) -> None:
    await fake.wesog("POST", "/imgs", json=[image("a", titel="typo")])
    await fake.wesog("POST", "/imgs", params={"lang": "de"}, json=[image("b")])
    typo, german = fake.controller.journal.entries
    assert typo.status == 202  # the fake ignores the unknown field, as the real service does
    assert _codes(typo) == [("warning", "unknown_field", "body[0].titel")]
    assert typo.violations == ()
    assert german.status == 422
    assert _codes(german) == [("violation", "enum", "query.lang")]
    assert german.warnings == ()
    as_json = (await fake.admin("GET", "/requests")).json()["entries"]
    assert as_json[0]["findings"] == [f.as_dict() for f in typo.findings]
    assert as_json[1]["findings"][0]["location"] == "query.lang"


async def test_the_findings_are_the_contracts(fake: Fake) -> None:
    raw = b'[{"id": "", "src": 5}]'
    await fake.wesog("PUT", "/imgs", content=raw, headers={"Content-Type": "application/json"})
    [entry] = fake.controller.journal.entries
    expected = default_contract().validate_request(
        "PUT", "/imgs", headers={"API-Key": "k1", "Content-Type": "application/json"}, body=raw
    )
    assert entry.findings == expected.findings
    assert entry.operation_id == "replaceImages"


async def test_every_request_is_recorded_whatever_its_answer(fake: Fake) -> None:
    await fake.wesog("GET", "/ops", key=None)  # 401
    await fake.wesog("GET", "/nowhere")  # 404 off the contract
    await fake.wesog("GET", "/ops/77")  # 404 on the contract
    await fake.wesog("POST", "/ops")  # 405
    await fake.client.get("/openapi.yaml")
    entries = fake.controller.journal.entries
    assert [e.status for e in entries] == [401, 404, 404, 405, 200]
    assert entries[0].tenant is None
    assert ("violation", "missing_api_key", "header.API-Key") in _codes(entries[0])
    assert _codes(entries[1]) == [("violation", "unknown_path", "path")]
    assert entries[1].operation_id is None
    assert entries[2].operation_id == "getOperation"
    assert entries[2].findings == ()
    assert _codes(entries[3]) == [("violation", "method_not_allowed", "method")]


async def test_a_body_the_fake_did_not_read_is_not_judged() -> None:
    async with Fake(max_body_bytes=64) as fake:
        big = json.dumps([image(f"id-{i}") for i in range(10)]).encode()
        response = await fake.wesog(
            "POST", "/imgs", content=big, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 413
        [entry] = fake.controller.journal.entries
        assert entry.body_checked is False
        assert entry.body_bytes == len(big)
        assert all(f.loc[0] != "body" for f in entry.findings)


async def test_the_journal_drops_the_oldest_past_its_bound() -> None:
    async with Fake(journal_size=3) as fake:
        for n in range(5):
            await fake.wesog("GET", f"/ops/{n + 1}")
        journal = fake.controller.journal
        assert [e.seq for e in journal.entries] == [3, 4, 5]
        assert [e.path for e in journal.entries] == ["/ops/3", "/ops/4", "/ops/5"]
        assert journal.dropped == 2
        body = (await fake.admin("GET", "/requests")).json()
        assert (body["size"], body["dropped"], body["count"]) == (3, 2, 3)
        fake.controller.configure(journal_size=1)  # shrinking drops at once
        assert [e.seq for e in journal.entries] == [5]
        assert journal.dropped == 4
        journal.clear()
        assert (len(journal), journal.dropped) == (0, 0)
        await fake.wesog("GET", "/ops")
        assert [e.seq for e in journal.entries] == [6]  # numbers are never reused


async def test_filters_by_tenant_path_and_status(fake: Fake) -> None:
    await fake.add(image("a"), key="k1")
    await fake.add(image("b"), key="k2")
    await fake.wesog("GET", "/imgs/a", key="k1")
    await fake.wesog("GET", "/imgs/a", key="k2")
    journal = fake.controller.journal
    assert [e.seq for e in journal.filter(tenant="k2")] == [2, 4]
    assert [e.seq for e in journal.filter(path="/imgs/*")] == [3, 4]
    assert [e.seq for e in journal.filter(path="/imgs")] == [1, 2]
    assert [e.seq for e in journal.filter(status=404)] == [4]
    assert [e.seq for e in journal.filter(tenant="k1", status=200)] == [3]
    assert [e.seq for e in journal.filter(since=3)] == [4]


async def test_a_request_whose_app_raised_is_still_recorded(fake: Fake) -> None:
    async def stream() -> AsyncIterator[bytes]:
        yield b'[{"id": "a", '
        raise httpx.ReadError("the client gave up")  # inside the app's receive()

    with pytest.raises(httpx.ReadError):
        await fake.wesog("POST", "/imgs", content=stream())
    [entry] = fake.controller.journal.entries
    assert entry.body_checked is False
    assert entry.status == 500  # what Starlette's error middleware answered before re-raising
    assert fake.controller.operations("k1") == []


async def test_a_check_that_fails_is_a_finding_about_the_fake_never_a_broken_answer(
    fake: Fake, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    # The journal's own contract object; a check of a held body now always fails.
    monkeypatch.setattr(fake.controller.journal._contract, "validate_request", broken)
    big = [image(f"i{n}", title="x" * 1000) for n in range(6000)]  # past the held-body cap
    for _ in range(4):
        answer = await fake.wesog("POST", "/imgs", json=big)
        assert answer.status_code == 202
        assert answer.json()["num_total"] == 6000  # the whole answer, every time
    listed = await fake.wesog("GET", "/ops")
    assert (listed.status_code, len(listed.json())) == (200, 4)
    entries = fake.controller.journal.entries
    assert len(entries) == 5
    for entry in entries:
        [finding] = entry.findings
        assert finding.code == "fake_error"
        assert not finding.is_violation  # the client under test did nothing wrong
        assert "RecursionError" in finding.message
    assert fake.controller.journal._pending == 0  # nothing held after the failed checks


def _request(body: bytes | None = None, **fields: Any) -> RequestContext:
    settings: dict[str, Any] = {
        "at_ms": 0.0, "method": "POST", "path": "/imgs", "query_string": b"", "api_key": "k",
        "content_type": "application/json", "declared_length": None, "chunked": False,
        "status": 202,
    }
    if body is not None:
        settings.update(chunks=[body], body_bytes=len(body), body_complete=True,
                        declared_length=len(body))
    settings.update(fields)
    return RequestContext(**settings)


def _recorded(request: RequestContext) -> JournalEntry:
    journal = Journal(size=5)
    journal.record(request)
    [entry] = journal.entries
    return entry


def test_an_entry_keeps_blank_query_values_and_rounds_the_latency() -> None:
    entry = _recorded(_request(b"[]", query_string=b"lang=&wait=1", latency_ms=1.23456))
    assert entry.query == (("lang", ""), ("wait", "1"))
    assert entry.latency_ms == 1.235


def test_the_raw_body_is_judged_when_the_route_did_not_decode_it() -> None:
    entry = _recorded(_request(b'[{"id": "a"}]'))
    assert entry.body_checked is True
    assert [(f.code, f.location) for f in entry.violations] == [("missing", "body[0].src")]
    junk = _recorded(_request(b"[{"))
    assert [f.code for f in junk.violations] == ["json_invalid"]


def test_the_content_type_is_judged() -> None:
    entry = _recorded(_request(b'[{"id": "a", "src": "s"}]', content_type="text/plain"))
    assert [f.code for f in entry.violations] == ["content_type"]
    missing = _recorded(_request(b'[{"id": "a", "src": "s"}]', content_type=None))
    assert missing.violations == ()  # a JSON body with no Content-Type is read as JSON


def test_a_body_never_sent_is_checked_as_empty_and_one_declared_is_not() -> None:
    # No body, none declared: known to be empty, so judged (a POST needs one).
    empty = _recorded(_request())
    assert (empty.body_checked, empty.body_bytes) == (True, 0)
    assert [f.code for f in empty.violations] == ["missing"]
    # Declared but not read: not judged, its size the declared one.
    unread = _recorded(_request(declared_length=70_000_000))
    assert (unread.body_checked, unread.body_bytes, unread.violations) == (False, 70_000_000, ())
    streamed = _recorded(_request(chunked=True))
    assert (streamed.body_checked, streamed.violations) == (False, ())


def test_a_failed_check_is_recorded_as_a_warning_about_the_fake() -> None:
    class Broken(Contract):
        def validate_request(self, method: str, path: str, **parts: Any) -> RequestReport:
            raise KeyError("x" * 300)

    journal = Journal(size=2, contract=Broken(default_contract().document))
    journal.record(_request(b"[]", query_string=b"wait=1"))
    [entry] = journal.entries
    [finding] = entry.findings
    assert (finding.code, finding.loc, finding.severity) == ("fake_error", (), "warning")
    assert finding.message == (
        "wesog-mock could not check this request against the contract (KeyError: "
        f"{str(KeyError('x' * 300))[:200]}); this is a bug of the fake, not of the client")
    assert (entry.query, entry.body_bytes, entry.body_checked) == ((), 2, False)
    assert (entry.operation_id, entry.status, entry.tenant) == (None, 202, "k")


def test_after_a_clear_the_journal_trims_from_its_new_oldest() -> None:
    journal = Journal(size=2)
    for _ in range(3):
        journal.record(_request(b"[]"))
    journal.clear()
    for _ in range(3):
        journal.record(_request(b"[]"))
    assert [e.seq for e in journal.entries] == [5, 6]
    assert journal.dropped == 1


def test_a_journal_keeps_as_many_entries_as_a_fakes_by_default() -> None:
    assert Journal().size == MockConfig().journal_size == 1000
