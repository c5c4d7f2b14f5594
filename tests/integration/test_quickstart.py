"""docs/quickstart.md's command block, run as written against a fixture image in the local registry."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures import FixtureSet, Registry

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def test_quickstart_block_runs(registry: Registry, fixture_set: FixtureSet, tmp_path: Path) -> None:
    doc = (ROOT / "docs" / "quickstart.md").read_text()
    block = next(b for b in re.findall(r"```sh\n(.*?)```", doc, re.S) if '"$IMAGE"' in b)
    fx = fixture_set.image("debian-multiarch:12")
    env = {**os.environ, "IMAGE": f"{registry.host}/{fx.ref}"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=600, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "linux/arm64/v8" in proc.stdout
    assert "dockerfile findings: exit 1" in proc.stdout
    assert "pinning.base-digest" in proc.stdout
    for platform in ("linux-amd64", "linux-arm64-v8"):
        bom = json.loads((tmp_path / f"sbom.{platform}.cdx.json").read_text())
        assert bom["bomFormat"] == "CycloneDX"
    assert json.loads((tmp_path / "policy.sarif").read_text())["version"] == "2.1.0"
    assert (tmp_path / "my-policy.yaml").read_text().startswith("# Starter policy")
