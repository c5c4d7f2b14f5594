"""Registry auth: anonymous and credentialed Bearer tokens, Basic, renewal, expiry, challenge parsing."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from urllib.parse import parse_qsl

import httpx
import pytest

from provenant.errors import AuthenticationError, RegistryError
from provenant.sources.registry.challenge import parse_www_authenticate, pick_challenge
from provenant.sources.registry.client import RegistryClient
from provenant.sources.registry.failures import auth_hint
from tests.fakeregistry import Canned, FakeClock, FakeRegistry, make_client, ref

AUTH_HOST = "auth.example.test"


def _image(fake: FakeRegistry) -> str:
    return fake.put_image("team/app", tag="v1").digest


def test_anonymous_bearer_token_is_fetched_once_and_reused() -> None:
    fake = FakeRegistry()
    digest = _image(fake)
    fake.require_bearer()
    client, _ = make_client(fake)
    r = ref(fake, "team/app:v1")

    raw = client.get_manifest(r, "v1")
    assert raw.data == fake.manifest("team/app", "v1")[0]  # type: ignore[index]
    # 401, token, retry with the token.
    assert client.request_count == 3
    token_requests = fake.matching("GET", host=AUTH_HOST)
    assert len(token_requests) == 1
    assert "authorization" not in token_requests[0].headers
    assert token_requests[0].url.params.get_list("scope") == ["repository:team/app:pull"]
    assert token_requests[0].url.params.get("service") == "fake-registry"

    client.get_manifest(r, digest)
    assert client.request_count == 4  # the cached token went along preemptively
    assert fake.count(host=AUTH_HOST) == 1
    assert client.credential_source("127.0.0.1:5000") == "anonymous"


def test_token_for_a_new_repository_is_fetched_before_the_first_request() -> None:
    fake = FakeRegistry()
    _image(fake)
    fake.put_image("team/other", tag="v1")
    fake.require_bearer()
    client, _ = make_client(fake)
    client.get_manifest(ref(fake, "team/app:v1"), "v1")
    before = client.request_count
    client.get_manifest(ref(fake, "team/other:v1"), "v1")
    # The realm is known: token (new scope) + manifest, no 401 round trip.
    assert client.request_count - before == 2
    assert fake.count(host=AUTH_HOST) == 2


def test_credentialed_bearer_sends_basic_to_the_realm_only() -> None:
    fake = FakeRegistry()
    _image(fake)
    fake.require_bearer(users={"alice": "s3cret-pw"}, anonymous_pull=False)
    client, _ = make_client(fake, username="alice", password="s3cret-pw")
    client.get_manifest(ref(fake, "team/app:v1"), "v1")
    assert client.request_count == 3
    (tok,) = fake.matching(host=AUTH_HOST)
    assert tok.headers["authorization"].startswith("Basic ")
    registry_auth = [r.headers.get("authorization", "") for r in fake.matching(host="127.0.0.1:5000")]
    assert registry_auth[0] == ""
    assert registry_auth[1].startswith("Bearer ")
    assert all(not h.startswith("Basic") for h in registry_auth)
    assert client.credential_source("127.0.0.1:5000") == "--username"


def test_push_scope_token_is_requested_for_uploads() -> None:
    fake = FakeRegistry()
    _image(fake)
    fake.require_bearer(users={"alice": "pw"}, anonymous_pull=False)
    client, _ = make_client(fake, username="alice", password="pw")
    client.push_blob(ref(fake, "team/app:v1"), b"new blob")
    scopes = [r.url.params.get_list("scope") for r in fake.matching(host=AUTH_HOST)]
    assert scopes[0][0] == "repository:team/app:pull,push"
    assert fake.count(host=AUTH_HOST) == 1


def test_anonymous_access_refused_is_one_line_authentication_error() -> None:
    fake = FakeRegistry()
    _image(fake)
    fake.require_bearer(users={"alice": "pw"}, anonymous_pull=False)
    client, _ = make_client(fake)
    with pytest.raises(AuthenticationError) as info:
        client.get_manifest(ref(fake, "team/app:v1"), "v1")
    text = info.value.diagnostics()
    assert "\n" not in text
    assert "127.0.0.1:5000" in text
    assert "docker login" in text and "--password-stdin" in text and "PROVENANT_REGISTRY_USERNAME" in text
    # 401, token (fresh, refused again) -> give up: no endless renewal.
    assert client.request_count == 3


def test_token_service_rejecting_credentials_names_the_source_not_the_secret() -> None:
    fake = FakeRegistry()
    _image(fake)
    fake.require_bearer(users={"alice": "right"}, anonymous_pull=False)
    client, _ = make_client(fake, username="alice", password="wrong-secret-1234")
    with pytest.raises(AuthenticationError) as info:
        client.get_manifest(ref(fake, "team/app:v1"), "v1")
    text = info.value.diagnostics()
    assert "--username" in text
    assert "wrong-secret-1234" not in text and "wrong-secret-1234" not in repr(info.value)


def test_basic_auth_then_preemptive() -> None:
    fake = FakeRegistry()
    digest = _image(fake)
    fake.require_basic("bob", "hunter2")
    client, _ = make_client(fake, username="bob", password="hunter2")
    r = ref(fake, "team/app:v1")
    client.get_manifest(r, "v1")
    assert client.request_count == 2  # 401 + retry with Basic
    client.get_manifest(r, digest)
    assert client.request_count == 3  # Basic sent preemptively
    assert fake.requests[-1].headers["authorization"].startswith("Basic ")


def test_basic_auth_without_credentials() -> None:
    fake = FakeRegistry()
    _image(fake)
    fake.require_basic("bob", "hunter2")
    client, _ = make_client(fake)
    with pytest.raises(AuthenticationError) as info:
        client.get_manifest(ref(fake, "team/app:v1"), "v1")
    assert "requires basic authentication" in info.value.message
    assert "anonymous" in info.value.message
    assert client.request_count == 1


def test_basic_auth_rejected_credentials() -> None:
    fake = FakeRegistry()
    _image(fake)
    fake.require_basic("bob", "hunter2")
    client, _ = make_client(fake, username="bob", password="not-hunter2")
    with pytest.raises(AuthenticationError) as info:
        client.get_manifest(ref(fake, "team/app:v1"), "v1")
    err = info.value
    assert err.status == 401
    assert "UNAUTHORIZED" in err.message
    assert "--username were rejected" in (err.hint or "")
    assert "not-hunter2" not in err.diagnostics()
    assert client.request_count == 2


def test_token_renewed_once_after_401_with_cached_token() -> None:
    fake = FakeRegistry()
    digest = _image(fake)
    fake.require_bearer()
    client, _ = make_client(fake)
    r = ref(fake, "team/app:v1")
    client.get_manifest(r, "v1")
    fake.revoke_tokens()
    client.get_manifest(r, digest)
    # cached token refused (401) -> new token -> retry.
    assert client.request_count == 6
    assert fake.tokens_issued == 2
    client.get_manifest(r, digest)
    assert client.request_count == 7


def test_token_expiry_from_expires_in_is_honoured() -> None:
    clock = FakeClock()
    fake = FakeRegistry(clock=clock)
    _image(fake)
    fake.require_bearer(token_ttl=120)
    client, _ = make_client(fake, clock=clock)
    r = ref(fake, "team/app:v1")
    client.get_manifest(r, "v1")
    clock.advance(100)
    client.get_manifest(r, "v1")
    assert fake.tokens_issued == 1
    clock.advance(30)  # past expires_in: a new token before the request, no 401
    n = client.request_count
    client.get_manifest(r, "v1")
    assert fake.tokens_issued == 2
    assert client.request_count - n == 2
    assert fake.count(path="/manifests/") == 4  # first 401 only


def test_token_without_expires_in_lives_60_seconds_and_access_token_field() -> None:
    clock = FakeClock()
    fake = FakeRegistry(clock=clock)
    _image(fake)
    fake.require_bearer(token_ttl=None, token_field="access_token")
    client, _ = make_client(fake, clock=clock)
    r = ref(fake, "team/app:v1")
    client.get_manifest(r, "v1")
    clock.advance(40)
    client.get_manifest(r, "v1")
    assert fake.tokens_issued == 1
    clock.advance(30)
    client.get_manifest(r, "v1")
    assert fake.tokens_issued == 2


def test_identity_token_uses_oauth2_refresh_grant(tmp_path: Path) -> None:
    fake = FakeRegistry()
    _image(fake)
    fake.require_bearer(identity_tokens={"refresh-abc"}, anonymous_pull=False)
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"auths": {"127.0.0.1:5000": {"identitytoken": "refresh-abc"}}}))
    client, _ = make_client(fake, docker_config=config)
    client.get_manifest(ref(fake, "team/app:v1"), "v1")
    (post,) = fake.matching("POST", host=AUTH_HOST)
    form = dict(pair.split("=", 1) for pair in post.content.decode().split("&"))
    assert form["grant_type"] == "refresh_token"
    assert form["refresh_token"] == "refresh-abc"
    assert form["scope"] == "repository%3Ateam%2Fapp%3Apull"
    assert "authorization" not in post.headers
    assert client.credential_source("127.0.0.1:5000").startswith("config.json auths (")


def test_realm_on_the_registry_host() -> None:
    fake = FakeRegistry()
    _image(fake)
    fake.require_bearer(realm="http://127.0.0.1:5000/token", users={"u": "p"})
    client, _ = make_client(fake, username="u", password="p")
    client.get_manifest(ref(fake, "team/app:v1"), "v1")
    (tok,) = fake.matching(path="/token")
    assert tok.headers["authorization"].startswith("Basic ")


def test_concurrent_requests_share_one_token() -> None:
    fake = FakeRegistry()
    img = fake.put_image("team/app", tag="v1", layers=[bytes([i]) * 1000 for i in range(8)])
    fake.require_bearer()
    client, _ = make_client(fake)
    r = ref(fake, "team/app:v1")
    from provenant.digest import Digest

    errors: list[BaseException] = []

    def fetch(d: str) -> None:
        try:
            client.get_blob(r, Digest.parse(d), None)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=fetch, args=(d,)) for d in img.layer_digests]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert fake.tokens_issued == 1


def test_a_token_renewed_by_another_thread_while_this_one_waited_is_taken_not_fetched_again() -> None:
    """The step after the per-scope lock, made deterministic: the thread that waited finds a token in the
    cache. One other than the token the registry refused is used as it is; the refused one is dropped and a
    new one fetched (once, for this host and scope only)."""
    from provenant.sources.registry.auth import _Token
    from provenant.sources.registry.challenge import pick_challenge

    fake = FakeRegistry()
    fake.require_bearer()
    client = _bearer_client(fake)
    auth = client._auth  # the step under test has no public seam
    challenge = pick_challenge(f'Bearer realm="https://{AUTH_HOST}/token",service="fake-registry"')
    assert challenge is not None
    later = fake.clock() + 300
    scope = "repository:team/app:pull"
    auth._tokens[(HOST, scope)] = _Token("renewed", later)
    auth._tokens[("other:5000", scope)] = _Token("elsewhere", later)
    auth._tokens[(HOST, "repository:other:pull")] = _Token("other-scope", later)
    taken = auth._token_attempt(HOST, scope, challenge, stale="refused")
    assert (taken.header, taken.fresh, fake.tokens_issued) == ("Bearer renewed", False, 0)
    fetched = auth._token_attempt(HOST, scope, challenge, stale="renewed")
    assert fetched.fresh and fetched.header != "Bearer renewed" and fake.tokens_issued == 1
    assert auth._tokens[(HOST, scope)].value == fetched.header.removeprefix("Bearer ")  # type: ignore[union-attr]
    assert auth._tokens[("other:5000", scope)].value == "elsewhere"
    assert auth._tokens[(HOST, "repository:other:pull")].value == "other-scope"
    assert set(auth._key_locks) == {(HOST, scope)}
    # a refused token is dropped before the new one is asked for: if that fails, it is not sent again
    auth._tokens[(HOST, scope)] = _Token("refused-again", later)
    fake.inject("/token", Canned(400))
    with pytest.raises(RegistryError):
        auth._token_attempt(HOST, scope, challenge, stale="refused-again")
    assert (HOST, scope) not in auth._tokens


def test_challenge_parser_handles_quotes_commas_and_several_challenges() -> None:
    (ch,) = parse_www_authenticate(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
        'scope="repository:library/alpine:pull,push"'
    )
    assert ch.scheme == "bearer"
    assert ch.params == {
        "realm": "https://auth.docker.io/token",
        "service": "registry.docker.io",
        "scope": "repository:library/alpine:pull,push",
    }
    several = parse_www_authenticate(
        'Basic realm="a, \\"b\\"", Bearer realm="https://x/t?a=1,2", error="invalid_token"'
    )
    assert [c.scheme for c in several] == ["basic", "bearer"]
    assert several[0].realm == 'a, "b"'
    assert several[1].params["realm"] == "https://x/t?a=1,2"
    unquoted = parse_www_authenticate("bearer REALM=https://x/token , Service=reg")
    assert unquoted[0].params == {"realm": "https://x/token", "service": "reg"}
    assert pick_challenge('Basic realm="r", Bearer realm="t"').scheme == "bearer"  # type: ignore[union-attr]
    assert pick_challenge("Negotiate abc==") is None
    assert pick_challenge(None) is None


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('Bearer\trealm="r"', [("bearer", {"realm": "r"})]),
        ('\t, ,Bearer realm="r"', [("bearer", {"realm": "r"})]),
        ('Negotiate abc==, Bearer realm="r"', [("negotiate", {}), ("bearer", {"realm": "r"})]),  # a token68
        ("Negotiate abc", [("negotiate", {})]),
        ('Bearer token68abc, realm="r"', [("bearer", {"realm": "r"})]),
        ('Bearer realm=, service="s"', [("bearer", {"service": "s"})]),  # an empty value is no value
        ('Bearer realm===, service="s"', [("bearer", {"service": "s"})]),
        ('realm="orphan", Bearer realm="r"', [("bearer", {"realm": "r"})]),  # a parameter before any scheme
        ('Bearer realm="unterminated', [("bearer", {"realm": "unterminated"})]),
        ('Bearer realm="a\\\\b\\"c"', [("bearer", {"realm": 'a\\b"c'})]),  # quoted-pair escapes
        ('Bearer realm="x\\', [("bearer", {"realm": "x\\"})]),  # a backslash at the very end is kept
        ('@@ Bearer realm="r"', [("bearer", {"realm": "r"})]),  # stray characters are skipped
        ('Bearer realm = "spaced" , scope= s1 ', [("bearer", {"realm": "spaced", "scope": "s1"})]),
        ("Bearer realm=r1,realm=r2", [("bearer", {"realm": "r2"})]),
        ('Bearer realm="r",', [("bearer", {"realm": "r"})]),
        ("Basic", [("basic", {})]),
        ('Bearer realm="r" Basic realm="b"', [("bearer", {"realm": "r"}), ("basic", {"realm": "b"})]),
        ("Bearer realm=a b c,service=s", [("bearer", {"realm": "a b c", "service": "s"})]),
        ('Bearer r=""', [("bearer", {"r": ""})]),
        ("Bearer realm=X", [("bearer", {"realm": "X"})]),
        ('X-Custom realm="r"', [("x-custom", {"realm": "r"})]),
        ("Bearer realm=", [("bearer", {})]),
        ('Bearer realm="a\\"', [("bearer", {"realm": 'a"'})]),  # an escaped quote as the last character
        ('Bearer realm="r"service="s"', [("bearer", {"realm": "r", "service": "s"})]),
        ('@Bearer realm="r"', [("bearer", {"realm": "r"})]),
        ('Bearer a==b="c"', [("bearer", {"b": "c"})]),
        ('ab="x,Bearer realm=y", Bearer realm="r"', [("bearer", {"realm": "r"})]),  # a quoted orphan is one value
        ("Negotiate abc def", [("negotiate", {}), ("def", {})]),
    ],
)
def test_challenge_parser_on_odd_headers(header: str, expected: list[tuple[str, dict[str, str]]]) -> None:
    """Registries' headers as they come: every edge of the scanner, each with the one reading it gives."""
    assert [(c.scheme, c.params) for c in parse_www_authenticate(header)] == expected


