#!/usr/bin/env bash
# Install provenant and run its main job on a real example: build the Debian multi-arch fixture
# image from real packages, push it to a local registry (CNCF distribution), and inspect it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m fixtures demo "$@"
