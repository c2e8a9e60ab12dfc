"""A no-loss load test: many tenants, several clients each, a random mix of batches over HTTP.

Each tenant's clients race on one queue, so each client works on ids of its own
(`t<T>-c<C>-<K>`): the tenant's final images are then the union of the clients' models, each
applied in that client's request order (one client sends one request at a time, and the queue
runs a tenant's operations in submission order: the mix uses no `urgent`). The model below is
written from the contract (D1-D5, A1-A3), not from the fake's code.

After the load: every accepted operation is listed by `GET /ops`, finished, with counts that
add up and the outcome the model predicts; every tenant's images equal its model. Anything
else is *lost* and listed.

    python benchmarks/load.py [--tenants 20] [--clients 4] [--requests 200] [--seed 1] [--json]

starts `wesog-mock serve --port 0` as a user does (`python -m wesog_mock.cli serve`), loads
it, checks it, stops it with SIGTERM and prints the figures (exit 1 if anything was lost).
The project's test suite runs it at a small size (tests/cli/test_load.py).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx

Record = dict[str, Any]
# The fields the mix writes; every other field of a stored image must read back null.
_FIELDS = ("src", "title", "nsfw", "keywords")
_IDS_PER_CLIENT = 6  # few ids, so strict conflicts, misses and rewrites are common
_METHODS = {"create": "POST", "replace": "PUT", "merge": "PATCH", "delete": "DELETE"}


@dataclass
class Mutation:
    """One accepted mutation: what was sent, and the op_id it was accepted as."""

    kind: str
    strict: bool
    items: list[tuple[str, Record]]
    op_id: int


@dataclass
class LoadReport:
    """What the load held, and what was lost (every entry of `lost` is one discrepancy)."""

    tenants: int
    clients_per_tenant: int
    requests_per_client: int
    seed: int
    sent: int = 0
    accepted: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    duration_s: float = 0.0
    requests_per_s: float = 0.0
    operations_checked: int = 0
    operations_failed: int = 0  # as the model predicted: strict conflicts, all rolled back
    images_checked: int = 0
    lost: list[str] = field(default_factory=list)

    @property
    def concurrency(self) -> int:
        return self.tenants * self.clients_per_tenant

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "concurrency": self.concurrency}

    def summary(self) -> str:
        statuses = ", ".join(f"{code}: {n}" for code, n in sorted(self.by_status.items()))
        return (
            f"{self.sent} requests ({statuses}) from {self.tenants} tenants x "
            f"{self.clients_per_tenant} clients = {self.concurrency} concurrent, in "
            f"{self.duration_s:.2f} s ({self.requests_per_s:.0f} req/s); {self.accepted} "
            f"operations accepted, {self.operations_checked} checked ({self.operations_failed} "
            f"failing, as the model says), {self.images_checked} images checked; "
            f"lost: {len(self.lost)}"
        )


# -- the model (the contract's rules, applied to one client's ids) ------------------------------

def _apply(images: dict[str, Record], m: Mutation) -> tuple[bool, int]:
    """Apply `m` all-or-nothing (D5) to `images`; (all_good, num_bad) as the contract says."""
    work = dict(images)
    bad = 0
    for image_id, fields in m.items:  # in order, later items see earlier ones (A2, A3)
        current = work.get(image_id)
        if m.kind == "delete":  # D3
            work.pop(image_id, None)
        elif m.kind == "create":  # D1
            if m.strict and current is not None:
                bad += 1
            else:
                work[image_id] = {name: fields.get(name) for name in _FIELDS}
        elif current is None:  # D2
            bad += m.strict
        elif m.kind == "replace":  # D4
            work[image_id] = {name: fields.get(name) for name in _FIELDS}
        else:  # merge, A1
            work[image_id] = {**current, **fields}
    if bad == 0:
        images.clear()
        images.update(work)
    return bad == 0, bad


# -- the mix -------------------------------------------------------------------------------

def _fields(rng: random.Random, kind: str, image_id: str) -> Record:
    if kind == "delete":
        return {}
    chosen: Record = {}
    if kind != "merge" or rng.random() < 0.3:
        chosen["src"] = f"https://example.com/{image_id}/{rng.randrange(1000)}.jpg"
    if rng.random() < 0.6:
        cleared = kind == "merge" and rng.random() < 0.2
        chosen["title"] = None if cleared else f"t{rng.randrange(99)}"
    if rng.random() < 0.4:
        chosen["nsfw"] = rng.random() < 0.5
    if rng.random() < 0.4:
        chosen["keywords"] = [f"k{rng.randrange(9)}" for _ in range(rng.randrange(3))]
    if kind == "merge" and not chosen:
        chosen["title"] = "merged"
    return chosen


def _request(rng: random.Random, prefix: str) -> tuple[str, str, dict[str, str], Any, Mutation]:
    """A random mutation: method, path, query, JSON body, and what it means to the model."""
    kind = rng.choice(list(_METHODS))
    strict = rng.random() < 0.5
    query = {"strict": str(strict).lower(), "wait": str(rng.random() < 0.5).lower()}
    ids = [f"{prefix}{rng.randrange(_IDS_PER_CLIENT)}" for _ in range(rng.randint(1, 4))]
    items = [(image_id, _fields(rng, kind, image_id)) for image_id in ids]
    mutation = Mutation(kind, strict, items, op_id=-1)
    if rng.random() < 0.25:  # a single-image path
        image_id, fields = items[0]
        mutation.items = items[:1]
        body = None if kind == "delete" else fields
        return _METHODS[kind], f"/imgs/{image_id}", query, body, mutation
    if kind == "delete":
        return "DELETE", "/imgs", query, [{"id": i} for i, _ in items], mutation
    return _METHODS[kind], "/imgs", query, [{"id": i, **f} for i, f in items], mutation


@dataclass
class _Client:
    """One client of one tenant: its requests, in order, and its model."""

    tenant: str
    prefix: str
    accepted: list[Mutation] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    lost: list[str] = field(default_factory=list)


def _drive(url: str, client: _Client, requests: int, seed: int, deadline: float) -> None:
    rng = random.Random(seed)
    with httpx.Client(base_url=url, headers={"API-Key": client.tenant}, timeout=30) as http:
        for _ in range(requests):
            if time.monotonic() > deadline:
                client.lost.append(f"{client.prefix}: stopped at the time bound")
                return
            if rng.random() < 0.15:  # a read now and then: load, not checked here
                _send(http, client, "GET", f"/imgs/{client.prefix}0", {}, None)
                continue
            method, path, query, body, mutation = _request(rng, client.prefix)
            answer = _send(http, client, method, path, query, body)
            if answer is None:
                continue
            if answer.status_code in (200, 202):
                mutation.op_id = answer.json()["op_id"]
                client.accepted.append(mutation)
            else:
                client.lost.append(f"{method} {path}: {answer.status_code} {answer.text[:200]}")


def _send(http: httpx.Client, client: _Client, method: str, path: str, query: dict[str, str],
          body: Any) -> httpx.Response | None:
    try:
        if body is None:
            answer = http.request(method, path, params=query)
        else:
            answer = http.request(method, path, params=query, json=body)
    except httpx.HTTPError as error:
        client.statuses["error"] += 1
        client.lost.append(f"{method} {path}: {type(error).__name__} {error}")
        return None
    client.statuses[str(answer.status_code)] += 1
    return answer


# -- the checks after the load ------------------------------------------------------------------

def _finished_ops(http: httpx.Client, tenant: str, deadline: float) -> dict[int, Record]:
    """The tenant's operations by id, once all have finished (or at `deadline`)."""
    while True:
        ops = {op["op_id"]: op for op in
               http.get("/ops", headers={"API-Key": tenant}).raise_for_status().json()}
        if all(op["is_finished"] for op in ops.values()) or time.monotonic() > deadline:
            return ops