def test_token_scopes_and_token_answers() -> None:
    from provenant.sources.registry.challenge import Challenge, read_token, token_scopes

    # the asked scope first, then the challenge's own, space-separated (a tab is part of a scope), no repeats
    challenge = Challenge("bearer", {"scope": "s2 s1  s2\tx s2"})
    assert token_scopes(challenge, "s1") == ["s1", "s2", "s2\tx"]
    assert read_token(b'{"token": 5}') is None and read_token(b'{"token": ""}') is None
    assert read_token(b'{"token": "t", "expires_in": 0}') == ("t", None)
    assert read_token(b'{"token": "t", "expires_in": 1}') == ("t", 1.0)
    assert read_token(b'{"access_token": "a", "expires_in": true}') == ("a", None)


# -- token service answers, realms and lifetimes, through the client -----------------------------------------


def _bearer_client(fake: FakeRegistry, **options: object) -> RegistryClient:
    _image(fake)
    client, _ = make_client(fake, **options)  # type: ignore[arg-type]
    return client


def _errors(code: str, message: str) -> bytes:
    return json.dumps({"errors": [{"code": code, "message": message}]}).encode()


HOST = "127.0.0.1:5000"


def test_token_service_refusals_name_the_service_the_registry_and_who_asked() -> None:
    fake = FakeRegistry()
    fake.require_bearer()
    client = _bearer_client(fake)
    fake.inject("/token", Canned(401, body=_errors("DENIED", "no anonymous pulls")))
    with pytest.raises(AuthenticationError) as info:
        client.get_manifest(ref(fake, "team/app:v1"), "v1")
    err = info.value
    assert err.message == (
        f"token service {AUTH_HOST} for registry {HOST} refused an anonymous token (401 Unauthorized: DENIED: no "
        "anonymous pulls)"
    )
    assert (err.status, err.code, err.hint) == (401, "DENIED", auth_hint(HOST))

    fake.inject("/token", Canned(403))
    creds = _bearer_client(fake, username="alice", password="pw")
    with pytest.raises(AuthenticationError) as info:
        creds.get_manifest(ref(fake, "team/app:v1"), "v1")
    assert info.value.message == (
        f"token service {AUTH_HOST} for registry {HOST} rejected the credentials from --username (403 Forbidden)"
    )
    assert (info.value.status, info.value.code) == (403, None)


