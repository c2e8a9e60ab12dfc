"""The score and the survivors of the last mutmut run, each survivor with why it is equivalent.

Run it where `scripts/mutation.sh` ran (it reads `mutants/` and asks mutmut for the diffs):

    .venv/bin/python scripts/mutation_report.py            # markdown, for docs/mutation-testing.md
    .venv/bin/python scripts/mutation_report.py --check    # only the survivors not judged

Either way it exits 1 if a survivor is not judged (scripts/mutation.sh ends with it).

Why a survivor is equivalent lives in scripts/mutation_equivalents.toml, keyed by the module,
the function and the line mutmut put in (not by mutmut's number, which changes whenever the
function does). A survivor with no entry is printed as NOT CLASSIFIED: a gap until a test
kills it or a reason is written down.
"""

from __future__ import annotations

import argparse
import glob
import json
import re
import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENTS = Path(__file__).resolve().parent / "mutation_equivalents.toml"
MUTMUT = str(Path(sys.executable).parent / "mutmut")
# wesog_mock.domain.engine.xǁEngineǁ_finish__mutmut_14, wesog_mock.http.api.x__read_body__mutmut_4
_NAME = re.compile(r"^wesog_mock\.(?P<module>[\w.]+)\."
                   r"x(?:ǁ\w+ǁ(?P<method>\w+?)|_(?P<function>\w+?))__mutmut_\d+$")
Key = tuple[str, str, str]
_STATUS = {1: "killed", 0: "survived", -24: "timed out", 33: "no tests"}


def parse_name(name: str) -> tuple[str, str]:
    """The module's path (`domain/engine.py`) and the function's name of a mutant."""
    found = _NAME.match(name)
    if found is None:
        raise ValueError(f"not a mutmut name: {name}")
    module = found["module"].replace(".", "/") + ".py"
    return module, found["method"] or found["function"]


def mutated_line(name: str) -> str:
    """The line mutmut put in (the first added line of its diff), stripped."""
    diff = subprocess.run([MUTMUT, "show", name], capture_output=True, text=True,
                          check=True, cwd=ROOT).stdout
    added = [line[1:].strip() for line in diff.splitlines()
             if line.startswith("+") and not line.startswith("+++")]
    return added[0] if added else "(line removed)"


def survivors() -> list[str]:
    listed = subprocess.run([MUTMUT, "results"], capture_output=True, text=True, check=True,
                            cwd=ROOT).stdout
    return [line.split(":")[0].strip() for line in listed.splitlines()
            if line.strip().endswith(("survived", "no tests"))]


def equivalents() -> dict[Key, str]:
    data = tomllib.loads(EQUIVALENTS.read_text(encoding="utf-8"))
    return {(e["module"], e["function"], e["line"]): e["why"] for e in data["equivalent"]}


def score_table() -> list[str]:
    rows, total = [], Counter[str]()
    for meta in sorted(glob.glob(str(ROOT / "mutants/wesog_mock/**/*.py.meta"), recursive=True)):
        codes = json.loads(Path(meta).read_text())["exit_code_by_key"].values()
        # mutmut's exit codes: 1 killed, 0 survived, -24 (SIGXCPU) timed out, 33 no tests.
        counts = Counter(_STATUS.get(code, "other") for code in codes)
        total.update(counts)
        module = meta.split("mutants/wesog_mock/")[1].removesuffix(".meta")
        rows.append(_row(f"`{module}`", counts))
    return ["| module | mutants | killed | timed out | survived | caught |",
            "|---|---|---|---|---|---|", *rows, _row("**all**", total)]


def _row(label: str, counts: Counter[str]) -> str:
    total = sum(counts.values())
    caught = counts["killed"] + counts["timed out"]
    return (f"| {label} | {total} | {counts['killed']} | {counts['timed out']} | "
            f"{counts['survived'] + counts['no tests']} | {100 * caught / total:.1f} % |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="print only the survivors not judged")
    args = parser.parse_args()
    known = equivalents()
    lines, unjudged = [], 0
    for name in survivors():
        module, function = parse_name(name)
        line = mutated_line(name)
        why = known.get((module, function, line))
        if why is None:
            unjudged += 1
            why = "NOT CLASSIFIED"
        if why == "NOT CLASSIFIED" or not args.check:
            shown = line if len(line) <= 90 else line[:87] + "..."
            lines.append(f"- `{name.removeprefix('wesog_mock.')}`: `{shown}`: {why}")
    if not args.check:
        print("\n".join(score_table()), end="\n\n")
    print("\n".join(lines))
    return 1 if unjudged else 0


if __name__ == "__main__":
    sys.exit(main())
