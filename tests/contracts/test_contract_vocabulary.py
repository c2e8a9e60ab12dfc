"""The one vocabulary of mutations (`contracts.vocabulary`): read from the contract, and in
agreement with what each mutation endpoint's body says."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from contracts import Contract, default_contract
from contracts.vocabulary import KINDS, Vocabulary

CONTRACT = default_contract()
MUTATIONS = [e for e in CONTRACT.endpoints if e.is_mutation]


def test_the_vocabulary_is_the_design_table() -> None:
    vocabulary = CONTRACT.vocabulary
    assert dict(vocabulary.kind_of_method) == {
        "POST": "create", "PUT": "replace", "PATCH": "merge", "DELETE": "delete",
    }
    assert dict(vocabulary.http_method) == {v: k for k, v in vocabulary.kind_of_method.items()}
    assert dict(vocabulary.label) == {
        "create": "add", "replace": "upd", "merge": "upd", "delete": "del",
    }
    assert vocabulary.kind_of("patch") == "merge"
    assert set(vocabulary.label) == set(KINDS)


@pytest.mark.parametrize("endpoint", MUTATIONS, ids=lambda e: e.operation_id)
def test_every_mutation_names_its_kind_and_the_map_agrees(endpoint: Any) -> None:
    vocabulary = CONTRACT.vocabulary
    assert endpoint.wesog_kind in KINDS
    assert vocabulary.kind_of(endpoint.method) == endpoint.wesog_kind
    assert vocabulary.http_method[endpoint.wesog_kind] == endpoint.method
    assert vocabulary.label[endpoint.wesog_kind] == endpoint.wesog_method


@pytest.mark.parametrize("endpoint", MUTATIONS, ids=lambda e: e.operation_id)
def test_the_kind_agrees_with_the_body(endpoint: Any) -> None:
    # Kinds that write a whole record need `src`; merge needs nothing but the id; delete
    # takes ids (a batch) or no body at all (one image).
    kind = endpoint.wesog_kind
    if endpoint.is_batch:
        assert endpoint.items.is_valid([{"id": "x"}]) == (kind in ("merge", "delete"))
        assert endpoint.items.is_valid([{"id": "x", "src": "s"}])
    elif kind == "delete":
        assert endpoint.body is None
    else:
        assert endpoint.body.is_valid({}) == (kind == "merge")
        assert endpoint.body.is_valid({"src": "s"})


def test_only_mutations_have_a_kind() -> None:
    assert all(e.wesog_kind is None for e in CONTRACT.endpoints if not e.is_mutation)


def _contract_with(operation_id: str, **changes: str) -> Contract:
    document = copy.deepcopy(dict(CONTRACT.document))
    for item in document["paths"].values():
        for spec in item.values():
            if isinstance(spec, dict) and spec.get("operationId") == operation_id:
                spec.update(changes)
    return Contract(document)


@pytest.mark.parametrize(("operation_id", "changes", "says"), [
    ("modifyImage", {"x-wesog-kind": "upsert"}, "must be one of"),
    ("modifyImage", {"x-wesog-kind": "replace"}, "on another path"),
    ("modifyImages", {"x-wesog-method": "add"}, "reports 'add' elsewhere"),
])
def test_a_contract_that_disagrees_with_itself_is_refused(
    operation_id: str, changes: dict[str, str], says: str
) -> None:
    with pytest.raises(ValueError, match=says):
        _contract_with(operation_id, **changes)


def test_a_contract_without_mutations_has_an_empty_vocabulary() -> None:
    assert dict(Vocabulary.of([]).kind_of_method) == {}
