"""The journal's hold on request bodies: kept as bytes or as the document the route decoded,
judged when their entry is read, and bounded in total (past the cap the oldest are judged at
once), let go when trimmed or cleared."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from controls_support import Fake, image

from contracts.spec import Contract, RequestReport, default_contract
from wesog_mock import Journal
from wesog_mock.controls.context import RequestContext

pytestmark = pytest.mark.anyio


@pytest.fixture
async def fake() -> AsyncIterator[Fake]:
    async with Fake() as made:
        yield made


async def test_the_journal_is_bounded_in_held_bodies_too() -> None:
    # A unit check of the lazy judging: held bodies past the cap are judged at once and let go.
    journal = Journal(size=10)
    body = b"[" + b" " * (6 * 1024 * 1024) + b"]"
    for _ in range(4):
        journal.record(RequestContext(
            at_ms=0.0, method="POST", path="/imgs", query_string=b"", api_key="k",
            content_type="application/json", declared_length=len(body), chunked=False,
            chunks=[body], body_bytes=len(body), body_complete=True, status=422,
        ))
    assert journal._pending <= 16 * 1024 * 1024
    assert [e.body_bytes for e in journal.entries] == [len(body)] * 4
    assert journal._pending == 0


class _CountingContract(Contract):
    """The packaged contract, counting the requests it is asked to check."""

    def __init__(self) -> None:
        super().__init__(default_contract().document)
        self.checked = 0

    def validate_request(self, method: str, path: str, **parts: Any) -> RequestReport:
        self.checked += 1
        return super().validate_request(method, path, **parts)


def _posted(*chunks: bytes) -> RequestContext:
    """A POST /imgs answered 202, its body read whole in `chunks`."""
    size = sum(map(len, chunks))
    return RequestContext(
        at_ms=0.0, method="POST", path="/imgs", query_string=b"", api_key="k",
        content_type="application/json", declared_length=size, chunked=False,
        chunks=list(chunks), body_bytes=size, body_complete=True, status=202,
    )


async def test_trimming_lets_go_of_the_bodies_it_held() -> None:
    # 40 bodies of 1 MiB through a journal of 2: what is dropped must be let go, both the body
    # (at most 2 MiB stays held) and its count (the bodies kept stay well under the cap past
    # which held bodies are checked at once, so none is checked before someone reads it).
    mib = 1024 * 1024
    contract = _CountingContract()
    journal = Journal(size=2, contract=contract)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(40):
            journal.record(_posted(b"[" + b" " * mib + b"]"))  # a new body each time
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert contract.checked == 0
    assert held < 6 * mib, f"{held / mib:.1f} MiB still held for 2 entries of 1 MiB"
    assert (len(journal), journal.dropped) == (2, 38)
    assert [(e.seq, e.body_bytes) for e in journal.entries] == [(39, mib + 2), (40, mib + 2)]
    assert contract.checked == 2  # checked when read, once each
    assert [e.status for e in journal.entries] == [202, 202]
    assert contract.checked == 2


def test_the_held_bytes_are_counted_across_a_trim() -> None:
    # Two kept of three: after the trim, 24 MiB are held for later checks, over the 16 MiB cap,
    # so the older kept body is checked at once (and let go); a count that lost track of the
    # bodies still held would check none.
    mib = 1024 * 1024
    contract = _CountingContract()
    journal = Journal(size=2, contract=contract)
    for size in (2, 12, 12):
        journal.record(_posted(b"[" + b" " * (size * mib - 2) + b"]"))
    assert contract.checked == 1
    assert [e.body_bytes for e in journal.entries] == [12 * mib, 12 * mib]
    assert contract.checked == 2


async def test_a_body_the_route_decoded_is_judged_with_its_query(fake: Fake) -> None:
    # Past 64 KiB the journal keeps the document the route decoded, not the bytes: the check
    # of that document still reads the query.
    big = [image(f"i{n}", title="x" * 200) for n in range(400)]
    answer = await fake.wesog("POST", "/imgs", json=big, params={"wait": "maybe"})
    assert answer.status_code == 422
    [entry] = fake.controller.journal.entries
    assert entry.body_bytes > 64 * 1024
    assert (entry.body_checked, entry.query) == (True, (("wait", "maybe"),))
    assert [f.location for f in entry.violations] == ["query.wait"]


def test_a_clear_lets_go_of_the_count_of_the_bodies_it_held() -> None:
    # After a clear, the cap counts only what is recorded after it: a body of exactly the cap
    # (16 MiB) is held unchecked, as in a new journal, though 12 MiB were held before the clear.
    mib = 1024 * 1024
    contract = _CountingContract()
    journal = Journal(size=5, contract=contract)
    journal.record(_posted(b"[" + b" " * (12 * mib - 2) + b"]"))
    journal.clear()
    journal.record(_posted(b"[" + b" " * (16 * mib - 2) + b"]"))
    assert contract.checked == 0
    assert [e.body_bytes for e in journal.entries] == [16 * mib]
    assert contract.checked == 1


@pytest.mark.parametrize(("size", "decodes"), [(64 * 1024 - 1, 2), (64 * 1024, 1)])
async def test_a_body_of_64_kib_is_judged_from_the_routes_document_a_smaller_one_from_its_bytes(
    fake: Fake, monkeypatch: pytest.MonkeyPatch, size: int, decodes: int
) -> None:
    # From 64 KiB the journal keeps what the route decoded and does not decode it again; a
    # smaller body is kept as its bytes (one object) and decoded when its entry is read.
    items = [image(f"i{n}", title="x" * 1_000) for n in range(60)]
    items[-1]["title"] += "x" * (size - len(json.dumps(items).encode()))
    body = json.dumps(items).encode()
    assert len(body) == size
    decoded: list[int] = []
    fast_loads = orjson.loads

    def counting_loads(text: bytes) -> Any:  # the decoder tried first
        decoded.append(len(text))
        return fast_loads(text)

    monkeypatch.setattr(orjson, "loads", counting_loads)
    answer = await fake.wesog("POST", "/imgs", content=body,
                              headers={"Content-Type": "application/json"})
    [entry] = fake.controller.journal.entries
    monkeypatch.undo()
    assert answer.status_code == 202
    assert (entry.body_checked, entry.findings) == (True, ())
    assert decoded == [size] * decodes


def test_a_body_recorded_in_chunks_is_judged_whole_and_left_with_the_journal() -> None:
    request = _posted(b'[{"id": "a", ', b'"src": "s"}]')
    journal = Journal(size=5)
    journal.record(request)
    assert request.chunks == []  # the journal holds the body, once
    [entry] = journal.entries
    assert (entry.body_checked, entry.findings) == (True, ())


def test_past_the_held_body_cap_only_enough_of_the_oldest_are_checked_to_get_back_to_it() -> None:
    # 1 MiB, then exactly the 16 MiB cap: checking the older body brings the held bytes back
    # to the cap, so the newer one waits to be read.
    mib = 1024 * 1024
    contract = _CountingContract()
    journal = Journal(size=5, contract=contract)
    journal.record(_posted(b"[" + b" " * (mib - 2) + b"]"))
    journal.record(_posted(b"[" + b" " * (16 * mib - 2) + b"]"))
    assert contract.checked == 1
    assert [e.body_bytes for e in journal.entries] == [mib, 16 * mib]
    assert contract.checked == 2
