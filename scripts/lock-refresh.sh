#!/usr/bin/env bash
# Move the lock files to the newest releases that pyproject.toml's ranges allow, then run the whole suite
# on them in a separate virtualenv (.venv-latest), so a new release that breaks us is seen before users see it.
# Commit the new locks only when the suite passes. Needs network access to PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv-lock/bin/uv ] || { "$PY" -m venv .venv-lock && .venv-lock/bin/python -m pip install -q uv; }
UV=.venv-lock/bin/uv
common=(--generate-hashes --python-version 3.11 --universal --upgrade -q)
"$UV" pip compile pyproject.toml requirements/build.in "${common[@]}" -o requirements/runtime.lock
"$UV" pip compile pyproject.toml requirements/build.in --extra test --extra dev "${common[@]}" -o requirements/test.lock
git --no-pager diff --stat -- requirements/ || true
rm -rf .venv-latest
VENV=.venv-latest exec bash scripts/test.sh "$@"
