"""Schema fuzzing with Schemathesis: every answer documented and schema-valid, invalid input
a 4xx and never a 5xx, and the contract's links followed from mutations to their operations."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis.errors import Flaky
from schemathesis import Case, GenerationMode
from schemathesis.schemas import APIOperation

from contracts.client import WesogClient
from contracts.conformance._fuzz import judge, load_schema, make_stateful, send
from contracts.conformance._helpers import properties, rules
from contracts.conformance._session import Target
from contracts.exchange import ContractViolation

OPERATIONS: list[APIOperation[Any, Any, Any, Any]] = [
    result.ok() for result in load_schema().get_all_operations()  # type: ignore[union-attr]
]
_QUIET = list(HealthCheck)


@rules("OAS", "A9")
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                         ids=["valid", "invalid"])
@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_answers_match_the_contract(
    operation: APIOperation[Any, Any, Any, Any], mode: GenerationMode,
    wesog_client: WesogClient, wesog_target: Target,
) -> None:
    @properties(wesog_target, 25, suppress_health_check=_QUIET)
    @given(case=operation.as_strategy(generation_mode=mode))
    def fuzz(case: Case[Any]) -> None:
        exchange, response = send(wesog_client, case)
        judge(case, exchange, response)

    fuzz()


@rules("OAS", "D8", "A8", "A9")
def test_links_from_mutations_to_their_operations(wesog_client: WesogClient,
                                                  wesog_target: Target) -> None:
    settings = properties(wesog_target, 20, stateful_step_count=6, suppress_health_check=_QUIET)
    found: list[ContractViolation] = []
    try:
        make_stateful(wesog_client, found).run(settings=settings)
    except Flaky:
        if not found:
            raise
        raise found[-1] from None  # the server's answers made the replay diverge
