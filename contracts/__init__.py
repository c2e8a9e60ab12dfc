"""The Wesog contract toolkit: the contract and its validation, the checks, the client, the
strategies and state machine, and the conformance suite (`contracts.conformance`).

The names below are imported on first use: the suite's pytest plugin lives in this package,
and importing it (which pytest does in every session of every project that installs us) must
not load yaml, the JSON Schema validator and the contract. The strategies, the state machine
and the suite need the `contracts` extra (`pip install 'wesog-mock[contracts]'`); the rest
needs only the base install.

This package never imports `wesog_mock`: it judges any server, so it shares no code with the
one it judges.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from contracts.findings import Finding, format_location
    from contracts.spec import (
        Contract,
        Endpoint,
        RequestReport,
        contract_text,
        default_contract,
        load_contract,
    )

__all__ = [
    "Contract",
    "Endpoint",
    "Finding",
    "RequestReport",
    "contract_text",
    "default_contract",
    "format_location",
    "load_contract",
]

_HOMES = {
    "Finding": "findings",
    "format_location": "findings",
    "Contract": "spec",
    "Endpoint": "spec",
    "RequestReport": "spec",
    "contract_text": "spec",
    "default_contract": "spec",
    "load_contract": "spec",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'contracts' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"contracts.{home}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
