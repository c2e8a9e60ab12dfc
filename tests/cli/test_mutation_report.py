"""scripts/mutation_report.py: how it names mutants, and that its list of equivalents is sound."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import mutation_report  # noqa: E402


@pytest.mark.parametrize(("name", "module", "function"), [
    ("wesog_mock.domain.engine.xǁEngineǁ_finish__mutmut_14", "domain/engine.py", "_finish"),
    ("wesog_mock.http.api.x__read_body__mutmut_4", "http/api.py", "_read_body"),
    ("wesog_mock.http.api.x_wesog_routes__mutmut_8", "http/api.py", "wesog_routes"),
    ("wesog_mock.controls.controller.xǁControllerǁ__init____mutmut_17",
     "controls/controller.py", "__init__"),
])
def test_a_mutant_name_gives_its_module_and_function(name: str, module: str, function: str) -> None:
    assert mutation_report.parse_name(name) == (module, function)


def test_a_name_that_is_not_mutmuts_is_refused() -> None:
    with pytest.raises(ValueError, match="not a mutmut name"):
        mutation_report.parse_name("wesog_mock.domain.engine.submit")


def test_every_equivalent_names_a_mutated_module_a_line_and_why() -> None:
    mutated = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]["only_mutate"]
    entries = tomllib.loads(mutation_report.EQUIVALENTS.read_text())["equivalent"]
    assert entries
    for entry in entries:
        assert set(entry) == {"module", "function", "line", "why"}
        assert f"wesog_mock/{entry['module']}" in mutated
        assert all((entry["line"], entry["why"], entry["function"]))
    keys = [(e["module"], e["function"], e["line"]) for e in entries]
    assert len(keys) == len(set(keys))  # one reason per mutated line
    assert mutation_report.equivalents().keys() == set(keys)
