"""Shared test set-up: fixture images built from real packages, real registries on loopback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from fixtures import FixtureSet, Registry, TokenAuth, build_all, push_all, running_registry
from tests.tokenserver import TokenService

USER, PASSWORD = "provenant", "fixture-pa55word"
#: Downloads the tests make from PyPI and the npm registry, kept between runs.
DATA = Path(os.environ.get("PROVENANT_TEST_DATA", Path.home() / ".cache" / "provenant-test-data"))


@pytest.fixture(scope="session")
def fixture_set() -> FixtureSet:
    """Every fixture image, built once (cached across runs, keyed by inputs)."""
    return build_all()


def _need_registry() -> None:
    if shutil.which("docker-registry") is None or shutil.which("skopeo") is None:
        pytest.fail("docker-registry and skopeo are required (scripts/setup.sh installs them)")


@pytest.fixture(scope="session")
def registry(fixture_set: FixtureSet, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A real CNCF distribution registry without auth, holding every fixture image."""
    _need_registry()
    with running_registry(tmp_path_factory.mktemp("registry")) as reg:
        push_all(fixture_set, reg)
        yield reg


@pytest.fixture(scope="session")
def basic_registry(fixture_set: FixtureSet, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A real registry with htpasswd basic auth."""
    _need_registry()
    with running_registry(tmp_path_factory.mktemp("basic-registry"), htpasswd=(USER, PASSWORD)) as reg:
        push_all(fixture_set, reg)
        yield reg


@pytest.fixture(scope="session")
def token_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TokenService]:
    """A bearer-token service that the token registry trusts."""
    svc = TokenService(tmp_path_factory.mktemp("token"), USER, PASSWORD, anonymous_pull=True)
    svc.realm = svc.start()
    yield svc
    svc.stop()


@pytest.fixture(scope="session")
def token_registry(
    fixture_set: FixtureSet, token_service: TokenService, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Registry]:
    """A real registry with ``auth: token`` (bearer tokens from :class:`TokenService`)."""
    _need_registry()
    auth = TokenAuth(token_service.realm, token_service.service, token_service.issuer, token_service.cert_path)
    with running_registry(tmp_path_factory.mktemp("token-registry"), token=auth) as reg:
        push_all(fixture_set, reg, creds=(USER, PASSWORD))
        yield reg


@pytest.fixture
def fresh_layout(fixture_set: FixtureSet, tmp_path: Path) -> Path:
    """A private copy of the multi-arch layout that a test may corrupt."""
    dest = tmp_path / "layout"
    shutil.copytree(fixture_set.image("debian-multiarch:12").layout, dest)
    return dest


@pytest.fixture(scope="session")
def site_packages() -> Path:
    target = DATA / "pip-target-v1"
    if not (target / ".done").exists():
        shutil.rmtree(target, ignore_errors=True)
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--no-compile", "--target", str(target),
             "requests==2.32.3", "flask==3.0.3"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if proc.returncode != 0:
            pytest.skip(f"PyPI not reachable: {proc.stderr.strip()[-200:]}")
        (target / ".done").write_text("ok")
    return target


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Under ``CI=true`` a skipped test is a failed one: a missing tool or an unreachable package registry
    must break the run, not hide the tests that need it (scripts/setup.sh installs every tool)."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if os.environ.get("CI") == "true" and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, which allows no skip: {reason}"


@pytest.fixture(scope="session")
def node_app() -> Path:
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed")
    app = DATA / "npm-express-v1"
    if not (app / ".done").exists():
        shutil.rmtree(app, ignore_errors=True)
        app.mkdir(parents=True)
        (app / "package.json").write_text('{"name": "app", "version": "1.0.0", "private": true}')
        proc = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--silent", "express@4.21.2"],
            cwd=app, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if proc.returncode != 0:
            pytest.skip(f"npm registry not reachable: {proc.stderr.strip()[-200:]}")
        (app / ".done").write_text("ok")
    return app
