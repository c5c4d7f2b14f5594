"""The command deadline: whatever a server does, ``--timeout`` ends the command with one line and exit 2."""

from __future__ import annotations

import socket

from tests.hostile.harness import Sandbox, run_cli
from tests.hostile.server import HostileServer, trickle


def test_a_server_that_trickles_forever_is_stopped_by_the_deadline(server: HostileServer, sandbox: Sandbox) -> None:
    def slow(req: object, conn: socket.socket, srv: HostileServer) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
        trickle(b"{" * 100000, 0.2, srv, conn)  # always within the read timeout, never done

    server.route("GET", r"/manifests/", slow)
    out = run_cli(["--timeout", "3", "inspect", f"{server.host}/team/app:1"], sandbox)
    out.assert_bounded(exit_code=2, error="did not finish within its deadline of 3 s")
    assert out.seconds < 3 + 6, out.summary()


def test_the_deadline_comes_from_the_environment_too(server: HostileServer, sandbox: Sandbox) -> None:
    def silent(req: object, conn: socket.socket, srv: HostileServer) -> None:
        srv.stopping.wait(120)

    server.route("GET", r"/manifests/", silent)
    out = run_cli(["inspect", f"{server.host}/team/app:1"], sandbox, env={"PROVENANT_TIMEOUT": "2"})
    out.assert_bounded(exit_code=2, error="deadline of 2 s")
    assert out.seconds < 2 + 6, out.summary()
