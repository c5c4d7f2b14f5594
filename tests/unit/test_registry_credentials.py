"""Credential sources and their order, credential helpers, and that secrets never leak."""

from __future__ import annotations

import base64
import json
import logging
import os
import sys
from pathlib import Path

import pytest

from provenant.errors import CredentialError, ProvenantError
from provenant.sources.registry import Credential, CredentialResolver, RegistryOptions, default_docker_config
from tests.fakeregistry import Canned, FakeRegistry, make_client, ref

HELPER = """#!{python}
import json, os, sys
url = sys.stdin.read().strip()
with open(os.environ["FAKE_HELPER_LOG"], "a") as log:
    log.write(sys.argv[1] + " " + url + "\\n")
mode = os.environ.get("FAKE_HELPER_MODE", "ok")
if mode == "notfound":
    print("credentials not found in native keychain")
    sys.exit(1)
if mode == "fail":
    print("gpg: decryption failed: No secret key", file=sys.stderr)
    sys.exit(1)
if mode == "leak":
    json.dump({{"ServerURL": url, "Username": "helper-user", "Secret": "leaked-secret-4242"}}, sys.stdout)
    print("Secret: leaked-secret-4242", file=sys.stderr)
    sys.exit(3)
if mode == "token":
    json.dump({{"ServerURL": url, "Username": "<token>", "Secret": "helper-refresh-token-777"}}, sys.stdout)
else:
    json.dump({{"ServerURL": url, "Username": "helper-user", "Secret": "helper-secret-777"}}, sys.stdout)
"""


@pytest.fixture
def helper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Installs ``docker-credential-fake`` on PATH; returns the file it logs ``get <url>`` lines to."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    script = bindir / "docker-credential-fake"
    script.write_text(HELPER.format(python=sys.executable))
    script.chmod(0o755)
    log = tmp_path / "helper.log"
    log.write_text("")
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("FAKE_HELPER_LOG", str(log))
    return log


def _config(tmp_path: Path, obj: object) -> Path:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(obj))
    return path


def _resolver(config: Path | None = None, env: dict[str, str] | None = None, **opts: object) -> CredentialResolver:
    options = RegistryOptions(docker_config=config or Path("/nonexistent/config.json"), **opts)  # type: ignore[arg-type]
    return CredentialResolver(options, env or {})


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_explicit_credentials_win(tmp_path: Path) -> None:
    config = _config(tmp_path, {"auths": {"reg.test": {"auth": _b64("cfg:cfgpw")}}})
    env = {"PROVENANT_REGISTRY_USERNAME": "envu", "PROVENANT_REGISTRY_PASSWORD": "envp"}
    cred = _resolver(config, env, username="cli", password="clipw").resolve("reg.test")
    assert (cred.username, cred.password, cred.source) == ("cli", "clipw", "--username")
    with pytest.raises(CredentialError, match="together"):
        _resolver(username="cli").resolve("reg.test")


def test_env_vars_apply_to_every_registry(tmp_path: Path) -> None:
    config = _config(tmp_path, {"auths": {"reg.test": {"auth": _b64("cfg:cfgpw")}}})
    env = {"PROVENANT_REGISTRY_USERNAME": "envu", "PROVENANT_REGISTRY_PASSWORD": "envp"}
    r = _resolver(config, env)
    for host in ("reg.test", "other.test:5000", "docker.io"):
        cred = r.resolve(host)
        assert (cred.username, cred.password) == ("envu", "envp")
        assert cred.source == "env PROVENANT_REGISTRY_USERNAME"
    with pytest.raises(CredentialError, match="PROVENANT_REGISTRY_PASSWORD is empty or unset"):
        _resolver(env={"PROVENANT_REGISTRY_USERNAME": "u"}).resolve("reg.test")


@pytest.mark.parametrize(
    "key", ["reg.test:5000", "https://reg.test:5000", "http://reg.test:5000/v1/", "https://REG.test:5000/v2/"]
)
def test_config_auths_key_forms(tmp_path: Path, key: str) -> None:
    config = _config(tmp_path, {"auths": {key: {"auth": _b64("alice:pa:ss")}}})
    cred = _resolver(config).resolve("reg.test:5000")
    assert (cred.username, cred.password) == ("alice", "pa:ss")
    assert cred.source == f"config.json auths ({config})"
    assert _resolver(config).resolve("reg.test").anonymous


def test_config_auths_username_password_fields_and_identity_token(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        {
            "auths": {
                "a.test": {"username": "u", "password": "p"},
                "b.test": {"identitytoken": "idtok", "auth": _b64("u2:")},
                "c.test": {},
            }
        },
    )
    r = _resolver(config)
    assert (r.resolve("a.test").username, r.resolve("a.test").password) == ("u", "p")
    b = r.resolve("b.test")
    assert b.identity_token == "idtok" and not b.anonymous and not b.has_basic
    assert r.resolve("c.test").source == "anonymous"


