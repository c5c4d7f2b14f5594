"""StdlibTransport against a real in-process HTTP server: keep-alive pool, bodies, failures, TLS, wiring."""

from __future__ import annotations

import contextlib
import os
import select
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from provenant import limits as limits_mod
from provenant.errors import RegistryError, UsageError
from provenant.limits import LimitExceededError, Limits
from provenant.sources.registry import stdlib_transport
from provenant.sources.registry import transport as registry_transport
from provenant.sources.registry.options import RegistryOptions
from provenant.sources.registry.stdlib_transport import StdlibTransport
from provenant.sources.registry.transport import HttpSession

CHUNKS = [b"ab", b"cd" * 5000, b"e"]
BIG = b"x" * (4 << 20)
PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10  # an idle kept-alive connection ends its server thread eventually
    disable_nagle_algorithm = True  # headers and body go out in two writes
    server: Server

    def do_HEAD(self) -> None:
        self.server.record(self)
        self.send_response(200)
        self.send_header("Content-Length", "5")
        self.end_headers()

    def do_GET(self) -> None:
        self.server.record(self)
        path = self.path.split("?")[0]
        if path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for chunk in CHUNKS:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
        elif path == "/truncated":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"0123456789")
            self.close_connection = True
        elif path.endswith("/stall"):  # also as a proxy: http://host/stall
            self.server.release.wait(5)
            self._answer(b"late")
        elif path == "/empty":
            self.send_response(204)
            self.end_headers()
        elif path == "/drop":  # close without any answer
            self.close_connection = True
        elif path == "/bye":  # keep-alive answer, then the server closes the connection anyway
            self._answer(b"bye")
            self.close_connection = True
        elif path == "/redirect":
            self.send_response(307)
            self.send_header("Location", self.server.location)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/big":
            self._answer(BIG)
        elif path == "/reason":
            self.send_response(200, "Fine Thanks")
            self.send_header("Content-Length", "2")
            self.send_header("X-Two", "a")
            self.send_header("X-Two", "b")
            self.end_headers()
            self.wfile.write(b"ok")
        elif path == "/notfound":
            body = b'{"errors":[{"code":"NAME_UNKNOWN","message":"no such repository"}]}'
            self.send_response(404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif path == "/http10":
            self.protocol_version = "HTTP/1.0"
            self._answer(b"old")
            self.close_connection = True
        elif path == "/garbage":
            self.wfile.write(b"NOT-HTTP garbage\r\n\r\n")
            self.close_connection = True
        else:  # echo the request target (absolute-form when we are used as a proxy)
            self._answer(self.path.encode())

    def do_POST(self) -> None:
        self.server.record(self)
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path == "/see-other":
            self.send_response(303)
            self.send_header("Location", "/echo")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._answer(b"posted " + self.path.encode())

    def _answer(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class Server(ThreadingHTTPServer):
    """Counts accepted and closed connections and records each request's target and headers."""

    request_queue_size = 64  # 8 clients connecting at once overflow the default backlog of 5 (1 s SYN retry)

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.tls = tls
        self.accepted = 0
        self.closed = 0
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.release = threading.Event()
        self.location = ""
        self.changed = threading.Condition()

    @property
    def port(self) -> int:
        return self.server_address[1]

    def url(self, path: str, scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def record(self, handler: Handler) -> None:
        with self.changed:
            self.requests.append((handler.path, {k.lower(): v for k, v in handler.headers.items()}))

    def get_request(self) -> tuple[socket.socket, tuple[str, int]]:
        sock, addr = super().get_request()
        if self.tls is not None:
            sock = self.tls.wrap_socket(sock, server_side=True)
        return sock, addr

    def process_request(self, request: socket.socket | tuple[bytes, socket.socket], client_address: object) -> None:
        with self.changed:
            self.accepted += 1
        super().process_request(request, client_address)  # type: ignore[arg-type]

    def shutdown_request(self, request: socket.socket | tuple[bytes, socket.socket]) -> None:
        super().shutdown_request(request)
        with self.changed:
            self.closed += 1
            self.changed.notify_all()

    def wait_closed(self, count: int) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: self.closed >= count, timeout=5)

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # e.g. writing to a client that timed out


@contextlib.contextmanager
def serving(tls: ssl.SSLContext | None = None) -> Iterator[Server]:
    server = Server(tls)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.fixture
def server() -> Iterator[Server]:
    with serving() as s:
        yield s


@pytest.fixture
def transport() -> Iterator[StdlibTransport]:
    with StdlibTransport(ssl_context=None) as t:
        yield t


@pytest.fixture
def client(transport: StdlibTransport) -> Iterator[httpx.Client]:
    with httpx.Client(transport=transport, timeout=httpx.Timeout(5, read=2)) as c:
        yield c


# -- keep-alive and bodies --------------------------------------------------------------------------------------------


def test_keep_alive_reuses_one_connection(server: Server, client: httpx.Client) -> None:
    for i in range(5):
        resp = client.get(server.url(f"/echo?n={i}"))
        assert resp.status_code == 200
        assert resp.content == f"/echo?n={i}".encode()
        assert resp.http_version == "HTTP/1.1"
        assert resp.reason_phrase == "OK"
    assert server.accepted == 1


def test_request_headers_go_out_as_httpx_built_them(server: Server, client: httpx.Client) -> None:
    client.get(server.url("/echo"), headers={"X-Test": "yes"})
    ((_, headers),) = server.requests
    assert headers["host"] == f"127.0.0.1:{server.port}"
    assert headers["x-test"] == "yes"
    assert headers["accept-encoding"] == client.headers["accept-encoding"]
    assert headers["user-agent"] == client.headers["user-agent"]


def test_chunked_body_is_decoded_and_the_connection_reused(server: Server, client: httpx.Client) -> None:
    assert client.get(server.url("/chunked")).content == b"".join(CHUNKS)
    assert client.get(server.url("/echo")).content == b"/echo"
    assert server.accepted == 1


def test_body_chunks_are_at_most_read_size(server: Server, client: httpx.Client) -> None:
    with client.stream("GET", server.url("/big")) as resp:
        sizes = [len(chunk) for chunk in resp.iter_raw()]
    assert sum(sizes) == len(BIG)
    assert max(sizes) <= stdlib_transport.READ_SIZE


def test_truncated_content_length_body_is_a_protocol_error(server: Server, client: httpx.Client) -> None:
    with pytest.raises(httpx.RemoteProtocolError, match="received 10 bytes, expected 100"):
        client.get(server.url("/truncated"))
    assert client.get(server.url("/echo")).content == b"/echo"
    assert server.accepted == 2


def test_head_and_204_return_promptly_and_keep_the_connection(server: Server, client: httpx.Client) -> None:
    start = time.monotonic()
    head = client.head(server.url("/echo"))
    assert head.status_code == 200 and head.content == b"" and head.headers["content-length"] == "5"
    empty = client.get(server.url("/empty"))
    assert empty.status_code == 204 and empty.content == b""
    with client.stream("HEAD", server.url("/echo")) as streamed:  # closed without reading
        assert streamed.status_code == 200
    assert client.get(server.url("/echo")).content == b"/echo"
    assert time.monotonic() - start < 1.5  # the read timeout is 2 s: nothing waited for a body
    assert server.accepted == 1


def test_unread_closed_response_does_not_go_back_to_the_pool(
    server: Server, client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the pool's liveness check would also catch the leftover bytes; this is about closing the response
    monkeypatch.setattr(stdlib_transport, "_idle_socket_is_dead", lambda sock: False)
    with client.stream("GET", server.url("/big")) as resp:
        first = next(resp.iter_raw())
        assert 0 < len(first) < len(BIG)
    assert client.get(server.url("/echo")).content == b"/echo"  # not the rest of /big
    assert server.accepted == 2


def test_concurrent_requests_from_eight_threads(server: Server, client: httpx.Client) -> None:
    errors: list[str] = []
    barrier = threading.Barrier(8)

    def work(n: int) -> None:
        barrier.wait()
        for i in range(25):
            target = f"/echo?t={n}&i={i}"
            body = client.get(server.url(target)).content
            if body != target.encode():
                errors.append(f"{target}: {body[:40]!r}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(server.requests) == 200
    assert 1 <= server.accepted <= 8


def test_close_closes_idle_connections(server: Server) -> None:
    transport = StdlibTransport(ssl_context=None)
    with httpx.Client(transport=transport) as client:
        client.get(server.url("/echo"))
    server.wait_closed(1)  # the server saw the idle connection close


def test_idle_pool_is_bounded(server: Server) -> None:
    transport = StdlibTransport(ssl_context=None, max_idle_per_host=1)
    with httpx.Client(transport=transport) as client:
        a = client.send(client.build_request("GET", server.url("/echo")), stream=True)
        b = client.send(client.build_request("GET", server.url("/echo")), stream=True)
        a.read()
        b.read()  # the second clean connection does not fit: closed
        server.wait_closed(1)
        client.get(server.url("/echo"))
        client.get(server.url("/echo"))
    assert server.accepted == 2


# -- stale connections ------------------------------------------------------------------------------------------------


def test_connection_closed_by_the_server_while_idle_is_replaced(
    server: Server, client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent_on: list[bool] = []
    exchange = StdlibTransport._exchange

    def spy(self: StdlibTransport, *args: Any, reused: bool) -> Any:
        sent_on.append(reused)
        return exchange(self, *args, reused=reused)

    monkeypatch.setattr(StdlibTransport, "_exchange", spy)
    assert client.get(server.url("/bye")).content == b"bye"
    server.wait_closed(1)
    assert client.get(server.url("/echo")).content == b"/echo"
    assert server.accepted == 2
    assert sent_on == [False, False]  # the closed connection was seen before sending on it


def test_stale_connection_not_seen_while_idle_is_retried_once_on_a_fresh_one(
    server: Server, client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stdlib_transport, "_idle_socket_is_dead", lambda sock: False)
    assert client.get(server.url("/bye")).content == b"bye"
    server.wait_closed(1)
    assert client.get(server.url("/echo")).content == b"/echo"  # sent on the dead one first, then again
    assert server.accepted == 2
    assert [path for path, _ in server.requests] == ["/bye", "/echo"]


def test_a_fresh_connection_after_a_stale_one_is_not_retried(
    server: Server, client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stdlib_transport, "_idle_socket_is_dead", lambda sock: False)
    client.get(server.url("/bye"))
    server.wait_closed(1)
    with pytest.raises(httpx.RemoteProtocolError, match="closed connection without response"):
        client.get(server.url("/drop"))
    assert server.accepted == 2
    assert [path for path, _ in server.requests] == ["/bye", "/drop"]


def test_no_answer_on_a_fresh_connection_is_not_retried(server: Server, client: httpx.Client) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        client.get(server.url("/drop"))
    assert server.accepted == 1


# -- failures ---------------------------------------------------------------------------------------------------------


def test_read_timeout(server: Server, transport: StdlibTransport) -> None:
    with httpx.Client(transport=transport, timeout=httpx.Timeout(5, read=0.2)) as client:
        start = time.monotonic()
        with pytest.raises(httpx.ReadTimeout, match="timed out"):
            client.get(server.url("/stall"))
        assert time.monotonic() - start < 2


def test_connection_refused_is_a_connect_error(client: httpx.Client) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(httpx.ConnectError, match="Connection refused"):
        client.get(f"http://127.0.0.1:{port}/")


def test_unresolvable_host_is_a_connect_error(client: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    # The resolver answers "no such name" here, so the test sends no query to the machine's DNS server.
    def no_such_name(*args: object, **kwargs: object) -> list[object]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_name)
    with pytest.raises(httpx.ConnectError):
        client.get("http://no-such-host.invalid/")


def test_header_value_with_a_line_break_is_a_local_protocol_error(server: Server, client: httpx.Client) -> None:
    with pytest.raises(httpx.LocalProtocolError):
        client.get(server.url("/echo"), headers={"X-Test": "a\r\nInjected: yes"})
    assert server.requests == []


def test_https_is_refused_without_an_ssl_context(server: Server, client: httpx.Client) -> None:
    with pytest.raises(httpx.UnsupportedProtocol):
        client.get(server.url("/echo", scheme="https"))
    assert server.accepted == 0


# -- TLS --------------------------------------------------------------------------------------------------------------


@pytest.fixture
def tls_server(certificate: tuple[Path, Path]) -> Iterator[Server]:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*certificate)
    with serving(ctx) as s:
        yield s


def _session(**kwargs: object) -> HttpSession:
    return HttpSession(RegistryOptions(max_retries=0, sleep=lambda _: None, timeout=5, **kwargs))  # type: ignore[arg-type]


def test_self_signed_tls_fails_with_a_tls_hint_without_ca_file(tls_server: Server) -> None:
    session = _session()
    host = f"127.0.0.1:{tls_server.port}"
    with pytest.raises(RegistryError) as info:
        session.send("GET", httpx.URL(tls_server.url("/echo", scheme="https")), error_host=host)
    assert "CERTIFICATE_VERIFY_FAILED" in info.value.message
    assert info.value.hint is not None and info.value.hint.startswith("TLS verification failed")
    session.close()


def test_self_signed_tls_works_with_ca_file_and_keeps_the_connection(
    tls_server: Server, certificate: tuple[Path, Path]
) -> None:
    session = _session(ca_file=certificate[0])
    host = f"127.0.0.1:{tls_server.port}"
    for _ in range(3):
        resp = session.send("GET", httpx.URL(tls_server.url("/echo", scheme="https")), error_host=host)
        assert resp.status_code == 200 and resp.content == b"/echo"
    assert tls_server.accepted == 1
    session.close()


def test_insecure_skips_verification(tls_server: Server) -> None:
    session = _session(insecure=True)
    url = httpx.URL(f"https://localhost:{tls_server.port}/echo")  # not even the certificate's name checks out
    resp = session.send("GET", url, error_host=f"localhost:{tls_server.port}")
    assert resp.content == b"/echo"
    session.close()


def test_insecure_falls_back_to_http_when_tls_fails_to_connect(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    """The --insecure probe relies on TLS to a plain-HTTP server being a ConnectError."""
    monkeypatch.setattr(registry_transport, "is_loopback", lambda host: False)  # probing skips loopback hosts
    session = _session(insecure=True)
    host = f"127.0.0.1:{server.port}"
    resp = session.send("GET", httpx.URL(server.url("/echo", scheme="https")), error_host=host, registry_host=host)
    assert resp.content == b"/echo"
    assert session.fell_back_to_http(host)
    session.close()


# -- through HttpSession ----------------------------------------------------------------------------------------------


def test_session_clients_use_the_stdlib_transport(certificate: tuple[Path, Path]) -> None:
    session = _session(ca_file=certificate[0])
    for url in (httpx.URL("http://127.0.0.1:5000/v2/"), httpx.URL("https://registry.example/v2/")):
        assert isinstance(session._client_for(url)._transport_for_url(url), StdlibTransport)
    session.close()


def test_redirect_to_another_host_drops_authorization(server: Server) -> None:
    with serving() as storage:
        server.location = f"http://localhost:{storage.port}/blob"
        session = _session()
        resp = session.send(
            "GET",
            httpx.URL(server.url("/redirect")),
            error_host=f"127.0.0.1:{server.port}",
            authorization="Bearer secret",
            auth_host=f"127.0.0.1:{server.port}",
        )
        session.close()
        assert resp.status_code == 200 and resp.content == b"/blob"
        ((_, first),) = server.requests
        ((_, second),) = storage.requests
        assert first["authorization"] == "Bearer secret"
        assert "authorization" not in second


def test_env_proxy_is_still_used(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    """httpx ignores proxy variables for a client with an explicit transport, so HttpSession must not pass one."""
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{server.port}")
    session = _session()
    resp = session.send("GET", httpx.URL("http://registry.invalid/v2/"), error_host="registry.invalid")
    session.close()
    assert resp.content == b"http://registry.invalid/v2/"  # the proxy got the absolute-form request
    ((_, headers),) = server.requests
    assert headers["user-agent"] == registry_transport.USER_AGENT
    assert headers["accept-encoding"] == "identity"


def test_the_proxied_client_keeps_the_sessions_timeout(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{server.port}")
    session = HttpSession(RegistryOptions(max_retries=0, sleep=lambda _: None, timeout=0.3))
    start = time.monotonic()
    with pytest.raises(RegistryError):
        session.send("GET", httpx.URL("http://registry.invalid/stall"), error_host="registry.invalid")
    assert time.monotonic() - start < 2  # httpx's own default would wait 5 s
    session.close()


def test_status_reason_version_and_repeated_headers_come_through(server: Server, client: httpx.Client) -> None:
    resp = client.get(server.url("/reason"))
    assert (resp.status_code, resp.reason_phrase, resp.http_version, resp.content) == (
        200,
        "Fine Thanks",
        "HTTP/1.1",
        b"ok",
    )
    assert resp.headers.get_list("x-two") == ["a", "b"]
    old = client.get(server.url("/http10"))
    assert (old.http_version, old.content) == ("HTTP/1.0", b"old")


def test_a_malformed_status_line_is_a_protocol_error(server: Server, client: httpx.Client) -> None:
    with pytest.raises(httpx.RemoteProtocolError, match="NOT-HTTP garbage"):
        client.get(server.url("/garbage"))


def test_refusals_name_the_scheme(server: Server, client: httpx.Client) -> None:
    with pytest.raises(httpx.UnsupportedProtocol) as info:
        client.get(server.url("/echo", scheme="https"))
    assert str(info.value) == "https is not enabled on this transport: https://127.0.0.1"
    transport = StdlibTransport(ssl_context=None)
    with pytest.raises(httpx.UnsupportedProtocol) as info:
        transport.handle_request(httpx.Request("GET", "ftp://127.0.0.1/x"))
    assert str(info.value) == "Request URL has an unsupported protocol 'ftp://'."


def test_truncated_body_message(server: Server, client: httpx.Client) -> None:
    with pytest.raises(httpx.RemoteProtocolError) as info:
        client.get(server.url("/truncated"))
    assert str(info.value) == (
        "peer closed connection without sending complete message body: received 10 bytes, expected 100"
    )


def test_a_303_after_a_post_is_followed_with_a_get_without_body(server: Server) -> None:
    session = _session()
    resp = session.send(
        "POST", httpx.URL(server.url("/see-other")), error_host=f"127.0.0.1:{server.port}", content=b"payload"
    )
    session.close()
    assert resp.content == b"/echo"
    (post_path, post), (get_path, get) = server.requests
    assert (post_path, post["content-length"]) == ("/see-other", "7")
    assert get_path == "/echo" and "content-length" not in get


def test_a_bad_ca_file_fails_when_the_session_is_made(tmp_path: Path) -> None:
    missing = tmp_path / "ca.pem"
    with pytest.raises(UsageError) as info:
        _session(ca_file=missing)
    assert info.value.message == f"cannot use --ca-file {missing}: No such file or directory"
    assert info.value.hint == "pass a readable PEM file with the registry's CA certificate"
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    with pytest.raises(UsageError, match=f"cannot use --ca-file {junk}: "):
        _session(ca_file=junk)


@pytest.mark.parametrize(
    ("env", "direct_http", "direct_https"),
    [
        ({}, True, True),
        ({"HTTP_PROXY": "http://127.0.0.1:9"}, False, True),
        ({"HTTPS_PROXY": "http://127.0.0.1:9"}, True, False),
        ({"ALL_PROXY": "http://127.0.0.1:9"}, False, False),
        ({"ALL_PROXY": "http://127.0.0.1:9", "NO_PROXY": "localhost, *"}, True, True),
        ({"ALL_PROXY": "http://127.0.0.1:9", "NO_PROXY": "localhost,*"}, True, True),
        ({"ALL_PROXY": "http://127.0.0.1:9", "NO_PROXY": "localhost"}, False, False),
    ],
)
def test_proxy_variables_choose_the_transport(
    env: dict[str, str], direct_http: bool, direct_https: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    session = _session()
    for url, direct in (
        (httpx.URL("http://r.example/v2/"), direct_http),
        (httpx.URL("https://r.example/v2/"), direct_https),
    ):
        used = session._client_for(url)._transport_for_url(url)
        assert isinstance(used, StdlibTransport) is direct, (env, url)
    session.close()


def test_streamed_answers_are_left_open_only_when_usable(server: Server) -> None:
    session = _session()
    host = f"127.0.0.1:{server.port}"
    ok = session.send("GET", httpx.URL(server.url("/big")), error_host=host, stream=True)
    assert not ok.is_closed and not ok.is_stream_consumed
    assert b"".join(ok.iter_bytes()) == BIG
    ok.close()
    plain = session.send("GET", httpx.URL(server.url("/big")), error_host=host, body_limit="manifest_bytes")
    assert plain.is_closed and plain.content == BIG
    # A success answer over its cap is refused, never cut short (error answers are the ones cut).
    with pytest.raises(LimitExceededError, match="error-body-bytes"):
        session.send("GET", httpx.URL(server.url("/big")), error_host=host)
    # An error answer is read whole even when streaming was asked for: its body explains it.
    missing = session.send("GET", httpx.URL(server.url("/notfound")), error_host=host, stream=True)
    assert missing.is_closed and b"NAME_UNKNOWN" in missing.content
    assert session.request_count == 4
    session.close()


def test_base_url_scheme_by_host() -> None:
    session = _session()
    assert session.base_url("127.0.0.1:5000") == httpx.URL("http://127.0.0.1:5000/")
    assert session.base_url("localhost") == httpx.URL("http://localhost/")
    assert session.base_url("registry.example.test") == httpx.URL("https://registry.example.test/")
    insecure = _session(insecure=True)
    assert insecure.base_url("registry.example.test") == httpx.URL("https://registry.example.test/")
    assert not insecure.fell_back_to_http("registry.example.test")


# -- the transport on its own: raw wire, errors as httpx's transport contract has them -------------------------------


@contextlib.contextmanager
def raw_server(script: Any) -> Iterator[tuple[int, list[bytes]]]:
    """One connection on 127.0.0.1 handled by ``script(conn, received)``; yields (port, received chunks)."""
    listener = socket.create_server(("127.0.0.1", 0))
    received: list[bytes] = []

    def run() -> None:
        with contextlib.suppress(OSError):
            conn, _ = listener.accept()
            with conn:
                script(conn, received)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], received
    finally:
        listener.close()
        thread.join(5)


def _read_request(conn: socket.socket, received: list[bytes], end: bytes = b"\r\n\r\n") -> None:
    data = b""
    conn.settimeout(2)  # a request that never ends ends the server's wait too
    while end not in data:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    received.append(data)


def _raw(port: int, path: str = "/x", **kwargs: Any) -> httpx.Request:
    return httpx.Request("GET", f"http://127.0.0.1:{port}{path}", **kwargs)


def test_host_and_accept_encoding_go_out_once_as_httpx_built_them() -> None:
    def script(conn: socket.socket, received: list[bytes]) -> None:
        _read_request(conn, received)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")

    with raw_server(script) as (port, received), StdlibTransport(ssl_context=None) as transport:
        request = _raw(port, headers={"Host": "registry.test", "Accept-Encoding": "identity"})
        transport.handle_request(request).close()
    lines = received[0].lower().split(b"\r\n")
    assert lines[0] == b"get /x http/1.1"
    assert [line for line in lines if line.startswith(b"host:")] == [b"host: registry.test"]
    assert [line for line in lines if line.startswith(b"accept-encoding:")] == [b"accept-encoding: identity"]


def test_a_streamed_request_body_goes_out_chunked() -> None:
    def script(conn: socket.socket, received: list[bytes]) -> None:
        _read_request(conn, received, end=b"0\r\n\r\n")
        conn.sendall(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")

    def parts() -> Iterator[bytes]:
        yield b"abc"
        yield b"defg"

    with raw_server(script) as (port, received), StdlibTransport(ssl_context=None) as transport:
        request = httpx.Request(
            "POST", f"http://127.0.0.1:{port}/up", content=parts(), extensions={"timeout": {"read": 1, "write": 1}}
        )
        assert request.headers["transfer-encoding"] == "chunked"
        resp = transport.handle_request(request)
        assert resp.status_code == 201
        resp.close()
    head, _, body = received[0].partition(b"\r\n\r\n")
    assert b"transfer-encoding: chunked" in head.lower()
    assert body == b"7\r\nabcdefg\r\n0\r\n\r\n"  # read whole first, then sent as one chunk


def test_no_read_timeout_means_no_header_deadline() -> None:
    def script(conn: socket.socket, received: list[bytes]) -> None:
        _read_request(conn, received)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    with raw_server(script) as (port, _), StdlibTransport(ssl_context=None) as transport:
        request = _raw(port, extensions={"timeout": {"connect": 5, "read": None, "write": 5}})
        resp = transport.handle_request(request)
        assert resp.read() == b"ok"


@pytest.mark.parametrize(
    "trickle",
    [b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 100, b"HTTP" + b"/" * 100],  # in the headers / status line
)
def test_headers_trickled_past_the_read_timeout_are_a_read_timeout(trickle: bytes) -> None:
    def script(conn: socket.socket, received: list[bytes]) -> None:
        _read_request(conn, received)
        with contextlib.suppress(OSError):
            for byte in trickle:
                conn.sendall(bytes([byte]))
                time.sleep(0.05)

    with raw_server(script) as (port, _), StdlibTransport(ssl_context=None) as transport:
        request = _raw(port, extensions={"timeout": {"connect": 5, "read": 0.25, "write": 5}})
        start = time.monotonic()
        with pytest.raises(httpx.ReadTimeout) as info:
            transport.handle_request(request)
        assert time.monotonic() - start < 3
    assert str(info.value) == "no status line and headers within 1.25 s"
    assert info.value.request is request


def test_failures_carry_the_request_and_the_cause(server: Server, transport: StdlibTransport) -> None:
    """A transport used without an httpx client still raises errors that name their request."""
    garbage = httpx.Request("GET", server.url("/garbage"))
    with pytest.raises(httpx.RemoteProtocolError) as protocol:
        transport.handle_request(garbage)
    assert protocol.value.request is garbage and "NOT-HTTP garbage" in str(protocol.value)

    stall = httpx.Request("GET", server.url("/stall"), extensions={"timeout": {"connect": 5, "read": 0.2}})
    with pytest.raises(httpx.ReadTimeout) as timeout:
        transport.handle_request(stall)
    assert timeout.value.request is stall and "timed out" in str(timeout.value)

    injected = httpx.Request("GET", server.url("/echo"), headers={"X-Test": "a\r\nInjected: yes"})
    with pytest.raises(httpx.LocalProtocolError) as local:
        transport.handle_request(injected)
    assert local.value.request is injected and "Invalid header value" in str(local.value)

    truncated = httpx.Request("GET", server.url("/truncated"))
    resp = transport.handle_request(truncated)
    with pytest.raises(httpx.RemoteProtocolError) as short:
        b"".join(resp.stream)  # type: ignore[arg-type]
    assert short.value.request is truncated and "received 10 bytes, expected 100" in str(short.value)


def test_a_reset_while_reading_the_body_is_a_read_error_with_the_request() -> None:
    def script(conn: socket.socket, received: list[bytes]) -> None:
        _read_request(conn, received)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
        time.sleep(0.2)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # RST on close

    with raw_server(script) as (port, _), StdlibTransport(ssl_context=None) as transport:
        request = _raw(port)
        resp = transport.handle_request(request)
        with pytest.raises(httpx.ReadError) as info:
            b"".join(resp.stream)  # type: ignore[arg-type]
    assert info.value.request is request
    assert "Connection reset" in str(info.value)


def test_a_body_cut_short_counts_every_chunk_received() -> None:
    def script(conn: socket.socket, received: list[bytes]) -> None:
        _read_request(conn, received)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
        time.sleep(0.2)
        conn.sendall(b"abcdefghij")
        time.sleep(0.2)

    with raw_server(script) as (port, _), StdlibTransport(ssl_context=None) as transport:
        resp = transport.handle_request(_raw(port))
        with pytest.raises(httpx.RemoteProtocolError, match="received 20 bytes, expected 100"):
            b"".join(resp.stream)  # type: ignore[arg-type]


def test_a_request_body_the_server_never_reads_is_a_write_timeout() -> None:
    def script(conn: socket.socket, received: list[bytes]) -> None:
        time.sleep(3)  # reads nothing: the socket buffers fill up

    with raw_server(script) as (port, _), StdlibTransport(ssl_context=None) as transport:
        request = httpx.Request(
            "POST",
            f"http://127.0.0.1:{port}/up",
            content=b"x" * (64 << 20),
            extensions={"timeout": {"connect": 5, "read": 5, "write": 0.3}},
        )
        start = time.monotonic()
        with pytest.raises(httpx.WriteTimeout) as info:
            transport.handle_request(request)
        assert time.monotonic() - start < 2.5
    assert info.value.request is request and "timed out" in str(info.value)


def test_a_fresh_connection_reset_while_sending_is_a_write_error() -> None:
    def script(conn: socket.socket, received: list[bytes]) -> None:
        time.sleep(0.2)  # after the client's connect() is done
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # RST on close

    with raw_server(script) as (port, _), StdlibTransport(ssl_context=None) as transport:
        request = httpx.Request(
            "POST",
            f"http://127.0.0.1:{port}/up",
            content=b"x" * (64 << 20),
            extensions={"timeout": {"connect": 5, "read": 5, "write": 5}},
        )
        with pytest.raises(httpx.WriteError) as info:
            transport.handle_request(request)
    assert info.value.request is request
    assert "Connection reset" in str(info.value) or "Broken pipe" in str(info.value)


def test_dead_idle_connections_are_seen_without_poll(
    server: Server, client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where select.poll is missing, select.select watches the idle socket: promptly, and closed ones are seen."""
    monkeypatch.delattr(select, "poll")
    start = time.monotonic()
    for _ in range(3):
        assert client.get(server.url("/echo")).content == b"/echo"
    assert time.monotonic() - start < 0.5  # the check of a live idle socket does not wait
    assert server.accepted == 1
    assert client.get(server.url("/bye")).content == b"bye"
    server.wait_closed(1)
    assert client.get(server.url("/echo")).content == b"/echo"
    assert server.accepted == 2
    assert [path for path, _ in server.requests][-2:] == ["/bye", "/echo"]


# -- HttpSession: what errors name, which limits word them, the insecure probe ---------------------------------------


class Streamed(httpx.SyncByteStream):
    """A body that comes off the wire (httpx reads a ``content=`` body at once)."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def __iter__(self) -> Iterator[bytes]:
        yield self._data


def _mock_session(answer: httpx.Response, **kwargs: object) -> HttpSession:
    return _session(transport=httpx.MockTransport(lambda request: answer), **kwargs)


@pytest.mark.parametrize("status", [200, 404])
def test_a_body_that_cannot_be_read_names_the_request(status: int) -> None:
    session = _mock_session(httpx.Response(status, headers={"Content-Encoding": "br"}, stream=Streamed(b"?")))
    with pytest.raises(RegistryError) as info:
        session.send("GET", httpx.URL("https://r.test/v2/x"), error_host="r.test")
    assert (
        info.value.message
        == "registry r.test: answer to GET /v2/x: the server sent an unsupported Content-Encoding 'br'"
    )


def test_a_stalled_body_names_the_request() -> None:
    class Stalled(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            raise httpx.ReadTimeout("timed out")

    session = _mock_session(httpx.Response(200, stream=Stalled()))
    with pytest.raises(LimitExceededError) as info:
        session.send("GET", httpx.URL("https://r.test/v2/x"), error_host="r.test")
    assert info.value.message.startswith("registry r.test: GET /v2/x: the server sent nothing for 5 s")


def test_the_sessions_own_limits_word_the_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    own = Limits(manifest_bytes=10, timeout=7)
    assert limits_mod.current().describe("manifest_bytes") != own.describe("manifest_bytes")
    session = _mock_session(httpx.Response(200, stream=Streamed(b"x" * 20)), limits=own)
    with pytest.raises(LimitExceededError) as info:
        session.send("GET", httpx.URL("https://r.test/v2/x"), error_host="r.test", body_limit="manifest_bytes")
    assert f"over the manifest-bytes limit of {own.describe('manifest_bytes')}" in info.value.message
    monkeypatch.setattr(limits_mod, "remaining", lambda: 5.0)
    with pytest.raises(LimitExceededError) as waited:
        session.wait(5.0, "retrying")  # exactly the time left is too long: nothing would be left to retry with
    assert (
        waited.value.message
        == f"retrying would pass the deadline (5 s left): over the timeout limit of {own.describe('timeout')}"
    )
    slept: list[float] = []
    HttpSession(RegistryOptions(sleep=slept.append)).wait(4.9, "retrying")
    assert slept == [4.9]


def test_an_answer_of_300_is_an_error_answer_cut_at_its_cap() -> None:
    session = _mock_session(httpx.Response(300, stream=Streamed(b"y" * 100)), limits=Limits(error_body_bytes=10))
    resp = session.send("GET", httpx.URL("https://r.test/v2/x"), error_host="r.test")
    assert (resp.status_code, resp.content) == (300, b"y" * 10)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("scheme", "registry", "loopback"),
    [
        ("http", "127.0.0.1:{port}", False),  # already plain HTTP: nothing to fall back to
        ("https", "127.0.0.1:{port}", True),  # loopback registries are never probed
        ("https", "other.example:443", False),  # the request is not to the registry being probed
    ],
)
def test_insecure_does_not_fall_back_where_it_must_not(
    scheme: str, registry: str, loopback: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not loopback:
        monkeypatch.setattr(registry_transport, "is_loopback", lambda host: False)
    port = _closed_port()
    host = f"127.0.0.1:{port}"
    registry_host = registry.format(port=port)
    session = _session(insecure=True)
    with pytest.raises(RegistryError):
        session.send("GET", httpx.URL(f"{scheme}://{host}/v2/"), error_host=host, registry_host=registry_host)
    assert session.request_count == 1
    assert not session.fell_back_to_http(registry_host)


def test_https_that_worked_once_is_kept(certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """After a TLS answer the insecure probe is settled: a later connect failure is an error, not a fall back."""
    monkeypatch.setattr(registry_transport, "is_loopback", lambda host: False)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*certificate)
    session = _session(insecure=True)
    with serving(ctx) as tls:
        host = f"127.0.0.1:{tls.port}"
        url = httpx.URL(tls.url("/bye", scheme="https"))  # the server closes the connection after it
        assert session.send("GET", url, error_host=host, registry_host=host).content == b"bye"
    assert session.base_url(host) == httpx.URL(f"https://{host}/")
    with pytest.raises(RegistryError):
        session.send("GET", url, error_host=host, registry_host=host)
    assert session.request_count == 2
    assert not session.fell_back_to_http(host)
    assert session.base_url(host) == httpx.URL(f"https://{host}/")
    session.close()


def test_a_secure_session_records_no_scheme(server: Server) -> None:
    session = _session()
    host = f"127.0.0.1:{server.port}"
    assert session.send("GET", httpx.URL(server.url("/echo")), error_host=host, registry_host=host).content == b"/echo"
    assert not session.fell_back_to_http(host)
    session.close()


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_connect_that_gets_no_answer_is_a_connect_timeout(scheme: str) -> None:
    """A listener whose accept queue is full drops new SYNs: the connect waits, within its own timeout."""
    with socket.create_server(("127.0.0.1", 0), backlog=0) as listener, contextlib.ExitStack() as stack:
        port = listener.getsockname()[1]
        for _ in range(4):  # fill the accept queue; nobody accepts
            filler = stack.enter_context(socket.socket())
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", port))
        time.sleep(0.1)
        tls = ssl.create_default_context() if scheme == "https" else None
        with StdlibTransport(ssl_context=tls) as transport:
            request = httpx.Request(
                "GET", f"{scheme}://127.0.0.1:{port}/", extensions={"timeout": {"connect": 0.3, "read": 5, "write": 5}}
            )
            start = time.monotonic()
            with pytest.raises(httpx.ConnectTimeout) as info:
                transport.handle_request(request)
            assert time.monotonic() - start < 3
    assert info.value.request is request and "timed out" in str(info.value)


def test_a_refused_connect_carries_the_request() -> None:
    with StdlibTransport(ssl_context=None) as transport:
        request = _raw(_closed_port())
        with pytest.raises(httpx.ConnectError) as info:
            transport.handle_request(request)
    assert info.value.request is request and "Connection refused" in str(info.value)


def test_a_reused_connection_sends_the_body_and_names_the_request(
    server: Server, transport: StdlibTransport, client: httpx.Client
) -> None:
    for _ in range(2):
        assert client.post(server.url("/up"), content=b"payload").content == b"posted /up"
    assert server.accepted == 1
    truncated = httpx.Request("GET", server.url("/truncated"))  # on the same kept-alive connection
    resp = transport.handle_request(truncated)
    with pytest.raises(httpx.RemoteProtocolError) as info:
        b"".join(resp.stream)  # type: ignore[arg-type]
    assert info.value.request is truncated
    assert server.accepted == 1


def test_keep_alive_with_descriptors_past_1024(server: Server, client: httpx.Client) -> None:
    """select.select cannot watch descriptor 1024 or above; poll can, so such a connection is still reused."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # Room for 1,100 more than the process holds now (whatever earlier tests left open).
    want = 1200 + len(os.listdir("/proc/self/fd"))
    # No skip: a hard limit below that is raised (CI runs as root, which may); elsewhere setrlimit fails the test.
    needed_hard = hard if hard == resource.RLIM_INFINITY or hard >= want else want
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), needed_hard))
    try:
        with contextlib.ExitStack() as stack:
            while stack.enter_context(socket.socket()).fileno() < 1030:  # the next socket's descriptor past 1024
                pass
            for _ in range(3):
                assert client.get(server.url("/echo")).content == b"/echo"
        assert server.accepted == 1
    finally:
        client.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
