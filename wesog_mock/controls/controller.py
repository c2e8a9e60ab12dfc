"""The fake's controls from Python: one thread-safe object over the engine and the clock.

The HTTP routes, the admin API and the pytest plugin all go through a `Controller`; it holds
the only lock, so a test thread may advance the clock while a server thread answers requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from wesog_mock.controls.faults import FaultRegistry
from wesog_mock.controls.journal import Journal
from wesog_mock.controls.schema import image_schema
from wesog_mock.domain.batch import read_view
from wesog_mock.domain.clock import RealClock, VirtualClock, iso_ms
from wesog_mock.domain.config import ConfigError, MockConfig
from wesog_mock.domain.engine import Engine
from wesog_mock.domain.operations import Operation

__all__ = ["ClockError", "Controller"]


class ClockError(RuntimeError):
    """The clock cannot do that (advancing or settling a real clock)."""


class Controller:
    """State and controls of one fake: reset, seed, inspect, configure, move time."""

    def __init__(self, config: MockConfig | None = None) -> None:
        config = config or MockConfig()
        self._lock = threading.RLock()
        self.clock: RealClock | VirtualClock = (
            VirtualClock() if config.clock == "virtual" else RealClock()
        )
        self.engine = Engine(config, self.clock, image_schema())
        self.engine.on_finish = self._on_finish
        self.journal = Journal(config.journal_size)
        self.faults = FaultRegistry(config.seed)
        self._wakers: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    @property
    def config(self) -> MockConfig:
        return self.engine.config

    @contextmanager
    def locked(self) -> Iterator[Engine]:
        """The engine, caught up to now, for the duration of a `with` block."""
        with self._lock:
            self.engine.run_until(self.clock.now_ms())
            yield self.engine

    def now_ms(self) -> float:
        return self.clock.now_ms()

    # -- controls -------------------------------------------------------------------------------

    def configure(self, **changes: Any) -> MockConfig:
        """Change settings at run time (delays, limits, defaults, keys); not the clock's mode."""
        if "clock" in changes and changes["clock"] != self.config.clock:
            raise ConfigError("clock", "the clock's mode is fixed when the fake is created")
        with self._lock:
            seed = self.config.seed
            config = self.config.replace(**changes)
            self.engine.configure(config)
            self.journal.resize(config.journal_size)
            if config.seed != seed:
                self.faults.reseed(config.seed)
        self._wake_all()
        return config

    def advance(self, ms: float) -> float:
        """Move the virtual clock forward by `ms` and run whatever falls due. Returns now."""
        if not isinstance(self.clock, VirtualClock):
            raise ClockError("the clock is real; start the fake with clock='virtual' to move it")
        with self._lock:
            now = self.clock.advance(ms)
            self.engine.run_until(now)
        self._wake_all()
        return now

    def settle(self, max_steps: int = 1_000_000) -> float:
        """Advance the virtual clock until nothing more can happen (held operations stay).

        Returns the milliseconds advanced."""
        if not isinstance(self.clock, VirtualClock):
            raise ClockError("the clock is real; settle needs clock='virtual'")
        with self._lock:
            start = self.clock.now_ms()
            for _ in range(max_steps):
                self.engine.run_until(self.clock.now_ms())
                due = self.engine.next_event_ms()
                if due == float("inf"):
                    break
                self.clock.advance(max(0.0, due - self.clock.now_ms()))
            advanced = self.clock.now_ms() - start
        self._wake_all()
        return advanced

    def reset(self, tenant: str | None = None) -> None:
        """Forget everything, or one tenant (`tenant` is its API key).

        Everything includes the journal and the fault rules (and restarts the faults' seeded
        generator); one tenant's reset removes the rules scoped to it and keeps the journal."""
        with self._lock:
            self.engine.reset(tenant)
            self.faults.clear(tenant)
            if tenant is None:
                self.journal.clear()
        self._wake_all()

    def seed(self, tenant: str, images: Iterable[Mapping[str, Any]]) -> int:
        """Store images directly, without operations. Each image needs an `id`."""
        with self._lock:
            return self.engine.seed_images(tenant, images)

    def release(self, tenant: str, op_id: int) -> Operation:
        """Let an operation held in the queue by a fault start."""
        with self._lock:
            op = self.engine.release(tenant, op_id)
        self._wake_all()
        return op

    def release_held(self, tenant: str | None = None) -> list[int]:
        """Release every operation held by a fault (of one tenant, or all); their ids."""
        with self._lock:
            held = [
                op for op in self.engine.held_operations() if tenant in (None, op.tenant)
            ]
            for op in held:
                self.engine.release(op.tenant, op.op_id)
        self._wake_all()
        return [op.op_id for op in held]

    def images(self, tenant: str) -> dict[str, dict[str, Any]]:
        """The tenant's images as read back, by id."""
        with self.locked() as engine:
            stored = engine.tenant(tenant).images if tenant in engine.tenant_keys() else {}
            whole = engine.schema.full_record
            return {image_id: read_view(image_id, whole(rec)) for image_id, rec in stored.items()}

    def operations(self, tenant: str) -> list[dict[str, Any]]:
        """The tenant's operations as `GET /ops` shows them."""
        with self.locked() as engine:
            now = engine.now_ms
            return [op.view(now, with_id=True) for op in engine.list_operations(tenant)]

    def state(self, tenant: str) -> dict[str, Any]:
        return {"tenant": tenant, "now": iso_ms(self.clock.now_ms()),
                "images": self.images(tenant), "operations": self.operations(tenant)}

    # -- waiting for an operation (wait=true) --------------------------------------------------

    async def wait_finished(self, op: Operation, deadline_ms: float) -> bool:
        """Wait until `op` finishes (True) or the fake's clock reaches `deadline_ms` (False).

        On a real clock it sleeps until the next due event; on a virtual one it sleeps until
        something moves the clock or changes the queue."""
        loop = asyncio.get_running_loop()
        while True:
            with self._lock:
                now = self.clock.now_ms()
                self.engine.run_until(now)
                if op.finished:
                    return True
                if now >= deadline_ms or op.discarded:
                    return False
                due = min(self.engine.next_event_ms(), deadline_ms)
                waker: asyncio.Future[None] = loop.create_future()
                self._wakers.append((loop, waker))
            timeout = None if self.clock.is_virtual else max(0.0, (due - now) / 1000.0)
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


def _resolve(waker: asyncio.Future[None]) -> None:
    if not waker.done():
        waker.set_result(None)
