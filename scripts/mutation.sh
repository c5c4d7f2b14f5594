#!/usr/bin/env bash
# Mutation testing of the modules listed under [tool.mutmut] only_mutate in pyproject.toml (not run in CI).
# mutmut copies provenant/ into ./mutants/, makes small faults (mutants) in those modules and, for each one,
# runs the unit tests that call the mutated function: a mutant that no test notices "survived".
# Usage: scripts/mutation.sh [MODULE...]   MODULE as provenant/digest.py or provenant.digest; none = all.
# Then:  .venv/bin/mutmut results          survivors;  .venv/bin/mutmut show NAME   one mutant's diff.
# Env:   MUTMUT_CHILDREN (parallel workers, default: all cores), MUTATION_MIN (score %, default 90),
#        MUTMUT_KEEP=1 (reuse ./mutants/ from the last run; by default it is rebuilt so no stale copy is tested).
# Needs: scripts/setup.sh "[test]" (mutmut is in requirements/test.lock). Exit 1 if a module scores < MUTATION_MIN.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${VENV:-.venv}/bin/python
"$PY" -c "import mutmut" 2>/dev/null || { echo "mutation.sh: mutmut is not installed: run scripts/setup.sh \"[test]\"" >&2; exit 2; }

# The configured modules, as paths; the arguments must be among them.
mapfile -t configured < <("$PY" -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["tool"]["mutmut"]["only_mutate"], sep="\n")')
modules=()
for arg in "$@"; do
  path=$arg
  [[ $path == *.py ]] || path="${path//.//}.py"
  found=""
  for m in "${configured[@]}"; do [ "$m" = "$path" ] && found=1; done
  [ -n "$found" ] || { echo "mutation.sh: $arg is not configured; choose from: ${configured[*]}" >&2; exit 2; }
  modules+=("$path")
done
[ ${#modules[@]} -gt 0 ] || modules=("${configured[@]}")

patterns=()
for m in "${modules[@]}"; do
  dotted=${m%.py}
  patterns+=("${dotted//\//.}.*")
done

[ "${MUTMUT_KEEP:-}" = 1 ] || rm -rf mutants
mkdir -p mutants
# policies/ is a link to the package data (one copy); mutmut would copy it as a directory, so link it as it is.
[ -e mutants/policies ] || ln -s "$(readlink policies)" mutants/policies
start=$(date +%s)
# mutmut draws a progress spinner per mutant; keep it in a log and show its tail only if the run fails.
if ! "$PY" -m mutmut run --max-children "${MUTMUT_CHILDREN:-$(nproc)}" "${patterns[@]}" >mutants/run.log 2>&1; then
  tail -c 4000 mutants/run.log >&2
  echo "mutation.sh: mutmut run failed (log: mutants/run.log)" >&2
  exit 2
fi
elapsed=$(($(date +%s) - start))

"$PY" - "$elapsed" "${MUTATION_MIN:-90}" "${modules[@]}" <<'EOF'
"""Per-module table from mutmut's result files (mutants/<module>.py.meta)."""

import json
import sys

from mutmut.stats import status_by_exit_code

elapsed, minimum, modules = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3:]
header = ("module", "mutants", "killed", "survived", "no tests", "timeout", "other", "score")
rows, low = [], []
for module in modules:
    with open(f"mutants/{module}.meta") as f:
        codes = json.load(f)["exit_code_by_key"].values()
    statuses = [status_by_exit_code[c] for c in codes]
    n = {s: statuses.count(s) for s in ("killed", "survived", "no tests", "timeout")}
    other = len(statuses) - sum(n.values())
    # A timeout is a detected mutant (the fault made the tests hang); "no tests" and "other" count as undetected.
    score = 100.0 * (n["killed"] + n["timeout"]) / len(statuses) if statuses else 100.0
    if score < minimum:
        low.append(module)
    rows.append((module, len(statuses), n["killed"], n["survived"], n["no tests"], n["timeout"], other, f"{score:.1f}%"))
widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
for r in [header, *rows]:
    print("  ".join(str(v).ljust(w) if i == 0 else str(v).rjust(w) for i, (v, w) in enumerate(zip(r, widths))))
print(f"wall time {elapsed // 60} min {elapsed % 60} s; survivors: .venv/bin/mutmut results, .venv/bin/mutmut show NAME")
if low:
    print(f"below {minimum:g}%: {', '.join(low)}")
    sys.exit(1)
EOF
