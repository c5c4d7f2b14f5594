"""The stdlib tag resolver of cached runs, against an in-process HTTP server on loopback."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from provenant.reference import parse_reference
from provenant.sources.registry.quick import fetch_manifest, list_tags, resolve_tag

DIGEST = "sha256:" + "5e" * 32
Answer = tuple[int, dict[str, str], bytes]


class Server:
    """Answers every request with ``handler(method, path, headers)`` and records the requests."""

    def __init__(self, handler: Callable[[str, str, dict[str, str]], Answer]) -> None:
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                outer.requests.append((self.command, self.path, headers))
                status, extra, body = handler(self.command, self.path, headers)
                self.send_response(status)
                for k, v in extra.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_HEAD = _answer

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def serve() -> Iterator[Callable[[Callable[[str, str, dict[str, str]], Answer]], Server]]:
    servers: list[Server] = []

    def start(handler: Callable[[str, str, dict[str, str]], Answer]) -> Server:
        servers.append(Server(handler))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_anonymous_head(serve: Callable[..., Server]) -> None:
    srv = serve(lambda m, p, h: (200, {"Docker-Content-Digest": DIGEST}, b""))
    assert resolve_tag(parse_reference(f"{srv.host}/team/app:1"), env={}) == DIGEST
    method, path, headers = srv.requests[0]
    assert (method, path) == ("HEAD", "/v2/team/app/manifests/1")
    assert "application/vnd.oci.image.index.v1+json" in headers["accept"]
    assert "authorization" not in headers


def test_bearer_token_with_credentials_from_the_environment(serve: Callable[..., Server]) -> None:
    token_srv = serve(lambda m, p, h: (200, {"Content-Type": "application/json"}, b'{"token": "t0k"}'))

    def registry(method: str, path: str, headers: dict[str, str]) -> Answer:
        if headers.get("authorization") != "Bearer t0k":
            challenge = f'Bearer realm="http://{token_srv.host}/token",service="reg",scope="repository:app:push"'
            return 401, {"WWW-Authenticate": challenge}, b""
        return 200, {"Docker-Content-Digest": DIGEST}, b""

    srv = serve(registry)
    env = {"PROVENANT_REGISTRY_USERNAME": "alice", "PROVENANT_REGISTRY_PASSWORD": "s3cret"}
    assert resolve_tag(parse_reference(f"{srv.host}/app:1"), env=env) == DIGEST
    (method, path, headers) = token_srv.requests[0]
    query = parse_qs(urlparse(path).query)
    assert method == "GET" and query == {"service": ["reg"], "scope": ["repository:app:pull", "repository:app:push"]}
    assert headers["authorization"] == _basic("alice", "s3cret")
    # The credentials went to the realm the challenge named, never to the registry itself.
    assert all("Basic" not in h.get("authorization", "") for _, _, h in srv.requests)


def test_basic_challenge(serve: Callable[..., Server]) -> None:
    def registry(method: str, path: str, headers: dict[str, str]) -> Answer:
        if headers.get("authorization") != _basic("bob", "pw"):
            return 401, {"WWW-Authenticate": 'Basic realm="r"'}, b""
        return 200, {"Docker-Content-Digest": DIGEST}, b""

    srv = serve(registry)
    ref = parse_reference(f"{srv.host}/app:1")
    assert resolve_tag(ref, env={"PROVENANT_REGISTRY_USERNAME": "bob", "PROVENANT_REGISTRY_PASSWORD": "pw"}) == DIGEST
    assert resolve_tag(ref, env={}) is None  # no credentials: the full client explains


@pytest.mark.parametrize(
    "answer",
    [
        (404, {}, b""),
        (302, {"Location": "http://elsewhere.test/v2/app/manifests/1"}, b""),
        (429, {"Retry-After": "1"}, b""),
        (200, {}, b""),
        (200, {"Docker-Content-Digest": "sha256:short"}, b""),
        (401, {}, b""),
    ],
)
def test_anything_unexpected_is_left_to_the_full_client(serve: Callable[..., Server], answer: Answer) -> None:
    srv = serve(lambda m, p, h: answer)
    assert resolve_tag(parse_reference(f"{srv.host}/app:1"), env={}) is None
    assert len(srv.requests) == 1  # no redirect followed, no retry


def test_refused_connection_and_digest_reference() -> None:
    assert resolve_tag(parse_reference("127.0.0.1:9/app:1"), env={}, timeout=2) is None
    assert resolve_tag(parse_reference(f"127.0.0.1:9/app@{DIGEST}"), env={}) is None


@pytest.mark.parametrize("variable", ["HTTPS_PROXY", "http_proxy", "ALL_PROXY"])
def test_a_proxy_in_the_environment_leaves_it_to_the_full_client(serve: Callable[..., Server], variable: str) -> None:
    srv = serve(lambda m, p, h: (200, {"Docker-Content-Digest": DIGEST}, b""))
    assert resolve_tag(parse_reference(f"{srv.host}/app:1"), env={variable: "http://proxy.test:3128"}) is None
    assert srv.requests == []  # never connects around the proxy


def test_a_token_answer_over_token_bytes_is_left_to_the_full_client(serve: Callable[..., Server]) -> None:
    from provenant import limits as limits_mod
    from provenant.limits import Limits

    token_srv = serve(lambda m, p, h: (200, {"Content-Type": "application/json"}, b'{"token": "' + b"t" * 5000 + b'"}'))
    challenge = f'Bearer realm="http://{token_srv.host}/token",service="reg"'
    srv = serve(lambda m, p, h: (401, {"WWW-Authenticate": challenge}, b""))
    limits_mod.activate(Limits(token_bytes=4096), start_deadline=False)
    try:
        assert resolve_tag(parse_reference(f"{srv.host}/app:1"), env={}) is None
    finally:
        limits_mod.reset()
    assert len(token_srv.requests) == 1


@pytest.mark.parametrize("realm", ["http://169.254.169.254/token", "http://10.0.0.1/token", "http://[fd00:ec2::254]/t"])
def test_a_realm_on_a_restricted_address_is_never_asked(
    serve: Callable[..., Server], realm: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    attempts: list[object] = []
    real = socket.create_connection

    def loopback_only(address: tuple[bytes, int], *args: object, **kwargs: object) -> socket.socket:
        if not address[0].startswith(b"127."):
            attempts.append(address)  # never let a broken build send a packet off the machine
            raise ConnectionRefusedError("test: only loopback")
        return real(address, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "create_connection", loopback_only)
    srv = serve(lambda m, p, h: (401, {"WWW-Authenticate": f'Bearer realm="{realm}",service="reg"'}, b""))
    assert resolve_tag(parse_reference(f"{srv.host}/app:1"), env={}) is None
    assert len(srv.requests) == 1 and attempts == []


# --- fetch_manifest: inspect --raw's lean path ------------------------------------------------------

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MANIFEST = b'{"schemaVersion": 2, "mediaType": "' + OCI_MANIFEST.encode() + b'", "config": {}, "layers": []}'
MANIFEST_DIGEST = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()


def _serving(body: bytes, media_type: str = OCI_MANIFEST) -> Callable[[str, str, dict[str, str]], Answer]:
    return lambda m, p, h: (200, {"Content-Type": media_type}, body)


def test_manifest_bytes_as_served_by_tag_and_by_digest(serve: Callable[..., Server]) -> None:
    srv = serve(_serving(MANIFEST))
    assert fetch_manifest(parse_reference(f"{srv.host}/team/app:1"), env={}) == MANIFEST
    assert fetch_manifest(parse_reference(f"{srv.host}/team/app@{MANIFEST_DIGEST}"), env={}) == MANIFEST
    assert [(m, p) for m, p, _ in srv.requests] == [
        ("GET", "/v2/team/app/manifests/1"),
        ("GET", f"/v2/team/app/manifests/{MANIFEST_DIGEST}"),
    ]
    assert "application/vnd.oci.image.index.v1+json" in srv.requests[0][2]["accept"]


def test_manifest_behind_a_bearer_token(serve: Callable[..., Server]) -> None:
    token_srv = serve(lambda m, p, h: (200, {"Content-Type": "application/json"}, b'{"token": "t0k"}'))

    def registry(method: str, path: str, headers: dict[str, str]) -> Answer:
        if headers.get("authorization") != "Bearer t0k":
            return 401, {"WWW-Authenticate": f'Bearer realm="http://{token_srv.host}/token",service="reg"'}, b""
        return 200, {"Content-Type": OCI_MANIFEST}, MANIFEST

    srv = serve(registry)
    env = {"PROVENANT_REGISTRY_USERNAME": "alice", "PROVENANT_REGISTRY_PASSWORD": "s3cret"}
    assert fetch_manifest(parse_reference(f"{srv.host}/app:1"), env=env) == MANIFEST
    assert token_srv.requests[0][2]["authorization"] == _basic("alice", "s3cret")
    assert all("Basic" not in h.get("authorization", "") for _, _, h in srv.requests)


@pytest.mark.parametrize(
    ("case", "answer"),
    [
        ("wrong bytes for the digest", (200, {"Content-Type": OCI_MANIFEST}, MANIFEST + b" ")),
        ("schema1", (200, {"Content-Type": "application/json"}, b'{"schemaVersion": 1, "fsLayers": []}')),
        ("an artifact", (200, {}, b'{"mediaType": "application/vnd.example+json"}')),
        ("not JSON", (200, {"Content-Type": OCI_MANIFEST}, b"<html>")),
        ("nested too deep", (200, {"Content-Type": OCI_MANIFEST}, b"[" * 300 + b"]" * 300)),
        ("a redirect", (307, {"Location": "http://127.0.0.1:9/v2/app/manifests/x"}, b"")),
        ("an error", (404, {"Content-Type": "application/json"}, b'{"errors": []}')),
    ],
)
def test_anything_the_full_path_would_refuse_is_left_to_it(
    serve: Callable[..., Server], case: str, answer: Answer
) -> None:
    srv = serve(lambda m, p, h: answer)
    assert fetch_manifest(parse_reference(f"{srv.host}/app@{MANIFEST_DIGEST}"), env={}) is None, case
    assert len(srv.requests) == 1  # nothing followed, nothing retried


def test_a_manifest_over_manifest_bytes_is_left_to_the_full_client(serve: Callable[..., Server]) -> None:
    from provenant import limits as limits_mod
    from provenant.limits import Limits

    big = MANIFEST[:-1] + b', "annotations": {"pad": "' + b"x" * 10_000 + b'"}}'
    srv = serve(_serving(big))
    limits_mod.activate(Limits(manifest_bytes=4096), start_deadline=False)
    try:
        assert fetch_manifest(parse_reference(f"{srv.host}/app:1"), env={}) is None
    finally:
        limits_mod.reset()
    assert fetch_manifest(parse_reference(f"{srv.host}/app:1"), env={}) == big


# --- list_tags: the tags command's lean path --------------------------------------------------------


def _paged(pages: dict[str, tuple[list[str] | None, str | None]]) -> Callable[[str, str, dict[str, str]], Answer]:
    """Path (with query) → (tags, Link target of the next page)."""

    def answer(method: str, path: str, headers: dict[str, str]) -> Answer:
        tags, nxt = pages[path]
        extra = {"Content-Type": "application/json"}
        if nxt:
            extra["Link"] = f'<{nxt}>; rel="next"'
        return 200, extra, json.dumps({"name": "app", "tags": tags}).encode()

    return answer


def test_tags_follow_pagination(serve: Callable[..., Server]) -> None:
    first = "/v2/team/app/tags/list"
    srv = serve(_paged({first: (["1", "2"], "/v2/team/app/tags/list?last=2&n=2"), f"{first}?last=2&n=2": (None, None)}))
    assert list_tags(parse_reference(f"{srv.host}/team/app"), env={}) == ["1", "2"]
    srv2 = serve(_paged({first: (["a\x1bb"], f"{first}?p=2"), f"{first}?p=2": (["c"], None)}))
    assert list_tags(parse_reference(f"{srv2.host}/team/app"), env={}) == ["a\x1bb", "c"]  # the caller escapes


@pytest.mark.parametrize(
    ("case", "link"),
    [
        ("another host", "http://127.0.0.2:9/v2/team/app/tags/list?p=2"),
        ("another scheme", "https://{host}/v2/team/app/tags/list?p=2"),
        ("a loop", "/v2/team/app/tags/list"),
    ],
)
def test_tags_pagination_the_full_client_refuses_is_left_to_it(
    serve: Callable[..., Server], case: str, link: str
) -> None:
    holder: list[Server] = []

    def answer(method: str, path: str, headers: dict[str, str]) -> Answer:
        target = link.format(host=holder[0].host)
        return 200, {"Content-Type": "application/json", "Link": f'<{target}>; rel="next"'}, b'{"tags": ["1"]}'

    holder.append(serve(answer))
    assert list_tags(parse_reference(f"{holder[0].host}/team/app"), env={}) is None, case
    assert len(holder[0].requests) == 1


def test_tags_over_pages_or_page_bytes_or_malformed_are_left_to_the_full_client(serve: Callable[..., Server]) -> None:
    from provenant import limits as limits_mod
    from provenant.limits import Limits

    def endless(method: str, path: str, headers: dict[str, str]) -> Answer:
        n = int(path.partition("p=")[2] or 0)
        nxt = f'</v2/app/tags/list?p={n + 1}>; rel="next"'
        return 200, {"Content-Type": "application/json", "Link": nxt}, b'{"tags": ["x"]}'

    srv = serve(endless)
    limits_mod.activate(Limits(pages=3), start_deadline=False)
    try:
        assert list_tags(parse_reference(f"{srv.host}/app"), env={}) is None
        assert len(srv.requests) == 3
        big = serve(lambda m, p, h: (200, {}, b'{"tags": ["' + b"x" * 10_000 + b'"]}'))
        limits_mod.activate(Limits(page_bytes=4096), start_deadline=False)
        assert list_tags(parse_reference(f"{big.host}/app"), env={}) is None
    finally:
        limits_mod.reset()
    for body in (b'{"tags": [1]}', b'{"tags": "1"}', b"[]", b"not json"):
        bad = serve(lambda m, p, h, body=body: (200, {}, body))
        assert list_tags(parse_reference(f"{bad.host}/app"), env={}) is None, body


# --- QuickRegistry: many questions, kept connections and kept tokens ---------------------------------


def test_one_token_per_repository_sent_again_only_to_that_repository_on_that_host(serve: Callable[..., Server]) -> None:
    from provenant.sources.registry.quick import QuickRegistry

    tokens = iter(range(100))
    issued: dict[str, str] = {}

    def remember(method: str, path: str, headers: dict[str, str]) -> Answer:
        repo = parse_qs(urlparse(path).query)["scope"][0].split(":")[1]
        token = f"t{next(tokens)}"
        issued[repo] = f"Bearer {token}"
        return 200, {}, json.dumps({"token": token}).encode()

    token_srv = serve(remember)

    def registry(method: str, path: str, headers: dict[str, str]) -> Answer:
        repo = path.split("/v2/", 1)[1].split("/manifests/", 1)[0]
        if headers.get("authorization") is None or headers["authorization"] != issued.get(repo):
            challenge = f'Bearer realm="http://{token_srv.host}/token",service="reg"'
            return 401, {"WWW-Authenticate": challenge}, b""
        return 200, {"Docker-Content-Digest": DIGEST}, b""

    srv = serve(registry)
    other = serve(lambda m, p, h: (200, {"Docker-Content-Digest": DIGEST}, b""))
    refs = [f"{srv.host}/team/a:{n}" for n in range(4)] + [f"{srv.host}/team/b:{n}" for n in range(3)]
    with QuickRegistry(env={}) as quick:
        assert [quick.head(parse_reference(r)) for r in refs] == [DIGEST] * len(refs)
        assert quick.head(parse_reference(f"{other.host}/team/a:0")) == DIGEST
    assert len(token_srv.requests) == 2  # one per repository
    by_repo = {(p.split("/")[3], h.get("authorization")) for m, p, h in srv.requests if h.get("authorization")}
    assert by_repo == {("a", issued["team/a"]), ("b", issued["team/b"])}
    assert all("authorization" not in h for _, _, h in other.requests)  # never to another host


def test_heads_reuse_one_connection_per_thread() -> None:
    from provenant.sources.registry.quick import QuickRegistry
    from tests.hostile.server import hostile_server

    with hostile_server() as srv:
        digests = [srv.put_manifest("team/app", str(n), f'{{"n": {n}}}'.encode()) for n in range(20)]
        with QuickRegistry(env={}) as quick:
            got = [quick.head(parse_reference(f"{srv.host}/team/app:{n}")) for n in range(20)]
        assert got == digests
        assert srv.accepted == 1 and [r.method for r in srv.log] == ["HEAD"] * 20


def test_catalog_pages_are_followed_within_the_limits(serve: Callable[..., Server]) -> None:
    from provenant.sources.registry.quick import QuickRegistry

    def registry(method: str, path: str, headers: dict[str, str]) -> Answer:
        if path == "/v2/_catalog":
            return 200, {"Link": '</v2/_catalog?last=b&n=2>; rel="next"'}, b'{"repositories": ["a", "b"]}'
        if path == "/v2/_catalog?last=b&n=2":
            return 200, {}, b'{"repositories": ["c"]}'
        return 404, {}, b""

    srv = serve(registry)
    with QuickRegistry(env={}) as quick:
        assert quick.list_repositories(srv.host) == ["a", "b", "c"]
    loop = serve(lambda m, p, h: (200, {"Link": '</v2/_catalog>; rel="next"'}, b'{"repositories": ["a"]}'))
    with QuickRegistry(env={}) as quick:
        assert quick.list_repositories(loop.host) is None  # a loop: the full client reports it
