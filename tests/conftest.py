"""Shared test set-up: fixture images built from real packages, real registries on loopback."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from fixtures import FixtureSet, Registry, TokenAuth, build_all, push_all, running_registry
from tests.tokenserver import TokenService

USER, PASSWORD = "provenant", "fixture-pa55word"


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