def test_a_failing_or_empty_token_service() -> None:
    fake = FakeRegistry()
    fake.require_bearer()
    client = _bearer_client(fake)
    fake.inject("/token", Canned(400, body=_errors("UNSUPPORTED", "bad scope")))
    with pytest.raises(RegistryError) as info:
        client.get_manifest(ref(fake, "team/app:v1"), "v1")
    err = info.value
    assert not isinstance(err, AuthenticationError)
    assert (
        err.message == f"token service {AUTH_HOST} for registry {HOST} answered 400 Bad Request: UNSUPPORTED: bad scope"
    )
    assert (err.status, err.code, err.hint) == (
        400,
        "UNSUPPORTED",
        "the registry's token service is failing; try again later",
    )
    fake.inject("/token", Canned(302))
    with pytest.raises(RegistryError) as info:
        client.get_manifest(ref(fake, "team/app:v1"), "v1")
    assert info.value.message == f"token service {AUTH_HOST} for registry {HOST} answered 302 Found"
    fake.inject("/token", Canned(200, body=b'{"nothing": "here"}'))
    with pytest.raises(AuthenticationError) as info:
        client.get_manifest(ref(fake, "team/app:v1"), "v1")
    assert info.value.message == f"token service {AUTH_HOST} for registry {HOST} answered without a token"
    assert info.value.hint == "the registry's token service is misconfigured"


