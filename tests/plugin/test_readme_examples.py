"""The README's Python examples run as written (the docs are tested, not trusted)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def _section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 1)
    return text[start:] if end == -1 else text[start:end]


def _python_blocks(title: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", _section(title), flags=re.DOTALL)


def test_the_plugin_examples_pass_as_a_users_suite(pytester: pytest.Pytester) -> None:
    blocks = _python_blocks("Testing your client (the pytest plugin)")
    assert len(blocks) >= 4
    for number, block in enumerate(blocks):
        pytester.makepyfile(**{f"test_readme_{number}": block})
    result = pytester.runpytest("-p", "no:cacheprovider")
    tests = sum(block.count("\ndef test_") + block.startswith("def test_") +
                block.count("async def test_") for block in blocks)
    result.assert_outcomes(passed=tests)


def test_the_from_python_example_runs() -> None:
    [block] = _python_blocks("The fake server")
    namespace: dict[str, Any] = {}
    exec(compile(block, "README.md", "exec"), namespace)
    asyncio.run(namespace["demo"]())


def test_the_admin_example_runs() -> None:
    [block] = _python_blocks("The admin API (`/_mock/`)")
    namespace: dict[str, Any] = {}
    exec(compile(block, "README.md", "exec"), namespace)
    asyncio.run(namespace["test_a_stuck_operation"]())


def test_the_contract_example_prints_what_it_says(capsys: pytest.CaptureFixture[str]) -> None:
    [block] = _python_blocks("The contract")
    exec(compile(block, "README.md", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    promised = [line.removeprefix("# ") for line in block.splitlines() if line.startswith("# ")]
    assert printed == promised
