"""The Wesog contract (`openapi.yaml`), loaded once, compiled once, and checked against.

`load_contract()` reads the contract packaged inside `contracts` (an installed wheel carries it)
or, in a source checkout, the single copy at the repository root. A `Contract` matches
requests to its `Endpoint`s and reports `Finding`s: located, readable, each with the status a
conforming server answers.

    contract = load_contract()
    report = contract.validate_request("POST", "/imgs", query={"lang": "de"},
                                       headers={"API-Key": "k"}, body=b'[{"id": 1}]')
    for finding in report.findings:
        print(finding)          # query.lang: Input should be 'en', 'es', 'pt', 'fr' or 'ru'
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from contracts.endpoint import Endpoint, Parameter, QueryInput, parse_json_body
from contracts.findings import Finding
from contracts.vocabulary import Vocabulary

__all__ = [
    "Contract",
    "Endpoint",
    "Parameter",
    "QueryInput",
    "RequestReport",
    "contract_text",
    "default_contract",
    "load_contract",
    "parse_json_body",
]

_CONTRACT_FILE = "openapi.yaml"

def contract_text() -> bytes:
    """The contract's bytes: the packaged copy, else the checkout's root copy."""
    packaged = resources.files("contracts").joinpath(_CONTRACT_FILE)
    if packaged.is_file():
        return packaged.read_bytes()
    return (Path(__file__).resolve().parent.parent / _CONTRACT_FILE).read_bytes()


def load_contract(path: str | Path | None = None) -> Contract:
    """Load and compile a contract: `path`, or the packaged `openapi.yaml`."""
    text = Path(path).read_bytes() if path is not None else contract_text()
    # libyaml's loader, when present, parses the contract several times faster.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return Contract(yaml.load(text, Loader=loader))


@functools.cache
def default_contract() -> Contract:
    """The packaged contract, compiled once per process (it is immutable, so sharing is safe)."""
    return load_contract()


@dataclass(frozen=True, slots=True)
class RequestReport:
    """What `Contract.validate_request` found: the endpoint, the parsed inputs, the findings."""

    endpoint: Endpoint | None
    path_params: Mapping[str, Any] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)
    body: Any = None
    findings: tuple[Finding, ...] = ()

    @property
    def violations(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.is_violation)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if not f.is_violation)

    @property
    def ok(self) -> bool:
        return not self.violations


class Contract:
    """The compiled contract: its endpoints, its rules, its vocabulary of mutations, and
    request/response validation."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        components = document.get("components", {})
        self.rules: Mapping[str, Mapping[str, str]] = document.get("x-wesog-rules", {})
        endpoints = []
        for path, item in document.get("paths", {}).items():
            shared = item.get("parameters", ())
            for method, spec in item.items():
                if method in {"get", "post", "put", "patch", "delete"}:
                    endpoints.append(Endpoint(method, path, spec, shared, components))
        self.endpoints: tuple[Endpoint, ...] = tuple(endpoints)
        self._by_id = {e.operation_id: e for e in endpoints}
        self.vocabulary = Vocabulary.of(endpoints)

    def endpoint(self, operation_id: str) -> Endpoint:
        return self._by_id[operation_id]

    def match(self, method: str, path: str) -> tuple[Endpoint, dict[str, str]] | Finding:
        """The endpoint for `method` and `path`, or a 404/405 finding."""
        method = method.upper()
        path_known = False
        for endpoint in self.endpoints:
            params = endpoint.match(path)
            if params is None:
                continue
            if endpoint.method == method:
                return endpoint, params
            path_known = True
        if path_known:
            return Finding("method_not_allowed", ("method",),
                           f"The contract has no {method} on {path}", status=405, input=method)
        return Finding("unknown_path", ("path",),
                       f"The contract has no path {path!r}", status=404, input=path)

    def validate_request(
        self,
        method: str,
        path: str,
        *,
        query: QueryInput = (),
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        parsed: tuple[Any] | None = None,
    ) -> RequestReport:
        """Every finding in one request, as a client sends it (raw query strings, raw body).

        `parsed`, a 1-tuple holding the body already decoded from valid JSON (by a server
        that has done so), spares decoding it again; `body` is then not read."""
        matched = self.match(method, path)
        if isinstance(matched, Finding):
            return RequestReport(None, findings=(matched,))
        endpoint, raw_path_params = matched
        findings: list[Finding] = []
        lowered = {k.lower(): v for k, v in (headers or {}).items()}
        if not lowered.get("api-key", "").strip():
            findings.append(Finding("missing_api_key", ("header", "API-Key"),
                                    "The API-Key header is required on every endpoint", 401))
        path_params, path_findings = endpoint.parse_path(raw_path_params)
        params, query_findings = endpoint.parse_query(query)
        findings += path_findings + query_findings
        document = None
        if endpoint.body is not None:
            document, problem = (
                (parsed[0], None) if parsed is not None
                else parse_json_body(body or b"", lowered.get("content-type"))
            )
            if problem is not None:
                findings.append(problem)
            else:
                findings += endpoint.check_body(document)
                findings += endpoint.unknown_fields(document)
        return RequestReport(endpoint, path_params, params, document, tuple(findings))

    def validate_response(
        self, endpoint: Endpoint | str, status: int, body: Any
    ) -> list[Finding]:
        """Violations in a response of `endpoint` (an `Endpoint` or an operationId)."""
        if isinstance(endpoint, str):
            endpoint = self.endpoint(endpoint)
        return endpoint.check_response(status, body)
