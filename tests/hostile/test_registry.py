"""Hostile registries: answers that stall, never end, lie about their size, or carry escapes and secrets.

Each case scripts a :class:`HostileServer` on 127.0.0.1, runs the CLI against it in a subprocess and
asserts the common bounds (exit code, one stderr line, < 60 s, peak RSS, nothing written outside the cache).
"""

from __future__ import annotations

import base64
import json
import socket
from typing import Any

from tests.fakeregistry import OCI_CONFIG, OCI_INDEX, OCI_MANIFEST, sha256
from tests.fakeregistry import canonical_json as canonical
from tests.hostile.harness import Sandbox, run_cli
from tests.hostile.server import HostileServer, Request, response, trickle, unending

REPO = "team/app"

JSON_200 = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"


def _image(server: HostileServer) -> tuple[str, bytes]:
    """An image whose config blob a test then scripts; returns (config digest, config bytes)."""
    cfg = canonical({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}})
    desc = {"mediaType": OCI_CONFIG, **server.put_blob(cfg)}
    manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": desc, "layers": []}
    server.put_manifest(REPO, "1", canonical(manifest))
    return desc["digest"], cfg


def _close(conn: socket.socket) -> None:
    conn.shutdown(socket.SHUT_RDWR)
    conn.close()


def test_retry_after_huge_fails_at_once(server: HostileServer, sandbox: Sandbox) -> None:
    server.answer("GET", r"/manifests/", response(429, b"", {"Retry-After": "999999999"}))
    out = run_cli(["inspect", f"{server.host}/{REPO}:1"], sandbox)
    out.assert_bounded(exit_code=2, error="retry-after-cap")
    assert "999999999 s" in out.stderr
    assert out.seconds < 15, out.summary()


def test_retry_after_of_thousands_of_digits_fails_at_once(server: HostileServer, sandbox: Sandbox) -> None:
    # int() refuses a string of over 4,300 digits (ValueError) and float(int(...)) overflowed before that
    server.answer("GET", r"/manifests/", response(429, b"", {"Retry-After": "9" * 5000}))
    out = run_cli(["inspect", f"{server.host}/{REPO}:1"], sandbox)
    out.assert_bounded(exit_code=2, error="retry-after-cap")
    assert "asked to wait 10000000000000000 s" in out.stderr
    assert out.seconds < 15, out.summary()


def test_a_token_or_realm_that_cannot_go_in_a_request(server: HostileServer, sandbox: Sandbox) -> None:
    """Found by fuzzing the registry's answers: each ended in an internal error (UnicodeEncodeError, InvalidURL)."""
    _image(server)
    challenge = {"WWW-Authenticate": f'Bearer realm="http://{server.host}/token",service="hostile"'}
    server.answer("GET", r"/manifests/", response(401, b"{}", challenge))
    server.answer("GET", r"^/token", response(200, b'{"token": "t\\u00f6ken"}'))  # valid JSON, not ASCII
    out = run_cli(["inspect", f"{server.host}/{REPO}:1"], sandbox)
    out.assert_bounded(exit_code=2, error="answered a token that cannot be sent in an HTTP header")
    realm = {"WWW-Authenticate": 'Bearer realm="http://a\x1c.test/token"'}  # a control byte httpx refuses
    server.answer("GET", r"/manifests/", response(401, b"{}", realm))
    out = run_cli(["inspect", f"{server.host}/{REPO}:1"], sandbox)
    out.assert_bounded(exit_code=2, error="named a token realm that is not a URL: http://a\\x1c.test/token")


