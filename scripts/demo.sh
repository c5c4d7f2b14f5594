#!/usr/bin/env bash
# Install provenant and run its main job on a real example: build the Debian multi-arch fixture
# image from real packages, push it to a local registry (CNCF distribution), then inspect it, list
# its packages per platform, show the attestations attached and compare its platforms.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m fixtures demo "$@"
