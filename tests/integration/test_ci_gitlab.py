"""templates/provenant.yml read as GitLab reads it, and its job script run against a registry image."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from fixtures import FixtureSet, Registry

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "templates" / "provenant.yml"
INTERPOLATION = re.compile(r"\$\[\[\s*inputs\.([\w-]+)\s*\]\]")


def _load(inputs: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(spec, jobs) with ``$[[ inputs.x ]]`` replaced by the given value or the input's default, as GitLab does."""
    header_text, body_text = TEMPLATE.read_text().split("\n---\n", 1)
    spec = yaml.safe_load(header_text)["spec"]["inputs"]
    unknown = set(inputs) - set(spec)
    assert not unknown, f"inputs the template does not declare: {unknown}"
    values = {name: inputs.get(name, (s or {}).get("default")) for name, s in spec.items()}
    missing = [n for n, v in values.items() if v is None]
    assert not missing, f"required inputs not given: {missing}"
    for name, s in spec.items():
        if s and "options" in s:
            assert values[name] in s["options"], name
    body = INTERPOLATION.sub(lambda m: str(values[m.group(1)]), body_text)
    return spec, yaml.safe_load(body)


def test_template_shape() -> None:
    spec, jobs = _load({"image": "registry.example/app@sha256:" + "0" * 64})
    assert set(jobs) == {"provenant-policy"}
    job = jobs["provenant-policy"]
    reports = job["artifacts"]["reports"]
    assert reports == {
        "junit": "provenant-results/junit.xml",
        "cyclonedx": "provenant-results/sbom.cdx.json",
        "dotenv": "provenant-results/provenant.env",
    }
    assert job["artifacts"]["when"] == "always"
    # No input is interpolated into a script line: inputs are job variables, quoted where the shell reads them.
    raw_body = TEMPLATE.read_text().split("\n---\n", 1)[1]
    raw_jobs = yaml.safe_load(raw_body)
    for line in raw_jobs["provenant-policy"]["before_script"] + raw_jobs["provenant-policy"]["script"]:
        assert "$[[" not in line
    assert "image" in spec and spec["image"] is not None and "default" not in spec["image"]


@pytest.mark.parametrize("block", [0, 1])
def test_docs_examples_use_declared_inputs(block: int) -> None:
    doc = (ROOT / "docs" / "ci-gitlab.md").read_text()
    example = yaml.safe_load(re.findall(r"```yaml\n(.*?)```", doc, re.S)[block])
    (include,) = example["include"]
    _load({k: str(v) for k, v in include["inputs"].items()})
    if "file" in include:
        assert include["file"] == "templates/provenant.yml"
    else:  # a component path ends with the template's name (templates/<name>.yml)
        assert include["component"].split("@")[0].rsplit("/", 1)[1] == TEMPLATE.stem


def _run_job(tmp: Path, inputs: dict[str, str]) -> subprocess.CompletedProcess[str]:
    _, jobs = _load(inputs)
    job = jobs["provenant-policy"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("INPUT_")}
    env |= {k: str(v) for k, v in job["variables"].items()}
    # The provenant under test instead of the before_script's pip install.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    script = "set -eo pipefail\n" + "\n".join(job["script"]) + "\n"
    return subprocess.run(["bash", "-c", script], cwd=tmp, env=env, capture_output=True, text=True, timeout=600,
                          check=False)  # fmt: skip


def test_job_on_a_denying_image(registry: Registry, fixture_set: FixtureSet, tmp_path: Path) -> None:
    fx = fixture_set.image("debian-multiarch:12")
    proc = _run_job(tmp_path, {"image": f"{registry.host}/{fx.ref}", "policy": "strict"})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "verdict: DENY" in proc.stdout
    results = tmp_path / "provenant-results"
    junit = ET.parse(results / "junit.xml").getroot()
    assert junit.tag == "testsuites"
    suites = {s.get("name") for s in junit.iter("testsuite")}
    assert suites == {f"{registry.host}/{fx.ref} {s}" for s in ("image", "linux/amd64", "linux/arm64/v8")}
    failed = {c.get("name") for c in junit.iter("testcase") if c.find("failure") is not None}
    assert "pinning.digest" in failed
    assert int(junit.get("failures") or 0) == sum(1 for c in junit.iter("testcase") if c.find("failure") is not None)
    bom = json.loads((results / "sbom.cdx.json").read_text())
    assert bom["bomFormat"] == "CycloneDX" and bom["specVersion"] == "1.6" and bom["components"]
    env_lines = (results / "provenant.env").read_text().splitlines()
    assert env_lines == ["PROVENANT_VERDICT=deny", f"PROVENANT_DIGEST={fx.digest}"]
    # GitLab's dotenv rules: KEY of letters, digits and _; no spaces, quotes or comments; under 5 KB.
    assert all(re.fullmatch(r"[A-Za-z0-9_]+=[^\s'\"#]*", ln) for ln in env_lines)


def test_job_passes_with_fail_on_never(registry: Registry, fixture_set: FixtureSet, tmp_path: Path) -> None:
    fx = fixture_set.image("debian-amd64:12")
    proc = _run_job(tmp_path, {"image": f"{registry.host}/{fx.ref}", "fail-on": "never", "sbom": ""})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = tmp_path / "provenant-results"
    assert (results / "junit.xml").is_file() and not (results / "sbom.cdx.json").exists()
    assert (results / "provenant.env").read_text().startswith("PROVENANT_VERDICT=")
