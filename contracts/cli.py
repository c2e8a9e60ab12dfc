"""`wesog-contracts`: run the conformance suite against a server and say, rule by rule, what holds.

    wesog-contracts --base-url https://staging.example.com --api-key KEY [--api-key-2 KEY2]
                    [--junit-xml F] [--report-json F] [--max-examples N] [-k EXPR]
                    [--strict-assumptions] [--quiet]
    wesog-contracts --version

The report goes to stdout; the progress (a line per test, or one status line on a terminal) to
stderr, unless `--quiet`. Hypothesis keeps its files in the run's temporary directory, never in
the user's current one.

Exit status: 0 when no documented rule is violated (assumptions that differ are reported, not
fatal, unless `--strict-assumptions`); 1 when one is; 2 on a usage error, a server that
cannot be reached, or an install without the suite's dependencies (the `contracts` extra), said
in one line.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import httpx

from contracts._extra import INSTALL, missing_suite_packages, needs
from contracts._progress import Progress
from contracts.report import RunRecord
from contracts.spec import default_contract

if TYPE_CHECKING:
    import pytest

__all__ = ["main"]

_PROG = "wesog-contracts"
# What a skip reason names, when the suite runs under this CLI rather than under pytest.
_OPTION_NAMES = {"api_key": "--api-key", "api_key_2": "--api-key-2",
                 "max_requests": "--max-requests"}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise SystemExit(_usage(message))


def _usage(message: str) -> int:
    print(f"{_PROG}: error: {message} (see {_PROG} --help)", file=sys.stderr)
    return 2


def _version() -> str:
    try:
        return importlib.metadata.version("wesog-mock")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"  # run from a checkout that was never installed


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=_PROG, description="Judge a Wesog server against openapi.yaml.",
                     epilog=f"The suite's dependencies come with the contracts extra: {INSTALL}")
    parser.add_argument("--version", action="version", version=f"{_PROG} {_version()}")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--base-url", metavar="URL", help="the server to judge")
    target.add_argument("--app", metavar="MODULE:FACTORY", help="an in-process ASGI app instead")
    parser.add_argument("--api-key", metavar="KEY", help="the tenant to test with")
    parser.add_argument("--api-key-2", metavar="KEY", help="a second tenant: isolation tests")
    parser.add_argument("--junit-xml", metavar="FILE", help="write JUnit XML to FILE")
    parser.add_argument("--report-json", metavar="FILE", help="write the verdicts as JSON")
    parser.add_argument("--max-examples", metavar="N", type=int,
                        help="Hypothesis examples per property (default: each test's own)")
    parser.add_argument("--max-requests", metavar="N", type=int,
                        help="request budget of the run (default 20000)")
    parser.add_argument("-k", metavar="EXPR", dest="keyword", help="only tests matching EXPR")
    parser.add_argument("--no-slow", action="store_true",
                        help="skip the black-box queue tests that send 10,000-item batches")
    parser.add_argument("--strict-assumptions", action="store_true",
                        help="exit 1 when an assumption (A rule) differs, too")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="no progress on stderr (by default a line per test; on a "
                             "terminal, one status line); the report on stdout stays")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="show pytest's own output (progress, tracebacks) on stdout")
    return parser


def _preflight(base_url: str, api_key: str) -> str | None:
    """Why the server cannot be judged (unreachable, key refused), or None."""
    try:
        response = httpx.get(f"{base_url.rstrip('/')}/ops", headers={"API-Key": api_key},
                             timeout=15.0)
    except httpx.HTTPError as error:
        return f"cannot reach {base_url}: {type(error).__name__}: {error or 'no answer'}"
    if response.status_code == 401:
        return f"{base_url} refused the API key (401): check --api-key"
    return None


class _Capture:
    """A pytest plugin object that keeps the run's record for the CLI."""

    def __init__(self, target: str) -> None:
        self.record = RunRecord(target=target, rules=default_contract().rules)

    def pytest_configure(self, config: pytest.Config) -> None:
        from contracts.conformance._session import OPTION_NAMES, RECORD

        config.stash[RECORD] = self.record
        config.stash[OPTION_NAMES] = _OPTION_NAMES


