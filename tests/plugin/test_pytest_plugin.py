"""The pytest plugin, as a user's suite sees it (run through pytester)."""

from __future__ import annotations

import contextlib
import os
import textwrap
import threading
from pathlib import Path

import pytest

# A small but honest client of the Wesog API, as a user would write one: an async upload,
# polled to completion, that raises when the operation failed. It takes its sleep function,
# so a test on a virtual clock passes one that moves the fake's clock instead of sleeping.
CLIENT = '''
import asyncio
import time

import httpx


class UploadFailed(Exception):
    pass


class Client:
    def __init__(self, http, sleep=time.sleep, poll_s=0.5, max_polls=50):
        self.http, self.sleep, self.poll_s, self.max_polls = http, sleep, poll_s, max_polls

    def upload(self, images, strict=True):
        answer = self.http.post("/imgs", params={"strict": str(strict).lower()}, json=images)
        answer.raise_for_status()
        op = answer.json()
        for _ in range(self.max_polls):
            if op["is_finished"]:
                break
            self.sleep(self.poll_s)
            op = self.http.get(f"/ops/{op['op_id']}").json() | {"op_id": op["op_id"]}
        if not op["all_good"]:
            raise UploadFailed(op["errors"])
        return op

    def get(self, image_id):
        return self.http.get(f"/imgs/{image_id}").json()


class AsyncClient:
    def __init__(self, http, sleep=asyncio.sleep, poll_s=0.5, max_polls=50):
        self.http, self.sleep, self.poll_s, self.max_polls = http, sleep, poll_s, max_polls

    async def upload(self, images, strict=True):
        answer = await self.http.post("/imgs", params={"strict": str(strict).lower()},
                                      json=images)
        answer.raise_for_status()
        op = answer.json()
        for _ in range(self.max_polls):
            if op["is_finished"]:
                break
            await self.sleep(self.poll_s)
            op = (await self.http.get(f"/ops/{op['op_id']}")).json() | {"op_id": op["op_id"]}
        if not op["all_good"]:
            raise UploadFailed(op["errors"])
        return op
'''

CONFTEST = '''
import pytest

@pytest.fixture
def anyio_backend():
    return "asyncio"
'''

IMAGES = '[{"id": "a", "src": "https://x/a.jpg", "title": "A"}, {"id": "b", "src": "https://x/b.jpg"}]'


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(wesog_client=CLIENT, conftest=CONFTEST)
    return pytester


def test_a_good_client_passes_under_every_fixture_sync_and_async(suite: pytest.Pytester) -> None:
    suite.makepyfile(test_good=f'''
        import httpx
        import pytest
        from wesog_client import AsyncClient, Client, UploadFailed

        IMAGES = {IMAGES}

        def check(client):
            op = client.upload(IMAGES)
            assert op["num_good"] == 2 and op["all_good"] is True
            assert client.get("a")["title"] == "A"
            with pytest.raises(UploadFailed) as failed:
                client.upload(IMAGES)  # strict: both ids exist now
            assert [error["id"] for error in failed.value.args[0]] == [0, 1]

        def test_in_process(wesog_mock):
            with wesog_mock.client() as http:
                check(Client(http))

        def test_live_server(wesog_server):
            with httpx.Client(base_url=wesog_server.url,
                              headers={{"API-Key": wesog_server.api_key}}) as http:
                check(Client(http))

        def test_respx_sync(wesog_respx):
            with httpx.Client(base_url="https://api.wesog.com", headers={{"API-Key": "k"}}) as http:
                check(Client(http))

        @pytest.mark.anyio
        async def test_respx_async(wesog_respx):
            async with httpx.AsyncClient(base_url="https://api.wesog.com",
                                         headers={{"API-Key": "k"}}) as http:
                op = await AsyncClient(http).upload(IMAGES)
            assert op["all_good"] and set(wesog_respx.images("k")) == {{"a", "b"}}

        @pytest.mark.anyio
        @pytest.mark.wesog(clock="virtual", queue_delay_ms=1000, item_ms=250)
        async def test_async_polling_on_the_virtual_clock(wesog_mock):
            async def sleep(seconds):  # the client's wait moves the fake's clock instead
                wesog_mock.advance(seconds * 1000)
            async with wesog_mock.async_client() as http:
                op = await AsyncClient(http, sleep=sleep).upload(IMAGES)
            assert op["idle_ms"] == 1000 and op["exec_ms"] == 500
    ''')
    suite.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=5)


