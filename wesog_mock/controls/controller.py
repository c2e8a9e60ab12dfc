"""The one door into a fake: a thread-safe object over its engine, clock, faults and journal.

The HTTP routes, the admin API and the pytest plugin all go through a `Controller`, and only
through its methods: the engine and the clock are private, so nothing can move time or change
the queue without the controller knowing (and waking the `wait=true` requests that wait on
it). Each method takes the lock once, catches the simulation up to now once, and returns
plain data (views), so a test thread may advance the clock while a server thread answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from wesog_mock.controls.faults import FaultRegistry, FaultRule
from wesog_mock.controls.journal import Journal
from wesog_mock.controls.schema import image_schema
from wesog_mock.domain.clock import RealClock, VirtualClock, iso_ms
from wesog_mock.domain.config import MockConfig
from wesog_mock.domain.engine import Engine
from wesog_mock.domain.operations import Mutation, Operation

__all__ = ["ClockError", "Controller", "Submitted", "gc_paused"]

_BULK_ITEMS = 2_000  # batches this large are evaluated with the collector paused


class ClockError(RuntimeError):
    """The clock cannot do that (advancing or settling a real clock)."""


@dataclass(frozen=True, slots=True)
class Submitted:
    """What a mutation's request is answered with.

    Attributes:
        finished: the operation finished before the answer (a 200), or not (a 202).
        view: the operation as the answer shows it, with its `op_id`.
        fault: the operation fault that fired on it, if one did (the journal names it).
    """

    finished: bool
    view: dict[str, Any]
    fault: FaultRule | None


class Controller:
    """State and controls of one fake: submit, read, reset, seed, configure, move time."""

    def __init__(self, config: MockConfig | None = None) -> None:
        config = config or MockConfig()
        self._lock = threading.RLock()
        self._clock: RealClock | VirtualClock = (
            VirtualClock() if config.clock == "virtual" else RealClock()
        )
        self._engine = Engine(config, self._clock.now_ms(), image_schema())
        self._engine.on_finish = self._on_finish
        self.journal = Journal(config.journal_size)
        self.faults = FaultRegistry(config.seed)
        self._wakers: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._stopping = False

    @property
    def config(self) -> MockConfig:
        """The settings in force now (a new object after each `configure()`)."""
        return self._engine.config

    @property
    def is_virtual(self) -> bool:
        return self._clock.is_virtual

    def now_ms(self) -> float:
        return self._clock.now_ms()

    def _catch_up(self) -> float:
        """Replay what is due by now (the lock held); the instant views are shown at."""
        self._engine.run_until(self._clock.now_ms())
        return self._engine.now_ms

    # -- the API's operations ------------------------------------------------------------------

    def submit(self, mutation: Mutation, fault: FaultRule | None = None) -> Operation:
        """Queue an operation and start what is due; the operation (for `view`, `wait_for`)."""
        with self._lock:
            return self._enqueue(mutation, fault)[0]

    def _enqueue(
        self, mutation: Mutation, fault: FaultRule | None, show: bool = False
    ) -> tuple[Operation, dict[str, Any] | None]:
        """(The lock held.) Catch up, queue, then replay the instant of submission, which
        with no delays runs the operation to its end. With `show`, also the operation's view
        as submitted, before that replay: how a 202 shows it."""
        now = self._catch_up()
        op = self._engine.submit(
            mutation,
            fault=None if fault is None else fault.operation_fault,
            fail_reason="" if fault is None else fault.reason,
        )
        submitted = op.view(now, with_id=True) if show else None
        self._engine.run_until(now)
        return op, submitted

    async def execute(self, mutation: Mutation, *, method: str, path: str) -> Submitted:
        """A mutation from submission to its answer: with `wait`, until the operation has
        finished or the sync timeout has passed on the fake's clock (D7, A5).

        `method` and `path` are the request's, which operation fault rules match."""
        fault = self.faults.for_operation(method, path, mutation.tenant)
        # A vanished operation never finishes: waiting for it could only end in the 202.
        answer_now = not mutation.wait or (fault is not None and fault.kind == "vanish")
        with self._lock, gc_paused(len(mutation.items) >= _BULK_ITEMS):
            op, submitted = self._enqueue(mutation, fault, show=answer_now)
            if submitted is not None:  # shown as submitted: it runs after the answer
                return Submitted(False, submitted, fault)
            if op.finished:  # with no delays it already has
                return Submitted(True, op.view(self._engine.now_ms, with_id=True), fault)
        deadline = op.created_ms + self.config.sync_timeout_s * 1000.0
        finished = await self.wait_for(op, deadline)
        return Submitted(finished, self.view(op), fault)

    def view(self, op: Operation, *, with_id: bool = True) -> dict[str, Any]:
        """`op` as the API shows it now."""
        with self._lock:
            return op.view(self._catch_up(), with_id=with_id)

    def get_image(
        self, tenant: str, image_id: str, fields: Iterable[str] | None = None
    ) -> dict[str, Any]:
        """The image as `GET /imgs/{id}` shows it; NotFound when the tenant has none."""
        with self._lock:
            self._catch_up()
            record = self._engine.get_image(tenant, image_id)
            return self._engine.schema.read_view(image_id, record, fields)

    def operation(self, tenant: str, op_id: int) -> dict[str, Any]:
        """The operation as `GET /ops/{op_id}` shows it (no `op_id`, D8); NotFound."""
        with self._lock:
            now = self._catch_up()
            return self._engine.get_operation(tenant, op_id).view(now, with_id=False)

    def cancel(self, tenant: str, op_id: int) -> dict[str, Any]:
        """Cancel a queued operation (A8) and show it; NotFound, or AlreadyStarted."""
        with self._lock:
            now = self._catch_up()
            view = self._engine.cancel(tenant, op_id).view(now, with_id=False)
        self._wake_all()
        return view

    def operations(self, tenant: str) -> list[dict[str, Any]]:
        """The tenant's operations as `GET /ops` shows them."""
        with self._lock:
            now = self._catch_up()
            return [op.view(now, with_id=True) for op in self._engine.list_operations(tenant)]

    def images(self, tenant: str) -> dict[str, dict[str, Any]]:
        """The tenant's images as read back, by id."""
        with self._lock:
            self._catch_up()
            stored = self._engine.images_of(tenant)
            view = self._engine.schema.read_view
            return {image_id: view(image_id, rec) for image_id, rec in stored.items()}

    def tenants(self) -> list[str]:
        """The API keys that have images or operations."""
        with self._lock:
            return self._engine.tenant_keys()

    def state(self, tenant: str) -> dict[str, Any]:
        with self._lock:  # one instant for all three: images and operations agree
            return {"tenant": tenant, "now": iso_ms(self.now_ms()),
                    "images": self.images(tenant), "operations": self.operations(tenant)}

    # -- controls -------------------------------------------------------------------------------

    def configure(self, **changes: Any) -> MockConfig:
        """Change settings at run time (delays, limits, defaults, keys).

        The clock's mode and the admin API are fixed when the fake is built: changing them
        raises ConfigError. Operations already submitted keep the delays they were given."""
        with self._lock:
            seed = self.config.seed
            config = self.config.run_time_changes(**changes)
            self._engine.configure(config)
            self.journal.resize(config.journal_size)
            if config.seed != seed:
                self.faults.reseed(config.seed)
        self._wake_all()
        return config

    def advance(self, ms: float) -> float:
        """Move the virtual clock forward by `ms` and run whatever falls due. Returns now."""
        clock = self._virtual_clock("advance")
        with self._lock:
            now = clock.advance(ms)
            self._engine.run_until(now)
        self._wake_all()
        return now

    def settle(self, max_steps: int = 1_000_000) -> float:
        """Advance the virtual clock until nothing more can happen (held operations stay).

        Returns the milliseconds advanced."""
        clock = self._virtual_clock("settle")
        with self._lock:
            start = clock.now_ms()
            for _ in range(max_steps):
                self._engine.run_until(clock.now_ms())
                due = self._engine.next_event_ms()
                if due == float("inf"):
                    break
                clock.advance(max(0.0, due - clock.now_ms()))
            advanced = clock.now_ms() - start
        self._wake_all()
        return advanced

    def _virtual_clock(self, action: str) -> VirtualClock:
        if not isinstance(self._clock, VirtualClock):
            raise ClockError(
                f"the clock is real and cannot {action}; create the fake with clock='virtual' "
                "(wesog-mock serve --clock virtual) to move it"
            )
        return self._clock

    def reset(self, tenant: str | None = None) -> None:
        """Forget everything, or one tenant (`tenant` is its API key).

        Everything includes the journal and the fault rules (and restarts the faults' seeded
        generator); one tenant's reset removes the rules scoped to it and keeps the journal."""
        with self._lock:
            self._engine.reset(tenant)
            self.faults.clear(tenant)
            if tenant is None:
                self.journal.clear()
        self._wake_all()

    def seed(self, tenant: str, images: Iterable[Mapping[str, Any]]) -> int:
        """Store images directly, without operations. Each image needs an `id`."""
        with self._lock:
            return self._engine.seed_images(tenant, images)

    def release(self, tenant: str, op_id: int) -> None:
        """Let an operation held in the queue by a fault start; NotFound."""
        with self._lock:
            self._catch_up()
            self._engine.release(tenant, op_id)
        self._wake_all()

    def release_held(self, tenant: str | None = None) -> list[int]:
        """Release every operation held by a fault (of one tenant, or all); their ids."""
        with self._lock:
            self._catch_up()
            held = [op for op in self._engine.held_operations() if tenant in (None, op.tenant)]
            for op in held:
                self._engine.release(op.tenant, op.op_id)
        self._wake_all()
        return [op.op_id for op in held]

    def held(self) -> list[int]:
        """The ids of the operations a fault holds in the queue, in queue order."""
        with self._lock:
            return [op.op_id for op in self._engine.held_operations()]

    # -- waiting for an operation (wait=true) --------------------------------------------------

    @property
    def stopping(self) -> bool:
        """`stop_waiting()` was called: no `wait=true` request waits any more."""
        return self._stopping

    def stop_waiting(self) -> None:
        """Answer every `wait=true` request now, and every later one at once.

        For a server that is stopping: each waiting request gets the answer of a sync timeout
        (the 202 form, the operation as it stands), so none holds the stop up. Operations are
        not touched; the queue goes on as before. There is no way back: build a new fake."""
        with self._lock:
            self._stopping = True
        self._wake_all()

    async def wait_for(self, op: Operation, deadline_ms: float) -> bool:
        """Wait until `op` finishes (True) or the fake's clock reaches `deadline_ms` (False).

        False at once, too, once `stop_waiting()` has been called. On a real clock it sleeps
        until the next due event; on a virtual one it sleeps until something moves the clock or
        changes the queue."""
        loop = asyncio.get_running_loop()
        while True:
            with self._lock:
                now = self._clock.now_ms()
                self._engine.run_until(now)
                if op.finished:
                    return True
                if now >= deadline_ms or op.discarded or self._stopping:
                    return False
                due = min(self._engine.next_event_ms(), deadline_ms)
                waker: asyncio.Future[None] = loop.create_future()
                self._wakers.append((loop, waker))
            timeout = None if self._clock.is_virtual else max(0.0, (due - now) / 1000.0)
            try:
                await asyncio.wait([waker], timeout=timeout)
            finally:
                with self._lock:
                    self._wakers.remove((loop, waker))

    def _on_finish(self, op: Operation) -> None:
        self._wake_all()

    def _wake_all(self) -> None:
        with self._lock:
            wakers = list(self._wakers)
        for loop, waker in wakers:
            with contextlib.suppress(RuntimeError):  # that request's loop has closed
                loop.call_soon_threadsafe(_resolve, waker)


@contextmanager
def gc_paused(pause: bool) -> Iterator[None]:
    """Hold the cyclic garbage collector off while a large batch is decoded and applied.

    That work allocates hundreds of thousands of objects and no reference cycles, yet each
    allocation burst makes the collector walk the whole heap again: pausing it made a
    100,000-image batch several times faster to accept. The first pauser re-enables it.
    Never held across an `await`: other requests would run with the collector off.

    In a process that freezes its long-lived objects (`wesog-mock serve` does at start, see
    cli._tune_collector) it freezes what is alive on the way out too: the batch's objects live
    on as stored records or a queued operation, and the first collection after re-enabling
    would walk all of them (0.1 s for 100,000 images, measured). Reference counting still
    frees them; only cyclic garbage made before the pause is never collected. A process that
    does not freeze (a user's tests, with the fixtures) is left as it was."""
    was_enabled = pause and gc.isenabled()
    if was_enabled:
        gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if gc.get_freeze_count():
                gc.freeze()
            gc.enable()


def _resolve(waker: asyncio.Future[None]) -> None:
    if not waker.done():
        waker.set_result(None)
