"""The public surface of `contracts`: `__all__`, `format_location`, `Finding`, the loaders."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import contracts
from contracts import Finding, contract_text, default_contract, format_location, load_contract
from contracts import endpoint as endpoint_module
from contracts import findings as findings_module
from contracts import spec as spec_module
from contracts import vocabulary as vocabulary_module

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("loc", "text"),
    [
        (("body", 3, "src"), "body[3].src"),
        (("query", "lang"), "query.lang"),
        (("query", "fields", 1), "query.fields[1]"),
        (("body",), "body"),
        (("body", 0), "body[0]"),
        (("body", 1, "titel"), "body[1].titel"),
        (("response", 0, "errors", 2, "msg"), "response[0].errors[2].msg"),
        (("body", 1, 2), "body[1][2]"),
        (("header", "API-Key"), "header.API-Key"),
        ((3, "src"), "[3].src"),
        ((), "request"),
        ([], "request"),
        (["path", "op_id"], "path.op_id"),
    ],
)
def test_format_location(loc: tuple[str | int, ...], text: str) -> None:
    assert format_location(loc) == text


def test_a_finding_renders_its_location_and_message() -> None:
    finding = Finding("missing", ("body", 3, "src"), "Field required", input={"id": "a"})
    assert finding.location == "body[3].src"
    assert str(finding) == "body[3].src: Field required"
    assert finding.status == 422
    assert finding.is_violation
    assert finding.as_dict() == {"severity": "violation", "code": "missing",
                                 "location": "body[3].src", "message": "Field required",
                                 "status": 422}
    assert finding.as_fastapi_error() == {"type": "missing", "loc": ["body", 3, "src"],
                                          "msg": "Field required", "input": {"id": "a"}}
    warning = Finding("unknown_field", ("body", "titel"), "x", 200, severity="warning")
    assert not warning.is_violation


@pytest.mark.parametrize("module", [contracts, spec_module, endpoint_module, findings_module,
                                    vocabulary_module],
                         ids=lambda m: m.__name__)
def test_all_is_sorted_unique_and_importable(module: ModuleType) -> None:
    names = module.__all__
    assert names == sorted(names)
    assert len(names) == len(set(names))
    for name in names:
        assert getattr(module, name) is not None, name


def test_the_package_exports_the_toolkit() -> None:
    assert contracts.__all__ == [
        "Contract", "Endpoint", "Finding", "RequestReport", "contract_text",
        "default_contract", "format_location", "load_contract",
    ]
    fresh = importlib.import_module("contracts")
    for name in fresh.__all__:
        exported = getattr(fresh, name)
        assert exported.__module__.startswith("contracts."), name


def test_the_packaged_contract_is_the_root_copy() -> None:
    # In a checkout the only copy is the root one; an installed wheel carries it inside.
    assert contract_text() == (ROOT / "openapi.yaml").read_bytes()


def test_load_contract_reads_a_given_path(tmp_path: Path) -> None:
    copy = tmp_path / "contract.yaml"
    copy.write_bytes(contract_text().replace(b"title: Wesog Search image API",
                                             b"title: A copy"))
    loaded = load_contract(copy)
    assert loaded.document["info"]["title"] == "A copy"
    assert [e.operation_id for e in loaded.endpoints] == [
        e.operation_id for e in default_contract().endpoints
    ]


def test_the_default_contract_is_compiled_once() -> None:
    assert default_contract() is default_contract()
    assert len(default_contract().endpoints) == 12


def test_importing_the_package_loads_neither_yaml_nor_the_validator_nor_the_contract() -> None:
    # The suite's pytest plugin lives in this package: its names are imported on first use.
    code = ("import sys, contracts; print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('yaml', 'jsonschema_rs', 'httpx', 'hypothesis') or m.startswith('contracts.')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=60)
    assert done.stdout.strip() == "[]"


def test_contracts_never_imports_wesog_mock() -> None:
    # The suite judges any server, so it shares no code with the one it judges (the README's
    # Development section; `lint-imports` checks the same).
    code = ("import sys, contracts, contracts.spec; "
            "print(sorted(m for m in sys.modules if m.startswith('wesog_mock')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=60)
    assert done.stdout.strip() == "[]"
