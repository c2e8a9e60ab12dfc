"""A faithful in-memory fake of the Wesog Search image API.

    from wesog_mock import MockConfig, create_app
    app = create_app(MockConfig(clock="virtual", item_ms=10))
    controller = app.state.controller      # reset, seed, advance, settle, state, configure
    controller.faults.add("status", path="/imgs*", status=503, times=2)
    controller.journal.filter(tenant="key-1")
"""

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
