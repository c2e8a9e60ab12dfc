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
    from wesog_mock.controls.controller import ClockError, Controller
    from wesog_mock.controls.faults import FaultError, FaultRegistry, FaultRule
    from wesog_mock.controls.journal import Journal, JournalEntry
    from wesog_mock.domain.clock import RealClock, VirtualClock
    from wesog_mock.domain.config import ConfigError, MockConfig
    from wesog_mock.http.app import create_app
    from wesog_mock.http.middleware import ConnectionDropped

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
    "create_app": "http.app",
    "RealClock": "domain.clock",
    "VirtualClock": "domain.clock",
    "ConfigError": "domain.config",
    "MockConfig": "domain.config",
    "ClockError": "controls.controller",
    "Controller": "controls.controller",
    "FaultError": "controls.faults",
    "FaultRegistry": "controls.faults",
    "FaultRule": "controls.faults",
    "Journal": "controls.journal",
    "JournalEntry": "controls.journal",
    "ConnectionDropped": "http.middleware",
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
