"""The Wesog contract toolkit: the contract, its validation, and (later) the conformance suite.

This package never imports `wesog_mock`: it judges any server, so it shares no code with the
one it judges.
"""

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
