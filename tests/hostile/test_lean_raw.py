"""Hostile registries against ``inspect --raw``'s lean path (stdlib HTTP, then the full client if it gives up).

The same answers as the manifest cases of ``test_registry.py``: the lean path gives up on each and the
full client reports it, so the bounds hold with both paths' time added. Environment credentials are
used (flags send ``--raw`` straight to the full client).
"""

from __future__ import annotations

import base64
import json
import socket

from tests.hostile.harness import Sandbox, run_cli
from tests.hostile.server import OCI_MANIFEST, HostileServer, Request, canonical, endless, response, trickle

REPO = "team/app"


def _raw(server: HostileServer) -> list[str]:
    return ["inspect", "--raw", f"{server.host}/{REPO}:1"]


def test_raw_retry_after_huge_fails_at_once(server: HostileServer, sandbox: Sandbox) -> None:
    server.answer("GET", r"/manifests/", response(429, b"", {"Retry-After": "999999999"}))
    out = run_cli(_raw(server), sandbox)
    out.assert_bounded(exit_code=2, error="retry-after-cap")
    assert out.seconds < 15, out.summary()


def test_raw_slow_body_stops_at_min_rate(server: HostileServer, sandbox: Sandbox) -> None:
    body = canonical({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": {}, "layers": []})

    def slow(req: Request, conn: socket.socket, srv: HostileServer) -> None:
        conn.sendall(response(200, b"", {"Content-Length": str(len(body)), "Content-Type": OCI_MANIFEST}))
        trickle(body, 1.0, srv, conn)

    server.route("GET", r"/manifests/", slow)
    out = run_cli(_raw(server), sandbox, env={"PROVENANT_LIMIT_RATE_WINDOW": "5"})
    out.assert_bounded(exit_code=2, error="min-rate")
    assert out.seconds < 22, out.summary()


def test_raw_slow_headers_stop_at_read_timeout(server: HostileServer, sandbox: Sandbox) -> None:
    def slow(req: Request, conn: socket.socket, srv: HostileServer) -> None:
        trickle(response(200, b"{}", {"X-Pad": "p" * 200}), 0.5, srv, conn)

    server.route("GET", r"/manifests/", slow)
    out = run_cli(_raw(server), sandbox, env={"PROVENANT_LIMIT_READ_TIMEOUT": "5"})
    out.assert_bounded(exit_code=2, error="read-timeout")
    assert out.seconds < 22, out.summary()


def test_raw_endless_manifest_stops_at_manifest_bytes(server: HostileServer, sandbox: Sandbox) -> None:
    def forever(req: Request, conn: socket.socket, srv: HostileServer) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: " + OCI_MANIFEST.encode() + b"\r\nConnection: close\r\n\r\n")
        conn.sendall(b'{"schemaVersion": 2, "pad": "')
        endless(conn, srv, chunk=b"A" * 65536)

    server.route("GET", r"/manifests/", forever)
    out = run_cli(_raw(server), sandbox)
    out.assert_bounded(exit_code=2, error="manifest-bytes")
    assert out.peak_rss_mb < 150, out.summary()


def test_raw_huge_token_answer(server: HostileServer, sandbox: Sandbox) -> None:
    challenge = {"WWW-Authenticate": f'Bearer realm="http://{server.host}/token",service="hostile"'}
    server.answer("GET", r"/manifests/", response(401, b"{}", challenge))

    def huge(req: Request, conn: socket.socket, srv: HostileServer) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n")
        conn.sendall(b'{"token":"')
        endless(conn, srv, chunk=b"A" * 65536)

    server.route("GET", r"^/token", huge)
    out = run_cli(_raw(server), sandbox)
    out.assert_bounded(exit_code=2, error="token-bytes")
    assert out.peak_rss_mb < 150, out.summary()


def test_raw_error_text_with_escapes_and_an_echoed_credential(server: HostileServer, sandbox: Sandbox) -> None:
    basic = base64.b64encode(b"u:secretpw").decode()

    def denied(req: Request, conn: socket.socket, srv: HostileServer) -> None:
        if "authorization" not in req.headers:
            conn.sendall(response(401, b"{}", {"WWW-Authenticate": 'Basic realm="hostile"'}))
            return
        message = f"\x1b]0;owned\x07\x1b[2J denied for {req.headers['authorization']} (password secretpw)"
        body = json.dumps({"errors": [{"code": "DENIED\x1b[31m", "message": message}]}).encode()
        conn.sendall(response(403, body, {"Content-Type": "application/json"}, reason="Forbidden \x1b]52;c;aGk=\x07"))

    server.route("GET", r"/manifests/", denied)
    env = {"PROVENANT_REGISTRY_USERNAME": "u", "PROVENANT_REGISTRY_PASSWORD": "secretpw"}
    out = run_cli(_raw(server), sandbox, env=env)
    out.assert_bounded(exit_code=2, error="DENIED")
    for text in (out.stdout, out.stderr):
        assert "secretpw" not in text and basic not in text, out.summary()


def test_raw_manifest_with_escapes_reaches_a_pipe_exactly(server: HostileServer, sandbox: Sandbox) -> None:
    body = canonical({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": {}, "layers": [], "x": "a"})
    server.put_manifest(REPO, "1", body)
    out = run_cli(_raw(server), sandbox)
    out.assert_bounded(exit_code=0)
    assert out.stdout == body.decode()