@contextmanager
def _hypothesis_home(directory: Path) -> Iterator[None]:
    """Keep Hypothesis' files (its example database, its cache of constants) in `directory`.

    Left alone, Hypothesis writes `.hypothesis/` into the current directory, which is the
    user's, not the suite's. The previous home is put back: `main` also runs inside pytest.
    """
    from hypothesis import configuration

    previous = configuration.storage_directory(intent_to_write=False).home_directory
    configuration.set_hypothesis_home_dir(directory)
    try:
        yield
    finally:
        configuration.set_hypothesis_home_dir(previous)


def _pytest_args(options: argparse.Namespace, workdir: Path) -> list[str]:
    ini = workdir / "pytest.ini"
    # xunit1: the JUnit family whose schema allows a test case's properties (its rules).
    ini.write_text("[pytest]\njunit_family = xunit1\n", encoding="utf-8")
    args = ["--pyargs", "contracts.conformance", "-c", str(ini), "--rootdir", str(workdir),
            "-p", "no:cacheprovider", "-W", "ignore::DeprecationWarning"]
    if options.base_url:
        args += ["--wesog-base-url", options.base_url]
    else:
        args += ["--wesog-app", options.app]
    pairs: list[tuple[str, Any]] = [
        ("--wesog-api-key", options.api_key), ("--wesog-api-key-2", options.api_key_2),
        ("--wesog-max-examples", options.max_examples),
        ("--wesog-max-requests", options.max_requests),
        ("--junitxml", options.junit_xml), ("-k", options.keyword),
    ]
    args += [item for name, value in pairs if value is not None for item in (name, str(value))]
    if options.no_slow:
        args += ["-m", "not slow"]
    args += ["-q", "--tb=short"] if options.verbose else ["-p", "no:terminal"]
    return args


def main(argv: Sequence[str] | None = None) -> int:
    missing = missing_suite_packages()
    if missing:
        print(needs(_PROG, missing), file=sys.stderr)
        return 2
    # Imported only now, so that without the extra the line above is all a user sees.
    import pytest

    from contracts.conformance._session import find_app

    try:
        options = _parser().parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    if options.base_url and not options.api_key:
        return _usage("--base-url needs --api-key")
    for name in ("max_examples", "max_requests"):
        value = getattr(options, name)
        if value is not None and value < 1:
            return _usage(f"--{name.replace('_', '-')} must be at least 1")
    if options.app:
        try:
            find_app(options.app)
        except pytest.UsageError as error:
            return _usage(str(error))
    if options.base_url:
        problem = _preflight(options.base_url, options.api_key)
        if problem:
            print(f"{_PROG}: {problem}", file=sys.stderr)
            return 2
    capture = _Capture(options.base_url or f"in-process {options.app}")
    plugins: list[object] = [capture]
    if not (options.quiet or options.verbose):  # -v: pytest's own progress is on stdout
        plugins.append(Progress(sys.stderr, capture.record))
    with tempfile.TemporaryDirectory(prefix="wesog-contracts-") as workdir, \
            _hypothesis_home(Path(workdir) / "hypothesis"):
        code = pytest.main(_pytest_args(options, Path(workdir)), plugins=plugins)
    record = capture.record
    if code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERNAL_ERROR) or not record.tests:
        why = "no test was selected" if code == pytest.ExitCode.NO_TESTS_COLLECTED else (
            f"pytest stopped ({pytest.ExitCode(code).name.lower().replace('_', ' ')})")
        return _usage(why)
    if not options.verbose:
        print(record.format_summary())
    if options.report_json:
        Path(options.report_json).write_text(json.dumps(record.to_json(), indent=2) + "\n",
                                             encoding="utf-8")
    exit_code = record.exit_code(strict_assumptions=options.strict_assumptions)
    bad = [v.rule for v in record.verdicts() if v.verdict in ("violated", "differs")]
    outcome = "fail" if exit_code else "pass"
    reasons = [f"{', '.join(bad)} not as the contract says"] if bad else []
    errors = len(record.suite_errors())
    reasons += [f"{errors} error{'s' if errors > 1 else ''} of the suite itself"] if errors else []
    print(f"{_PROG}: {outcome}" + (f" ({'; '.join(reasons)})" if reasons else ""))
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