# One contract bug each; every test body asserts nothing, so only the plugin can fail it.
BUGGY_CLIENTS = {
    "no_api_key": ('http.post("/imgs", json=[{"id": "a", "src": "s"}], headers={"API-Key": ""})',
                   "header.API-Key: The API-Key header is required"),
    "object_not_array": ('http.post("/imgs", json={"id": "a", "src": "s"})',
                         "body: Input should be a valid list"),
    "wait_please": ('http.post("/imgs?wait=please", json=[{"id": "a", "src": "s"}])',
                    "query.wait: Input should be a valid boolean"),
    "misspelled_field": ('http.post("/imgs", json=[{"id": "a", "src": "s", "titel": "x"}])',
                         "body[0].titel (warning): The contract knows no field 'titel'"),
    "polls_ops_latest": ('http.get("/ops/latest")',
                         "path.op_id: Input should be a valid integer"),
    "put_without_src": ('http.put("/imgs", json=[{"id": "a", "title": "x"}])',
                        "body[0].src: Field required"),
    "delete_bare_ids": ('http.request("DELETE", "/imgs", json=["a", "b"])',
                        "body[0, 1] (×2): Input should be a valid dictionary"),
    "unknown_path": ('http.get("/images/a")', "path: The contract has no path '/images/a'"),
}


@pytest.mark.parametrize("fixture", ["wesog_mock", "wesog_respx"])
@pytest.mark.parametrize("bug", sorted(BUGGY_CLIENTS))
def test_a_client_that_breaks_the_contract_fails_with_its_bug_named(
    suite: pytest.Pytester, bug: str, fixture: str
) -> None:
    call, message = BUGGY_CLIENTS[bug]
    opener = (
        f"{fixture}.client()" if fixture == "wesog_mock"
        else 'httpx.Client(base_url="https://api.wesog.com", headers={"API-Key": "k"})'
    )
    suite.makepyfile(test_buggy=f'''
        import httpx

        def test_client({fixture}):
            with {opener} as http:
                {call}
    ''')
    result = suite.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*broke the Wesog contract in 1 request*"])
    assert message in result.stdout.str()


def test_a_live_server_client_that_breaks_the_contract_fails(suite: pytest.Pytester) -> None:
    suite.makepyfile(test_buggy='''
        import urllib.request

        def test_client(wesog_server):
            request = urllib.request.Request(wesog_server.url + "/ops?lang=de",
                                             headers={"API-Key": "k"})
            urllib.request.urlopen(request).read()  # urllib, not httpx: any client is judged
    ''')
    result = suite.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*query.lang (warning)*"])


def test_a_client_that_ignores_a_failed_operation_is_caught_with_a_fault(
    suite: pytest.Pytester,
) -> None:
    suite.makepyfile(test_fault=f'''
        import pytest
        from wesog_client import Client, UploadFailed

        def careless_upload(http, images):  # reads the 202 and hopes for the best
            return http.post("/imgs?wait=true", json=images).status_code == 200

        def test_careless_client_claims_success(wesog_mock):
            wesog_mock.faults.add("fail", method="POST", path="/imgs", times=1,
                                  message="source unreachable")
            with wesog_mock.client() as http:
                assert careless_upload(http, {IMAGES}) is False, "it reported success"

        def test_good_client_raises(wesog_mock):
            wesog_mock.faults.add("fail", method="POST", path="/imgs", times=1,
                                  message="source unreachable")
            with wesog_mock.client() as http, pytest.raises(UploadFailed, match="unreachable"):
                Client(http).upload({IMAGES})
            assert wesog_mock.images() == {{}}
    ''')
    result = suite.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*AssertionError: it reported success*", "FAILED *test_careless_client_claims_success*"]
    )


