"""Requests per second of the fake against a bare Starlette app, in the same run (a ratio).

Needs `wrk` (Debian: `apt-get install wrk`). Each round starts both servers, loads each in
turn with the same wrk settings, and the report gives the medians over the rounds and the
median of the per-round ratios, so a noisy machine shows up as spread, not as a wrong answer.

    python benchmarks/http_throughput.py [--rounds 5] [--seconds 5] [--connections 16]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
BODY = [{"id": f"img-{i}", "src": f"https://example.com/{i}.jpg", "title": "A red car",
         "keywords": ["car", "red"], "nsfw": False} for i in range(10)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(which: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, str(HERE / "_servers.py"), which, str(port)])
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(url + "/ops/1", timeout=0.5)
            return process, url
        except httpx.TransportError:
            if process.poll() is not None:
                raise SystemExit(f"the {which} server did not start") from None
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=0.05)  # waits for the server to bind, not for an operation
    raise SystemExit(f"the {which} server did not answer")


def wrk(url: str, script: str, seconds: int, connections: int) -> float:
    done = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", script, url],
        capture_output=True, text=True, check=True,
    )
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", done.stdout)
    if non_2xx:
        raise SystemExit(f"{url} {script}: {non_2xx.group(1)} failed requests:\n{done.stdout}")
    found = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    if not found:
        raise SystemExit(done.stdout + done.stderr)
    return float(found.group(1))


def lua(method: str, path: str, body: str | None) -> str:
    lines = [f'wrk.method = "{method}"', f'wrk.path = "{path}"',
             'wrk.headers["API-Key"] = "bench"', 'wrk.headers["Content-Type"] = "application/json"']
    if body is not None:
        lines.append(f"wrk.body = [=[{body}]=]")  # [[ ]] would end at the JSON's own "]]"
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write("\n".join(lines) + "\n")
    return handle.name


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__,
                                      formatter_class=argparse.RawDescriptionHelpFormatter)
    options.add_argument("--rounds", type=int, default=5)
    options.add_argument("--seconds", type=int, default=5)
    options.add_argument("--connections", type=int, default=16)
    args = options.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("this benchmark needs wrk: apt-get install wrk")
    post = lua("POST", "/imgs?wait=true", json.dumps(BODY))
    results: dict[str, dict[str, list[float]]] = {
        "POST /imgs?wait=true (10 images)": {"bare": [], "fake": []},
        "GET /ops/{op_id}": {"bare": [], "fake": []},
    }
    try:
        for round_number in range(1, args.rounds + 1):
            for which in ("bare", "fake"):
                process, url = start(which)
                try:
                    rps = wrk(url, post, args.seconds, args.connections)
                    results["POST /imgs?wait=true (10 images)"][which].append(rps)
                    # Made after the POST run: that run creates more operations than the
                    # fake keeps per tenant (A14), so an earlier one would be forgotten.
                    made = httpx.post(url + "/imgs?wait=true", json=BODY,
                                      headers={"API-Key": "bench"})
                    get = lua("GET", f"/ops/{made.json()['op_id']}", None)
                    rps = wrk(url, get, args.seconds, args.connections)
                    results["GET /ops/{op_id}"][which].append(rps)
                    os.unlink(get)
                finally:
                    process.terminate()
                    process.wait(timeout=30)
            print(f"round {round_number}: " + ", ".join(
                f"{name}: {r['fake'][-1]:.0f} vs {r['bare'][-1]:.0f}" for name, r in results.items()
            ), flush=True)
    finally:
        os.unlink(post)
    print(f"\n{os.cpu_count()} cores, {args.rounds} rounds of {args.seconds}s, "
          f"wrk -t1 -c{args.connections}")
    print(f"{'endpoint':<36}{'bare rps':>10}{'fake rps':>10}{'ratio':>8}")
    for name, r in results.items():
        ratios = [f / b for f, b in zip(r["fake"], r["bare"], strict=True)]
        print(f"{name:<36}{statistics.median(r['bare']):>10.0f}"
              f"{statistics.median(r['fake']):>10.0f}{statistics.median(ratios):>8.0%}")


if __name__ == "__main__":
    main()
