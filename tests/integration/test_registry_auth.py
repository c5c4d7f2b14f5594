"""Basic and bearer auth against the real registry; credential sources as ``--verbose`` reports them."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from fixtures import FixtureSet, Registry
from provenant.cli.main import cli
from provenant.errors import AuthenticationError
from provenant.inspect import inspect
from provenant.session import Session
from provenant.sources.registry import RegistryOptions
from tests.conftest import PASSWORD, USER
from tests.tokenserver import TokenService

pytestmark = pytest.mark.integration


def test_basic_auth_needs_credentials(basic_registry: Registry) -> None:
    with Session() as session, pytest.raises(AuthenticationError) as info:
        inspect(session, f"{basic_registry.host}/debian-multiarch:12")
    assert basic_registry.host in info.value.diagnostics()


def test_basic_auth_password_stdin(basic_registry: Registry, fixture_set: FixtureSet) -> None:
    ref = f"{basic_registry.host}/debian-multiarch:12"
    out = CliRunner().invoke(cli, ["inspect", "-v", "-u", USER, "--password-stdin", ref], input=PASSWORD + "\n")
    assert out.exit_code == 0, out.output
    assert fixture_set.image("debian-multiarch:12").digest in out.stdout
    assert "--username" in out.stdout
    assert PASSWORD not in out.output


def test_basic_auth_wrong_password(basic_registry: Registry) -> None:
    out = CliRunner().invoke(
        cli,
        ["inspect", "-u", USER, "--password-stdin", f"{basic_registry.host}/debian-multiarch:12"],
        input="wrong\n",
    )
    assert out.exit_code == 2
    assert "wrong" not in out.output
    assert len(out.stderr.strip().splitlines()) == 1


def test_docker_config_json(basic_registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    (tmp_path / "config.json").write_text(json.dumps({"auths": {basic_registry.host: {"auth": auth}}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    out = CliRunner().invoke(cli, ["inspect", "-v", f"{basic_registry.host}/debian-multiarch:12"])
    assert out.exit_code == 0, out.output
    assert "config.json" in out.stdout
    assert auth not in out.stdout and PASSWORD not in out.stdout


def test_env_credentials(basic_registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVENANT_REGISTRY_USERNAME", USER)
    monkeypatch.setenv("PROVENANT_REGISTRY_PASSWORD", PASSWORD)
    with Session() as session:
        result = inspect(session, f"{basic_registry.host}/debian-amd64:12")
    assert result.registry is not None
    assert "PROVENANT_REGISTRY_USERNAME" in (result.registry.credential_source or "")


def test_bearer_anonymous_and_token_reuse(
    token_registry: Registry, token_service: TokenService, fixture_set: FixtureSet
) -> None:
    before = len(token_service.requests)
    with Session() as session:
        result = inspect(session, f"{token_registry.host}/debian-multiarch:12")
    assert result.digest == fixture_set.image("debian-multiarch:12").digest
    token_requests = token_service.requests[before:]
    # one token for the repository's pull scope, reused for every later request
    assert len(token_requests) == 1
    assert token_requests[0]["user"] is None
    assert token_requests[0]["query"]["scope"] == ["repository:debian-multiarch:pull"]


def test_bearer_with_credentials(token_registry: Registry, token_service: TokenService) -> None:
    before = len(token_service.requests)
    with Session(RegistryOptions(username=USER, password=PASSWORD)) as session:
        inspect(session, f"{token_registry.host}/debian-amd64:12")
    assert [r["user"] for r in token_service.requests[before:]] == [USER]


def test_bearer_wrong_credentials(token_registry: Registry) -> None:
    with (
        Session(RegistryOptions(username=USER, password="nope")) as session,
        pytest.raises(AuthenticationError),
    ):
        inspect(session, f"{token_registry.host}/debian-amd64:12")