def _check_tenant(http: httpx.Client, tenant: str, clients: list[_Client],
                  report: LoadReport, deadline: float) -> None:
    ops = _finished_ops(http, tenant, deadline)
    accepted = [m for c in clients for m in c.accepted]
    if len(ops) != len(accepted):
        report.lost.append(f"{tenant}: {len(accepted)} operations accepted, {len(ops)} listed")
    expected: dict[str, Record] = {}
    for client in clients:
        model: dict[str, Record] = {}
        for m in client.accepted:
            all_good, bad = _apply(model, m)
            report.operations_checked += 1
            report.operations_failed += not all_good
            op = ops.get(m.op_id)
            if op is None:
                report.lost.append(f"{tenant}: op {m.op_id} accepted but not listed")
                continue
            seen = (op["is_finished"], op["num_total"], op["num_good"] + op["num_bad"],
                    op["num_bad"], op["all_good"])
            wanted = (True, len(m.items), len(m.items), bad, all_good)
            if seen != wanted:
                report.lost.append(f"{tenant}: op {m.op_id} ({m.kind}, strict={m.strict}) "
                                   f"is (finished, total, good+bad, bad, all_good)={seen}, "
                                   f"the model says {wanted}")
        expected.update(model)
    state = http.get("/_mock/state", params={"tenant": tenant}).raise_for_status().json()
    stored: dict[str, Record] = state["images"]
    for image_id in sorted(set(stored) | set(expected)):
        report.images_checked += 1
        want, got = expected.get(image_id), stored.get(image_id)
        if want is None or got is None:
            report.lost.append(f"{tenant}: {image_id} stored={got is not None}, "
                               f"model={want is not None}")
            continue
        read = {name: got.get(name) for name in _FIELDS}
        others = {k: v for k, v in got.items() if k not in _FIELDS and k != "image_id"}
        if read != want or any(v is not None for v in others.values()):
            report.lost.append(f"{tenant}: {image_id} reads {got}, the model says {want}")