@pytest.mark.parametrize("token", ["t\u00f6ken", "tok\\ud800en", "two words", "tab\\tbed", ""])
def test_a_token_that_cannot_go_in_a_header_is_one_line(token: str) -> None:
    fake = FakeRegistry()
    fake.require_bearer()
    _image(fake)
    client = _bearer_client(fake)
    fake.inject("/token", Canned(200, body=b'{"token": "' + token.encode() + b'"}'))
    with pytest.raises(AuthenticationError) as info:
        client.get_manifest(ref(fake, "team/app:v1"), "v1")
    said = "without a token" if not token else "a token that cannot be sent in an HTTP header"
    if token:
        said += " (it holds characters other than printable ASCII)"
    assert info.value.message == f"token service {AUTH_HOST} for registry {HOST} answered {said}"
    assert info.value.hint == "the registry's token service is misconfigured"
    assert not [r for r in fake.requests if r.headers.get("authorization", "").startswith("Bearer")]


def test_challenges_without_a_realm_or_with_an_odd_one() -> None:
    fake = FakeRegistry()
    client = _bearer_client(fake)
    path = "/v2/team/app/manifests/v1"
    fake.inject(path, Canned(401, headers={"www-authenticate": 'Bearer service="s"'}))
    with pytest.raises(AuthenticationError) as info:
        client.get_manifest(ref(fake, "team/app:v1"), "v1")
    assert info.value.message == f"registry {HOST} sent a Bearer challenge without a realm; cannot get a token"
    assert (info.value.hint, info.value.status) == ("the registry is misconfigured", 401)
    fake.inject(path, Canned(401, headers={"www-authenticate": 'Bearer realm="ftp://auth.example.test/token"'}))
    with pytest.raises(AuthenticationError) as info:
        _bearer_client(fake).get_manifest(ref(fake, "team/app:v1"), "v1")
    assert info.value.message == f"registry {HOST} named a token realm with unsupported scheme 'ftp'"
    # a control character httpx will not put in a URL (the header's bytes as a server can send them)
    fake.inject(path, Canned(401, headers={"www-authenticate": b'Bearer realm="https://a\x1c.test/t"'}))  # type: ignore[dict-item]
    with pytest.raises(AuthenticationError) as info:
        _bearer_client(fake).get_manifest(ref(fake, "team/app:v1"), "v1")
    assert info.value.message == f"registry {HOST} named a token realm that is not a URL: https://a\\x1c.test/t"
    assert (info.value.hint, info.value.status) == ("the registry is misconfigured", 401)
    long_realm = b"https://a\x1c.test/" + b"t" * 300  # shown up to 200 characters
    fake.inject(path, Canned(401, headers={"www-authenticate": b'Bearer realm="' + long_realm + b'"'}))  # type: ignore[dict-item]
    with pytest.raises(AuthenticationError) as info:
        _bearer_client(fake).get_manifest(ref(fake, "team/app:v1"), "v1")
    assert info.value.message.endswith(": https://a\\x1c.test/" + "t" * 181)
    fake.inject(path, Canned(401))
    with pytest.raises(AuthenticationError) as info:
        _bearer_client(fake).get_manifest(ref(fake, "team/app:v1"), "v1")
    assert info.value.message == f"registry {HOST} answered 401 Unauthorized without a Basic or Bearer challenge"
    assert (info.value.hint, info.value.status) == (auth_hint(HOST), 401)


