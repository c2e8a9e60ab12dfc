"""The install shape: the server and the plugin need only the base install; the conformance
suite needs the `contracts` extra and, without it, says so in one line.

Each test runs a fresh interpreter in which the suite's packages are absent: a finder first on
`sys.meta_path` refuses them, so `import hypothesis` fails as it does where Hypothesis is not
installed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SUITE = ("pytest", "hypothesis", "schemathesis")
INSTALL = "pip install 'wesog-mock[contracts]'"


_BLOCK = """
import sys

class _Absent:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {missing!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, _Absent())
"""


def _without(
    missing: tuple[str, ...], code: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", _BLOCK.format(missing=missing) + code],
                          capture_output=True, text=True, timeout=120, cwd=ROOT,
                          env={**os.environ, **(env or {})})


@pytest.mark.parametrize(("missing", "named"), [
    (SUITE, "pytest, hypothesis, schemathesis"),
    (("hypothesis",), "hypothesis"),
])
def test_the_cli_without_the_extra_names_it_in_one_line(
    missing: tuple[str, ...], named: str
) -> None:
    # What the `wesog-contracts` console script does: import the module, call main().
    for argv in (["--help"], ["--app", "wesog_mock:create_app"]):
        done = _without(missing, f"from contracts.cli import main; raise SystemExit(main({argv}))")
        assert done.returncode == 2, done.stderr
        assert done.stdout == ""
        assert done.stderr == (f"wesog-contracts needs the conformance suite's dependencies: "
                               f"{INSTALL} (missing: {named})\n")


@pytest.mark.parametrize("module", ["contracts.strategies", "contracts.statemachine"])
def test_a_library_module_without_the_extra_raises_an_import_error_naming_it(
    module: str,
) -> None:
    code = (f"try:\n    import {module}\n"
            "except ImportError as error:\n    print(type(error).__name__, error.name, error)\n")
    done = _without(("hypothesis",), code)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (f"ModuleNotFoundError hypothesis {module} needs the conformance "
                           f"suite's dependencies: {INSTALL} (missing: hypothesis)\n")


def test_the_suite_under_pytest_without_the_extra_names_it() -> None:
    # `pytest --pyargs contracts.conformance` with pytest but neither Hypothesis nor
    # Schemathesis: one message from the suite's conftest, no collection error per module.
    # No plugin autoload: pytest would otherwise load Hypothesis's and Schemathesis's plugins,
    # which an install without them does not have, and claim their modules for rewriting.
    code = ("import pytest\nraise SystemExit(pytest.main(['--pyargs', 'contracts.conformance', "
            "'-p', 'contracts.conformance.plugin', '-p', 'no:cacheprovider', "
            "'--wesog-app', 'wesog_mock:create_app', '-q']))")
    done = _without(("hypothesis", "schemathesis"), code,
                    env={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert (f"contracts.conformance needs the conformance suite's dependencies: {INSTALL} "
            "(missing: hypothesis, schemathesis)") in output
    assert "No module named" not in output


def test_the_server_and_the_plugin_fixtures_need_no_suite_package() -> None:
    # What `wesog-mock serve` and the plugin's fixtures import, with the base install alone.
    code = """
import wesog_mock.cli
from wesog_mock import MockConfig, create_app
from wesog_mock.testing import WesogFake
import contracts

fake = WesogFake(create_app(MockConfig(clock="virtual")), base_url="http://fake")
with fake.client() as client:
    assert client.post("/imgs?wait=true", json=[{"id": "a", "src": "s"}]).status_code == 200
assert contracts.default_contract().endpoints
print(sorted(m for m in sys.modules if m.split(".")[0] in
             ("pytest", "_pytest", "hypothesis", "schemathesis")))
"""
    done = _without(SUITE, code)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "[]\n"


def test_the_suite_packages_are_the_extra_and_the_tests_install_it() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]

    def names(requirements: list[str]) -> set[str]:
        return {r.split(">")[0].split("[")[0].split("=")[0].strip() for r in requirements}

    assert not names(project["dependencies"]) & set(SUITE)
    extras = project["optional-dependencies"]
    assert names(extras["contracts"]) == set(SUITE)
    assert "wesog-mock[contracts]" in extras["test"]
