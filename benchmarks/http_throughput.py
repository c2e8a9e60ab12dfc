"""The fake where users run it, against the fastest bare Starlette stack, in the same run.

Three servers (benchmarks/_servers.py): `bare` (a Starlette app on uvicorn with httptools and
uvloop, no access log, one worker), `serve` (`wesog-mock serve` of the installed package) and
`fixture` (the `wesog_server` fixture's LiveServer). Each round starts each server afresh, in
an order that alternates from round to round, and measures it; the report gives, per figure,
the median over the rounds and the median of the per-round ratios to `bare`, so a noisy
machine shows up as spread, not as a wrong answer. The load average is printed with each round.

- throughput: wrk (one thread, `--connections`) on `POST /imgs?wait=true` with 10 images of
  the contract's 27 fields, then on `GET /ops/{op_id}`;
- latency: sequential keep-alive requests from one httpx client, the median of each;
- in process: the `wesog_mock` fixture's clients (`async_client()`, on httpx's ASGITransport,
  and `client()`) against httpx's ASGITransport on the bare app;
- with `--suite`: the whole conformance suite over HTTP (`wesog-contracts` against
  `wesog-mock serve`) and in process (`--wesog-app wesog_mutants:fake`), timed.

Needs `wrk` (Debian: `apt-get install wrk`) for the throughput rows.

    python benchmarks/http_throughput.py [--rounds 5] [--seconds 5] [--connections 32] [--suite]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _servers import SERVERS, bare_app, console_script, start, stop

from contracts.spec import default_contract

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
HEADERS = {"API-Key": "bench", "Content-Type": "application/json"}
Results = dict[str, dict[str, list[float]]]


def contract_images(count: int, prefix: str = "img") -> list[dict[str, Any]]:
    """`count` images with every writable field of the contract set: 27 fields with the id."""
    schemas = default_contract().document["components"]["schemas"]
    metadata: dict[str, Any] = schemas["ImageMetadata"]["properties"]

    def value(name: str, schema: dict[str, Any], i: int) -> Any:
        kinds = schema["type"]
        if "boolean" in kinds:
            return i % 2 == 0
        if "array" in kinds:
            return [f"{name}-a", f"{name}-{i % 7}"]
        return "2026-11-23" if name == "date" else f"{name} of image {i}"

    return [
        {"id": f"{prefix}-{i}", "src": f"https://example.com/{prefix}/{i}.jpg",
         **{name: value(name, schema, i) for name, schema in metadata.items()}}
        for i in range(count)
    ]


BODY = contract_images(10)


def wrk(url: str, script: str, seconds: int, connections: int, pin: bool = False) -> float:
    done = subprocess.run(
        [*(["taskset", "-c", "0"] if pin else []), "wrk", "-t1", f"-c{connections}",
         f"-d{seconds}s", "-s", script, url],
        capture_output=True, text=True, check=True,
    )
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", done.stdout)
    errors = re.search(r"Socket errors: .*", done.stdout)
    if non_2xx or errors:
        raise SystemExit(f"{url} {script}: failed requests:\n{done.stdout}")
    found = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    if not found:
        raise SystemExit(done.stdout + done.stderr)
    return float(found.group(1))


def lua(method: str, path: str, body: str | None) -> str:
    lines = [f'wrk.method = "{method}"', f'wrk.path = "{path}"',
             *(f'wrk.headers["{k}"] = "{v}"' for k, v in HEADERS.items())]
    if body is not None:
        lines.append(f"wrk.body = [=[{body}]=]")  # [[ ]] would end at the JSON's own "]]"
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write("\n".join(lines) + "\n")
    return handle.name


def sequential_ms(url: str, count: int) -> tuple[float, float]:
    """Median milliseconds of one keep-alive POST (10 images, wait=true) and one GET /ops/{id}."""
    with httpx.Client(base_url=url, headers=HEADERS) as client:
        op_id = client.post("/imgs?wait=true", json=BODY).json()["op_id"]
        posts, gets = [], []
        for _ in range(count):
            began = time.perf_counter()
            client.post("/imgs?wait=true", json=BODY).raise_for_status()
            posted = time.perf_counter()
            client.get(f"/ops/{op_id}").raise_for_status()
            gets.append(time.perf_counter() - posted)
            posts.append(posted - began)
    return statistics.median(posts) * 1000, statistics.median(gets) * 1000


def in_process_us(count: int) -> dict[str, tuple[float, float]]:
    """Microseconds per POST and per GET in process: the bare app on httpx's ASGITransport,
    and the `wesog_mock` fixture's two clients (built as the fixture builds its handle)."""
    from wesog_mock import MockConfig, create_app
    from wesog_mock.testing import WesogFake

    fake = WesogFake(create_app(MockConfig(clock="real")), base_url="http://wesog.test",
                     api_key="bench")
    content = json.dumps(BODY).encode()
    headers = {"Content-Type": "application/json"}

    async def run_async(client: httpx.AsyncClient) -> tuple[float, float]:
        async with client:
            op_id = (await client.post("/imgs?wait=true", content=content,
                                       headers=headers)).json()["op_id"]
            began = time.perf_counter()
            for _ in range(count):
                await client.post("/imgs?wait=true", content=content, headers=headers)
            posted = time.perf_counter()
            for _ in range(count):
                await client.get(f"/ops/{op_id}")
            done = time.perf_counter()
        return (posted - began) / count * 1e6, (done - posted) / count * 1e6

    def run_sync(client: httpx.Client) -> tuple[float, float]:
        with client:
            op_id = client.post("/imgs?wait=true", content=content,
                                headers=headers).json()["op_id"]
            began = time.perf_counter()
            for _ in range(count):
                client.post("/imgs?wait=true", content=content, headers=headers)
            posted = time.perf_counter()
            for _ in range(count):
                client.get(f"/ops/{op_id}")
            done = time.perf_counter()
        return (posted - began) / count * 1e6, (done - posted) / count * 1e6

    bare = httpx.AsyncClient(transport=httpx.ASGITransport(app=bare_app()),
                             base_url="http://bare.test", headers={"API-Key": "bench"})
    result = {
        "bare ASGITransport": asyncio.run(run_async(bare)),
        "wesog_mock.async_client()": asyncio.run(run_async(fake.async_client())),
        "wesog_mock.client()": run_sync(fake.client()),
    }
    fake.restart()
    return result


