"""The conformance suite's dependencies live in an extra, `pip install 'wesog-mock[contracts]'`.

The base install is the fake server and its pytest plugin; pytest, Hypothesis and Schemathesis
(about thirty packages) come only with the extra. A module that needs them says so in one line
instead of a bare `No module named 'hypothesis'`.
"""

from __future__ import annotations

import importlib.util

__all__ = ["INSTALL", "SUITE_PACKAGES", "missing_suite_packages", "needs", "suite_import_error"]

INSTALL = "pip install 'wesog-mock[contracts]'"
SUITE_PACKAGES = ("pytest", "hypothesis", "schemathesis")


def missing_suite_packages() -> list[str]:
    """The suite's packages that cannot be found, looked up without importing them."""
    missing = []
    for name in SUITE_PACKAGES:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):  # a finder that refuses it, a half-imported module
            found = False
        if not found:
            missing.append(name)
    return missing


def needs(what: str, missing: list[str]) -> str:
    """The one-line message: `what` needs the extra, and which packages are missing."""
    return (f"{what} needs the conformance suite's dependencies: {INSTALL} "
            f"(missing: {', '.join(missing)})")


def suite_import_error(error: ModuleNotFoundError, what: str) -> ModuleNotFoundError:
    """`error` reworded to name the extra when a suite package is missing; else `error` itself.

    Only a missing top-level package is reworded: a broken import inside an installed
    Hypothesis is a different problem, and keeps its own message.
    """
    top = (error.name or "").partition(".")[0]
    if top not in SUITE_PACKAGES:
        return error
    return ModuleNotFoundError(needs(what, [top]), name=error.name)
