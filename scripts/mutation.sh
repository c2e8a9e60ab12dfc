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
echo "survivors:"
"$mutmut" results
"$mutmut" export-cicd-stats >/dev/null
.venv/bin/python - <<'PY'
import json

s = json.load(open("mutants/mutmut-cicd-stats.json"))
# A mutant that times out is caught (its tests did not pass); one no test reaches is not.
caught = s["killed"] + s["timeout"]
print(f"mutation score: {caught} of {s['total']} caught ({100 * caught / s['total']:.1f}%): "
      f"{s['killed']} killed, {s['timeout']} timed out, {s['survived']} survived, "
      f"{s['no_tests']} reached by no test")

# Per module, from mutmut's own records (mutants/**/*.py.meta) and its own status names.
import glob
from collections import Counter
from mutmut.stats import status_by_exit_code

for meta in sorted(glob.glob("mutants/wesog_mock/**/*.py.meta", recursive=True)):
    codes = json.load(open(meta))["exit_code_by_key"].values()
    n = Counter(status_by_exit_code[c] for c in codes)
    total = sum(n.values())
    module = meta.removeprefix("mutants/").removesuffix(".meta")
    print(f"  {module}: {n['killed'] + n['timeout']} of {total} caught "
          f"({100 * (n['killed'] + n['timeout']) / total:.1f}%), {n['survived']} survived, "
          f"{n['no tests']} no tests, {n['not checked']} not checked")
PY
# Every survivor must be killed by a test or judged equivalent (scripts/mutation_equivalents.toml);
# this lists the ones that are neither and fails if there are any.
echo "survivors not yet judged:"
.venv/bin/python scripts/mutation_report.py --check
