"""Every server answer is read within the limits, on both transports: sizes, rate, read timeout.

The http.client transport is exercised against the scripted socket server of ``tests/hostile`` on
127.0.0.1; httpx's own code path against ``httpx.MockTransport``.
"""

from __future__ import annotations

import gzip
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from provenant.digest import Digest
from provenant.errors import RegistryError
from provenant.limits import LimitExceededError, Limits
from provenant.reference import Reference
from provenant.sources.registry import RegistryClient, RegistryOptions
from provenant.sources.registry.bodies import GuardedStream, read_bounded
from provenant.sources.registry.transport import HttpSession
from tests.fakeregistry import FakeRegistry, make_client, ref
from tests.hostile.server import HostileServer, Request, endless, hostile_server, response, trickle

NO_CONFIG = Path("/nonexistent/provenant-test/config.json")


@pytest.fixture
def server() -> Iterator[HostileServer]:
    with hostile_server() as srv:
        yield srv


def _client(limits: Limits) -> RegistryClient:
    opts = RegistryOptions(limits=limits, sleep=lambda _: None, docker_config=NO_CONFIG)
    return RegistryClient(opts, env={})


# -- the guard on every body -------------------------------------------------------------------------


class _Ticks(httpx.SyncByteStream):
    """Yields chunks while a fake clock moves ``step`` seconds per chunk (the server's pace)."""

    def __init__(self, clock: list[float], chunks: list[bytes], step: float) -> None:
        self.clock, self.chunks, self.step = clock, chunks, step

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            self.clock[0] += self.step
            yield chunk


def test_min_rate_is_enforced_after_the_rate_window_on_server_time_only() -> None:
    now = [0.0]
    limits = Limits(min_rate=100, rate_window=10)
    slow = GuardedStream(_Ticks(now, [b"x"] * 20, 1.0), "GET /slow", limits, read_timeout=5, clock=lambda: now[0])
    got = []
    with pytest.raises(LimitExceededError) as info:
        got.extend(slow)
    assert len(got) == 9  # the 10th chunk arrives after 10 s of waiting: 10 bytes, under 100 B/s
    assert "GET /slow: the server sent 10 bytes in 10 s: over the min-rate limit of 100 bytes/s" in info.value.message
    # Time the consumer spends between chunks does not count against the server.
    fast = GuardedStream(_Ticks(now, [b"x" * 200] * 5, 1.0), "GET /ok", limits, read_timeout=5, clock=lambda: now[0])
    assert sum(len(c) for c in fast) == 1000