def test_credentials_never_go_to_a_plain_http_realm_elsewhere() -> None:
    fake = FakeRegistry()
    fake.require_bearer(realm=f"http://{AUTH_HOST}/token", users={"alice": "pw"})
    client = _bearer_client(fake, username="alice", password="pw")
    with pytest.raises(AuthenticationError) as info:
        client.get_manifest(ref(fake, "team/app:v1"), "v1")
    assert info.value.message == (
        f"registry {HOST} asks for credentials at a plain-HTTP token realm {AUTH_HOST}; refusing to send them "
        "unencrypted"
    )
    assert info.value.hint == "use --insecure only if you trust this network"
    assert fake.count(host=AUTH_HOST) == 0
    # Anonymous callers send nothing secret; --insecure is the user's explicit choice.
    _bearer_client(fake).get_manifest(ref(fake, "team/app:v1"), "v1")
    insecure = _bearer_client(fake, username="alice", password="pw", insecure=True)
    insecure.get_manifest(ref(fake, "team/app:v1"), "v1")
    assert fake.matching("GET", host=AUTH_HOST)[-1].headers["authorization"].startswith("Basic ")


def test_token_request_parameters() -> None:
    fake = FakeRegistry()
    fake.require_bearer(users={"alice": "pw"})
    _bearer_client(fake).get_manifest(ref(fake, "team/app:v1"), "v1")
    [anon] = fake.matching("GET", host=AUTH_HOST)
    assert list(anon.url.params.multi_items()) == [("service", "fake-registry"), ("scope", "repository:team/app:pull")]
    assert "authorization" not in anon.headers
    path = "/v2/team/app/manifests/v1"
    fake.inject(path, Canned(401, headers={"www-authenticate": f'Bearer realm="https://{AUTH_HOST}/token"'}))
    _bearer_client(fake, username="alice", password="pw").get_manifest(ref(fake, "team/app:v1"), "v1")
    no_service = fake.matching("GET", host=AUTH_HOST)[-1]
    assert list(no_service.url.params.multi_items()) == [("scope", "repository:team/app:pull")]
    assert no_service.headers["authorization"].startswith("Basic ")


