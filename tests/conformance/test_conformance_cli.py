"""`wesog-contracts`: exit codes, one-line errors, the summary and the machine reports."""

from __future__ import annotations

import importlib.metadata
import io
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from contracts.cli import main
from wesog_mock import MockConfig, create_app
from wesog_mock.testing import LiveServer

LEAN = ["--max-examples", "3"]


def test_usage_errors_are_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in ([], ["--base-url", "http://x"], ["--app", "nowhere:app"],
                 ["--app", "wesog_mutants:fake", "--max-examples", "0"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1, err
        assert err.startswith("wesog-contracts: error:")


def test_version_prints_the_installed_version_and_exits_0(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--version"]) == 0
    installed = importlib.metadata.version("wesog-mock")
    assert capsys.readouterr().out == f"wesog-contracts {installed}\n"


def test_version_without_an_installed_distribution_says_unknown(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    def missing(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", missing)
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == "wesog-contracts unknown\n"


def test_an_unreachable_server_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--base-url", "http://127.0.0.1:9", "--api-key", "k"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("wesog-contracts: cannot reach http://127.0.0.1:9")
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_a_conforming_server_passes_over_the_network(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A live server on a virtual clock: the same tests, unchanged, over HTTP; nothing sleeps.
    with LiveServer(create_app(MockConfig(clock="virtual"))) as server:
        code = main(["--base-url", server.url, "--api-key", "k", "-k", "test_images",
                     "--report-json", str(tmp_path / "r.json"),
                     "--junit-xml", str(tmp_path / "j.xml"), *LEAN])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.splitlines()[-1] == "wesog-contracts: pass"
    assert "D4    documented holds" in out
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["target"].startswith(server.url)
    assert {r["rule"]: r["verdict"] for r in report["rules"]}["D1"] == "holds"
    cases = ET.parse(tmp_path / "j.xml").getroot().iter("testcase")
    assert len(list(cases)) == len(report["tests"])


def test_a_violated_documented_rule_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--app", "wesog_mutants:put_merges", "-k", "put_replaces", *LEAN])
    out = capsys.readouterr().out
    assert code == 1
    assert "D4    documented violated" in out
    assert out.splitlines()[-1] == "wesog-contracts: fail (D4 not as the contract says)"


def test_a_differing_assumption_exits_0_unless_strict(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["--app", "wesog_mutants:ops_newest_first", "-k", "listed_oldest_first", *LEAN]
    assert main(argv) == 0
    assert "A6    assumption differs" in capsys.readouterr().out
    assert main([*argv, "--strict-assumptions"]) == 1


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_a_line_per_test_on_stderr_and_stdout_keeps_the_report(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--app", "wesog_mutants:fake", "-k", "tenants or unknown_images", *LEAN]) == 0
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert lines[0] == "wesog-contracts: 3 tests (progress on stderr; --quiet hides it)"
    assert lines[1].startswith("[1/3] passed  test_errors.py::test_unknown_images_are_404 (")
    assert lines[2].startswith("[2/3] skipped test_tenants.py::test_tenants_see_nothing_of_each")
    assert lines[2].endswith("s): tenant isolation needs a second tenant: --api-key-2 KEY")
    assert len(lines) == 4
    assert "\r" not in captured.err  # a CI log gets no carriage returns
    assert captured.out.startswith("wesog-contracts: in-process wesog_mutants:fake")
    assert "[1/3]" not in captured.out


def test_progress_on_a_terminal_is_one_status_line_and_failures_stay(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert main(["--app", "wesog_mutants:put_merges", "-k", "put_replaces or unknown_images",
                 *LEAN]) == 1
    text = terminal.getvalue()
    assert "\r\x1b[K[1/3] running test_errors.py::test_unknown_images_are_404" in text
    kept = [line.rsplit("\x1b[K", 1)[-1] for line in text.split("\n") if line]
    assert kept[0] == "wesog-contracts: 3 tests (progress on stderr; --quiet hides it)"
    assert [line.split()[:2] for line in kept[1:]] == [["[2/3]", "failed"], ["[3/3]", "failed"]]
    assert all(line.endswith(": D4 violated") for line in kept[1:])
    # No status line is left behind: the last write ends a kept line or erases the status.
    assert text.endswith(("\n", "\r\x1b[K"))
    assert "passed" not in text  # passes only move the status line on
    assert capsys.readouterr().out.splitlines()[-1].startswith("wesog-contracts: fail")


def test_quiet_turns_the_progress_off(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--app", "wesog_mutants:fake", "-k", "unknown_images", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out.splitlines()[-1] == "wesog-contracts: pass"


def test_the_help_documents_quiet(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "-q, --quiet" in capsys.readouterr().out


def test_every_skip_names_the_cli_option_to_pass_and_is_never_cut_off(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--app", "wesog_mutants:fake", "-k", "tenants or api_key", "--quiet",
                 *LEAN]) == 0
    out = capsys.readouterr().out
    rows = out.split("\nexercised:")[0].splitlines()[2:]
    assert all(len(row) <= 100 and not row.endswith("...") for row in rows), out
    table = "\n".join(rows)
    assert "--wesog-" not in out
    # A rule skipped outright, and one with only some of its tests skipped: both say why.
    assert ("D8    documented skipped  0/0/1          tenant isolation needs a second tenant: "
            "--api-key-2 KEY") in table
    assert ("A10   assumption holds    3/0/2          2 skipped: tenant isolation needs a second "
            "tenant:\n" + " " * 41 + "--api-key-2 KEY") in table


def test_a_run_leaves_the_current_directory_clean(tmp_path: Path) -> None:
    # As a user runs it: a fresh process (Hypothesis picks its home when first asked), in a
    # directory of the user's. The property tests draw from Hypothesis, which by default
    # writes .hypothesis/ into the current directory.
    script = Path(sys.executable).with_name("wesog-contracts")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}
    env.pop("HYPOTHESIS_STORAGE_DIRECTORY", None)
    done = subprocess.run(
        [str(script), "--app", "wesog_mutants:fake", "-k", "invalid_requests", "--quiet",
         *LEAN], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1] == "wesog-contracts: pass"
    assert list(tmp_path.iterdir()) == []


def test_a_run_in_process_puts_hypothesis_home_back(capsys: pytest.CaptureFixture[str]) -> None:
    from hypothesis import configuration

    home = configuration.storage_directory(intent_to_write=False).home_directory
    assert main(["--app", "wesog_mutants:fake", "-k", "unknown_images", "--quiet"]) == 0
    capsys.readouterr()
    assert configuration.storage_directory(intent_to_write=False).home_directory == home


def test_junit_xml_names_the_rules_of_every_test_case(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    junit = tmp_path / "j.xml"
    assert main(["--app", "wesog_mutants:put_merges", "-k", "put_replaces or tenants",
                 "--junit-xml", str(junit), "--quiet", *LEAN]) == 1
    capsys.readouterr()
    cases = {str(case.get("name")): case
             for case in ET.parse(junit).getroot().iter("testcase")}
    assert len(cases) == 4

    def properties(name: str) -> list[tuple[str | None, str | None]]:
        return [(p.get("name"), p.get("value")) for p in cases[name].iter("property")]

    assert properties("test_tenants_see_nothing_of_each_other") == [
        ("rule", "D8"), ("rule", "A8"), ("rule", "A10")]
    failed = [name for name in cases if name.startswith("test_put_replaces")]
    assert len(failed) == 2
    for name in failed:
        assert ("rule", "D4") in properties(name)
        assert ("violated_rule", "D4") in properties(name)