def test_markers_configure_the_fake_and_allow_violations(suite: pytest.Pytester) -> None:
    suite.makepyfile(test_markers='''
        import pytest

        pytestmark = pytest.mark.wesog(max_batch=2)

        @pytest.mark.wesog(api_keys=("good",), api_key="good", clock="virtual", item_ms=10)
        def test_settings(wesog_mock):
            assert wesog_mock.controller.config.max_batch == 2  # module marker
            assert wesog_mock.controller.config.item_ms == 10
            with wesog_mock.client() as http:
                assert http.get("/ops").status_code == 200
            with wesog_mock.client(api_key="other") as http:
                assert http.get("/ops").status_code == 401

        @pytest.mark.wesog(allow_violations=True)
        def test_allowed(wesog_mock):
            with wesog_mock.client() as http:
                http.post("/imgs", json=[{"id": "a", "src": "s", "titel": "x"}])
            [entry] = wesog_mock.journal.entries
            assert [f.code for f in entry.findings] == ["unknown_field"]

        def test_state_does_not_leak_between_tests(wesog_mock):
            assert wesog_mock.controller.config.item_ms == 0
            assert wesog_mock.images() == {} and wesog_mock.journal.entries == []

        def test_mid_test_configuration(wesog_mock):
            wesog_mock.configure(max_batch=1)
            with wesog_mock.client() as http:
                answer = http.post("/imgs", json=[{"id": "a", "src": "s"}, {"id": "b", "src": "s"}])
            assert answer.status_code == 413

        @pytest.mark.wesog(nonsense=1)
        def test_unknown_setting(wesog_mock):
            pass
    ''')
    result = suite.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4, errors=1)
    result.stdout.fnmatch_lines(["*unknown setting(s) nonsense*"])


def test_workers_under_xdist_share_nothing(suite: pytest.Pytester) -> None:
    tests = "\n".join(
        f'''
def test_{n}(wesog_mock):
    with wesog_mock.client() as http:
        assert http.post("/imgs?wait=true&strict=true",
                         json=[{{"id": "same", "src": "s"}}]).json()["all_good"]
    assert list(wesog_mock.images()) == ["same"]
''' for n in range(8)
    )
    suite.makepyfile(test_parallel=tests)
    suite.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider").assert_outcomes(passed=8)


def test_the_session_leaves_no_thread_or_port_behind(suite: pytest.Pytester) -> None:
    before = set(threading.enumerate())
    suite.makepyfile(test_live=textwrap.dedent('''
        def test_one(wesog_server):
            with open("url.txt", "w") as handle:
                handle.write(wesog_server.url)
    '''))
    suite.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
    url = (suite.path / "url.txt").read_text()
    assert {t for t in threading.enumerate() if t.is_alive()} <= before
    port = int(url.rsplit(":", 1)[1])
    # Whether anything answers on the port proves nothing under `-n 2` (another worker, or any
    # process, may be given the freed port): ask whether this process still listens on it.
    assert port not in _ports_this_process_listens_on(), "the server's socket is still open"


def _ports_this_process_listens_on() -> set[int]:
    """The TCP ports of this process's listening sockets (Linux: /proc), else skip."""
    fds = Path("/proc/self/fd")
    if not fds.is_dir():
        pytest.skip("needs /proc to see this process's sockets")
    inodes = set()
    for fd in fds.iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[len("socket:["):-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as rows:
            next(rows)  # the header
            for row in rows:
                fields = row.split()
                if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


@pytest.mark.parametrize("plugin", ["wesog_mock.pytest_plugin", "contracts.conformance.plugin"])
def test_loading_the_plugin_imports_nothing_heavy(plugin: str) -> None:
    # Both pytest11 entry points load in every pytest session of every project that installs
    # us, used or not.
    import subprocess
    import sys

    heavy = ("starlette", "httpx", "uvicorn", "respx", "yaml", "jsonschema_rs", "anyio",
             "hypothesis", "schemathesis", "wesog_mock.http.app", "contracts.spec")
    code = (f"import sys, {plugin}; "
            f"print([m for m in {heavy!r} if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"