def test_refresh_grant_form(tmp_path: Path) -> None:
    fake = FakeRegistry()
    fake.require_bearer(identity_tokens={"refresh-abc"}, users={"u": "p"}, anonymous_pull=False)
    entry = {"identitytoken": "refresh-abc"}
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"auths": {HOST: entry}}))
    _bearer_client(fake, docker_config=config).get_manifest(ref(fake, "team/app:v1"), "v1")
    (post,) = fake.matching("POST", host=AUTH_HOST)
    assert post.headers["content-type"] == "application/x-www-form-urlencoded"
    assert dict(parse_qsl(post.content.decode())) == {
        "grant_type": "refresh_token",
        "refresh_token": "refresh-abc",
        "client_id": "provenant",
        "scope": "repository:team/app:pull",
        "service": "fake-registry",
    }
    # A token service without the OAuth2 endpoint: without a password there is nothing to fall back to.
    fake.inject("/token", Canned(404), method="POST")
    with pytest.raises(RegistryError, match="answered 404 Not Found"):
        _bearer_client(fake, docker_config=config).get_manifest(ref(fake, "team/app:v1"), "v1")


@pytest.mark.parametrize(("ttl", "valid_until"), [(20, 18.0), (120, 115.0)])
def test_a_token_is_renewed_a_little_before_it_expires(ttl: int, valid_until: float) -> None:
    clock = FakeClock()
    fake = FakeRegistry(clock=clock)
    fake.require_bearer(token_ttl=ttl)
    client = _bearer_client(fake, clock=clock)
    r = ref(fake, "team/app:v1")
    client.get_manifest(r, "v1")
    clock.advance(valid_until - 0.5)
    client.get_manifest(r, "v1")
    assert fake.tokens_issued == 1
    clock.advance(1.0)
    client.get_manifest(r, "v1")
    assert fake.tokens_issued == 2


