"""`wesog-contracts`: exit codes, one-line errors, the summary and the machine reports."""

from __future__ import annotations

import importlib.metadata
import json
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