def test_a_read_timeout_is_one_line_naming_the_limit() -> None:
    class Silent(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            yield b"a"
            raise httpx.ReadTimeout("timed out")

    guarded = GuardedStream(Silent(), "GET /x", Limits(), read_timeout=7)
    with pytest.raises(LimitExceededError) as info:
        list(guarded)
    assert "GET /x: the server sent nothing for 7 s: over the read-timeout limit of 7 s" in info.value.message


def test_trickling_manifest_stops_at_min_rate_on_the_stdlib_transport(server: HostileServer) -> None:
    body = b"{" + b" " * 200 + b"}"

    def slow(req: Request, conn: socket.socket, srv: HostileServer) -> None:
        conn.sendall(response(200, b"", {"Content-Length": str(len(body))}))
        trickle(body, 0.2, srv, conn)

    server.route("GET", r"/manifests/", slow)
    started = time.monotonic()
    with pytest.raises(LimitExceededError, match="min-rate"), _client(Limits(rate_window=1)) as client:
        client.get_manifest(Reference.parse(f"{server.host}/team/app:1"), "1")
    assert time.monotonic() - started < 5


def test_silent_body_stops_at_read_timeout_on_the_stdlib_transport(server: HostileServer) -> None:
    def silent(req: Request, conn: socket.socket, srv: HostileServer) -> None:
        conn.sendall(response(200, b"", {"Content-Length": "100"}) + b"{")
        srv.stopping.wait(10)

    server.route("GET", r"/manifests/", silent)
    started = time.monotonic()
    with (
        pytest.raises(LimitExceededError, match=r"read-timeout limit of 0\.5 s"),
        _client(Limits(read_timeout=0.5)) as client,
    ):
        client.get_manifest(Reference.parse(f"{server.host}/team/app:1"), "1")
    assert time.monotonic() - started < 5


# -- sizes ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("length", [None, "10", "999999999"])
def test_manifest_over_the_limit_whatever_content_length_says(server: HostileServer, length: str | None) -> None:
    def big(req: Request, conn: socket.socket, srv: HostileServer) -> None:
        head = "HTTP/1.1 200 OK\r\nConnection: close\r\n"
        head += f"Content-Length: {length}\r\n" if length else ""
        conn.sendall(head.encode() + b"\r\n")
        endless(conn, srv, seconds=10)

    server.route("GET", r"/manifests/", big)
    with _client(Limits(manifest_bytes=4096)) as client:
        try:
            client.get_manifest(Reference.parse(f"{server.host}/team/app:1"), "1")
        except LimitExceededError as exc:
            assert "manifest-bytes limit of 4 KiB" in exc.diagnostics()
        else:
            assert length == "10"  # a short Content-Length is all http.client reads: 10 bytes, not more


def test_error_bodies_are_cut_at_their_limit_and_not_retried_when_they_break_off(server: HostileServer) -> None:
    def huge(req: Request, conn: socket.socket, srv: HostileServer) -> None:
        conn.sendall(b"HTTP/1.1 400 Bad\r\nConnection: close\r\n\r\n")
        endless(conn, srv, seconds=10)

    server.route("GET", r"/manifests/", huge)
    with pytest.raises(RegistryError, match="400"), _client(Limits(error_body_bytes=1024)) as client:
        client.get_manifest(Reference.parse(f"{server.host}/team/app:1"), "1")

    def lying(req: Request, conn: socket.socket, srv: HostileServer) -> None:
        conn.sendall(response(404, b"{", {"Content-Length": "100000"}))  # lies about its length, then closes
        conn.shutdown(socket.SHUT_RDWR)

    server.route("GET", r"/manifests/", lying)
    server.log.clear()
    with pytest.raises(RegistryError, match="404"), _client(Limits()) as client:
        client.get_manifest(Reference.parse(f"{server.host}/team/app:1"), "1")
    assert len(server.log) == 1


def test_a_compressed_answer_is_inflated_only_up_to_the_limit() -> None:
    bomb = gzip.compress(b"0" * (64 << 20))

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Encoding": "gzip"}, stream=httpx.ByteStream(bomb))

    client = httpx.Client(transport=httpx.MockTransport(handler))
    with client.stream("GET", "http://127.0.0.1/t") as resp, pytest.raises(LimitExceededError, match="token-bytes"):
        read_bounded(resp, 1 << 20, "token", "token_bytes")
    with client.stream("GET", "http://127.0.0.1/t") as resp:
        assert len(read_bounded(resp, 1000, "error", "error_body_bytes", truncate=True)) == 1000


def test_token_answers_are_bounded() -> None:
    fake = FakeRegistry()
    fake.put_image("team/app", tag="v1", layers=[b"l"])
    fake.require_bearer()
    client, _ = make_client(fake, limits=Limits(token_bytes=16))
    with pytest.raises(LimitExceededError, match="token-bytes"):
        client.get_manifest(ref(fake, "team/app:v1"), "v1")


def test_tags_pages_are_bounded_in_size_and_count() -> None:
    fake = FakeRegistry()
    img = fake.put_image("team/app", tag="v1", layers=[b"l"])
    for i in range(30):
        fake.tag("team/app", f"t{i}", img.digest)
    client, _ = make_client(fake, limits=Limits(page_bytes=64))
    with pytest.raises(LimitExceededError, match="page-bytes"):
        client.list_tags(ref(fake, "team/app:v1"))
    client, _ = make_client(fake, limits=Limits(pages=2))
    fake.tags_page_size = 5
    with pytest.raises(LimitExceededError, match="over the pages limit of 2"):
        client.list_tags(ref(fake, "team/app:v1"))
    client, _ = make_client(fake)
    assert len(client.list_tags(ref(fake, "team/app:v1"))) == 31


def test_referrers_are_bounded_in_entries() -> None:
    fake = FakeRegistry()
    img = fake.put_image("team/app", tag="v1", layers=[b"l"])
    subject = {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": img.digest, "size": img.size}
    for i in range(12):
        fake.put_image("team/app", layers=[f"att{i}".encode()], subject=subject, artifact_type="x/y")
    fake.referrers = True
    fake.referrers_page_size = 5
    client, _ = make_client(fake, limits=Limits(referrers=10))
    digest = img.digest
    with pytest.raises(LimitExceededError, match="over the referrers limit of 10"):
        client.get_referrers(ref(fake, "team/app:v1"), Digest.parse(digest))
    client, _ = make_client(fake, limits=Limits(referrers=12))
    assert client.get_referrers(ref(fake, "team/app:v1"), Digest.parse(digest)) is not None


def test_session_takes_connect_and_read_timeouts_from_the_limits() -> None:
    session = HttpSession(RegistryOptions(limits=Limits(connect_timeout=3, read_timeout=7)))
    assert (session._timeout.connect, session._timeout.read) == (3, 7)
    session = HttpSession(RegistryOptions(timeout=4))
    assert (session._timeout.connect, session._timeout.read) == (4, 4)


def test_trickled_headers_stop_at_read_timeout_on_the_stdlib_transport(server: HostileServer) -> None:
    def slow_headers(req: Request, conn: socket.socket, srv: HostileServer) -> None:
        trickle(response(200, b"{}", {"X-Pad": "p" * 100}), 0.05, srv, conn)

    server.route("GET", r"/manifests/", slow_headers)
    started = time.monotonic()
    with (
        pytest.raises(RegistryError, match=r"no status line and headers within 2 s") as info,
        _client(Limits(read_timeout=1, retries=0)) as client,
    ):
        client.get_manifest(Reference.parse(f"{server.host}/team/app:1"), "1")
    assert time.monotonic() - started < 4
    assert "--limit read-timeout" in info.value.diagnostics()
