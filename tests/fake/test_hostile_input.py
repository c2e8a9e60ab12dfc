"""Nothing a client sends can break the fake: hostile bodies, queries, headers and framing,
each sent over a real socket to `wesog-mock serve`, must get a 4xx (or the documented 2xx),
never a 5xx, store nothing half-way, and leave the server whole for every tenant after it."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SRC = "https://example.com/1.jpg"
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    """One `wesog-mock serve` for the module, as a user runs it (a subprocess, a real port)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "wesog_mock.cli", "serve", "--port", "0", "--log-level",
         "warning", "--max-body-mb", "8"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    found = re.search(r"http://\S+", process.stdout.readline())
    assert found
    try:
        yield found.group(0)
    finally:
        process.terminate()
        _, err = process.communicate(timeout=20)
        assert "Traceback" not in err, err[-3000:]


@pytest.fixture
def tenant() -> str:
    return f"hostile-{uuid.uuid4().hex[:8]}"


def _ops(url: str, key: str) -> list[dict[str, Any]]:
    listed = httpx.get(f"{url}/ops", headers={"API-Key": key}, timeout=30)
    assert listed.status_code == 200, listed.text[:500]
    result: list[dict[str, Any]] = listed.json()
    return result


def assert_canary(url: str, *keys: str) -> None:
    """Upload, read back, list operations, read the journal and the state: all answer fully."""
    for key in (*keys, f"fresh-{uuid.uuid4().hex[:8]}"):
        headers = {"API-Key": key}
        with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
            image_id = f"canary-{uuid.uuid4().hex[:8]}"
            created = client.post("/imgs?wait=true", json=[{"id": image_id, "src": SRC}])
            assert created.status_code == 200, created.text[:500]
            assert created.json()["all_good"] is True
            assert client.get(f"/imgs/{image_id}").json()["src"] == SRC
            assert isinstance(client.get("/ops").json(), list)
            journal = client.get("/_mock/requests", params={"tenant": key})
            assert journal.status_code == 200
            assert journal.json()["count"] >= 1
            state = client.get("/_mock/state", params={"tenant": key})
            assert state.status_code == 200
            assert image_id in state.json()["images"]


def _refused_and_nothing_stored(url: str, key: str, answer: httpx.Response, before: int) -> None:
    assert answer.status_code < 500, answer.text[:500]
    if answer.status_code >= 400:
        assert len(_ops(url, key)) == before  # no half-created operation
        assert answer.headers["content-type"] == "application/json"
        assert "detail" in answer.json()