def suite_seconds() -> dict[str, float]:
    """The whole conformance suite, default example counts: over HTTP and in process."""
    timings: dict[str, float] = {}
    process, url = start("serve", serve_args=["--api-key", "k", "--api-key", "k2"])
    try:
        began = time.perf_counter()
        done = subprocess.run([console_script("wesog-contracts"), "--base-url", url,
                               "--api-key", "k", "--api-key-2", "k2"],
                              capture_output=True, text=True, check=False)
        timings["over HTTP (wesog-contracts vs wesog-mock serve)"] = time.perf_counter() - began
        if done.returncode != 0:
            raise SystemExit(done.stdout[-3000:] + done.stderr[-3000:])
    finally:
        stop(process)
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--pyargs",
         "contracts.conformance", "--wesog-app", "wesog_mutants:fake", "--wesog-api-key-2",
         "k2"],
        capture_output=True, text=True, check=False, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT / "tests" / "conformance")},
    )
    timings["in process (--wesog-app wesog_mutants:fake)"] = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(done.stdout[-3000:] + done.stderr[-3000:])
    return timings


def _load() -> str:
    return "load {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


def _row(name: str, values: dict[str, list[float]], unit: str, higher_is_better: bool) -> str:
    cells = [f"{name:<34}"]
    for which in values:
        cells.append(f"{statistics.median(values[which]):>10.{1 if unit != 'rps' else 0}f}")
    for which in values:
        if which == "bare":
            continue
        ratios = [(v / b if higher_is_better else b / v)
                  for v, b in zip(values[which], values["bare"], strict=True)]
        cells.append(f"{statistics.median(ratios):>13.2f}x")
    return "".join(cells)


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__,
                                      formatter_class=argparse.RawDescriptionHelpFormatter)
    options.add_argument("--rounds", type=int, default=5)
    options.add_argument("--seconds", type=int, default=5)
    options.add_argument("--connections", type=int, default=32)
    options.add_argument("--sequential", type=int, default=200, help="requests per latency row")
    options.add_argument("--in-process", type=int, default=2000, help="requests per row")
    options.add_argument("--servers", default=",".join(SERVERS),
                         help="which of bare,serve,fixture (bare is always measured)")
    options.add_argument("--pin", action="store_true",
                         help="servers on CPU 1 and wrk on CPU 0 (taskset)")
    options.add_argument("--same-core", action="store_true",
                         help="servers and wrk both on CPU 0: no wakeups across cores")
    options.add_argument("--suite", action="store_true", help="also time the conformance suite")
    args = options.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("this benchmark needs wrk: apt-get install wrk")
    servers = ["bare", *(s for s in args.servers.split(",") if s and s != "bare")]
    post = lua("POST", "/imgs?wait=true", json.dumps(BODY))
    rows = ("POST /imgs?wait=true (10 x 27 fields)", "GET /ops/{op_id}")
    throughput: Results = {row: {s: [] for s in servers} for row in rows}
    latency: Results = {row: {s: [] for s in servers} for row in rows}
    pin_wrk = args.pin or args.same_core  # wrk on CPU 0 either way
    cpu = 0 if args.same_core else 1 if args.pin else None
    print(f"{os.cpu_count()} cores, {_load()}; {args.rounds} rounds of {args.seconds} s, "
          f"wrk -t1 -c{args.connections}", flush=True)
    try:
        for number in range(args.rounds):
            order = servers if number % 2 == 0 else servers[::-1]
            for which in order:
                process, url = start(which, cpu=cpu)
                try:
                    throughput[rows[0]][which].append(
                        wrk(url, post, args.seconds, args.connections, pin_wrk))
                    # Made after the POST run: that run creates more operations than the
                    # fake keeps per tenant (A14), so an earlier one would be forgotten.
                    made = httpx.post(url + "/imgs?wait=true", json=BODY, headers=HEADERS)
                    get = lua("GET", f"/ops/{made.json()['op_id']}", None)
                    throughput[rows[1]][which].append(
                        wrk(url, get, args.seconds, args.connections, pin_wrk))
                    os.unlink(get)
                    post_ms, get_ms = sequential_ms(url, args.sequential)
                    latency[rows[0]][which].append(post_ms)
                    latency[rows[1]][which].append(get_ms)
                finally:
                    stop(process)
            print(f"round {number + 1} ({_load()}): " + "; ".join(
                f"{row.split()[0]} " + ", ".join(f"{s} {throughput[row][s][-1]:.0f}"
                                                 for s in servers) for row in rows), flush=True)
    finally:
        os.unlink(post)
    others = [s for s in servers if s != "bare"]
    header = f"{'':<34}" + "".join(f"{s:>10}" for s in servers) + "".join(
        f"{s + '/bare':>14}" for s in others)
    print(f"\nthroughput, requests/s (median of {args.rounds}; {_load()})\n{header}")
    for row in rows:
        print(_row(row, throughput[row], "rps", True))
    print(f"\nsequential keep-alive latency, ms per request (httpx, median)\n{header}")
    for row in rows:
        print(_row(row, latency[row], "ms", False))
    in_process: dict[str, dict[str, list[float]]] = {"POST": {}, "GET": {}}
    for _ in range(args.rounds):
        for name, (post_us, get_us) in in_process_us(args.in_process).items():
            in_process["POST"].setdefault(name, []).append(post_us)
            in_process["GET"].setdefault(name, []).append(get_us)
    print(f"\nin process, microseconds per request (median of {args.rounds}; {_load()})")
    for method, values in in_process.items():
        bare = values["bare ASGITransport"]
        for name, taken in values.items():
            ratio = statistics.median([t / b for t, b in zip(taken, bare, strict=True)])
            print(f"  {method:<5}{name:<30}{statistics.median(taken):>9.0f} us   "
                  f"x{ratio:.2f} the bare app's time")
    if args.suite:
        print(f"\nthe conformance suite ({_load()})")
        for name, seconds in suite_seconds().items():
            print(f"  {name:<50}{seconds:>7.1f} s")


if __name__ == "__main__":
    main()
