#!/usr/bin/env bash
# Install what the tests need (from requirements/test.lock), then run lint, type checks and the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
VENV="$VENV" bash scripts/setup.sh "[test]"
echo "== ruff"; "$VENV/bin/ruff" check provenant tests fixtures benchmarks scripts
echo "== mypy"; "$VENV/bin/mypy" provenant fixtures scripts/fuzz_catalogers.py
echo "== pytest"; exec "$VENV/bin/python" -m pytest -q -p no:cacheprovider "$@"
