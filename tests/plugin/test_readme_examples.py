"""Every example of the README runs as written (the docs are tested, not trusted).

The README's fenced blocks are found by their language, so an example added later is covered
without a line here:

- `python` that defines `test_*` functions: a test module, run by pytest as a user's suite
  (every test must pass); any other `python`: a script, run as written (an example that
  defines a coroutine must run it itself, as a reader's copy would), and the comment lines
  that end it (`# ...`) must be exactly what it printed, if it has any;
- `json`: must parse;
- `bash`: run by a test below, or listed in `NOT_RUN` with the reason;
- no language: output and diagrams, not examples. The one that starts with a `$ ` command
  (the conformance report) is that command's output and is checked against it.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shlex
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
BIN = Path(sys.executable).parent
DOCUMENTED_URL = "http://127.0.0.1:8080"

# The shell blocks that no test runs, each found by a piece of its text, and why.
NOT_RUN = {
    "python3 -m venv .venv": "set-up: makes a virtual environment, installs, then serves or "
                             "runs the whole test suite (which includes this test)",
    "--api-key \"$KEY\" --api-key-2 \"$KEY2\"": "invocation forms: the first line is the "
                             "sample report's command (run below), the second needs the real "
                             "service's keys, the third is the same suite in process",
    "--wesog-base-url URL": "templates: URL and KEY are placeholders",
    "tests/conformance/test_conformance_suite.py": "the project's own tests, run by CI itself",
    "--wesog-app wesog_mutants:fake": "a timing of the whole suite; the same run is "
                                      "tests/conformance/test_conformance_suite.py's",
    "benchmarks/": "benchmarks: minutes long, and wrk must be installed",
    "scripts/mutation.sh": "mutation testing: mutmut is no dependency, and a run takes 10 to "
                           "40 minutes",
    "st run openapi.yaml": ".ci/run runs it on wesog-mock serve (about 100 s; the test below "
                           "checks that it is the same command)",
}
RUN = {  # the shell blocks a test here runs: a piece of their text -> the test
    "curl -s": "test_the_curl_examples_answer_json",
}


@dataclass(frozen=True)
class Block:
    language: str
    text: str
    line: int  # where it starts in the README, for messages

    @property
    def tests(self) -> list[str]:
        tree = ast.parse(self.text)
        return [node.name for node in tree.body
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                and node.name.startswith("test_")]


def _blocks(language: str | None = None) -> list[Block]:
    text = README.read_text(encoding="utf-8")
    found = []
    for match in re.finditer(r"^```(\w*)\n(.*?)^```$", text, flags=re.DOTALL | re.MULTILINE):
        if language is None or match[1] == language:
            found.append(Block(match[1], match[2], text.count("\n", 0, match.start()) + 1))
    return found


def test_the_readme_has_the_examples_this_file_expects() -> None:
    languages = {block.language for block in _blocks()}
    assert languages <= {"python", "json", "bash", ""}, languages
    assert len([b for b in _blocks("python") if b.tests]) >= 5
    assert len([b for b in _blocks("python") if not b.tests]) >= 2


def test_the_test_examples_pass_as_a_users_suite(pytester: pytest.Pytester) -> None:
    blocks = [block for block in _blocks("python") if block.tests]
    for block in blocks:
        pytester.makepyfile(**{f"test_readme_line_{block.line}": block.text})
    result = pytester.runpytest("-p", "no:cacheprovider", "-W", "error")
    result.assert_outcomes(passed=sum(len(block.tests) for block in blocks))


@pytest.mark.parametrize("block", [b for b in _blocks("python") if not b.tests],
                         ids=lambda block: f"line-{block.line}")
def test_the_script_examples_run_and_print_what_they_say(
    block: Block, capsys: pytest.CaptureFixture[str],
) -> None:
    namespace: dict[str, Any] = {"__name__": "__readme__"}
    tree = ast.parse(block.text)
    defined = {node.name for node in tree.body if isinstance(node, ast.AsyncFunctionDef)}
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    unrun = sorted(defined - used)
    assert not unrun, f"README.md:{block.line} defines {unrun} and never runs it"
    exec(compile(block.text, f"README.md:{block.line}", "exec"), namespace)
    lines = block.text.rstrip("\n").splitlines()
    promised: list[str] = []
    while lines and lines[-1].startswith("# "):
        promised.insert(0, lines.pop().removeprefix("# "))
    printed = capsys.readouterr().out.splitlines()
    if promised:
        assert printed == promised


@pytest.mark.parametrize("block", _blocks("json"), ids=lambda block: f"line-{block.line}")
def test_the_json_examples_parse(block: Block) -> None:
    json.loads(block.text)


def test_every_shell_block_is_run_or_says_why_not() -> None:
    for block in _blocks("bash"):
        keys = [key for key in (*NOT_RUN, *RUN) if key in block.text]
        assert len(keys) == 1, f"README.md:{block.line}: run it here or add it to NOT_RUN"
    for key in (*NOT_RUN, *RUN):  # no stale entry
        assert any(key in block.text for block in _blocks("bash")), key


@contextmanager
def _serving(*args: str) -> Iterator[str]:
    """`wesog-mock serve` on a free port, as a user starts it; yields its URL."""
    with subprocess.Popen([str(BIN / "wesog-mock"), "serve", "--port", "0", *args],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as server:
        assert server.stdout is not None
        first = server.stdout.readline()
        # It logs every request: keep reading, or a full pipe stalls the server.
        threading.Thread(target=server.stdout.read, daemon=True).start()
        try:
            match = re.search(r"http://127\.0\.0\.1:\d+", first)
            assert match, first
            yield match[0]
        finally:
            server.terminate()
            server.wait(timeout=30)


def test_the_curl_examples_answer_json() -> None:
    [block] = [b for b in _blocks("bash") if "curl -s" in b.text]
    with _serving() as url:
        done = subprocess.run(["bash", "-euo", "pipefail", "-c",
                               block.text.replace(DOCUMENTED_URL, url)],
                              capture_output=True, text=True, timeout=60, check=True)
    decoder, rest, answers = json.JSONDecoder(), done.stdout.strip(), []
    while rest:
        answer, end = decoder.raw_decode(rest)
        answers.append(answer)
        rest = rest[end:].strip()
    upload, image, operations = answers
    assert upload["all_good"] is True
    assert image == {"title": "A red car"}
    assert [op["op_id"] for op in operations] == [upload["op_id"]]


def _normalized(report: str) -> list[str]:
    """The report without what changes from run to run: time, draws, the run prefix."""
    lines, exercised = [], False
    for line in report.splitlines():
        line = re.sub(r" in \d+\.\d s$", " in <time> s", line)
        if line.startswith("exercised:"):
            exercised = True
        elif line.startswith("note:"):
            exercised = False
            line = re.sub(r"\d+ requests sent", "<n> requests sent", line)
            line = re.sub(r"wct-[0-9a-f]{6}-", "wct-<prefix>-", line)
        elif exercised:  # which modes came up, and how often, follows Hypothesis' draws
            if line.startswith(" " * 20):
                continue
            line = line.split()[0]
        lines.append(line)
    return lines


def test_the_sample_report_is_what_the_documented_command_prints() -> None:
    [sample] = [block for block in _blocks("") if block.text.startswith("$ ")]
    command, _, promised = sample.text.partition("\n")
    argv = shlex.split(command.removeprefix("$ "))
    assert argv[0] == "wesog-contracts"
    with _serving() as url:
        argv = [str(BIN / argv[0]), *(arg.replace(DOCUMENTED_URL, url) for arg in argv[1:])]
        env = {k: v for k, v in os.environ.items() if not k.startswith("WESOG_")}
        done = subprocess.run(argv, capture_output=True, text=True, timeout=600, env=env)
    printed = done.stdout.replace(url, DOCUMENTED_URL)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _normalized(printed) == _normalized(promised), (
        "the README's sample report is not what the command prints; it printed:\n" + printed)
    # The progress went to stderr, not into the report.
    assert re.search(r"^\[ *1/\d+\] passed ", done.stderr, flags=re.MULTILINE), done.stderr


def test_the_readmes_schemathesis_command_is_the_one_ci_runs() -> None:
    [block] = [b for b in _blocks("bash") if "st run openapi.yaml" in b.text]
    readme = shlex.split(block.text.strip())
    script = (README.parent / ".ci" / "run").read_text().replace("\\\n", " ")
    ci = shlex.split(script[script.index("timeout 300 st run ") + 12:].split(")")[0])
    # The same command and flags; only where the contract and the server are differs.
    assert readme[:2] == ci[:2] == ["st", "run"]
    assert readme[3] == ci[3] == "--url"
    assert readme[5:] == ci[5:]
