"""The fake's configuration: one frozen object, passed in, never read from globals.

Each setting is declared once, here, with what the CLI needs to offer it (its flag, its
`WESOG_MOCK_*` variable, how to read it from text, its help), so a new setting is one field.
Two settings are fixed when the fake is built (`build_time`): the clock's mode and whether the
admin API is served; every other one can change at run time (`Controller.configure`).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["ENV_PREFIX", "MIB", "ClockMode", "ConfigError", "MockConfig", "Setting", "settings"]

ClockMode = Literal["real", "virtual"]

MIB = 1024 * 1024
ENV_PREFIX = "WESOG_MOCK_"


class ConfigError(ValueError):
    """A configuration value is out of range; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _number(text: str) -> float:
    value = float(text)
    if not value >= 0 or value == float("inf"):
        raise ValueError(f"must be a finite number >= 0, not {text!r}")
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(f"must be an integer >= 1, not {text!r}")
    return value


def _mebibytes(text: str) -> int:
    return max(1, int(_number(text) * MIB))


def _flag(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"must be true or false, not {text!r}")


def _clock(text: str) -> str:
    if text not in ("real", "virtual"):
        raise ValueError(f"must be 'real' or 'virtual', not {text!r}")
    return text


def _keys(text: str) -> tuple[str, ...]:
    return tuple(key.strip() for key in text.split(",") if key.strip())


@dataclass(frozen=True, kw_only=True, slots=True)
class Setting:
    """How one MockConfig field is offered on the command line and in the environment.

    Attributes:
        name: the field's name.
        help: one line for `--help`.
        flag: the option (`--item-ms`); a boolean whose default is true is offered as its
            negation (`--no-admin`).
        env: the variable (`WESOG_MOCK_ITEM_MS`).
        parse: reads the flag's or the variable's text (ValueError when it cannot).
        negated: the flag and the variable say the opposite of the field (`--no-admin`).
        build_time: fixed when the fake is built; `configure()` refuses to change it.
        repeatable: the flag may be given several times (each adds a value); the variable
            holds the values comma-separated.
        metavar: what `--help` shows for the value.
        default_text: how `--help` shows the default, where its value would mislead.
    """

    name: str
    help: str
    flag: str
    env: str
    parse: Callable[[str], Any]
    negated: bool
    build_time: bool
    repeatable: bool
    metavar: str
    default_text: str | None


def _setting(
    default: Any,
    help: str,
    *,
    parse: Callable[[str], Any],
    flag: str | None = None,
    build_time: bool = False,
    repeatable: bool = False,
    metavar: str | None = None,
    default_text: str | None = None,
) -> Any:
    meta = {"help": help, "parse": parse, "flag": flag, "build_time": build_time,
            "repeatable": repeatable, "metavar": metavar, "default_text": default_text}
    return dataclasses.field(default=default, metadata=meta)


@dataclass(frozen=True, kw_only=True, slots=True)
class MockConfig:
    """Everything that shapes the fake's behaviour. Derive variants with `replace()`.

    Each field's help, flag and variable are in its declaration below (`settings()` lists
    them); `wesog-mock serve --help` shows the same text.
    """

    api_keys: tuple[str, ...] = _setting(
        (), "an accepted API key, repeatable; without any, every non-empty key is a tenant",
        parse=_keys, flag="--api-key", repeatable=True, metavar="KEY",
    )
    clock: ClockMode = _setting(
        "real", "real: wall time; virtual: time moves only through the admin API",
        parse=_clock, build_time=True, metavar="{real,virtual}",
    )
    queue_delay_ms: float = _setting(
        0.0, "time an operation waits in the queue before it may start", parse=_number,
    )
    item_ms: float = _setting(0.0, "time each item takes once an operation runs", parse=_number)
    jitter_ms: float = _setting(
        0.0, "up to this much random extra delay, drawn from --seed", parse=_number,
    )
    seed: int | None = _setting(
        None, "seed for jitter and probabilistic faults", parse=int, default_text="random",
    )
    workers: int = _setting(
        1, "operations running at once, never two of one tenant", parse=_count,
    )
    sync_timeout_s: float = _setting(
        30.0, "how long wait=true waits before answering 202 instead", parse=_number,
    )
    max_batch: int = _setting(10_000, "items per batch; more answers 413 (A11)", parse=_count)
    max_body_bytes: int = _setting(
        64 * MIB, "request body size in MiB; more answers 413, decided before it is read",
        parse=_mebibytes, flag="--max-body-mb", metavar="MIB", default_text="64",
    )
    guide_defaults: bool = _setting(
        False, "wait and strict default to true, as the overview page reads (A12)", parse=_flag,
    )
    max_finished_ops: int = _setting(
        10_000, "finished operations kept per tenant; the oldest are forgotten (A14)",
        parse=_count,
    )
    admin: bool = _setting(
        True, "turn the admin API off: every /_mock/ path answers 404", parse=_flag,
        build_time=True,
    )
    journal_size: int = _setting(
        1000, "requests kept in the journal (GET /_mock/requests)", parse=_count,
    )

    def __post_init__(self) -> None:
        if isinstance(self.api_keys, list):  # a list is easy to pass; a frozen object keeps none
            object.__setattr__(self, "api_keys", tuple(self.api_keys))
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
        if not isinstance(self.api_keys, tuple) or not all(
            isinstance(key, str) and key for key in self.api_keys
        ):
            raise ConfigError("api_keys", "must be a list of non-empty strings")

    def replace(self, **changes: Any) -> MockConfig:
        """A copy with `changes` applied and validated; an unknown name raises ConfigError."""
        known = {f.name for f in dataclasses.fields(self)}
        for name in changes:
            if name not in known:
                raise ConfigError(name, "is not a setting of the fake")
        return dataclasses.replace(self, **changes)

    def run_time_changes(self, **changes: Any) -> MockConfig:
        """`replace()` for a running fake: a change to a build-time setting raises ConfigError."""
        for setting in settings():
            if (setting.build_time and setting.name in changes
                    and changes[setting.name] != getattr(self, setting.name)):
                raise ConfigError(
                    setting.name, "is fixed when the fake is built; create another fake "
                    "(or restart `wesog-mock serve`) to change it",
                )
        return self.replace(**changes)

    def as_dict(self) -> dict[str, Any]:
        values = dataclasses.asdict(self)
        values["api_keys"] = list(self.api_keys)
        return values


def _metavar(name: str) -> str:
    for suffix in ("_ms", "_s"):
        if name.endswith(suffix):
            return suffix[1:].upper()
    return "N"


@functools.cache
def settings() -> tuple[Setting, ...]:
    """Every MockConfig field as a `Setting`, in declaration order."""
    found = []
    for f in dataclasses.fields(MockConfig):
        meta = f.metadata
        negated = f.default is True
        flag = meta["flag"] or "--" + ("no-" if negated else "") + f.name.replace("_", "-")
        env_name = flag.removeprefix("--").replace("-", "_").upper()
        if meta["repeatable"]:
            env_name = f.name.upper()
        found.append(Setting(
            name=f.name, help=meta["help"], flag=flag, env=ENV_PREFIX + env_name,
            parse=meta["parse"], negated=negated, build_time=meta["build_time"],
            repeatable=meta["repeatable"], metavar=meta["metavar"] or _metavar(f.name),
            default_text=meta["default_text"],
        ))
    return tuple(found)
