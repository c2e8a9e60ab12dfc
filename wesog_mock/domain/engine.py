"""The queue and its workers, as a discrete-event simulation driven by the fake's clock.

Nothing runs in the background. Every observation first calls `run_until(now)`, which replays,
in time order, every start and finish that is due: with a virtual clock, time moves only when
a test advances it; with a real clock, the same replay runs against wall time. With zero delays
an operation starts and finishes at the instant it is submitted.

Rules kept here: one queue, urgent at its head (D6, A4); never two operations of one tenant at
once; all or nothing (D5); a finished operation never changes (D9); cancel only before the start
(A8); finished operations kept up to a limit per tenant (A14).
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from wesog_mock.domain.batch import ImageSchema, Record, evaluate_batch
from wesog_mock.domain.config import MockConfig
from wesog_mock.domain.operations import Mutation, Operation, OperationFault

__all__ = ["AlreadyStarted", "Engine", "NotFound", "Tenant"]


class NotFound(LookupError):
    """No such image or operation for this tenant (another tenant's counts as none)."""

    def __init__(self, what: str, key: object) -> None:
        self.what = what  # "image" or "operation"
        self.key = key
        shown = f"'{key}'" if what == "image" else f"{key}"
        super().__init__(f"{what.capitalize()} {shown} not found.")

    def __str__(self) -> str:
        return str(self.args[0])


class AlreadyStarted(Exception):
    """The operation has started (or finished): it can no longer be cancelled."""

    def __init__(self, op_id: int) -> None:
        self.op_id = op_id
        super().__init__(f"Operation {op_id} has already started and cannot be cancelled.")


@dataclass(slots=True)
class Tenant:
    """One API key's world: its images and the operations it can see."""

    images: dict[str, Record] = field(default_factory=dict)
    operations: dict[int, Operation] = field(default_factory=dict)  # oldest first
    finished_ids: deque[int] = field(default_factory=deque)  # in the order they finished


class Engine:
    """Tenants, the queue and the workers. Not thread-safe: the Controller serializes calls."""

    def __init__(self, config: MockConfig, start_ms: float, schema: ImageSchema) -> None:
        self._config = config
        self.schema = schema
        self._rng = random.Random(config.seed)
        self._tenants: dict[str, Tenant] = {}
        self._queue: deque[Operation] = deque()
        self._running: list[Operation] = []
        self._next_id = 1  # never reset, so an op_id is never reused, even across resets
        self._simulated_ms = start_ms  # the clock is the Controller's: it tells us the time
        self.on_finish: Callable[[Operation], None] | None = None

    @property
    def config(self) -> MockConfig:
        return self._config

    @property
    def now_ms(self) -> float:
        """The instant the simulation has caught up to. Show operations as of this instant,
        never of a later clock reading: an event due in between has not been replayed, and
        a later look would contradict that view (a start or finish "in the past")."""
        return self._simulated_ms

    def configure(self, config: MockConfig) -> None:
        """Take new settings; they apply to operations submitted from now on."""
        if config.seed != self._config.seed:
            self._rng = random.Random(config.seed)
        self._config = config

    # -- tenants and images -------------------------------------------------------------------

    def tenant(self, key: str) -> Tenant:
        found = self._tenants.get(key)
        if found is None:
            found = self._tenants[key] = Tenant()
        return found

    def images_of(self, tenant: str) -> dict[str, Record]:
        """The tenant's stored records by id (empty for a tenant never seen; none is made)."""
        found = self._tenants.get(tenant)
        return found.images if found is not None else {}

    def tenant_keys(self) -> list[str]:
        return list(self._tenants)

    def get_image(self, tenant: str, image_id: str) -> Record:
        """The stored record (no nulls: `schema.read_view` shows it as read back)."""
        record = self._tenants[tenant].images.get(image_id) if tenant in self._tenants else None
        if record is None:
            raise NotFound("image", image_id)
        return record

    def seed_images(self, tenant: str, images: Iterable[Mapping[str, Any]]) -> int:
        """Store images directly, with no operation (test set-up). Each needs an `id`.

        Derived fields (`height`, `width`, `n_faces`) are kept too. All or nothing: a bad
        value raises SeedError and nothing is stored.
        """
        seeded = self.schema.seeded_record
        records = [(str(image["id"]), seeded(image, f"images[{index}]"))
                   for index, image in enumerate(images)]
        self.tenant(tenant).images.update(records)
        return len(records)

    def reset(self, tenant: str | None = None) -> None:
        """Forget everything, or one tenant: its images, operations and queued work."""
        dropped = [op for op in (*self._queue, *self._running)
                   if tenant is None or op.tenant == tenant]
        for op in dropped:
            op.discarded = True  # a `wait=true` request on it answers at once
        if tenant is None:
            self._tenants.clear()
            self._queue.clear()
            self._running.clear()
        else:
            self._tenants.pop(tenant, None)
            self._queue = deque(op for op in self._queue if op.tenant != tenant)
            self._running = [op for op in self._running if op.tenant != tenant]

    # -- operations ---------------------------------------------------------------------------

    def submit(
        self,
        mutation: Mutation,
        *,
        fault: OperationFault | None = None,
        fail_reason: str = "injected failure",
    ) -> Operation:
        """Queue an operation (urgent ones at the head) at the instant the simulation has
        caught up to (call `run_until` before); the next `run_until` may start it."""
        now = self._simulated_ms
        config = self._config
        tenant = mutation.tenant
        op = Operation(
            op_id=self._next_id,
            tenant=tenant,
            kind=mutation.kind,
            method=self.schema.method_of_kind[mutation.kind],
            items=mutation.items,
            num_total=len(mutation.items),
            do_wait=mutation.wait,
            do_urgent=mutation.urgent,
            do_strict=mutation.strict,
            lang=mutation.lang,
            created_ms=now,
            ready_ms=now + config.queue_delay_ms + self._jitter(),
            item_ms=config.item_ms,
            extra_ms=self._jitter(),
            held=fault == "hold",
            fail_reason=fail_reason if fault == "fail" else None,
        )
        self._next_id += 1
        if fault == "vanish":
            return op  # answered once, then never seen again: its id is 404 from now on
        self.tenant(tenant).operations[op.op_id] = op
        if mutation.urgent:
            self._queue.appendleft(op)
        else:
            self._queue.append(op)
        return op

    def get_operation(self, tenant: str, op_id: int) -> Operation:
        found = self._tenants[tenant].operations.get(op_id) if tenant in self._tenants else None
        if found is None:
            raise NotFound("operation", op_id)
        return found

    def list_operations(self, tenant: str) -> list[Operation]:
        return list(self._tenants[tenant].operations.values()) if tenant in self._tenants else []

    def cancel(self, tenant: str, op_id: int) -> Operation:
        """Cancel a queued operation (A8); a started or finished one raises AlreadyStarted.

        The caller has caught the simulation up (`run_until`) to the instant it cancels at."""
        now = self._simulated_ms
        op = self.get_operation(tenant, op_id)
        if op.started_ms is not None or op.finished:
            raise AlreadyStarted(op_id)
        self._queue.remove(op)
        op.cancelled = True
        op.items = None
        self._finish(op, now)
        return op

    def release(self, tenant: str, op_id: int) -> Operation:
        """Let an operation held by a fault start."""
        op = self.get_operation(tenant, op_id)
        op.held = False
        return op

    def held_operations(self) -> list[Operation]:
        return [op for op in self._queue if op.held]

    # -- the simulation -----------------------------------------------------------------------

    def run_until(self, now_ms: float) -> None:
        """Replay every start and finish due by `now_ms`, in time order."""
        now_ms = max(now_ms, self._simulated_ms)
        if not self._queue and not self._running:  # the usual case: nothing to replay
            self._simulated_ms = now_ms
            return
        while True:
            finishing = min(self._running, key=_finish_time, default=None)
            finish_at = _finish_time(finishing) if finishing is not None else math.inf
            starting, start_at = self._next_start()
            if finishing is not None and finish_at <= start_at:
                if finish_at > now_ms:
                    break
                self._simulated_ms = finish_at
                self._running.remove(finishing)
                self._finish(finishing, finish_at)
            elif starting is not None:
                if start_at > now_ms:
                    break
                self._simulated_ms = start_at
                self._start(starting, start_at)
            else:
                break
        self._simulated_ms = now_ms

    def next_event_ms(self) -> float:
        """When the next start or finish is due (infinity when nothing can happen by itself)."""
        finish_at = min((_finish_time(op) for op in self._running), default=math.inf)
        return min(finish_at, self._next_start()[1])

    def _next_start(self) -> tuple[Operation | None, float]:
        """The operation a free worker takes next, and when: the first ready one in queue
        order, else the one that becomes ready first. One candidate per tenant (its first
        queued operation), and none of a tenant that is running one."""
        if len(self._running) >= self._config.workers or not self._queue:
            return None, math.inf
        busy = {op.tenant for op in self._running}
        best: Operation | None = None
        best_at = math.inf
        for op in self._queue:
            if op.tenant in busy:
                continue
            # A tenant's operations run in queue order: later ones wait for this one, also
            # while a fault holds it (a stuck operation blocks its tenant, not the others).
            busy.add(op.tenant)
            if op.held:
                continue
            start_at = max(op.ready_ms, self._simulated_ms)
            if start_at <= self._simulated_ms:
                return op, start_at
            if start_at < best_at:
                best, best_at = op, start_at
        return best, best_at

    def _start(self, op: Operation, at_ms: float) -> None:
        self._queue.remove(op)
        tenant = self.tenant(op.tenant)
        op.outcome = evaluate_batch(
            tenant.images, op.kind, op.items or [], schema=self.schema, strict=op.do_strict,
            lang=op.lang,
            forced_failure=op.fail_reason,
        )
        op.items = None
        op.started_ms = at_ms
        op.finish_ms = at_ms + op.num_total * op.item_ms + op.extra_ms
        self._running.append(op)

    def _finish(self, op: Operation, at_ms: float) -> None:
        op.finished = True
        op.finish_ms = at_ms
        tenant = self._tenants.get(op.tenant)
        if tenant is None:  # reset while it ran
            return
        if op.outcome is not None:
            if op.outcome.all_good:
                images = tenant.images
                if op.kind == "delete":
                    for image_id in op.outcome.changes:
                        images.pop(image_id, None)
                else:  # every change is a record: one C-level update (a fifth of a big batch)
                    images.update(cast("dict[str, Record]", op.outcome.changes))
            op.outcome.changes = {}
        tenant.finished_ids.append(op.op_id)
        while len(tenant.finished_ids) > self._config.max_finished_ops:
            tenant.operations.pop(tenant.finished_ids.popleft(), None)
        if self.on_finish is not None:
            self.on_finish(op)

    def _jitter(self) -> float:
        jitter = self._config.jitter_ms
        return self._rng.uniform(0.0, jitter) if jitter > 0 else 0.0


def _finish_time(op: Operation) -> float:
    return op.finish_ms if op.finish_ms is not None else math.inf