@pytest.mark.parametrize("host", ["docker.io", "index.docker.io", "registry-1.docker.io"])
def test_docker_hub_key(tmp_path: Path, host: str) -> None:
    config = _config(tmp_path, {"auths": {"https://index.docker.io/v1/": {"auth": _b64("hubuser:hubpw")}}})
    assert _resolver(config).resolve(host).username == "hubuser"


def test_default_docker_config_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "dc"))
    assert default_docker_config() == tmp_path / "dc" / "config.json"
    monkeypatch.delenv("DOCKER_CONFIG")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_docker_config() == tmp_path / ".docker" / "config.json"
    assert RegistryOptions().docker_config_path() == tmp_path / ".docker" / "config.json"


def test_cred_helpers_per_host(tmp_path: Path, helper: Path) -> None:
    config = _config(
        tmp_path,
        {
            "credHelpers": {"reg.test": "fake", "docker.io": "fake"},
            "auths": {"reg.test": {"auth": _b64("x:y")}},
        },
    )
    r = _resolver(config)
    cred = r.resolve("reg.test")
    assert (cred.username, cred.password) == ("helper-user", "helper-secret-777")
    assert cred.source == "credential helper docker-credential-fake"
    r.resolve("registry-1.docker.io")
    assert helper.read_text().splitlines() == ["get reg.test", "get https://index.docker.io/v1/"]
    r.resolve("reg.test")  # cached: the helper is not asked again
    assert len(helper.read_text().splitlines()) == 2
    assert r.resolve("unrelated.test").source == "anonymous"


