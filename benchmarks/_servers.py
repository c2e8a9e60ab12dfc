"""The servers the benchmarks compare, each started the way its users start it.

- `bare`: the baseline, a plain Starlette app that does the least any server must do for the
  same request (read and parse the JSON body, answer a JSON object of the same size), on the
  fastest uvicorn configuration: httptools, uvloop, no access log, one worker.
- `serve`: the fake as a user runs it, `wesog-mock serve` of the installed package (the
  console script next to this interpreter), with its default settings.
- `fixture`: the fake as the `wesog_server` fixture starts it: `LiveServer(create_app(...))`
  from `wesog_mock.testing`, uvicorn in a thread of the process, here a process of its own.

Each is a subprocess; `start(which)` returns it and its URL once it answers.

    python benchmarks/_servers.py bare PORT | fixture
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

HERE = Path(__file__).resolve().parent
SERVERS = ("bare", "serve", "fixture")

# An operation as the fake answers it: the baseline answers the same bytes.
OPERATION = {
    "op_id": 1, "method": "add", "resource": "image", "num_total": 10, "num_good": 10,
    "num_bad": 0, "is_started": True, "is_finished": True, "all_good": True, "do_wait": True,
    "do_urgent": False, "do_strict": False, "idle_ms": 0.0, "exec_ms": 0.0,
    "created_at": "2026-11-23T10:00:00.000Z", "started_at": "2026-11-23T10:00:00.000Z",
    "finished_at": "2026-11-23T10:00:00.000Z", "errors": [],
}


def bare_app() -> Starlette:
    """The baseline's app: parse the body, answer an operation of the fake's size."""
    async def post(request: Request) -> Response:
        document = json.loads(await request.body())
        answer = {**OPERATION, "num_total": len(document)}
        return Response(json.dumps(answer, separators=(",", ":")), 200,
                        media_type="application/json")

    async def get(request: Request) -> Response:
        answer = {k: v for k, v in OPERATION.items() if k != "op_id"}
        return Response(json.dumps(answer, separators=(",", ":")), 200,
                        media_type="application/json")

    return Starlette(routes=[Route("/imgs", post, methods=["POST"]),
                             Route("/ops/{op_id}", get, methods=["GET"])])


def console_script(name: str) -> str:
    """The installed console script `name` of this interpreter's environment."""
    found = Path(sys.executable).parent / name
    if not found.exists():
        raise SystemExit(f"{found} is missing: pip install -e . in this environment first")
    return str(found)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _first_url(process: subprocess.Popen[str], marker: str) -> str:
    """The URL the server prints on the line with `marker`, once it has printed it."""
    assert process.stdout is not None
    for line in process.stdout:
        if marker in line:
            return line.split(marker, 1)[1].strip().split()[0]
    raise SystemExit(f"the server exited ({process.wait()}) without printing its URL")


def start(
    which: str, *, serve_args: Sequence[str] = (), cpu: int | None = None
) -> tuple[subprocess.Popen[str], str]:
    """Start one server in a subprocess (pinned to `cpu` if given); it and its URL."""
    pin = ["taskset", "-c", str(cpu)] if cpu is not None else []
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if which == "bare":
        port = _free_port()
        process = subprocess.Popen([*pin, sys.executable, str(HERE / "_servers.py"), "bare",
                                    str(port)], text=True, env=env)
        url = f"http://127.0.0.1:{port}"
    elif which == "serve":
        process = subprocess.Popen(
            [*pin, console_script("wesog-mock"), "serve", "--port", "0",
             "--log-level", "warning", *serve_args],
            stdout=subprocess.PIPE, text=True, env=env,
        )
        url = _first_url(process, "serving the Wesog API at ")
    else:
        process = subprocess.Popen([*pin, sys.executable, str(HERE / "_servers.py"), which],
                                   stdout=subprocess.PIPE, stdin=subprocess.PIPE, text=True,
                                   env=env)
        url = _first_url(process, "url ")
    for _ in range(400):
        try:
            httpx.get(url + "/ops/1", timeout=0.5)
            return process, url
        except httpx.TransportError:
            if process.poll() is not None:
                raise SystemExit(f"the {which} server did not start") from None
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=0.05)  # waits for the server to bind
    raise SystemExit(f"the {which} server did not answer")


def stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _serve_bare(port: int) -> None:
    import uvicorn

    uvicorn.run(bare_app(), host="127.0.0.1", port=port, http="httptools", loop="uvloop",
                log_level="warning", access_log=False, workers=1, lifespan="off")


def _serve_fixture() -> None:
    """As `wesog_server` does (pytest_plugin `_Apps.server`): a LiveServer of a default app."""
    from wesog_mock import MockConfig, create_app
    from wesog_mock.testing import LiveServer

    server = LiveServer(create_app(MockConfig(clock="real"))).start()
    print("url", server.url, flush=True)
    sys.stdin.read()  # until the benchmark closes the pipe or ends the process
    server.stop()


def main() -> None:
    if sys.argv[1] == "bare":
        _serve_bare(int(sys.argv[2]))
    elif sys.argv[1] == "fixture":
        _serve_fixture()
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
