#!/usr/bin/env bash
# Mutation testing of the fake with mutmut 3, configured in pyproject.toml ([tool.mutmut]): the
# domain (batch, engine, operations), the controls (faults, journal, controller) and the HTTP
# layer's request handling (api, middleware, answers), against the fast suites only.
#
# Not in CI: a full run takes about 50 minutes on two shared cores. mutmut is no dependency of
# the project (CI never runs it); install it into the project's environment first:
#     .venv/bin/pip install 'mutmut>=3.8,<4'
#
#     scripts/mutation.sh                 # a full run (resumes where an interrupted one stopped)
#     scripts/mutation.sh 'wesog_mock.controls.journal*'   # only these mutants, again
#     .venv/bin/mutmut show NAME          # one survivor's diff
#
# It works in mutants/ (ignored by git). Each run ends with the survivors and the score.
set -euo pipefail
cd "$(dirname "$0")/.."
mutmut=${MUTMUT:-.venv/bin/mutmut}
if ! [ -x "$mutmut" ]; then
    echo "mutmut is not installed: .venv/bin/pip install 'mutmut>=3.8,<4'" >&2
    exit 2
fi
# Low priority, two workers: the machine is shared.
status=0
nice -n "${NICE:-19}" "$mutmut" run --max-children "${JOBS:-2}" "$@" \
    | tr '\r' '\n' | { grep -v '^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] ' || true; } || status=$?
if [ "$status" -ne 0 ]; then
    # mutmut stops when the clean tests fail (its stats run, or a test that reads a file
    # missing from mutants/: see also_copy); a score printed after that would read 0 %.
    echo "mutmut failed (exit $status): no score" >&2
    exit "$status"
fi
# The score per module and every survivor, each with why it is equivalent
# (scripts/mutation_equivalents.toml); fails if a survivor is not judged there.
"$(dirname "$mutmut")/python" scripts/mutation_report.py