def test_creds_store_and_identity_token(tmp_path: Path, helper: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = _config(tmp_path, {"credsStore": "fake"})
    monkeypatch.setenv("FAKE_HELPER_MODE", "token")
    cred = _resolver(config).resolve("any.test:5000")
    assert cred.identity_token == "helper-refresh-token-777"
    assert cred.username is None and cred.password is None
    assert helper.read_text().strip() == "get any.test:5000"


def test_helper_not_found_means_anonymous_or_auths(
    tmp_path: Path, helper: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_HELPER_MODE", "notfound")
    config = _config(tmp_path, {"credsStore": "fake", "auths": {"b.test": {"auth": _b64("bu:bp")}}})
    r = _resolver(config)
    assert r.resolve("a.test").source == "anonymous"
    assert r.resolve("b.test").username == "bu"


def test_failing_or_missing_helper_is_a_credential_error(
    tmp_path: Path, helper: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_HELPER_MODE", "fail")
    config = _config(tmp_path, {"credHelpers": {"a.test": "fake", "b.test": "missing"}})
    with pytest.raises(CredentialError) as info:
        _resolver(config).resolve("a.test")
    assert "docker-credential-fake" in info.value.message and "exit status 1" in info.value.message
    assert "gpg" not in info.value.diagnostics()  # the helper's output is never shown
    with pytest.raises(CredentialError) as info:
        _resolver(config).resolve("b.test")
    assert "docker-credential-missing" in info.value.message and "not found on PATH" in info.value.message


def test_a_failing_helper_s_output_is_never_shown(
    tmp_path: Path, helper: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_HELPER_MODE", "leak")
    config = _config(tmp_path, {"credHelpers": {"a.test": "fake"}})
    with pytest.raises(CredentialError) as info:
        _resolver(config).resolve("a.test")
    text = info.value.diagnostics()
    assert "docker-credential-fake failed for a.test (exit status 3)" in text
    assert "leaked-secret-4242" not in text and "Secret" not in text


def test_broken_config_names_the_file_not_the_secret(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text('{"auths": {"a.test": {"auth": "c2VjcmV0LXZhbHVl"}')  # truncated JSON
    with pytest.raises(CredentialError) as info:
        _resolver(path).resolve("a.test")
    assert str(path) in info.value.message and "not valid JSON" in info.value.message
    # not base64; outside ASCII (base64's own ValueError); base64 of bytes that are not UTF-8
    for auth in ("!!not-base64-super-secret!!", "super-secr\u00e9t", "/3N1cGVyLXNlY3JldA=="):
        path.write_text(json.dumps({"auths": {"a.test": {"auth": auth}}}))
        with pytest.raises(CredentialError) as info:
            _resolver(path).resolve("a.test")
        assert str(path) in info.value.message and "that is not base64 of user:password" in info.value.message
        assert "super-secr" not in info.value.diagnostics()


def test_verbose_credential_source_through_the_client(tmp_path: Path) -> None:
    fake = FakeRegistry()
    fake.put_image("team/app", tag="v1")
    fake.require_basic("cfguser", "cfgpw")
    config = _config(tmp_path, {"auths": {"127.0.0.1:5000": {"auth": _b64("cfguser:cfgpw")}}})
    client, _ = make_client(fake, docker_config=config)
    assert client.credential_source("127.0.0.1:5000") == "anonymous"  # not asked for yet
    client.get_manifest(ref(fake, "team/app:v1"), "v1")
    assert client.credential_source("127.0.0.1:5000") == f"config.json auths ({config})"


SECRETS = [
    "opt-pass-9f2",
    "env-pass-4c1",
    "cfg-pass-7a8",
    "idtok-5e3",
    "helper-secret-777",
    "helper-refresh-token-777",
]


def _assert_clean(*objects: object) -> None:
    for obj in objects:
        texts = [repr(obj), str(obj)]
        if isinstance(obj, ProvenantError):
            texts += [obj.diagnostics(), obj.hint or "", repr(obj.args)]
        for text in texts:
            for secret in SECRETS:
                assert secret not in text, f"{secret!r} leaked into {text!r}"
                assert base64.b64encode(secret.encode()).decode()[:12] not in text


def test_no_secret_in_any_message_repr_or_log(
    tmp_path: Path, helper: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    seen: list[object] = []

    opts = RegistryOptions(username="u", password="opt-pass-9f2")
    seen += [opts, Credential("x", "u", "opt-pass-9f2", "idtok-5e3")]

    # Wrong basic password from the options.
    fake = FakeRegistry()
    fake.put_image("team/app", tag="v1")
    fake.require_basic("u", "right")
    client, _ = make_client(fake, username="u", password="opt-pass-9f2")
    with pytest.raises(ProvenantError) as e1:
        client.get_manifest(ref(fake, "team/app:v1"), "v1")
    seen += [e1.value, client, client.options]

    # Token refused for env credentials, then retries exhausted on the token endpoint.
    fake2 = FakeRegistry()
    fake2.put_image("team/app", tag="v1")
    fake2.require_bearer(users={"u": "right"}, anonymous_pull=False)
    env = {"PROVENANT_REGISTRY_USERNAME": "u", "PROVENANT_REGISTRY_PASSWORD": "env-pass-4c1"}
    client2, _ = make_client(fake2, env=env)
    with pytest.raises(ProvenantError) as e2:
        client2.get_manifest(ref(fake2, "team/app:v1"), "v1")
    fake2.inject("/token", *[Canned(503) for _ in range(3)])
    client3, _ = make_client(fake2, env=env, max_retries=2)
    with pytest.raises(ProvenantError) as e3:
        client3.get_manifest(ref(fake2, "team/app:v1"), "v1")
    seen += [e2.value, e3.value, client2, client3]

    # config.json password and identity token, rejected.
    config = _config(
        tmp_path,
        {
            "auths": {
                "127.0.0.1:5000": {"auth": _b64("u:cfg-pass-7a8")},
                "127.0.0.2:5000": {"identitytoken": "idtok-5e3"},
            }
        },
    )
    client4, _ = make_client(fake, docker_config=config)
    with pytest.raises(ProvenantError) as e4:
        client4.get_manifest(ref(fake, "team/app:v1"), "v1")
    fake5 = FakeRegistry(host="127.0.0.2:5000")
    fake5.put_image("team/app", tag="v1")
    fake5.require_bearer(identity_tokens={"other"}, anonymous_pull=False)
    client5, _ = make_client(fake5, docker_config=config)
    with pytest.raises(ProvenantError) as e5:
        client5.get_manifest(ref(fake5, "team/app:v1"), "v1")
    seen += [e4.value, e5.value, CredentialResolver(RegistryOptions(docker_config=config), {})]

    # Helper credentials and helper identity tokens, rejected.
    hconfig = _config(tmp_path, {"credsStore": "fake"})
    client6, _ = make_client(fake, docker_config=hconfig)
    with pytest.raises(ProvenantError) as e6:
        client6.get_manifest(ref(fake, "team/app:v1"), "v1")
    monkeypatch.setenv("FAKE_HELPER_MODE", "token")
    client7, _ = make_client(fake5, docker_config=hconfig)
    with pytest.raises(ProvenantError) as e7:
        client7.get_manifest(ref(fake5, "team/app:v1"), "v1")
    r = CredentialResolver(RegistryOptions(docker_config=hconfig), {})
    seen += [e6.value, e7.value, r.resolve("x.test"), r]

    _assert_clean(*seen)
    for rec in caplog.records:
        _assert_clean(rec.getMessage())
