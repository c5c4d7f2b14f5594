"""The GitHub Action's step (``provenant ci github``) run as the runner runs it: env files in a temp dir."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from fixtures import FixtureSet, Registry

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SARIF_SCHEMA = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text())
PASSING = """\
apiVersion: provenant/v1
kind: ImagePolicy
metadata: {name: digest-only}
images: ["**"]
checks:
  pinning: {requireDigest: true}
rules:
  pinning.base-digest: {action: "off"}
"""


def parse_outputs(text: str) -> dict[str, str]:
    """$GITHUB_OUTPUT as the runner reads it: ``name=value`` lines and ``name<<DELIM`` blocks."""
    out: dict[str, str] = {}
    lines = iter(text.split("\n"))
    for line in lines:
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delim = line.split("<<", 1)
            body = []
            for inner in lines:
                if inner == delim:
                    break
                body.append(inner)
            else:
                raise AssertionError(f"unterminated output {name}")
            out[name] = "\n".join(body)
        else:
            name, value = line.split("=", 1)
            out[name] = value
    return out


def _run(tmp: Path, **inputs: str) -> tuple[subprocess.CompletedProcess[str], Path, Path]:
    summary, output = tmp / "summary.md", tmp / "output.txt"
    # The runner creates both files empty; other steps may already have written to them.
    summary.write_text("earlier step\n")
    output.write_text("earlier=1\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INPUT_", "GITHUB_"))}
    env |= {"GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(output), "GITHUB_ACTIONS": "true"}
    env |= {f"INPUT_{k.upper()}": v for k, v in inputs.items()}
    proc = subprocess.run(
        [sys.executable, "-m", "provenant", "ci", "github"], cwd=tmp, env=env, capture_output=True, text=True,
        timeout=600, check=False,
    )  # fmt: skip
    return proc, summary, output


def test_denying_policy(registry: Registry, fixture_set: FixtureSet, tmp_path: Path) -> None:
    fx = fixture_set.image("debian-multiarch:12")
    proc, summary, output = _run(tmp_path, image=f"{registry.host}/{fx.ref}", policy="strict", sbom="cyclonedx-json")
    assert proc.returncode == 1, proc.stderr
    # Progress of the long work reaches the job log as plain lines (none of them a workflow command).
    assert f"provenant: resolved {registry.host}/{fx.ref} -> {fx.digest} (index)" in proc.stderr.splitlines()
    assert not any(ln.startswith("::") for ln in proc.stderr.splitlines())
    assert any(ln.startswith("provenant: done: ") for ln in proc.stderr.splitlines())
    outs = parse_outputs(output.read_text())
    assert outs["earlier"] == "1"  # appended, not truncated
    assert outs["verdict"] == "deny"
    assert outs["digest"] == fx.digest
    sarif = tmp_path / outs["sarif"]
    assert sarif.is_file() and outs["sarif"] == "provenant-results/provenant.sarif"
    doc = json.loads(sarif.read_text())
    jsonschema.validate(doc, SARIF_SCHEMA)
    assert any(r["ruleId"] == "pinning.digest" for r in doc["runs"][0]["results"])
    report = json.loads((tmp_path / outs["report"]).read_text())
    assert report["verdict"] == "deny" and report["digest"] == fx.digest
    # The SBOM of the checked digest, one merged document.
    (sbom_path,) = outs["sbom"].splitlines()
    bom = json.loads((tmp_path / sbom_path).read_text())
    assert bom["bomFormat"] == "CycloneDX" and bom["components"]
    # Summary: appended, a verdict heading, the image, the digest, a findings table naming denying checks.
    text = summary.read_text()
    assert text.startswith("earlier step\n## ❌ provenant policy: deny\n")
    assert fx.digest in text
    assert "| Effect | Check | Subject | Message |" in text
    assert re.search(r"^\| deny \| pinning\\\.digest \| image \| ", text, re.M)
    # Annotations on stdout, and the text report fenced off from the runner's command parser.
    assert re.search(r"^::error title=pinning\.digest \(image\)::", proc.stdout, re.M)
    token = re.search(r"^::stop-commands::([0-9a-f]{32})$", proc.stdout, re.M)
    assert token and f"\n::{token.group(1)}::\n" in proc.stdout
    assert proc.stdout.rstrip().endswith(f"::notice title=provenant policy::{registry.host}/{fx.ref}: deny")


def test_passing_policy_and_fail_on(registry: Registry, fixture_set: FixtureSet, tmp_path: Path) -> None:
    fx = fixture_set.image("debian-amd64:12")
    (tmp_path / "policy.yaml").write_text(PASSING)
    ref = f"{registry.host}/{fx.repo}@{fx.digest}"
    proc, summary, output = _run(tmp_path, image=ref, policy="policy.yaml")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    outs = parse_outputs(output.read_text())
    assert outs["verdict"] == "pass" and outs["digest"] == fx.digest and outs["sbom"] == ""
    assert "## ✅ provenant policy: pass" in summary.read_text()
    # The same denying image with fail-on never: the step passes, the verdict still says deny.
    (tmp_path / "n").mkdir()
    never, _, out2 = _run(tmp_path / "n", image=f"{registry.host}/{fx.ref}", policy=str(tmp_path / "policy.yaml"),
                          fail_on="never")  # fmt: skip
    assert never.returncode == 0, never.stdout + never.stderr
    assert parse_outputs(out2.read_text())["verdict"] == "deny"


def test_error_is_exit_2_with_the_reason(registry: Registry, tmp_path: Path) -> None:
    proc, summary, output = _run(tmp_path, image=f"{registry.host}/no-such-image:1", policy="default")
    assert proc.returncode == 2
    outs = parse_outputs(output.read_text())
    assert outs["verdict"] == "error" and outs["sarif"] == "" and outs["digest"] == ""
    text = summary.read_text()
    assert "## ❌ provenant policy: error" in text and "### Errors" in text
    assert re.search(r"^::error title=provenant::provenant: error: ", proc.stdout, re.M)


def test_keyless_identity_without_a_signature_denies(
    registry: Registry, fixture_set: FixtureSet, tmp_path: Path
) -> None:
    import sigstore

    root = Path(sigstore.__file__).parent / "_store" / "https%3A%2F%2Ftuf-repo-cdn.sigstore.dev" / "trusted_root.json"
    fx = fixture_set.image("debian-amd64:12")
    (tmp_path / "policy.yaml").write_text(PASSING)
    identity = "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main"
    proc, summary, output = _run(
        tmp_path, image=f"{registry.host}/{fx.repo}@{fx.digest}", policy="policy.yaml", trusted_root=str(root),
        certificate_identity=identity, certificate_oidc_issuer="https://token.actions.githubusercontent.com",
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert parse_outputs(output.read_text())["verdict"] == "deny"
    assert (
        re.search(r"^::error title=provenant verify::no valid keyless signature by https%3A", proc.stdout, re.M) is None
    )
    assert re.search(
        r"^::error title=provenant verify::no valid keyless signature by https://github\.com/acme/", proc.stdout, re.M
    )
    text = summary.read_text()
    assert "## ❌ provenant policy: deny" in text and "| Keyless signature | failed: " in text
