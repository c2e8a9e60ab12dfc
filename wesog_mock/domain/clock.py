"""Time as a dependency: a real clock, or a virtual one that moves only when told."""

from __future__ import annotations

import functools
import time
from datetime import UTC, datetime
from typing import Protocol

__all__ = ["Clock", "RealClock", "VirtualClock", "iso_ms"]


def iso_ms(epoch_ms: float) -> str:
    """`epoch_ms` as ISO 8601 in UTC with milliseconds: `2026-11-23T10:00:00.042Z` (A7)."""
    whole = int(epoch_ms)
    return f"{_iso_seconds(whole // 1000)}.{whole % 1000:03d}Z"


@functools.lru_cache(maxsize=256)
def _iso_seconds(epoch_s: int) -> str:
    # Every answer carries up to three timestamps, mostly of the same second: strftime is the
    # costly part, so it runs once per second seen (a pure function; the cache is bounded).
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%dT%H:%M:%S")


class Clock(Protocol):
    """Milliseconds since the Unix epoch, as the fake sees them."""

    @property
    def is_virtual(self) -> bool: ...

    def now_ms(self) -> float: ...


class RealClock:
    """Wall time."""

    is_virtual = False

    def now_ms(self) -> float:
        return time.time() * 1000.0


class VirtualClock:
    """A clock that stands still until `advance()` moves it: tests drive time, never sleep."""

    is_virtual = True

    def __init__(self, start_ms: float | None = None) -> None:
        # Starts at the wall time (to the millisecond) so timestamps look like today's.
        self._now = float(int(time.time() * 1000) if start_ms is None else start_ms)

    def now_ms(self) -> float:
        return self._now

    def advance(self, ms: float) -> float:
        if ms < 0:
            raise ValueError(f"the clock only moves forward; cannot advance by {ms} ms")
        self._now += ms
        return self._now
