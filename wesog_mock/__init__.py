"""A faithful in-memory fake of the Wesog Search image API.

    from wesog_mock import MockConfig, create_app
    app = create_app(MockConfig(clock="virtual", item_ms=10))
    controller = app.state.controller      # reset, seed, advance, settle, state, configure
    controller.faults.add("status", path="/imgs*", status=503, times=2)
    controller.journal.filter(tenant="key-1")

The names below are imported on first use: the pytest plugin lives in this package, and
importing it (which pytest does in every session of every project that installs us) must
not pull in Starlette, uvicorn and the contract.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wesog_mock.app import create_app
    from wesog_mock.clock import RealClock, VirtualClock
    from wesog_mock.config import ConfigError, MockConfig
    from wesog_mock.controller import ClockError, Controller
    from wesog_mock.faults import FaultError, FaultRegistry, FaultRule
    from wesog_mock.journal import Journal, JournalEntry
    from wesog_mock.middleware import ConnectionDropped

__all__ = [
    "ClockError",
    "ConfigError",
    "ConnectionDropped",
    "Controller",
    "FaultError",
    "FaultRegistry",
    "FaultRule",
    "Journal",
    "JournalEntry",
    "MockConfig",
    "RealClock",
    "VirtualClock",
    "create_app",
]

_HOMES = {
    "create_app": "app",
    "RealClock": "clock",
    "VirtualClock": "clock",
    "ConfigError": "config",
    "MockConfig": "config",
    "ClockError": "controller",
    "Controller": "controller",
    "FaultError": "faults",
    "FaultRegistry": "faults",
    "FaultRule": "faults",
    "Journal": "journal",
    "JournalEntry": "journal",
    "ConnectionDropped": "middleware",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'wesog_mock' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"wesog_mock.{home}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
