#!/usr/bin/env bash
# Install what the tests need, then run lint, type checks and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh "[test]"
echo "== ruff"; .venv/bin/ruff check provenant tests fixtures benchmarks
echo "== mypy"; .venv/bin/mypy provenant fixtures
echo "== pytest"; exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
