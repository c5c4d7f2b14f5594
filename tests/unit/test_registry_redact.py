"""Server text in messages: credentials masked, escapes shown escaped, one short line."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx
import pytest

from provenant.errors import AuthenticationError, RegistryError
from provenant.reference import Reference
from provenant.sources.registry import RegistryClient, RegistryOptions
from provenant.sources.registry.redact import redact, remember, reset, server_text

NO_CONFIG = Path("/nonexistent/provenant-test/config.json")


@pytest.fixture(autouse=True)
def _no_remembered_secrets() -> None:
    # Secrets are remembered process-wide; another test's password ("wrong") must not mask this one's prose.
    reset()


def test_basic_and_bearer_values_and_token_fields_are_masked() -> None:
    text = 'bad header Authorization: Basic dTpzZWNyZXRwdw== and bearer eyJhbGci.x.y; {"token": "tok-123456"}'
    out = redact(text)
    assert "dTpzZWNyZXRwdw==" not in out and "eyJhbGci" not in out and "tok-123456" not in out
    assert "Basic ***" in out and "bearer ***" in out and '"token": "***"' in out


def test_remembered_secrets_are_masked_anywhere() -> None:
    remember("hunter2-pw", None, "ab")  # too short to mask: ignored
    assert redact("password was hunter2-pw, ab") == "password was ***, ab"
    assert server_text("a\x1b]0;title\x07b\n" + "x" * 500, limit=40).startswith("a\\x1b]0;title\\x07b")
    assert len(server_text("y" * 500, limit=40)) == 40


def _client(answer: httpx.Response, **opts: object) -> RegistryClient:
    options = RegistryOptions(
        transport=httpx.MockTransport(lambda r: answer),
        sleep=lambda _: None,
        docker_config=NO_CONFIG,
        **opts,  # type: ignore[arg-type]
    )
    return RegistryClient(options, env={})


@pytest.mark.parametrize("status", [400, 403, 503])
def test_registry_errors_echoing_credentials_and_escapes_are_cleaned(status: int) -> None:
    echoed = base64.b64encode(b"alice:pa55-word-77").decode()
    message = f"\x1b[2Jdenied: Authorization: Basic {echoed} pa55-word-77 \x9b31m"
    body = json.dumps({"errors": [{"code": "DENIED\x1b[5m", "message": message}]}).encode()
    answer = httpx.Response(
        status, content=body, extensions={"reason_phrase": b"Nope \x1b]52;c;aGk=\x07"}, headers={"Retry-After": "0"}
    )
    client = _client(answer, username="alice", password="pa55-word-77", max_retries=0)
    client._credentials.resolve("127.0.0.1:5000")  # as a challenge would have made it do
    with pytest.raises(RegistryError) as info:
        client.get_manifest(Reference.parse("127.0.0.1:5000/team/app:1"), "1")
    text = info.value.diagnostics()
    assert "pa55-word-77" not in text and echoed not in text
    assert not any(ch in text for ch in "\x1b\x07\x9b\n")
    assert "\\x1b" in text


def test_token_service_errors_are_cleaned_too() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "127.0.0.1" and request.url.path.startswith("/v2/"):
            return httpx.Response(401, headers={"WWW-Authenticate": 'Bearer realm="http://127.0.0.1:5000/token"'})
        msg = f"invalid credentials {request.headers.get('authorization')}\x1b[2J"
        return httpx.Response(401, json={"errors": [{"code": "UNAUTHORIZED", "message": msg}]})

    options = RegistryOptions(
        transport=httpx.MockTransport(handler),
        sleep=lambda _: None,
        docker_config=NO_CONFIG,
        username="bob",
        password="tok-pass-99",
    )
    with pytest.raises(AuthenticationError) as info:
        RegistryClient(options, env={}).get_manifest(Reference.parse("127.0.0.1:5000/team/app:1"), "1")
    text = info.value.diagnostics()
    assert "UNAUTHORIZED" in text and "Basic ***" in text
    assert base64.b64encode(b"bob:tok-pass-99").decode() not in text and "\x1b" not in text


def test_prose_is_not_mistaken_for_a_credential() -> None:
    for text in ("basic authentication required", "Bearer token expired", "token: expired", "password: wrong"):
        assert redact(text) == text


def test_mixed_case_values_are_masked() -> None:
    assert redact("authorization: bearer AbCdEfGhIj") == "authorization: bearer ***"
    assert redact("PASSWORD=Hunter") == "PASSWORD=***"
