"""The fake's configuration: one frozen object, passed in, never read from globals."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["ClockMode", "ConfigError", "MockConfig"]

ClockMode = Literal["real", "virtual"]

MIB = 1024 * 1024


class ConfigError(ValueError):
    """A configuration value is out of range; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, kw_only=True, slots=True)
class MockConfig:
    """Everything that shapes the fake's behaviour. Derive variants with `replace()`.

    Attributes:
        api_keys: the accepted keys (each is a tenant); empty accepts any non-empty key.
        clock: `real` (wall time) or `virtual` (moves only when a test advances it).
        queue_delay_ms: time an operation waits in the queue before it may start.
        item_ms: time each item of an operation takes once it runs.
        jitter_ms: up to this much is added, from a seeded generator, to each delay.
        seed: seeds the jitter (and injected fault probabilities); None draws one.
        workers: operations that may run at once (never two of one tenant).
        sync_timeout_s: how long `wait=true` waits before answering 202 (on the fake's clock).
        max_batch: items per batch; more answers 413 (A11).
        max_body_bytes: body size; more answers 413 before the body is read (A11).
        guide_defaults: the overview's reading of A12: `wait` and `strict` default to true.
        max_finished_ops: finished operations kept per tenant; the oldest are forgotten (A14).
        admin: serve the admin API under `/_mock/`.
        journal_size: requests the journal keeps; past it the oldest are dropped (and counted).
    """

    api_keys: tuple[str, ...] = ()
    clock: ClockMode = "real"
    queue_delay_ms: float = 0.0
    item_ms: float = 0.0
    jitter_ms: float = 0.0
    seed: int | None = None
    workers: int = 1
    sync_timeout_s: float = 30.0
    max_batch: int = 10_000
    max_body_bytes: int = 64 * MIB
    guide_defaults: bool = False
    max_finished_ops: int = 10_000
    admin: bool = True
    journal_size: int = 1000

    def __post_init__(self) -> None:
        if self.clock not in ("real", "virtual"):
            raise ConfigError("clock", f"must be 'real' or 'virtual', not {self.clock!r}")
        for name in ("queue_delay_ms", "item_ms", "jitter_ms", "sync_timeout_s"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ConfigError(name, f"must be a number >= 0, not {value!r}")
        for name in (
            "workers", "max_batch", "max_body_bytes", "max_finished_ops", "journal_size",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(name, f"must be an integer >= 1, not {value!r}")
        seed = self.seed
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ConfigError("seed", f"must be an integer or null, not {self.seed!r}")
        for name in ("guide_defaults", "admin"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(name, f"must be true or false, not {getattr(self, name)!r}")
        if not isinstance(self.api_keys, tuple | list) or not all(
            isinstance(key, str) and key for key in self.api_keys
        ):
            raise ConfigError("api_keys", "must be a list of non-empty strings")

    def replace(self, **changes: Any) -> MockConfig:
        """A copy with `changes` applied and validated; an unknown name raises ConfigError."""
        known = {f.name for f in dataclasses.fields(self)}
        for name in changes:
            if name not in known:
                raise ConfigError(name, "is not a setting of the fake")
        if "api_keys" in changes and isinstance(changes["api_keys"], list):
            changes["api_keys"] = tuple(changes["api_keys"])
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        values = dataclasses.asdict(self)
        values["api_keys"] = list(self.api_keys)
        return values
