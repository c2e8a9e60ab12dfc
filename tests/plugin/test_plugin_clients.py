"""What the fixtures' clients send for you, and what `wesog_respx` lets through."""

from __future__ import annotations

import pytest

# A real HTTP server on a free local port: the user's own service, not Wesog's.
OTHER_SERVICE = '''
import http.server
import threading

import pytest


class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'{"status": "up"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def other_service():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def anyio_backend():
    return "asyncio"
'''


def _run(pytester: pytest.Pytester, source: str) -> pytest.RunResult:
    pytester.makeconftest(OTHER_SERVICE)
    pytester.makepyfile(test_user=source)
    return pytester.runpytest("-p", "no:cacheprovider")


def test_wesog_respx_lets_other_hosts_through_by_default(pytester: pytest.Pytester) -> None:
    result = _run(pytester, '''
        import httpx
        import pytest

        def test_sync(wesog_respx, other_service):
            with httpx.Client(headers={"API-Key": "k"}) as http:
                assert http.get(other_service + "/health").json() == {"status": "up"}
                assert http.get("https://api.wesog.com/ops").json() == []  # still the fake
            assert [e.path for e in wesog_respx.journal.entries] == ["/ops"]

        @pytest.mark.anyio
        async def test_async(wesog_respx, other_service):
            async with httpx.AsyncClient() as http:
                assert (await http.get(other_service + "/health")).json() == {"status": "up"}

        def test_own_routes_come_first(wesog_respx, other_service):
            wesog_respx.router.get(other_service + "/health").respond(503)
            with httpx.Client() as http:
                assert http.get(other_service + "/health").status_code == 503
                assert http.get(other_service + "/else").json() == {"status": "up"}
    ''')
    result.assert_outcomes(passed=3)


def test_pass_through_false_mocks_every_other_host(pytester: pytest.Pytester) -> None:
    result = _run(pytester, '''
        import httpx
        import pytest
        from respx.models import AllMockedAssertionError

        @pytest.mark.wesog(pass_through=False)
        def test_sync(wesog_respx, other_service):
            with httpx.Client() as http, pytest.raises(AllMockedAssertionError):
                http.get(other_service + "/health")

        @pytest.mark.anyio
        @pytest.mark.wesog(pass_through=False)
        async def test_async(wesog_respx, other_service):
            async with httpx.AsyncClient() as http:
                with pytest.raises(AllMockedAssertionError):
                    await http.get(other_service + "/health")
    ''')
    result.assert_outcomes(passed=2)


def test_the_handles_client_sends_its_key_and_none_when_asked(pytester: pytest.Pytester) -> None:
    result = _run(pytester, '''
        import pytest

        @pytest.mark.anyio
        @pytest.mark.wesog(allow_violations=True, api_key="mine")
        async def test_keys(wesog_mock):
            with wesog_mock.client() as http:
                assert http.get("/ops").status_code == 200
            with wesog_mock.client(api_key="other") as http:
                assert http.get("/ops").status_code == 200
            with wesog_mock.client(api_key=None) as http:
                assert "API-Key" not in http.headers
                assert http.get("/ops").status_code == 401
            async with wesog_mock.async_client(api_key=None) as http:
                assert (await http.get("/ops")).status_code == 401
            assert [e.tenant for e in wesog_mock.journal.entries] == ["mine", "other", None, None]

        def test_a_keyless_client_that_adds_its_key_passes(wesog_mock):
            with wesog_mock.client(api_key=None) as http:
                answer = http.get("/ops", headers={"API-Key": wesog_mock.api_key})
            assert answer.status_code == 200
    ''')
    result.assert_outcomes(passed=2)
