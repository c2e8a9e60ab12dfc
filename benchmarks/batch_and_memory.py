"""The scale figures of the README: memory, a full store, a big batch, the contract check.

1. Memory per stored image with 10 fields filled, beyond the strings themselves (tracemalloc).
2. The contract check of a 1,000-item batch against the whole request it guards.
3. One async batch of 100,000 images (10 fields each) against `wesog-mock serve`: time from
   sending the request to the operation read back finished, of new images (after a reset) and
   of the same batch again (replacing all of them), next to the time the same bytes take to be
   merely sent and parsed by the bare Starlette app (benchmarks/_servers.py).
4. Throughput (wrk, as http_throughput.py) of `wesog-mock serve` holding 1,000,000 images
   (seeded through `PUT /_mock/images`), against an empty one, alternating, a ratio.

    python benchmarks/batch_and_memory.py [--rounds 5] [--stored 1000000]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import httpx

from contracts.spec import default_contract, parse_json_body
from wesog_mock import Controller, MockConfig
from wesog_mock.domain.operations import Mutation

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _servers import start, stop  # noqa: E402
from http_throughput import BODY, HEADERS, lua, wrk  # noqa: E402


def images(count: int, prefix: str = "img") -> list[dict[str, object]]:
    """Images with 10 fields filled: id, src and eight metadata fields."""
    return [
        {"id": f"{prefix}-{i}", "src": f"https://example.com/{i}.jpg", "title": f"Title {i}",
         "caption": f"A caption for image {i}", "city": "Madrid", "country": "Spain",
         "author": f"Author {i % 97}", "nsfw": False, "keywords": ["car", "red"],
         "date": "2026-11-23"}
        for i in range(count)
    ]


def big_batch(rounds: int) -> None:
    """Two cases, each round: 100,000 new images into an empty store (after a reset), then the
    same batch again, replacing all 100,000 (the old records are freed on the way)."""
    body = json.dumps(images(100_000)).encode()
    headers = {"API-Key": "bench", "Content-Type": "application/json"}
    timings: dict[str, list[float]] = {"bare": [], "new": [], "replace": []}

    def finished(client: httpx.Client) -> float:
        began = time.perf_counter()
        answer = client.post("/imgs?strict=false", content=body)
        assert answer.status_code == 202, answer.text
        path = f"/ops/{answer.json()['op_id']}"
        while not client.get(path).json()["is_finished"]:
            pass  # bounded by the run time; zero delays finish at once
        return time.perf_counter() - began

    for which in ("bare", "fake"):
        process, url = start("bare" if which == "bare" else "serve",
                             serve_args=["--max-batch", "200000"])
        try:
            with httpx.Client(base_url=url, headers=headers, timeout=120) as client:
                for _ in range(rounds):
                    if which == "bare":
                        began = time.perf_counter()
                        client.post("/imgs?strict=false", content=body)
                        timings["bare"].append(time.perf_counter() - began)
                        continue
                    assert client.post("/_mock/reset").status_code == 200
                    timings["new"].append(finished(client))
                    timings["replace"].append(finished(client))
        finally:
            stop(process)
    bare, new, replace = (statistics.median(timings[k]) for k in ("bare", "new", "replace"))
    print(f"100,000-image async batch ({len(body) / 2**20:.1f} MiB), request to finished "
          f"(median of {rounds}): new images {new:.2f} s, replacing 100,000 stored "
          f"{replace:.2f} s; the bare server only parsing it: {bare:.2f} s "
          f"(x{new / bare:.1f}, x{replace / bare:.1f})")


def memory_per_image(count: int = 100_000) -> None:
    """Everything the store keeps, traced from the JSON decode on, less the strings it keeps."""
    controller = Controller(MockConfig(clock="virtual", max_batch=count))
    body = json.dumps(images(count)).encode()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    batch = json.loads(body)  # as a request arrives: every value a string of its own
    controller.submit(Mutation(tenant="t", kind="create", items=[(i["id"], i) for i in batch],
                               lang="en"))
    controller.settle()
    del batch
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    # Reaches inside on purpose: it measures the stored records themselves, not read views.
    stored = controller._engine.images_of("t")
    assert len(stored) == count
    kept: dict[int, int] = {}
    for image_id, record in stored.items():
        kept[id(image_id)] = sys.getsizeof(image_id)
        for value in record[1:]:  # (shape, *values): the shape is shared, not the image's
            for text in value if isinstance(value, list) else [value]:
                if isinstance(text, str):
                    kept[id(text)] = sys.getsizeof(text)
    total = (after - before) / count
    beyond = total - sum(kept.values()) / count
    print(f"memory per stored image (10 fields): {total:.0f} B in all, "
          f"{beyond:.0f} B beyond the strings themselves")


def validation_cost(rounds: int) -> None:
    """The contract check of a 1,000-item batch (decoded already), against the whole request."""
    endpoint = default_contract().endpoint("createImages")
    body = json.dumps(images(1000)).encode()
    decodes, checks = [], []
    for _ in range(rounds * 20):
        began = time.perf_counter()
        document, _ = parse_json_body(body, "application/json")
        decoded = time.perf_counter()
        assert not endpoint.check_body(document, max_items=10_000)
        assert not endpoint.unknown_fields(document)
        checks.append(time.perf_counter() - decoded)
        decodes.append(decoded - began)
    process, url = start("serve")
    requests = []
    try:
        with httpx.Client(base_url=url, headers={"API-Key": "bench",
                          "Content-Type": "application/json"}) as client:
            for _ in range(rounds * 4):
                began = time.perf_counter()
                assert client.post("/imgs?wait=true", content=body).status_code == 200
                requests.append(time.perf_counter() - began)
    finally:
        stop(process)
    check, decode = statistics.median(checks), statistics.median(decodes)
    request = statistics.median(requests)
    print(f"1,000-item batch: contract check {check * 1000:.2f} ms (JSON decode, which any "
          f"server pays, {decode * 1000:.2f} ms); the whole request (wait=true) "
          f"{request * 1000:.2f} ms; the check is {check / request:.0%} of it")


def _seed(url: str, count: int) -> None:
    """`count` images (id, src, title) in the `bench` tenant, 50,000 to a request."""
    with httpx.Client(base_url=url, timeout=300) as client:
        for start_at in range(0, count, 50_000):
            chunk = [{"id": f"stored-{i}", "src": f"https://example.com/{i}.jpg",
                      "title": f"Stored image {i}"}
                     for i in range(start_at, min(count, start_at + 50_000))]
            client.put("/_mock/images?tenant=bench", json=chunk).raise_for_status()


def full_store(rounds: int, stored: int, seconds: int) -> None:
    """Requests/s of a fake holding `stored` images against an empty one (POST and GET)."""
    post = lua("POST", "/imgs?wait=true", json.dumps(BODY))
    rates: dict[str, dict[str, list[float]]] = {"POST": {"empty": [], "full": []},
                                                 "GET": {"empty": [], "full": []}}
    servers = {}
    try:
        for which in ("empty", "full"):
            servers[which] = start("serve")
        began = time.perf_counter()
        _seed(servers["full"][1], stored)
        print(f"seeded {stored:,} images in {time.perf_counter() - began:.1f} s", flush=True)
        for number in range(rounds):
            for which in ("empty", "full") if number % 2 == 0 else ("full", "empty"):
                url = servers[which][1]
                rates["POST"][which].append(wrk(url, post, seconds, 32))
                made = httpx.post(url + "/imgs?wait=true", json=BODY, headers=HEADERS)
                get = lua("GET", f"/ops/{made.json()['op_id']}", None)
                rates["GET"][which].append(wrk(url, get, seconds, 32))
                os.unlink(get)
    finally:
        os.unlink(post)
        for process, _ in servers.values():
            stop(process)
    for method, values in rates.items():
        ratios = [f / e for f, e in zip(values["full"], values["empty"], strict=True)]
        print(f"{method} with {stored:,} stored images: {statistics.median(values['full']):.0f}"
              f" requests/s, empty {statistics.median(values['empty']):.0f}: "
              f"x{statistics.median(ratios):.2f} (median of {rounds}; load "
              f"{os.getloadavg()[0]:.1f})")


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__,
                                      formatter_class=argparse.RawDescriptionHelpFormatter)
    options.add_argument("--rounds", type=int, default=5)
    options.add_argument("--stored", type=int, default=1_000_000)
    options.add_argument("--seconds", type=int, default=5)
    args = options.parse_args()
    memory_per_image()
    validation_cost(args.rounds)
    big_batch(args.rounds)
    full_store(args.rounds, args.stored, args.seconds)


if __name__ == "__main__":
    main()
