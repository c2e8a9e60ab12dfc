"""A faithful in-memory fake of the Wesog Search image API.

    from wesog_mock import MockConfig, create_app
    app = create_app(MockConfig(clock="virtual", item_ms=10))
    controller = app.state.controller      # reset, seed, advance, settle, state, configure
"""

from wesog_mock.app import create_app
from wesog_mock.clock import RealClock, VirtualClock
from wesog_mock.config import ConfigError, MockConfig
from wesog_mock.controller import ClockError, Controller

__all__ = [
    "ClockError",
    "ConfigError",
    "Controller",
    "MockConfig",
    "RealClock",
    "VirtualClock",
    "create_app",
]
