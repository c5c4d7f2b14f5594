"""The repository's pre-commit hook, run as users run it: ``pre-commit try-repo`` (a venv, pip install)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
DIGEST = "sha256:" + "ab" * 32


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t", *args], cwd=cwd, check=True,
                   capture_output=True)  # fmt: skip


def test_try_repo_flags_unpinned_and_passes_pinned(tmp_path: Path) -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.fail("needs git and the repository's git checkout (scripts/setup.sh installs git)")
    work = tmp_path / "work"
    work.mkdir()
    (work / "Dockerfile").write_text("FROM python:3.12\n")
    (work / "Containerfile").write_text(f"FROM python:3.12@{DIGEST}\n")
    _git(work, "init", "-q")
    _git(work, "add", ".")
    _git(work, "commit", "-qm", "fixture")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    pre_commit = [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "provenant-dockerfile"]

    def run(*files: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*pre_commit, "--files", *files], cwd=work, env=env, capture_output=True, text=True,
                              timeout=300, check=False)  # fmt: skip

    bad = run("Dockerfile")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "Dockerfile:1: pinning.base-digest: base image python:3.12 is not pinned by digest" in bad.stdout
    good = run("Containerfile")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "provenant dockerfile check" in good.stdout and "Passed" in good.stdout
