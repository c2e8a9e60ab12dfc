#!/usr/bin/env bash
# Mutation testing of the fake with mutmut 3, configured in pyproject.toml ([tool.mutmut]): the
# domain (batch, engine, operations), the controls (faults, journal, controller) and the HTTP
# layer's request handling (api, middleware, answers), against the fast suites only.
#
# Not in CI: a full run takes 20 to 40 minutes on two shared cores. mutmut is no dependency of
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
# Low priority, three workers: the machine is shared.
nice -n "${NICE:-15}" "$mutmut" run --max-children "${JOBS:-3}" "$@" \
    | tr '\r' '\n' | grep -v '^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] ' || true
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
PY
