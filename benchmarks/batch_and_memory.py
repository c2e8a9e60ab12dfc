"""The big-batch, memory and validation figures of the README, each against a baseline.

1. One async batch of 100,000 images (10 fields each) against a live `wesog-mock serve`:
   time from sending the request to the operation read back finished, next to the time the
   same bytes take to be merely sent and parsed by a bare echo of the same server stack.
2. Memory per stored image with 10 fields filled, beyond the strings themselves (tracemalloc).
3. The contract check of a 1,000-item batch against the whole request it guards.

    python benchmarks/batch_and_memory.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import gc
import json
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
from http_throughput import start  # noqa: E402


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
    body = json.dumps(images(100_000)).encode()
    headers = {"API-Key": "bench", "Content-Type": "application/json"}
    timings: dict[str, list[float]] = {"bare": [], "fake": []}
    for which in ("bare", "fake"):
        process, url = start(which)
        try:
            with httpx.Client(base_url=url, headers=headers, timeout=120) as client:
                for _ in range(rounds):
                    began = time.perf_counter()
                    answer = client.post("/imgs?strict=false", content=body)
                    if which == "fake":
                        assert answer.status_code == 202, answer.text
                        path = f"/ops/{answer.json()['op_id']}"
                        while not client.get(path).json()["is_finished"]:
                            pass  # bounded by the run time; zero delays finish at once
                    timings[which].append(time.perf_counter() - began)
        finally:
            process.terminate()
            process.wait(timeout=30)
    bare, fake = statistics.median(timings["bare"]), statistics.median(timings["fake"])
    print(f"100,000-image async batch ({len(body) / 2**20:.1f} MiB): request to finished "
          f"{fake:.2f} s (median of {rounds}); the bare server only parsing it: {bare:.2f} s "
          f"(x{fake / bare:.1f})")


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
        for value in record.values():
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
    process, url = start("fake")
    requests = []
    try:
        with httpx.Client(base_url=url, headers={"API-Key": "bench",
                          "Content-Type": "application/json"}) as client:
            for _ in range(rounds * 4):
                began = time.perf_counter()
                assert client.post("/imgs?wait=true", content=body).status_code == 200
                requests.append(time.perf_counter() - began)
    finally:
        process.terminate()
        process.wait(timeout=30)
    check, decode = statistics.median(checks), statistics.median(decodes)
    request = statistics.median(requests)
    print(f"1,000-item batch: contract check {check * 1000:.2f} ms (JSON decode, which any "
          f"server pays, {decode * 1000:.2f} ms); the whole request (wait=true) "
          f"{request * 1000:.2f} ms; the check is {check / request:.0%} of it")


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__,
                                      formatter_class=argparse.RawDescriptionHelpFormatter)
    options.add_argument("--rounds", type=int, default=5)
    rounds = options.parse_args().rounds
    memory_per_image()
    validation_cost(rounds)
    big_batch(rounds)


if __name__ == "__main__":
    main()
