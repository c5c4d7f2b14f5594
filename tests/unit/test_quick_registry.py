"""The standard-library registry client's edges: token realms, its read bounds, catalog scopes, manifests.

Each test pins one rule of :mod:`provenant.sources.registry.quick` against a scripted server on
127.0.0.1 (:class:`tests.hostile.server.HostileServer`, every request and connection counted).
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from provenant import limits as limits_mod
from provenant.limits import Limits
from provenant.reference import parse_reference
from provenant.sources.registry.quick import QuickRegistry, fetch_manifest, resolve_tag
from tests.hostile.server import HostileServer, Request, hostile_server, response, trickle

DIGEST = "sha256:" + "5e" * 32
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
CREDS = {"PROVENANT_REGISTRY_USERNAME": "alice", "PROVENANT_REGISTRY_PASSWORD": "s3cret"}


@pytest.fixture
def registry() -> Iterator[HostileServer]:
    with hostile_server() as srv:
        yield srv


@pytest.fixture
def tokens() -> Iterator[HostileServer]:
    """A token service answering ``{"token": "t0k"}`` to every GET."""
    with hostile_server() as srv:
        srv.route("GET", "", lambda req, conn, s: conn.sendall(response(200, b'{"token": "t0k"}')))
        yield srv


@pytest.fixture(autouse=True)
def _default_limits() -> Iterator[None]:
    yield
    limits_mod.reset()


def _bearer(registry: HostileServer, realm: str, *, service: str | None = "reg", digest: str = DIGEST) -> None:
    """The registry asks for a bearer token at ``realm`` until it gets ``t0k``."""
    params = f',service="{service}"' if service else ""

    def answer(req: Request, conn: socket.socket, s: HostileServer) -> None:
        if req.headers.get("authorization") == "Bearer t0k":
            conn.sendall(response(200, b"", {"Docker-Content-Digest": digest}))
        else:
            conn.sendall(response(401, b"", {"WWW-Authenticate": f'Bearer realm="{realm}"{params}'}))

    registry.route("*", "/manifests/", answer)


def _behind_token(registry: HostileServer, tokens: HostileServer, method: str, path: str, answer: bytes) -> None:
    """``path`` answers ``answer`` to ``Bearer t0k`` and otherwise challenges for a token from ``tokens``."""

    def handler(req: Request, conn: socket.socket, s: HostileServer) -> None:
        if req.headers.get("authorization") == "Bearer t0k":
            conn.sendall(answer)
        else:
            conn.sendall(response(401, b"", {"WWW-Authenticate": f'Bearer realm="http://{tokens.host}/t"'}))

    registry.route(method, path, handler)


def _head(registry: HostileServer, env: dict[str, str] | None = None, **options: object) -> str | None:
    return resolve_tag(parse_reference(f"{registry.host}/team/app:1"), env=env or {}, **options)  # type: ignore[arg-type]


def _head_all(quick: QuickRegistry, refs: list[str]) -> list[str | None]:
    """``quick.head`` of each reference, each on its own thread, all at once; the answers in order."""
    got: list[str | None] = [None] * len(refs)

    def head(i: int) -> None:
        got[i] = quick.head(parse_reference(refs[i]))

    threads = [threading.Thread(target=head, args=(i,)) for i in range(len(refs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return got


def _slow_tokens(tokens: HostileServer, seconds: float) -> None:
    """``tokens`` gives ``t0k`` after ``seconds``."""

    def slow(req: Request, conn: socket.socket, s: HostileServer) -> None:
        time.sleep(seconds)
        conn.sendall(response(200, b'{"token": "t0k"}'))

    tokens.route("GET", "", slow)


def _token_query(tokens: HostileServer) -> dict[str, list[str]]:
    (req,) = tokens.log
    return parse_qs(urlsplit(req.path).query)


# --- the token realm ---------------------------------------------------------------------------------


def test_a_relative_realm_is_on_the_registry_and_the_token_is_asked_for_without_credentials(
    registry: HostileServer,
) -> None:
    _bearer(registry, "/token")
    registry.route("GET", "^/token", lambda req, conn, s: conn.sendall(response(200, b'{"token": "t0k"}')))
    assert _head(registry) == DIGEST
    token_req = next(r for r in registry.log if r.path.startswith("/token?"))
    assert "authorization" not in token_req.headers  # no credentials: none invented
    assert registry.accepted == 1  # the realm on the same host and scheme reuses the connection


def test_the_realms_own_query_is_kept_and_service_only_when_the_challenge_names_one(
    registry: HostileServer, tokens: HostileServer
) -> None:
    _bearer(registry, f"http://{tokens.host}/auth?client=x", service=None)
    assert _head(registry) == DIGEST
    assert _token_query(tokens) == {"client": ["x"], "scope": ["repository:team/app:pull"]}
    assert tokens.log[0].path.startswith("/auth?client=x&scope=")


def test_a_realm_without_a_path_is_asked_at_the_root(registry: HostileServer, tokens: HostileServer) -> None:
    _bearer(registry, f"http://{tokens.host}")
    assert _head(registry) == DIGEST
    assert tokens.log[0].path.startswith("/?service=reg&scope=")


def test_the_registry_connection_survives_a_token_from_another_host(
    registry: HostileServer, tokens: HostileServer
) -> None:
    _bearer(registry, f"http://{tokens.host}/token")
    with QuickRegistry(env={}) as quick:
        for tag in ("1", "2", "3"):
            assert quick.head(parse_reference(f"{registry.host}/team/app:{tag}")) == DIGEST
    assert registry.accepted == 1 and tokens.accepted == 1 and len(tokens.log) == 1


def test_a_realm_by_name_is_asked(registry: HostileServer, tokens: HostileServer) -> None:
    _bearer(registry, f"http://localhost:{tokens.port}/token")
    assert _head(registry) == DIGEST and len(tokens.log) == 1


@pytest.mark.parametrize("realm", ["ftp://{token}/token", "http:///token", "file:///etc/passwd"])
def test_a_realm_that_is_not_http_is_never_asked(registry: HostileServer, tokens: HostileServer, realm: str) -> None:
    _bearer(registry, realm.format(token=tokens.host))
    assert _head(registry) is None
    assert tokens.accepted == 0


def test_an_https_realm_is_asked_over_tls_even_from_a_plain_http_registry(
    registry: HostileServer, tokens: HostileServer
) -> None:
    _bearer(registry, f"https://{tokens.host}/token")
    assert _head(registry, timeout=5) is None  # the token service speaks plain HTTP: no token over it
    assert tokens.accepted == 1 and tokens.log == []  # a TLS hello arrived, never a plain request


def test_an_https_realm_that_never_answers_is_given_up_within_the_timeout(registry: HostileServer) -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)
    try:
        _bearer(registry, f"https://127.0.0.1:{silent.getsockname()[1]}/token")
        started = time.monotonic()
        assert _head(registry, timeout=1) is None
        assert time.monotonic() - started < 10
    finally:
        silent.close()


def test_credentials_never_go_to_a_plain_http_realm_off_this_machine(
    registry: HostileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts: list[object] = []
    real = socket.create_connection

    def loopback_only(address: tuple[bytes, int], *args: object, **kwargs: object) -> socket.socket:
        if not address[0].startswith(b"127."):
            attempts.append((address[0].decode(), address[1]))
            raise ConnectionRefusedError("test: only loopback")
        return real(address, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "create_connection", loopback_only)
    _bearer(registry, "http://93.184.216.34/token")
    assert _head(registry, env=CREDS) is None
    assert attempts == []
    assert _head(registry) is None and attempts == [("93.184.216.34", 80)]  # anonymous: asked (and refused here)


def test_an_identity_token_is_left_to_the_full_client(
    registry: HostileServer, tokens: HostileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"auths": {registry.host: {"identitytoken": "refresh-me"}}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    _bearer(registry, f"http://{tokens.host}/token")
    assert _head(registry) is None
    assert tokens.accepted == 0


@pytest.mark.parametrize("answer", [response(500, b"{}"), response(200, b'{"nothing": 1}'), response(200, b"not json")])
def test_a_token_service_that_gives_no_token_is_left_to_the_full_client(registry: HostileServer, answer: bytes) -> None:
    with hostile_server() as tokens:
        tokens.route("GET", "", lambda req, conn, s: conn.sendall(answer))
        _bearer(registry, f"http://{tokens.host}/token")
        assert _head(registry) is None


@pytest.mark.parametrize("token", [b"two words", b"t\\u00f6ken", b"tok\\ud800en"])
def test_a_token_that_cannot_go_in_a_header_is_never_sent_and_left_to_the_full_client(
    registry: HostileServer, token: bytes
) -> None:
    sent: list[str] = []

    def answer(req: Request, conn: socket.socket, s: HostileServer) -> None:
        sent.append(req.headers.get("authorization", ""))
        conn.sendall(response(401, b"", {"WWW-Authenticate": f'Bearer realm="http://{tokens.host}/token"'}))

    with hostile_server() as tokens:
        tokens.route("GET", "", lambda req, conn, s: conn.sendall(response(200, b'{"token": "' + token + b'"}')))
        registry.route("*", "/manifests/", answer)
        assert _head(registry) is None
    assert sent == [""]  # asked once without a token; the full client says what is wrong with the answer


def test_the_catalog_token_is_asked_for_the_catalog_scope(registry: HostileServer, tokens: HostileServer) -> None:
    _behind_token(registry, tokens, "GET", "^/v2/_catalog", response(200, b'{"repositories": ["a"]}'))
    with QuickRegistry(env={}) as quick:
        assert quick.list_repositories(registry.host) == ["a"]
        assert quick.list_repositories(registry.host) == ["a"]  # the kept token: no second token request
    assert _token_query(tokens) == {"scope": ["registry:catalog:*"]}


def test_a_manifest_behind_a_token_asks_for_its_repositorys_pull_scope(
    registry: HostileServer, tokens: HostileServer
) -> None:
    body = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": {}, "layers": []}).encode()

    _behind_token(registry, tokens, "GET", "/manifests/", response(200, body, {"Content-Type": OCI_MANIFEST}))
    assert fetch_manifest(parse_reference(f"{registry.host}/team/app"), env={}) == body
    assert _token_query(tokens) == {"scope": ["repository:team/app:pull"]}
    assert [r.path for r in registry.log][-1] == "/v2/team/app/manifests/latest"  # no tag: latest


# --- answers ---------------------------------------------------------------------------------------------


def test_a_digest_reference_is_not_a_tag_to_resolve(registry: HostileServer) -> None:
    with QuickRegistry(env={}) as quick:
        assert quick.resolve_tag(parse_reference(f"{registry.host}/app@{DIGEST}")) is None
    assert registry.log == []


def test_head_by_digest_needs_the_registry_to_name_the_same_digest(registry: HostileServer) -> None:
    other = "sha256:" + "ab" * 32
    registry.route(
        "HEAD", "/manifests/", lambda req, conn, s: conn.sendall(response(200, b"", {"Docker-Content-Digest": other}))
    )
    with QuickRegistry(env={}) as quick:
        assert quick.head(parse_reference(f"{registry.host}/app@{DIGEST}")) is None
        assert quick.head(parse_reference(f"{registry.host}/app@{other}")) == other
        assert quick.head(parse_reference(f"{registry.host}/app:1")) == other


@pytest.mark.parametrize(
    ("content_type", "body", "kept"),
    [
        (OCI_INDEX + "; charset=utf-8", {"schemaVersion": 2, "manifests": []}, True),
        (
            "application/vnd.docker.distribution.manifest.v2+json",
            {"schemaVersion": 2, "config": {}, "layers": []},
            True,
        ),
        ("text/plain", {"schemaVersion": 2, "manifests": []}, True),
        ("application/vnd.example.artifact+json", {"schemaVersion": 2, "config": {}, "layers": []}, False),
    ],
)
def test_a_manifest_without_its_own_media_type_is_read_by_the_content_type(
    registry: HostileServer, content_type: str, body: dict[str, object], kept: bool
) -> None:
    raw = json.dumps(body).encode()
    registry.route(
        "GET", "/manifests/", lambda req, conn, s: conn.sendall(response(200, raw, {"Content-Type": content_type}))
    )
    got = fetch_manifest(parse_reference(f"{registry.host}/app:1"), env={})
    assert (got == raw) if kept else (got is None)


def test_a_sha512_digest_reference_is_checked_with_sha512(registry: HostileServer) -> None:
    raw = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}).encode()
    digest = "sha512:" + hashlib.sha512(raw).hexdigest()
    registry.route(
        "GET", "/manifests/", lambda req, conn, s: conn.sendall(response(200, raw, {"Content-Type": OCI_INDEX}))
    )
    assert fetch_manifest(parse_reference(f"{registry.host}/app@{digest}"), env={}) == raw


# --- the read bounds ----------------------------------------------------------------------------------------


def _serve_body(registry: HostileServer, body: bytes, every: float = 0.0) -> None:
    def answer(req: Request, conn: socket.socket, s: HostileServer) -> None:
        conn.sendall(response(200, b"", {"Content-Length": str(len(body)), "Content-Type": OCI_INDEX}))
        if every:
            trickle(body, every, s, conn)
        else:
            conn.sendall(body)

    registry.route("GET", "/manifests/", answer)


def _index(size: int) -> bytes:
    head = b'{"schemaVersion": 2, "mediaType": "' + OCI_INDEX.encode() + b'", "manifests": [], "annotations": {"p": "'
    return head + b"x" * (size - len(head) - 3) + b'"}}'


def test_a_body_of_exactly_the_limit_is_read_and_one_byte_more_is_not(registry: HostileServer) -> None:
    limits_mod.activate(Limits(manifest_bytes=200_000), start_deadline=False)
    for size, kept in ((200_000, True), (200_001, False)):
        body = _index(size)
        _serve_body(registry, body)
        got = fetch_manifest(parse_reference(f"{registry.host}/app:1"), env={})
        assert (got == body) if kept else (got is None), size


def test_a_body_slower_than_min_rate_is_given_up_and_a_quick_one_is_not(registry: HostileServer) -> None:
    limits_mod.activate(Limits(min_rate=1000, rate_window=0.5), start_deadline=False)
    body = _index(400)
    _serve_body(registry, body)
    assert fetch_manifest(parse_reference(f"{registry.host}/app:1"), env={}) == body  # 400 bytes at once: fine
    _serve_body(registry, body, every=0.01)  # ~100 bytes a second
    started = time.monotonic()
    assert fetch_manifest(parse_reference(f"{registry.host}/app:1"), env={}) is None
    assert time.monotonic() - started < 3


def test_the_commands_deadline_ends_a_read(registry: HostileServer) -> None:
    body = _index(400)
    _serve_body(registry, body, every=0.01)
    limits_mod.activate(Limits(timeout=0.5))
    started = time.monotonic()
    assert fetch_manifest(parse_reference(f"{registry.host}/app:1"), env={}) is None
    assert time.monotonic() - started < 2.5
    _serve_body(registry, body)
    limits_mod.activate(Limits(timeout=0.8))  # time left, under a second: a quick answer is still read
    assert fetch_manifest(parse_reference(f"{registry.host}/app:1"), env={}) == body


def test_tags_behind_a_token_ask_for_the_repositorys_pull_scope(registry: HostileServer, tokens: HostileServer) -> None:
    _behind_token(registry, tokens, "GET", "/tags/list", response(200, b'{"name": "team/app", "tags": ["1"]}'))
    with QuickRegistry(env={}) as quick:
        assert quick.list_tags(parse_reference(f"{registry.host}/team/app")) == ["1"]
    assert _token_query(tokens) == {"scope": ["repository:team/app:pull"]}
    pages = [r for r in registry.log if r.path.endswith("/tags/list")]
    assert [r.headers.get("accept") for r in pages] == ["application/json"] * 2  # challenged, then answered


def test_a_pagination_loop_past_the_first_page_is_seen_at_once(registry: HostileServer) -> None:
    first = "/v2/app/tags/list"
    links = {first: f"{first}?p=2", f"{first}?p=2": f"{first}?p=3", f"{first}?p=3": f"{first}?p=2"}

    def pages(req: Request, conn: socket.socket, s: HostileServer) -> None:
        conn.sendall(response(200, b'{"tags": ["x"]}', {"Link": f'<{links[req.path]}>; rel="next"'}))

    registry.route("GET", "/tags/list", pages)
    with QuickRegistry(env={}) as quick:
        assert quick.list_tags(parse_reference(f"{registry.host}/app")) is None
    assert len(registry.log) == 3  # p3 links back to p2: not asked again (the page limit is far)


def test_an_https_realm_is_verified_with_the_ca_file_and_read_within_the_limits(
    registry: HostileServer, certificate: tuple[Path, Path]
) -> None:
    import ssl

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*certificate)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    served: list[str] = []

    def serve() -> None:
        while True:
            try:
                raw, _ = listener.accept()
            except OSError:
                return
            try:
                with ctx.wrap_socket(raw, server_side=True) as tls:
                    served.append(tls.recv(4096).decode("latin-1").split(" ")[1])
                    tls.sendall(response(200, b'{"token": "t0k"}'))
            except (OSError, IndexError):
                continue

    threading.Thread(target=serve, daemon=True).start()
    try:
        _bearer(registry, f"https://127.0.0.1:{listener.getsockname()[1]}/token")
        assert _head(registry, timeout=5) is None  # not trusted without the CA
        assert _head(registry, timeout=5, ca_file=certificate[0]) == DIGEST
        assert served and served[-1].startswith("/token?service=reg&scope=")
    finally:
        listener.close()


# --- transport edges -------------------------------------------------------------------------------------


def test_a_registry_off_this_machine_is_asked_over_tls_only(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[tuple[str, int]] = []

    def nowhere(address: tuple[bytes, int], *args: object, **kwargs: object) -> socket.socket:
        asked.append((address[0].decode(), address[1]))  # the name as bytes: never IDNA-encoded
        raise ConnectionRefusedError("test: no network")

    monkeypatch.setattr(socket, "create_connection", nowhere)
    with QuickRegistry(env={}) as quick:
        assert quick.head(parse_reference("registry.example.test/team/app:1")) is None
    assert asked == [("registry.example.test", 443)]  # https's port: never plain HTTP off loopback


def test_headers_that_trickle_past_the_timeout_are_cut(registry: HostileServer) -> None:
    head = b"HTTP/1.1 200 X\r\nDocker-Content-Digest: " + DIGEST.encode() + b"\r\nContent-Length: 0\r\n\r\n"
    registry.route("HEAD", "/manifests/", lambda req, conn, s: trickle(head, 0.2, s, conn))
    started = time.monotonic()
    assert _head(registry, timeout=1) is None  # every byte within the per-read timeout, the whole far past it
    assert time.monotonic() - started < 4


def test_a_body_that_stops_is_given_up_after_the_limits_timeouts(registry: HostileServer) -> None:
    def stall(req: Request, conn: socket.socket, s: HostileServer) -> None:
        conn.sendall(response(200, b"", {"Content-Length": "100", "Content-Type": OCI_INDEX}) + b'{"schema')
        s.stopping.wait(20)

    registry.route("GET", "/manifests/", stall)
    limits_mod.activate(Limits(connect_timeout=1, read_timeout=1), start_deadline=False)
    started = time.monotonic()
    assert fetch_manifest(parse_reference(f"{registry.host}/app:1"), env={}) is None
    assert time.monotonic() - started < 5


def test_a_large_manifest_behind_a_token_is_read_within_manifest_bytes(
    registry: HostileServer, tokens: HostileServer
) -> None:
    limits_mod.activate(Limits(token_bytes=16 * 1024), start_deadline=False)
    body = _index(50_000)  # well over token-bytes, the cap of a token answer, and within manifest-bytes

    _behind_token(registry, tokens, "GET", "/manifests/", response(200, body, {"Content-Type": OCI_INDEX}))
    assert fetch_manifest(parse_reference(f"{registry.host}/app:1"), env={}) == body
    assert all(r.headers.get("user-agent", "").startswith("provenant/") for r in registry.log)


def test_a_manifest_without_media_type_or_content_type_is_read_by_its_shape(registry: HostileServer) -> None:
    raw = json.dumps({"schemaVersion": 2, "manifests": []}).encode()
    registry.route("GET", "/manifests/", lambda req, conn, s: conn.sendall(response(200, raw)))
    assert fetch_manifest(parse_reference(f"{registry.host}/app:1"), env={}) == raw


def test_threads_that_meet_the_same_challenge_ask_for_one_token(registry: HostileServer) -> None:
    with hostile_server() as tokens:
        _slow_tokens(tokens, 0.2)  # every thread has met the challenge before the first token comes back
        _bearer(registry, f"http://{tokens.host}/t")
        with QuickRegistry(env={}) as quick:
            assert _head_all(quick, [f"{registry.host}/team/app:{n}" for n in range(16)]) == [DIGEST] * 16
        assert len(tokens.log) == 1
        # Another repository is another scope: its own token.
        with QuickRegistry(env={}) as quick:
            assert quick.head(parse_reference(f"{registry.host}/team/other:1")) == DIGEST
            assert quick.head(parse_reference(f"{registry.host}/team/other:2")) == DIGEST
        assert len(tokens.log) == 2


def test_a_token_service_that_never_answers_costs_one_timeout_not_one_per_thread(registry: HostileServer) -> None:
    with hostile_server() as tokens:
        _slow_tokens(tokens, 3)
        _bearer(registry, f"http://{tokens.host}/t")
        started = time.monotonic()
        with QuickRegistry(env={}, timeout=0.3) as quick:
            assert _head_all(quick, [f"{registry.host}/team/app:{n}" for n in range(8)]) == [None] * 8
        assert time.monotonic() - started < 1.5  # 8 threads one after another would take 8 x 0.3 s
        assert len(tokens.log) == 1


def test_a_kept_token_is_sent_from_the_first_request_and_an_expired_one_is_replaced(registry: HostileServer) -> None:
    accepted = ["Bearer t1"]
    with hostile_server() as tokens:
        challenge = {"WWW-Authenticate": f'Bearer realm="http://{tokens.host}/t"'}

        def manifests(req: Request, conn: socket.socket, s: HostileServer) -> None:
            if req.headers.get("authorization") in accepted:
                conn.sendall(response(200, b"", {"Docker-Content-Digest": DIGEST}))
            else:
                conn.sendall(response(401, b"", challenge))

        issued = iter([b'{"token": "t1"}', b'{"token": "t2"}'])
        tokens.route("GET", "", lambda req, conn, s: conn.sendall(response(200, next(issued))))
        registry.route("HEAD", "/manifests/", manifests)
        with QuickRegistry(env={}) as quick:
            assert [quick.head(parse_reference(f"{registry.host}/team/app:{n}")) for n in range(3)] == [DIGEST] * 3
            sent = [r.headers.get("authorization") for r in registry.log]
            assert sent == [None, "Bearer t1", "Bearer t1", "Bearer t1"]  # one challenge, then the kept token
            accepted[:] = ["Bearer t2"]  # t1 expired
            assert quick.head(parse_reference(f"{registry.host}/team/app:9")) == DIGEST
            assert [r.headers.get("authorization") for r in registry.log][len(sent) :] == ["Bearer t1", "Bearer t2"]
        assert len(tokens.log) == 2


def test_challenges_of_different_repositories_are_answered_at_the_same_time(registry: HostileServer) -> None:
    with hostile_server() as tokens:
        _slow_tokens(tokens, 0.4)
        _bearer(registry, f"http://{tokens.host}/t")
        started = time.monotonic()
        with QuickRegistry(env={}) as quick:
            assert _head_all(quick, [f"{registry.host}/team/app{n}:1" for n in range(3)]) == [DIGEST] * 3
        assert len(tokens.log) == 3
        assert time.monotonic() - started < 1.0  # one after another would take 3 x 0.4 s


def test_a_tag_missing_behind_a_token_fails_alone_and_a_refused_token_ends_the_repository(
    registry: HostileServer, tokens: HostileServer
) -> None:
    def manifests(req: Request, conn: socket.socket, s: HostileServer) -> None:
        if req.headers.get("authorization") != "Bearer t0k":
            conn.sendall(response(401, b"", {"WWW-Authenticate": f'Bearer realm="http://{tokens.host}/t"'}))
        elif req.path.endswith("/gone"):
            conn.sendall(response(404, b"{}"))
        elif "/locked/" in req.path:
            conn.sendall(response(403, b"{}"))
        elif "/never/" in req.path:
            conn.sendall(response(401, b"", {"WWW-Authenticate": f'Bearer realm="http://{tokens.host}/t"'}))
        else:
            conn.sendall(response(200, b"", {"Docker-Content-Digest": DIGEST}))

    registry.route("HEAD", "/manifests/", manifests)
    with QuickRegistry(env={}) as quick:
        assert quick.head(parse_reference(f"{registry.host}/team/app:gone")) is None
        assert quick.head(parse_reference(f"{registry.host}/team/app:1")) == DIGEST  # the token answered
        assert len(tokens.log) == 1
        assert quick.head(parse_reference(f"{registry.host}/team/locked:1")) is None
        asked = len(registry.log)
        assert quick.head(parse_reference(f"{registry.host}/team/locked:2")) is None
        assert len(tokens.log) == 2  # a token the registry refused is not asked for again
        assert [r.headers.get("authorization") for r in registry.log[asked:]] == [None]
        assert quick.head(parse_reference(f"{registry.host}/team/never:1")) is None
        assert quick.head(parse_reference(f"{registry.host}/team/never:2")) is None
        assert len(tokens.log) == 3  # challenged again with the token: the same