def test_slow_server_trickle_stops_at_min_rate(server: HostileServer, sandbox: Sandbox) -> None:
    body = canonical({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": {}, "layers": []})

    def slow(req: Request, conn: socket.socket, srv: HostileServer) -> None:
        conn.sendall(response(200, b"", {"Content-Length": str(len(body)), "Content-Type": OCI_MANIFEST}))
        trickle(body, 1.0, srv, conn)

    server.route("GET", r"/manifests/", slow)
    # A rate window of 5 s instead of 30 keeps the suite quick; the mechanism is the same.
    out = run_cli(["inspect", f"{server.host}/{REPO}:1"], sandbox, env={"PROVENANT_LIMIT_RATE_WINDOW": "5"})
    out.assert_bounded(exit_code=2, error="min-rate")
    assert out.seconds < 20, out.summary()


def test_slow_server_trickling_its_headers(server: HostileServer, sandbox: Sandbox) -> None:
    def slow(req: Request, conn: socket.socket, srv: HostileServer) -> None:
        trickle(response(200, b"{}", {"X-Pad": "p" * 200}), 0.5, srv, conn)

    server.route("GET", r"/manifests/", slow)
    # read-timeout 5 s instead of 30 keeps the suite quick: one retry, then the limit (about 2 x 6 s).
    out = run_cli(["inspect", f"{server.host}/{REPO}:1"], sandbox, env={"PROVENANT_LIMIT_READ_TIMEOUT": "5"})
    out.assert_bounded(exit_code=2, error="read-timeout")
    assert out.seconds < 20, out.summary()


def test_endless_blob_is_larger_than_its_descriptor(server: HostileServer, sandbox: Sandbox) -> None:
    digest, cfg = _image(server)

    server.route("GET", f"/blobs/{digest}", unending(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", cfg))
    out = run_cli(["inspect", f"{server.host}/{REPO}:1"], sandbox)
    out.assert_bounded(exit_code=2, error="larger than its descriptor says")
    assert digest in out.stderr


def test_content_length_larger_than_body_then_lying_416(server: HostileServer, sandbox: Sandbox) -> None:
    digest, cfg = _image(server)

    def short_close(req: Request, conn: socket.socket, srv: HostileServer) -> None:
        if "range" in req.headers:
            conn.sendall(response(416, b"", {"Content-Length": "100000"}) + b"no")
        else:
            conn.sendall(response(200, cfg, {"Content-Length": str(len(cfg) + 100)}))
        _close(conn)

    server.route("GET", f"/blobs/{digest}", short_close)
    out = run_cli(["inspect", f"{server.host}/{REPO}:1"], sandbox)
    out.assert_bounded(exit_code=0)
    assert not [r for r in server.log if "range" in r.headers], "asked for bytes past the descriptor's size"


def test_206_from_the_wrong_offset_restarts_once_then_fails(server: HostileServer, sandbox: Sandbox) -> None:
    cfg_obj: dict[str, Any] = {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}
    cfg_obj["config"] = {"Labels": {"pad": "x" * 4000}}
    cfg = canonical(cfg_obj)
    desc = {"mediaType": OCI_CONFIG, **server.put_blob(cfg)}
    manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": desc, "layers": []}
    server.put_manifest(REPO, "1", canonical(manifest))
    half = len(cfg) // 2

    def wrong_range(req: Request, conn: socket.socket, srv: HostileServer) -> None:
        if "range" in req.headers:
            # Claims to start 10 bytes before the offset asked for, but sends the bytes at the offset.
            start = int(req.headers["range"].removeprefix("bytes=").rstrip("-")) - 10
            body = cfg[start + 10 :]
            conn.sendall(response(206, body, {"Content-Range": f"bytes {start}-{start + len(body) - 1}/{len(cfg)}"}))
        else:
            conn.sendall(response(200, cfg[:half], {"Content-Length": str(len(cfg))}))
        _close(conn)

    server.route("GET", f"/blobs/{desc['digest']}", wrong_range)
    out = run_cli(["inspect", f"{server.host}/{REPO}:1"], sandbox)
    out.assert_bounded(exit_code=2, error=desc["digest"])
    gets = [r for r in server.log if "/blobs/" in r.path]
    assert len(gets) == 4, [r.headers.get("range") for r in gets]  # first, range, restart, range: then fail


def test_huge_error_body_is_read_only_up_to_its_limit(server: HostileServer, sandbox: Sandbox) -> None:
    head = b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"
    server.route("GET", r"/manifests/", unending(head, b'{"errors":[{"code":"X","message":"', b"A" * 65536))
    out = run_cli(["inspect", f"{server.host}/{REPO}:1"], sandbox)
    out.assert_bounded(exit_code=2, error="400")
    assert out.peak_rss_mb < 150, out.summary()


def test_huge_token_answer(server: HostileServer, sandbox: Sandbox) -> None:
    realm = f"http://{server.host}/token"
    challenge = {"WWW-Authenticate": f'Bearer realm="{realm}",service="hostile"'}
    server.answer("GET", r"/manifests/", response(401, b"{}", challenge))

    server.route("GET", r"^/token", unending(JSON_200, b'{"token":"', b"A" * 65536))
    out = run_cli(["inspect", f"{server.host}/{REPO}:1"], sandbox)
    out.assert_bounded(exit_code=2, error="token-bytes")
    assert out.peak_rss_mb < 150, out.summary()


def _referrer_entries(n: int, start: int) -> list[dict[str, Any]]:
    return [
        {"mediaType": OCI_MANIFEST, "digest": sha256(str(start + i).encode()), "size": 500, "artifactType": "x/y"}
        for i in range(n)
    ]


def test_referrers_that_never_end(server: HostileServer, sandbox: Sandbox) -> None:
    _image(server)

    def page(req: Request, conn: socket.socket, srv: HostileServer) -> None:
        n = int(req.path.partition("page=")[2] or 0)
        body = canonical({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": _referrer_entries(500, n * 500)})
        link = f'</v2/{REPO}/referrers/{req.path.split("/")[-1].split("?")[0]}?page={n + 1}>; rel="next"'
        conn.sendall(response(200, body, {"Content-Type": OCI_INDEX, "Link": link}))

    server.route("GET", r"/referrers/", page)
    out = run_cli(["attestations", f"{server.host}/{REPO}:1"], sandbox)
    out.assert_bounded(exit_code=2, error="referrers")
    assert sum("/referrers/" in r.path for r in server.log) <= 25, len(server.log)
    assert not [r for r in server.log if "/manifests/sha256:" in r.path], "fetched referrers of an unbounded list"


def test_100k_referrers_in_one_page(server: HostileServer, sandbox: Sandbox) -> None:
    _image(server)
    body = canonical({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": _referrer_entries(100_000, 0)})
    server.answer("GET", r"/referrers/", response(200, body, {"Content-Type": OCI_INDEX}))
    out = run_cli(["attestations", f"{server.host}/{REPO}:1"], sandbox)
    out.assert_bounded(exit_code=2, error="page-bytes")
    assert len(server.log) < 50, len(server.log)


def test_huge_tags_list(server: HostileServer, sandbox: Sandbox) -> None:
    tags = b'"v1.0.0-aaaaaaaaaaaaaaaa",' * 2048
    server.route("GET", r"/tags/list", unending(JSON_200, b'{"name":"team/app","tags":[', tags))
    out = run_cli(["tags", f"{server.host}/{REPO}"], sandbox)
    out.assert_bounded(exit_code=2, error="page-bytes")


def test_error_text_with_escapes_and_an_echoed_credential(server: HostileServer, sandbox: Sandbox) -> None:
    basic = base64.b64encode(b"u:secretpw").decode()

    def denied(req: Request, conn: socket.socket, srv: HostileServer) -> None:
        if "authorization" not in req.headers:
            conn.sendall(response(401, b"{}", {"WWW-Authenticate": 'Basic realm="hostile"'}))
            return
        echoed = req.headers["authorization"]
        message = f"\x1b]0;owned\x07\x1b[2J denied for {echoed} (password secretpw) Bearer abc.def.ghi"
        body = json.dumps({"errors": [{"code": "DENIED\x1b[31m", "message": message}]}).encode()
        conn.sendall(response(403, body, {"Content-Type": "application/json"}, reason="Forbidden \x1b]52;c;aGk=\x07"))

    server.route("GET", r"/manifests/", denied)
    out = run_cli(
        ["inspect", "--username", "u", "--password-stdin", f"{server.host}/{REPO}:1"], sandbox, stdin=b"secretpw\n"
    )
    out.assert_bounded(exit_code=2, error="DENIED")
    for text in (out.stdout, out.stderr):
        assert "secretpw" not in text and basic not in text and "abc.def.ghi" not in text, out.summary()


# The refusal of redirects and token realms to 169.254.169.254 and private ranges is tested in
# tests/unit/test_registry_netpolicy.py with httpx.MockTransport only: a regression here would send a real
# packet off the machine.
