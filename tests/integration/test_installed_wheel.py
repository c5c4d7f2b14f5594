"""provenant as users install it: the wheel, built offline from the lock, in a fresh venv outside the repository.

Catches what only an installed copy shows: package data left out of the wheel (the built-in policies), a module
imported from the repository by accident, a console script that does not start.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures import FixtureSet, Registry

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    """(bin dir of the fresh venv, a work dir outside the repository, the environment to run it with)."""
    base = tmp_path_factory.mktemp("installed")
    assert not base.resolve().is_relative_to(ROOT)
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    wheels = base / "wheels"
    # The build backend (hatchling) comes from the lock, so no isolated build environment is downloaded.
    built = _run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(ROOT)],
        base,
        env,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = wheels.glob("provenant-*.whl")
    venv = base / "venv"
    made = _run([sys.executable, "-m", "venv", str(venv)], base, env)
    assert made.returncode == 0, made.stderr
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    deps = _run([*pip, "--require-hashes", "-r", str(ROOT / "requirements" / "runtime.lock")], base, env)
    if deps.returncode != 0:
        pytest.fail(f"PyPI not reachable for the runtime lock: {deps.stderr.strip()[-300:]}")
    own = _run([*pip, "--no-deps", str(wheel)], base, env)
    assert own.returncode == 0, own.stderr[-2000:]
    work = base / "work"
    work.mkdir()
    return venv / "bin", work, env


def test_imports_from_the_venv_not_the_repository(installed: tuple[Path, Path, dict[str, str]]) -> None:
    bindir, work, env = installed
    res = _run([str(bindir / "python"), "-c", "import provenant, pathlib; print(pathlib.Path(provenant.__file__))"],
               work, env)  # fmt: skip
    assert res.returncode == 0, res.stderr
    where = Path(res.stdout.strip()).resolve()
    assert where.is_relative_to(bindir.parent.resolve()) and not where.is_relative_to(ROOT)


def test_help_version_and_policy_init(installed: tuple[Path, Path, dict[str, str]]) -> None:
    bindir, work, env = installed
    exe = str(bindir / "provenant")
    helped = _run([exe, "--help"], work, env)
    assert helped.returncode == 0 and "policy" in helped.stdout and "sbom" in helped.stdout, helped.stderr
    for name in ("default", "strict"):
        valid = _run([exe, "policy", "validate", name], work, env)
        assert valid.returncode == 0 and "valid" in valid.stdout, valid.stderr
    init = _run([exe, "policy", "init", "team.yaml"], work, env)
    assert init.returncode == 0, init.stderr
    assert _run([exe, "policy", "validate", "team.yaml"], work, env).returncode == 0


def test_policy_check_strict_sbom_inspect(
    installed: tuple[Path, Path, dict[str, str]], registry: Registry, fixture_set: FixtureSet
) -> None:
    bindir, work, env = installed
    exe = str(bindir / "provenant")
    fx = fixture_set.image("debian-multiarch:12")
    ref = f"{registry.host}/{fx.repo}@{fx.digest}"
    cache = ["--cache-dir", str(work / "cache")]
    checked = _run([exe, "policy", "check", ref, "--policy", "strict", "--format", "json", *cache], work, env)
    # strict denies the unsigned fixture (no provenance signed by a key we pass): exit 1 with a full report.
    assert checked.returncode == 1, checked.stderr
    report = json.loads(checked.stdout)
    assert report["verdict"] == "deny"
    assert report["policy"].endswith("strict.yaml")
    assert {f["check"] for r in report["results"] for f in r["findings"]} >= {"pinning.digest", "provenance.signed"}
    sbom = _run([exe, "sbom", ref, "--platform", "linux/amd64", "-o", "cyclonedx-json", *cache], work, env)
    assert sbom.returncode == 0, sbom.stderr
    doc = json.loads(sbom.stdout)
    names = {c["name"] for c in doc["components"]}
    expected = {p["name"] for p in fx.expected_packages("linux/amd64")}
    assert expected and expected <= names
    inspected = _run([exe, "inspect", ref, "--raw"], work, env)
    assert inspected.returncode == 0, inspected.stderr
    assert json.loads(inspected.stdout)["mediaType"] == fx.media_type
