"""``provenant version`` and click's shell completion (``_PROVENANT_COMPLETE``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import version

from click.testing import CliRunner

import provenant
from provenant.cli.main import cli


def test_version_names_the_libraries_that_shape_output() -> None:
    res = CliRunner().invoke(cli, ["version", "--json"])
    assert res.exit_code == 0, res.output
    found = json.loads(res.stdout)
    assert found["provenant"] == provenant.__version__
    for lib in ("cyclonedx-python-lib", "spdx-tools", "packageurl-python", "sigstore"):
        assert found[lib] == version(lib)
    text = CliRunner().invoke(cli, ["version"]).stdout.splitlines()
    assert text[0] == f"provenant {provenant.__version__}"
    assert f"cyclonedx-python-lib {version('cyclonedx-python-lib')}" in text


def _complete(words: str, cword: int) -> list[str]:
    env = {**os.environ, "COMP_WORDS": words, "COMP_CWORD": str(cword), "_PROVENANT_COMPLETE": "bash_complete"}
    proc = subprocess.run([sys.executable, "-m", "provenant"], env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


def test_bash_completion_script_and_candidates() -> None:
    env = {**os.environ, "_PROVENANT_COMPLETE": "bash_source"}
    script = subprocess.run([sys.executable, "-m", "provenant"], env=env, capture_output=True, text=True, check=False)
    assert "complete -o nosort -F _provenant_completion" in script.stdout
    assert "plain,policy" in _complete("provenant pol", 1)
    assert {"plain,sbom", "plain,sign"} <= set(_complete("provenant s", 1))
    assert _complete("provenant policy check img --policy st", 5) == ["plain,strict", "file,st"]
    assert "plain,--progress" in _complete("provenant --pro", 1)
