"""Where a request's microseconds go in the running server: py-spy samples of `wesog-mock serve`
(and of the floor and bare apps, the same way) while wrk loads it, grouped by layer.

`where_time_goes.py` splits the time into the server's share and the app's by subtraction, and
the app's by cProfile in process, which inflates small functions and sees no server. This one
samples the server process itself, as users run it, from outside (py-spy, without pausing
it), so every layer is measured in the same run: uvicorn, the event loop, Starlette, the fake's
HTTP layer, controls and domain, the contract checks, JSON. A sample's layer is that of its
innermost Python frame (time in a C call counts for the line that made it, so orjson's decode
shows as the line calling it). Microseconds are the layer's share of the busy samples times the
measured microseconds per request during the sampling.

    pip install py-spy   # it needs to read the server's memory: root, or ptrace allowed
    python benchmarks/sampled_layers.py [--seconds 6] [--servers floor,bare,serve]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _servers import start, stop
from http_throughput import BODY, HEADERS, lua
from where_time_goes import start_floor

# (pattern on "file:function", layer), first match wins; the file is the frame's path.
LAYERS = [
    (r"contracts/endpoint\.py:parse_json_body", "JSON decode (orjson, and its 19-digit check)"),
    (r"wesog_mock/http/answers\.py:json_bytes", "JSON encode (orjson)"),
    (r"/json/", "JSON (the standard library's, in the floor and bare apps)"),
    (r"contracts/", "contract checks (query, body schema: jsonschema-rs)"),
    (r"wesog_mock/domain/", "fake: domain (engine, batch, operations)"),
    (r"wesog_mock/controls/", "fake: controls (controller, journal, faults)"),
    (r"wesog_mock/(http/|cli\.py)", "fake: HTTP layer (guard, middleware, dispatch, api)"),
    (r"starlette/", "Starlette (app, Request, Response)"),
    (r"uvicorn/", "uvicorn (httptools protocol, request cycle)"),
    (r"(asyncio/|uvloop|runners\.py|base_events\.py|events\.py)", "event loop (uvloop, asyncio)"),
    (r"where_time_goes\.py|_servers\.py", "the baseline app itself"),
]


def layer_of(frame: str) -> str:
    # py-spy's raw format: "function (path:line)"
    match = re.match(r"(?P<function>.*) \((?P<path>.*):\d+\)$", frame)
    key = f"{match['path']}:{match['function']}" if match else frame
    return next((label for pattern, label in LAYERS if re.search(pattern, key)), "other Python")


def read_samples(path: Path) -> Counter[str]:
    """Samples per layer of the innermost frame, from py-spy's raw (collapsed stacks) output."""
    spent: Counter[str] = Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [f for f in stack.split(";") if f.strip()]
        spent[layer_of(frames[-1]) if frames else "other Python"] += int(count)
    return spent


def _wrk_rate(url: str, script: str, seconds: int, connections: int) -> float:
    done = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", script, url],
                          capture_output=True, text=True, check=True)
    if "Non-2xx" in done.stdout or "Socket errors" in done.stdout:
        raise SystemExit(f"{url}: failed requests:\n{done.stdout}")
    found = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    assert found is not None, done.stdout
    return float(found.group(1))


def sample(pid: int, url: str, script: str, seconds: int, connections: int,
           rate: int) -> tuple[float, Counter[str]]:
    """(microseconds per request, samples by layer) of one server under wrk."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "raw.txt"
        spy = subprocess.Popen(
            ["py-spy", "record", "--pid", str(pid), "--nonblocking", "--rate", str(rate),
             "--duration", str(seconds), "--format", "raw", "--output", str(out)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        result: list[float] = []
        loader = threading.Thread(target=lambda: result.append(
            _wrk_rate(url, script, seconds, connections)))
        loader.start()
        loader.join()
        spy.wait(timeout=60)
        return 1e6 / result[0], read_samples(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=6)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rate", type=int, default=1000, help="py-spy samples per second")
    parser.add_argument("--servers", default="floor,bare,serve")
    args = parser.parse_args()
    if shutil.which("py-spy") is None:
        raise SystemExit("py-spy is not installed: pip install py-spy")
    load = "load {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())
    print(f"{os.cpu_count()} cores, {load}; wrk -t1 -c{args.connections} for {args.seconds} s "
          f"per row, py-spy at {args.rate} Hz without pausing the server")
    post = lua("POST", "/imgs?wait=true", json.dumps(BODY))
    for which in args.servers.split(","):
        process, url = start_floor() if which == "floor" else start(which)
        try:
            import httpx

            for method in ("POST", "GET"):
                script = post
                if method == "GET":  # an operation made after the POSTs: the fake keeps only
                    # the newest finished ones
                    op = httpx.post(url + "/imgs?wait=true", json=BODY, headers=HEADERS).json()
                    script = lua("GET", f"/ops/{op.get('op_id', 1)}", None)
                us, spent = sample(process.pid, url, script, args.seconds, args.connections,
                                   args.rate)
                busy = sum(spent.values())
                print(f"\n{which} {method}: {us:.1f} us per request, {busy} busy samples "
                      f"({busy / (args.rate * args.seconds):.0%} of the time busy)")
                for layer, count in spent.most_common():
                    share = count / busy
                    print(f"  {share * 100:5.1f}%  {share * us:6.1f} us  {layer}")
        finally:
            stop(process)


if __name__ == "__main__":
    main()