def run_load(url: str, tenants: int, clients_per_tenant: int, requests_per_client: int,
             seed: int = 1, max_seconds: float = 120.0) -> LoadReport:
    """Load the server at `url` (admin API on, real clock), then check that nothing was lost.

    Bounded: each client sends at most `requests_per_client` requests and stops at
    `max_seconds` (which counts as lost: the load was not held)."""
    report = LoadReport(tenants, clients_per_tenant, requests_per_client, seed)
    run = f"load{seed}-{random.Random(seed).randrange(10**6)}"
    by_tenant = {f"{run}-t{t}": [_Client(f"{run}-t{t}", f"t{t}-c{c}-")
                                 for c in range(clients_per_tenant)] for t in range(tenants)}
    clients = [c for group in by_tenant.values() for c in group]
    deadline = time.monotonic() + max_seconds
    threads = [threading.Thread(target=_drive, daemon=True,
                                args=(url, c, requests_per_client, seed * 100_003 + i, deadline))
               for i, c in enumerate(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()) + 30)
    report.duration_s = time.perf_counter() - began
    statuses: Counter[str] = Counter()
    for client in clients:
        statuses.update(client.statuses)
        report.lost.extend(client.lost)
        report.accepted += len(client.accepted)
    report.by_status = dict(statuses)
    report.sent = sum(statuses.values())
    report.requests_per_s = report.sent / report.duration_s if report.duration_s else 0.0
    with httpx.Client(base_url=url, timeout=30) as http:
        for tenant, group in by_tenant.items():
            _check_tenant(http, tenant, group, report, time.monotonic() + 10)
    return report


# -- the command ----------------------------------------------------------------------------

@contextlib.contextmanager
def serving(*options: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`wesog-mock serve --port 0` in a subprocess, as a user starts it; its URL and process.
    Stopped with SIGTERM, which must end it with exit 0."""
    process = subprocess.Popen(
        [sys.executable, "-m", "wesog_mock.cli", "serve", "--port", "0", "--log-level",
         "warning", *options], stdout=subprocess.PIPE, text=True,
    )
    assert process.stdout is not None
    found = re.search(r"http://\S+", process.stdout.readline())
    try:
        if not found:
            raise SystemExit("wesog-mock serve did not start")
        yield found.group(0), process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise SystemExit("wesog-mock serve did not stop on SIGTERM") from None
    if process.returncode != 0:
        raise SystemExit(f"wesog-mock serve exited {process.returncode}")


def _cpu_s(pid: int) -> float:
    """The CPU seconds a process has used (Linux; NaN elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main(argv: list[str] | None = None) -> int:
    options = argparse.ArgumentParser(description=__doc__,
                                      formatter_class=argparse.RawDescriptionHelpFormatter)
    options.add_argument("--tenants", type=int, default=20)
    options.add_argument("--clients", type=int, default=4, help="concurrent clients per tenant")
    options.add_argument("--requests", type=int, default=200, help="requests per client")
    options.add_argument("--seed", type=int, default=1)
    options.add_argument("--max-seconds", type=float, default=120.0)
    options.add_argument("--json", action="store_true", help="print the report as JSON")
    options.add_argument("--serve-option", action="append", default=[], metavar="OPTION",
                         help="pass OPTION to wesog-mock serve (repeatable), e.g. "
                         "--serve-option=--workers=2")
    args = options.parse_args(argv)
    with serving(*args.serve_option) as (url, process):
        before = _cpu_s(process.pid)
        report = run_load(url, args.tenants, args.clients, args.requests, args.seed,
                          args.max_seconds)
        server_cpu = _cpu_s(process.pid) - before
    figures = {**report.as_dict(), "server_cpu_s": round(server_cpu, 2)}
    print(json.dumps(figures) if args.json else
          f"{report.summary()}; the server used {server_cpu:.2f} s of CPU")
    for line in report.lost[:20]:
        print("  lost:", line, file=sys.stderr)
    return 1 if report.lost else 0


if __name__ == "__main__":
    sys.exit(main())
