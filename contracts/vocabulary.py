"""The kinds of mutation, in one vocabulary, and the one map to HTTP, read from the contract.

A mutation is one of four kinds of batch: `create`, `replace`, `merge` or `delete`. Each
mutation endpoint of `openapi.yaml` names its kind (`x-wesog-kind`) and the `method` its
operation reports (`x-wesog-method`: `add`, `upd` or `del`, the API's own wire values, kept as
data). `Vocabulary` reads both once, checks that they agree on every path, and is the only map
from an HTTP method to a kind and from a kind to its HTTP method and its operation `method`:

    vocabulary = default_contract().vocabulary
    vocabulary.kind_of("PATCH")            # 'merge'
    vocabulary.http_method["merge"]        # 'PATCH'
    vocabulary.label["merge"]              # 'upd'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal, get_args

from contracts.endpoint import Endpoint

__all__ = ["KINDS", "Kind", "Vocabulary"]

# The kinds are stated here only as a type (mypy needs literals); `Vocabulary.of` refuses a
# contract whose `x-wesog-kind` values are not exactly these.
Kind = Literal["create", "replace", "merge", "delete"]
KINDS: tuple[Kind, ...] = get_args(Kind)


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """HTTP method to kind, kind to HTTP method, kind to operation `method`: from the contract."""

    kind_of_method: Mapping[str, Kind]
    http_method: Mapping[Kind, str]
    label: Mapping[Kind, str]

    @classmethod
    def of(cls, endpoints: Iterable[Endpoint]) -> Vocabulary:
        """Read the vocabulary from the mutation endpoints (those with `x-wesog-method`).

        Raises:
            ValueError: a mutation without a known kind, or paths that disagree (one HTTP
                method with two kinds, one kind with two methods or two operation methods).
        """
        kinds: dict[str, Kind] = {}
        labels: dict[Kind, str] = {}
        for endpoint in endpoints:
            if endpoint.wesog_method is None:
                continue
            kind = next((k for k in KINDS if k == endpoint.wesog_kind), None)
            if kind is None:
                raise ValueError(f"{endpoint.operation_id}: x-wesog-kind must be one of "
                                 f"{KINDS}, not {endpoint.wesog_kind!r}")
            if kinds.setdefault(endpoint.method, kind) != kind:
                raise ValueError(f"{endpoint.operation_id}: {endpoint.method} is "
                                 f"{kinds[endpoint.method]!r} on another path, here {kind!r}")
            if labels.setdefault(kind, endpoint.wesog_method) != endpoint.wesog_method:
                raise ValueError(f"{endpoint.operation_id}: {kind!r} reports "
                                 f"{labels[kind]!r} elsewhere, here {endpoint.wesog_method!r}")
        methods = {kind: method for method, kind in kinds.items()}
        if len(methods) != len(kinds):
            raise ValueError(f"two HTTP methods share a kind: {kinds}")
        if kinds and set(methods) != set(KINDS):
            raise ValueError(f"the contract's kinds {sorted(methods)} are not {KINDS}")
        return cls(MappingProxyType(kinds), MappingProxyType(methods), MappingProxyType(labels))

    def kind_of(self, http_method: str) -> Kind:
        """The kind of batch an HTTP method performs (`POST` creates, `PATCH` merges, ...)."""
        return self.kind_of_method[http_method.upper()]