def test_reprs_never_show_a_secret() -> None:
    from provenant.sources.registry.auth import AuthAttempt

    assert repr(AuthAttempt("Bearer s3cr3t", fresh=True)) == "AuthAttempt(scheme='Bearer', fresh=True)"
    assert repr(AuthAttempt("Basic dTpw", fresh=False)) == "AuthAttempt(scheme='Basic', fresh=False)"
    assert repr(AuthAttempt(None, fresh=False)) == "AuthAttempt(scheme=None, fresh=False)"


def test_unreachable_token_service_is_named_with_its_registry() -> None:
    fake = FakeRegistry()
    fake.require_bearer()
    client = _bearer_client(fake, max_retries=0)
    fake.inject("/token", httpx.ConnectError("refused"))
    with pytest.raises(RegistryError) as info:
        client.get_manifest(ref(fake, "team/app:v1"), "v1")
    assert info.value.message == (
        f"cannot reach token service {AUTH_HOST} of registry {HOST} (GET https://{AUTH_HOST}/token): refused"
    )


def test_unreachable_refresh_endpoint_is_named_with_its_registry(tmp_path: Path) -> None:
    fake = FakeRegistry()
    fake.require_bearer(identity_tokens={"refresh-abc"}, anonymous_pull=False)
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"auths": {HOST: {"identitytoken": "refresh-abc"}}}))
    client = _bearer_client(fake, docker_config=config, max_retries=0)
    fake.inject("/token", httpx.ConnectError("refused"), method="POST")
    with pytest.raises(RegistryError) as info:
        client.get_manifest(ref(fake, "team/app:v1"), "v1")
    assert info.value.message == (
        f"cannot reach token service {AUTH_HOST} of registry {HOST} (POST https://{AUTH_HOST}/token): refused"
    )