def _deep(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


BODIES: dict[str, tuple[bytes, set[int]]] = {
    "nested arrays past the decoder's limit": (_deep(5000), {422}),
    "nested objects in a field": (
        b'[{"id":"a","src":"s","title":' + b'{"a":' * 3000 + b"1" + b"}" * 3000 + b"}]", {422},
    ),
    "a lone surrogate in an id": (b'[{"id":"\\ud800","src":"s"}]', {422}),
    "a lone surrogate in a field": (b'[{"id":"a","src":"s","title":"x\\udfff"}]', {422}),
    "a lone surrogate in a list item": (b'[{"id":"a","src":"s","keywords":["\\ud800"]}]', {422}),
    "a lone surrogate in an unknown field": (b'[{"id":"a","src":"s","zz":"\\ud800"}]', {422}),
    "a lone surrogate in a key": (b'[{"id":"a","src":"s","\\ud800":1}]', {422}),
    "invalid UTF-8": (b'[{"id":"\xff\xfe","src":"s"}]', {422}),
    "NaN in a string field": (b'[{"id":"a","src":"s","title":NaN}]', {422}),
    "an integer of 5,000 digits": (b'[{"id":"a","src":"s","zz":' + b"9" * 5000 + b"}]", {422}),
    "a NUL byte outside a string": (b'[{"id":"a","src":"s"}\x00]', {422}),
    "truncated JSON": (b'[{"id":"a","src":', {422}),
    "an empty array": (b"[]", {422}),
    "a bare string": (b'"x"', {422}),
    "null": (b"null", {422}),
    # Readings FastAPI gives (A9): accepted as it accepts them.
    "a UTF-8 BOM": (b'\xef\xbb\xbf[{"id":"bom","src":"s"}]', {200}),
    "a valid surrogate pair": (b'[{"id":"pair","src":"s","title":"\\ud83d\\ude00"}]', {200}),
    "duplicate keys (the last wins)": (b'[{"id":"x","id":"dup","src":"s"}]', {200}),
    "a NUL character in a string": (b'[{"id":"nu\\u0000l","src":"s"}]', {200}),
    "Infinity in an unknown field": (b'[{"id":"inf","src":"s","zz":Infinity}]', {200}),
    "100,000 unknown keys": (
        b'[{"id":"keys","src":"s",' + b",".join(b'"k%d":1' % i for i in range(100_000)) + b"}]",
        {200},
    ),
    "a 2 MB string": (b'[{"id":"long","src":"' + b"s" * 2_000_000 + b'"}]', {200}),
}


@pytest.mark.parametrize("strict", ["false", "true"])
@pytest.mark.parametrize("case", sorted(BODIES))
def test_hostile_bodies_get_a_documented_answer(
    url: str, tenant: str, case: str, strict: str
) -> None:
    body, expected = BODIES[case]
    before = len(_ops(url, tenant))
    answer = httpx.post(f"{url}/imgs?wait=true&strict={strict}", content=body,
                        headers={**JSON, "API-Key": tenant}, timeout=60)
    assert answer.status_code in expected, answer.text[:500]
    _refused_and_nothing_stored(url, tenant, answer, before)
    if answer.status_code == 200:
        json.dumps(answer.json(), ensure_ascii=False).encode()  # all of it can go back out
    assert_canary(url, tenant)


@pytest.mark.parametrize(
    ("method", "path"),
    [(m, p) for m in ("HEAD", "OPTIONS", "TRACE")
     for p in ("/imgs", "/imgs/a", "/ops", "/ops/1", "/openapi.yaml", "/_mock/health", "/x")],
)
def test_every_method_on_every_path_answers_below_500(
    url: str, tenant: str, method: str, path: str
) -> None:
    answer = httpx.request(method, url + path, headers={"API-Key": tenant}, timeout=30)
    assert answer.status_code < 500
    if method != "HEAD" and answer.status_code >= 400:
        assert "detail" in answer.json()


@pytest.mark.parametrize(
    "target",
    [
        "/ops?" + "&".join(f"p{i}=1" for i in range(5000)),
        "/ops?lang=%ED%A0%80",  # a lone surrogate, percent-encoded
        "/imgs/%ED%A0%80",
        "/imgs/%FF%FE",
        "/imgs/a?fields=%00",
        "/ops/99999999999999999999999999",
        "/ops/-1",
    ],
)
def test_hostile_queries_and_paths(url: str, tenant: str, target: str) -> None:
    answer = httpx.get(url + target, headers={"API-Key": tenant}, timeout=30)
    assert answer.status_code < 500, answer.text[:300]
    assert_canary(url, tenant)


def _raw_exchange(url: str, data: bytes, *, shut: bool = True) -> bytes:
    """Send `data` on a fresh connection and read until the server closes or goes quiet."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        received = b""
        try:  # the server may refuse and close before it has read everything
            sock.sendall(data)
            if shut:
                sock.shutdown(socket.SHUT_WR)
            while chunk := sock.recv(65536):
                received += chunk
        except (TimeoutError, ConnectionError, OSError):
            pass
        return received


def _statuses(received: bytes) -> list[int]:
    return [int(code) for code in re.findall(rb"HTTP/1\.1 (\d{3})", received)]


def test_a_body_shorter_than_its_content_length_stores_nothing(url: str, tenant: str) -> None:
    body = json.dumps([{"id": "short", "src": SRC}]).encode()
    head = (f"POST /imgs?wait=true HTTP/1.1\r\nHost: x\r\nAPI-Key: {tenant}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body) + 50}\r\n\r\n")
    received = _raw_exchange(url, head.encode() + body)
    assert all(status < 500 for status in _statuses(received))
    assert _ops(url, tenant) == []
    assert_canary(url, tenant)


def test_chunked_and_pipelined_requests_are_each_answered(url: str, tenant: str) -> None:
    body = json.dumps([{"id": "chunked", "src": SRC}]).encode()
    chunked = (f"POST /imgs?wait=true HTTP/1.1\r\nHost: x\r\nAPI-Key: {tenant}\r\n"
               "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n").encode()
    chunked += b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    listing = f"GET /ops HTTP/1.1\r\nHost: x\r\nAPI-Key: {tenant}\r\n\r\n".encode()
    received = _raw_exchange(url, chunked + listing + listing)
    assert _statuses(received) == [200, 200, 200]
    assert [op["num_good"] for op in _ops(url, tenant)] == [1]


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /ops HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n",
        b"GET /ops HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(5000))
        + b"\r\n",
        b"POST /imgs HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
        b"BREW /imgs HTTP/1.1\r\nHost: x\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  # a TLS hello on a plain port
    ],
    ids=["a 200 kB header", "5,000 headers", "a negative length", "an odd method", "TLS"],
)
def test_malformed_http_never_gets_a_5xx(url: str, tenant: str, request_bytes: bytes) -> None:
    received = _raw_exchange(url, request_bytes)
    assert all(status < 500 for status in _statuses(received)), received[:300]
    assert_canary(url, tenant)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=300))
def test_byte_junk_never_gets_a_5xx(url: str, body: bytes) -> None:
    key = "junk-bytes"
    before = len(_ops(url, key))
    answer = httpx.post(f"{url}/imgs?wait=true", content=body,
                        headers={**JSON, "API-Key": key}, timeout=30)
    _refused_and_nothing_stored(url, key, answer, before)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=_json_values, strict=st.sampled_from(["true", "false"]),
       method=st.sampled_from(["POST", "PUT", "PATCH", "DELETE"]))
def test_json_junk_never_gets_a_5xx(url: str, document: Any, strict: str, method: str) -> None:
    key = "junk-json"
    before = len(_ops(url, key))
    body = json.dumps(document).encode()  # NaN and Infinity included, as Python writes them
    answer = httpx.request(method, f"{url}/imgs?wait=true&strict={strict}", content=body,
                           headers={**JSON, "API-Key": key}, timeout=30)
    _refused_and_nothing_stored(url, key, answer, before)


def test_after_all_of_it_the_server_is_whole(url: str) -> None:
    assert_canary(url, "junk-bytes", "junk-json")


@pytest.mark.parametrize("encoding", ["gzip", "br", "deflate, gzip"])
def test_a_compressed_body_is_refused_with_the_reason(url: str, tenant: str, encoding: str) -> None:
    import gzip

    body = gzip.compress(json.dumps([{"id": "z", "src": SRC}]).encode())
    answer = httpx.post(f"{url}/imgs?wait=true", content=body, timeout=30,
                        headers={**JSON, "API-Key": tenant, "Content-Encoding": encoding})
    assert answer.status_code == 422
    [error] = answer.json()["detail"]
    assert error["loc"] == ["header", "Content-Encoding"]
    assert "uncompressed" in error["msg"]
    assert _ops(url, tenant) == []
