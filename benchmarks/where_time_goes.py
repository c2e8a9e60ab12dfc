"""Where each microsecond of a request goes: the HTTP server's share and the app's, by layer.

The throughput benchmark (http_throughput.py) gives one figure per server; this one splits it.

1. Over HTTP (wrk, one connection per `--connections`, as http_throughput.py), microseconds
   per request of: `floor`, uvicorn (httptools + uvloop, no access log) with a raw ASGI app
   that reads the body and answers the same bytes as the bare app, no framework at all; `bare`,
   the baseline (the same on Starlette); `serve`, `wesog-mock serve`. A server core does one
   request at a time, so 1e6 / (requests per second) is the cost of one request on it.
2. In process, microseconds per request of each app called straight through ASGI (no server,
   no client): what the app itself costs.
3. The fake's in-process time by layer (cProfile's own time per function, grouped by module,
   scaled to the unprofiled figure of 2).

    python benchmarks/where_time_goes.py [--rounds 3] [--seconds 4] [--count 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _servers import OPERATION, _first_url, bare_app, start, stop
from http_throughput import BODY, HEADERS, lua, wrk

ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]
POST_BODY = json.dumps(BODY).encode()


def floor_app() -> ASGIApp:
    """The least any app can do for the same request: read the body, parse it, answer."""
    post_answer = json.dumps({**OPERATION, "num_total": 10}, separators=(",", ":")).encode()
    get_answer = json.dumps({k: v for k, v in OPERATION.items() if k != "op_id"},
                            separators=(",", ":")).encode()
    content_type = (b"content-type", b"application/json")

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        answer = get_answer
        if scope["method"] == "POST":
            json.loads(body)
            answer = post_answer
        await send({"type": "http.response.start", "status": 200, "headers": [
            content_type, (b"content-length", str(len(answer)).encode())]})
        await send({"type": "http.response.body", "body": answer})

    return app


def _serve_floor() -> None:
    """The floor app on its own socket, bound here to port 0 (no race for a free port)."""
    import socket

    import uvicorn

    # IPPROTO_TCP, not create_server's protocol 0: asyncio sets TCP_NODELAY only on those.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen(2048)
    print("url", f"http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    config = uvicorn.Config(floor_app(), http="httptools", loop="uvloop", log_level="warning",
                            access_log=False, lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])


def start_floor() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen([sys.executable, __file__, "--serve-floor"],
                               stdout=subprocess.PIPE, text=True)
    return process, _first_url(process, "url ")


def over_http(rounds: int, seconds: int, connections: int) -> dict[str, dict[str, list[float]]]:
    post = lua("POST", "/imgs?wait=true", json.dumps(BODY))
    figures: dict[str, dict[str, list[float]]] = {"POST": {}, "GET": {}}
    order = ["floor", "bare", "serve"]
    for round_number in range(rounds):
        for which in order if round_number % 2 == 0 else order[::-1]:
            process, url = start_floor() if which == "floor" else start(which)
            try:
                import httpx

                figures["POST"].setdefault(which, []).append(
                    1e6 / wrk(url, post, seconds, connections))
                # An operation made after the POSTs: the fake keeps only the newest finished ones.
                op = httpx.post(url + "/imgs?wait=true", json=BODY, headers=HEADERS).json()
                get_script = lua("GET", f"/ops/{op.get('op_id', 1)}", None)
                figures["GET"].setdefault(which, []).append(
                    1e6 / wrk(url, get_script, seconds, connections))
            finally:
                stop(process)
    return figures


async def _call(app: ASGIApp, method: str, path: str, query: bytes, body: bytes) -> int:
    scope = {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1", "method": method, "scheme": "http", "path": path,
        "raw_path": path.encode(), "query_string": query, "root_path": "",
        "headers": [(b"host", b"wesog.test"), (b"api-key", b"bench"),
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode())],
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 80), "state": {},
    }
    delivered = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if delivered:
            return {"type": "http.disconnect"}
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


def in_process(app: ASGIApp, count: int, profile: cProfile.Profile | None = None
               ) -> tuple[float, float]:
    """Microseconds per POST and per GET of `app`, called straight through ASGI."""
    async def run() -> tuple[float, float]:
        assert await _call(app, "POST", "/imgs", b"wait=true", POST_BODY) == 200
        timings = []
        for method, path, query, body in (("POST", "/imgs", b"wait=true", POST_BODY),
                                          ("GET", "/ops/1", b"", b"")):
            if profile is not None:
                profile.enable()
            began = time.perf_counter()
            for _ in range(count):
                await _call(app, method, path, query, body)
            timings.append((time.perf_counter() - began) / count * 1e6)
            if profile is not None:
                profile.disable()
        return timings[0], timings[1]

    return asyncio.run(run())


def fake_app() -> ASGIApp:
    from wesog_mock import MockConfig, create_app

    return create_app(MockConfig(clock="real"))


LAYERS = (
    ("wesog_mock/http/", "fake: HTTP layer (dispatch, middleware, api, answers)"),
    ("wesog_mock/controls/", "fake: controls (controller, journal, faults)"),
    ("wesog_mock/domain/", "fake: domain (engine, batch, operations)"),
    ("contracts/", "contract checks (query, body, journal findings)"),
    ("starlette/", "Starlette (Request, Response, headers)"),
    ("asyncio/", "asyncio"),
)


def by_layer(profile: cProfile.Profile) -> Counter[str]:
    stats = pstats.Stats(profile)
    spent: Counter[str] = Counter()
    for (filename, _, name), row in stats.stats.items():  # type: ignore[attr-defined]
        own = row[2]
        layer = next((label for part, label in LAYERS if part in filename), None)
        if layer is None:
            if filename == "~":
                layer = f"C functions ({name.strip('<>').split(' of ')[0].split(' ')[-1]})"
                if "orjson" in name or "jsonschema_rs" in name or "json" in name:
                    layer = "C: JSON decode/encode and schema validation"
                else:
                    layer = "C: other builtins"
            else:
                layer = "other Python"
        spent[layer] += own
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--serve-floor", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_floor:
        _serve_floor()
        return
    load = "load {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())
    print(f"{os.cpu_count()} cores, {load}; {args.rounds} rounds of {args.seconds} s, "
          f"wrk -t1 -c{args.connections}; in process {args.count} requests each")
    http = over_http(args.rounds, args.seconds, args.connections)
    apps: dict[str, ASGIApp] = {"floor": floor_app(), "bare": bare_app(), "fake": fake_app()}
    inproc = {name: [in_process(app, args.count) for _ in range(args.rounds)]
              for name, app in apps.items()}
    print("\nmicroseconds per request (medians)")
    print(f"{'':8}{'over HTTP (server + app)':>36}{'in process (app only)':>32}")
    print(f"{'':8}{'floor':>12}{'bare':>12}{'serve':>12}{'floor':>10}{'bare':>11}{'fake':>11}")
    for index, method in enumerate(("POST", "GET")):
        over = [statistics.median(http[method][w]) for w in ("floor", "bare", "serve")]
        app_us = [statistics.median(r[index] for r in inproc[w]) for w in ("floor", "bare", "fake")]
        print(f"{method:8}" + "".join(f"{v:12.1f}" for v in over)
              + "".join(f"{v:10.1f}" if i == 0 else f"{v:11.1f}" for i, v in enumerate(app_us)))
        server_share = over[0] - app_us[0]
        print(f"{'':8}uvicorn's own share (floor over HTTP - floor in process): {server_share:.1f}"
              f" us; the fake's app over the bare app's: {app_us[2] - app_us[1]:+.1f} us; "
              f"for 1.0x the fake's app may cost at most {over[1] - server_share:.1f} us")
    profile = cProfile.Profile()
    fake = fake_app()
    plain = in_process(fake, args.count)
    in_process(fake, args.count, profile)
    spent = by_layer(profile)
    total = sum(spent.values())
    print(f"\nthe fake in process by layer, both methods together ({plain[0]:.1f} + "
          f"{plain[1]:.1f} us unprofiled, shares from cProfile's own time)")
    for layer, seconds in spent.most_common():
        share = seconds / total
        print(f"  {share * 100:5.1f}%  {share * (plain[0] + plain[1]):6.1f} us  {layer}")


if __name__ == "__main__":
    main()