def test_a_relative_realm_is_on_the_registry_host() -> None:
    fake = FakeRegistry()
    fake.require_bearer(realm=f"http://{HOST}/token", users={"u": "p"})
    path = "/v2/team/app/manifests/v1"
    fake.inject(path, Canned(401, headers={"www-authenticate": 'Bearer realm="/token",service="fake-registry"'}))
    _bearer_client(fake, username="u", password="p").get_manifest(ref(fake, "team/app:v1"), "v1")
    (tok,) = fake.matching(path="/token")
    assert (tok.host, tok.headers["authorization"][:6]) == (HOST, "Basic ")


def test_a_new_scope_does_not_carry_the_old_one() -> None:
    fake = FakeRegistry()
    fake.require_bearer()
    _image(fake)
    fake.put_image("team/other", tag="v1")
    client, _ = make_client(fake)
    client.get_manifest(ref(fake, "team/app:v1"), "v1")
    client.get_manifest(ref(fake, "team/other:v1"), "v1")
    first, second = fake.matching("GET", host=AUTH_HOST)
    assert first.url.params.get_list("scope") == ["repository:team/app:pull"]
    assert second.url.params.get_list("scope") == ["repository:team/other:pull"]
    assert second.url.params.get("service") == "fake-registry"


def test_basic_challenge_messages() -> None:
    fake = FakeRegistry()
    _image(fake)
    fake.require_basic("bob", "hunter2")
    client, _ = make_client(fake)
    with pytest.raises(AuthenticationError) as info:
        client.get_manifest(ref(fake, "team/app:v1"), "v1")
    assert info.value.message == (
        f"registry {HOST} requires basic authentication, but no username and password were found "
        "(credential source: anonymous)"
    )
    assert (info.value.hint, info.value.status) == (auth_hint(HOST), 401)


def test_a_cached_token_goes_along_and_a_known_basic_host_gets_basic() -> None:
    fake = FakeRegistry()
    digest = _image(fake)
    fake.require_bearer()
    client, _ = make_client(fake)
    client.get_manifest(ref(fake, "team/app:v1"), "v1")
    token = fake.matching(path="/manifests/")[-1].headers["authorization"]
    assert token.startswith("Bearer fake-token-")
    client.get_manifest(ref(fake, "team/app:v1"), digest)
    assert fake.matching(path="/manifests/")[-1].headers["authorization"] == token


def test_a_token_is_stale_at_its_expiry_instant() -> None:
    for ttl, valid_until in ((20, 18.0), (120, 115.0)):
        clock = FakeClock()
        fake = FakeRegistry(clock=clock)
        fake.require_bearer(token_ttl=ttl)
        client = _bearer_client(fake, clock=clock)
        client.get_manifest(ref(fake, "team/app:v1"), "v1")
        clock.advance(valid_until)
        client.get_manifest(ref(fake, "team/app:v1"), "v1")
        assert fake.tokens_issued == 2, ttl


def test_token_service_status_boundaries_and_partial_error_bodies() -> None:
    fake = FakeRegistry()
    fake.require_bearer()
    client = _bearer_client(fake)
    fake.inject("/token", Canned(300))
    with pytest.raises(RegistryError) as info:
        client.get_manifest(ref(fake, "team/app:v1"), "v1")
    assert info.value.message == f"token service {AUTH_HOST} for registry {HOST} answered 300 Multiple Choices"
    code_only = json.dumps({"errors": [{"code": "DENIED"}]}).encode()
    fake.inject("/token", Canned(401, body=code_only))
    with pytest.raises(AuthenticationError) as info:
        client.get_manifest(ref(fake, "team/app:v1"), "v1")
    # A body with only a code (or only a message) still shows what it has.
    assert info.value.message.startswith("token service ") and "(401 Unauthorized: DENIED" in info.value.message
    message_only = json.dumps({"errors": [{"message": "bad scope"}]}).encode()
    fake.inject("/token", Canned(400, body=message_only))
    with pytest.raises(RegistryError) as info:
        client.get_manifest(ref(fake, "team/app:v1"), "v1")
    assert (
        info.value.message == f"token service {AUTH_HOST} for registry {HOST} answered 400 Bad Request: None: bad scope"
    )


def test_attempt_repr_shows_the_scheme_only() -> None:
    from provenant.sources.registry.auth import AuthAttempt

    assert repr(AuthAttempt("Bearer to ken", fresh=False)) == "AuthAttempt(scheme='Bearer', fresh=False)"
