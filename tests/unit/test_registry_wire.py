"""The quick path's HTTP/1.1 reader (:mod:`provenant.sources.registry.wire`) against raw answers on 127.0.0.1.

What it reads must come out as an HTTP client would read it (framing, keep-alive, repeated headers);
everything else must be refused with WireError, never guessed at, since the caller then asks again with
the full client. Each case is a scripted answer from :class:`tests.hostile.server.HostileServer`.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from provenant.sources.registry import wire
from provenant.sources.registry.wire import Connection, WireError
from tests.hostile.server import Handler, HostileServer, Request, hostile_server, response


@pytest.fixture
def srv() -> Iterator[HostileServer]:
    with hostile_server() as s:
        yield s


def _get(conn: Connection, path: str = "/x", method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    status, fields, body = conn.request(method, path, {"Accept": "*/*"})
    return status, fields, b"".join(body)


def _answer_then_close(raw: bytes) -> Handler:
    """A handler that writes ``raw`` and closes the connection."""

    def handler(req: Request, conn: socket.socket, s: HostileServer) -> None:
        conn.sendall(raw)
        conn.shutdown(socket.SHUT_WR)

    return handler


# --- what it reads ---------------------------------------------------------------------------------------


def test_a_sized_body_is_read_exactly_and_the_connection_is_kept(srv: HostileServer) -> None:
    srv.answer("GET", "/x", response(200, b"hello", {"X-One": "1"}))
    conn = Connection(srv.host, timeout=5)
    assert _get(conn) == (200, {"content-length": "5", "x-one": "1"}, b"hello")
    assert _get(conn) == (200, {"content-length": "5", "x-one": "1"}, b"hello")
    assert srv.accepted == 1
    conn.close()


def test_the_request_says_host_identity_encoding_and_the_callers_headers(srv: HostileServer) -> None:
    srv.answer("GET", "/x", response(200))
    conn = Connection(srv.host, timeout=5)
    conn.request("GET", "/x?n=1&last=a%2Fb", {"Authorization": "Bearer t0k", "Accept": "a/b, c/d"})
    req = srv.log[-1]
    assert req.path == "/x?n=1&last=a%2Fb"
    assert req.headers == {
        "host": srv.host,
        "accept-encoding": "identity",
        "authorization": "Bearer t0k",
        "accept": "a/b, c/d",
    }
    conn.close()


def test_a_head_answer_has_no_body_whatever_its_length_says(srv: HostileServer) -> None:
    srv.answer("HEAD", "/x", response(200, b"", {"Content-Length": "506", "Docker-Content-Digest": "sha256:ab"}))
    conn = Connection(srv.host, timeout=5)
    for _ in range(2):
        status, fields, body = _get(conn, method="HEAD")
        assert (status, fields["docker-content-digest"], body) == (200, "sha256:ab", b"")
    assert srv.accepted == 1  # nothing left unread on the connection
    conn.close()


@pytest.mark.parametrize("status", [204, 304])
def test_answers_that_never_have_a_body(srv: HostileServer, status: int) -> None:
    srv.answer("GET", "/x", f"HTTP/1.1 {status} X\r\nContent-Length: 9\r\n\r\n".encode())
    conn = Connection(srv.host, timeout=5)
    assert _get(conn)[::2] == (status, b"")
    assert _get(conn)[::2] == (status, b"")
    assert srv.accepted == 1
    conn.close()


def test_a_chunked_body_with_extensions_and_a_trailer_is_joined(srv: HostileServer) -> None:
    raw = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n"
        b"5;name=value;other=1\r\nhello\r\n"
        b"A\r\n, world!!!\r\n"
        b"10 ; ext\r\n0123456789abcdef\r\n"
        b"0\r\nX-Trailer: 1\r\n\r\n"
    )
    srv.answer("GET", "/x", raw)
    conn = Connection(srv.host, timeout=5)
    assert _get(conn)[2] == b"hello, world!!!0123456789abcdef"
    assert _get(conn)[2] == b"hello, world!!!0123456789abcdef"
    assert srv.accepted == 1
    conn.close()


def test_a_body_without_a_length_is_read_to_the_end_and_the_next_request_connects_again(
    srv: HostileServer,
) -> None:
    srv.route("GET", "/x", _answer_then_close(b"HTTP/1.1 200 OK\r\n\r\n" + b"z" * 200_000))
    conn = Connection(srv.host, timeout=5)
    assert _get(conn)[2] == b"z" * 200_000
    assert conn.sock is None
    assert _get(conn)[2] == b"z" * 200_000
    assert srv.accepted == 2
    conn.close()


@pytest.mark.parametrize(
    "raw",
    [
        response(200, b"bye", {"Connection": "keep-alive, Close"}),
        response(200, b"bye", {"Connection": "close,TE"}),
        b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nbye",
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nbye\r\n0\r\n\r\n",
        b"HTTP/1.1 204 OK\r\nConnection: close\r\n\r\n",
    ],
)
def test_an_answer_that_closes_the_connection_is_followed_by_a_new_one(srv: HostileServer, raw: bytes) -> None:
    srv.answer("GET", "/x", raw)
    conn = Connection(srv.host, timeout=5)
    first = _get(conn)
    assert conn.sock is None
    assert _get(conn) == first
    assert srv.accepted == 2


def test_a_head_answer_that_closes_the_connection_is_followed_by_a_new_one(srv: HostileServer) -> None:
    srv.answer("HEAD", "/x", response(200, b"", {"Content-Length": "9", "Connection": "close"}))
    conn = Connection(srv.host, timeout=5)
    assert _get(conn, method="HEAD")[0] == 200
    assert conn.sock is None
    assert _get(conn, method="HEAD")[0] == 200
    assert srv.accepted == 2


def test_repeated_headers_are_joined_and_names_lowercased(srv: HostileServer) -> None:
    raw = (
        b"HTTP/1.1 401 Unauthorized\r\n"
        b'WWW-Authenticate: Bearer realm="a"\r\n'
        b"Content-Length: 0\r\n"
        b'www-authenticate:Basic realm="b"  \r\n'
        b"X-Empty:\r\n"
        b"X-Latin: caf\xe9\n"
        b"\r\n"
    )
    srv.answer("GET", "/x", raw)
    conn = Connection(srv.host, timeout=5)
    status, fields, _ = _get(conn)
    assert status == 401
    assert fields == {
        "www-authenticate": 'Bearer realm="a", Basic realm="b"',
        "content-length": "0",
        "x-empty": "",
        "x-latin": "caf\u00e9",
    }
    conn.close()


def test_header_values_lose_only_spaces_tabs_and_the_line_end(srv: HostileServer) -> None:
    srv.answer("GET", "/x", b"HTTP/1.1 200 OK\r\nX-Odd: \t\x0bXvX\x0c \r\nX-Edge: X v X \r\nContent-Length: 0\r\n\r\n")
    conn = Connection(srv.host, timeout=5)
    fields = _get(conn)[1]
    assert (fields["x-odd"], fields["x-edge"]) == ("\x0bXvX\x0c", "X v X")
    conn.close()


def test_a_content_length_of_eighteen_digits_is_a_length(srv: HostileServer) -> None:
    srv.answer("GET", "/x", b"HTTP/1.1 200 OK\r\nContent-Length: " + b"0" * 17 + b"5\r\n\r\nhello")
    conn = Connection(srv.host, timeout=5)
    assert _get(conn)[2] == b"hello"
    conn.close()


def test_a_status_line_without_a_reason_is_read(srv: HostileServer) -> None:
    srv.answer("GET", "/x", b"HTTP/1.1 404\r\nContent-Length: 2\r\n\r\nno")
    conn = Connection(srv.host, timeout=5)
    assert _get(conn) == (404, {"content-length": "2"}, b"no")
    conn.close()


# --- the bounds, at the byte --------------------------------------------------------------------------------


def _with_header(size: int) -> bytes:
    """An answer with one header line of exactly ``size`` bytes, CRLF included."""
    name = b"X-Pad: "
    return b"HTTP/1.1 200 OK\r\n" + name + b"p" * (size - len(name) - 2) + b"\r\nContent-Length: 0\r\n\r\n"


def test_a_line_of_max_line_bytes_is_read_and_one_byte_more_is_not(srv: HostileServer) -> None:
    srv.answer("GET", "/ok", _with_header(wire.MAX_LINE))
    srv.answer("GET", "/long", _with_header(wire.MAX_LINE + 1))
    conn = Connection(srv.host, timeout=5)
    assert _get(conn, "/ok")[0] == 200
    with pytest.raises(WireError, match=r"^a line of the answer is longer than 8192 bytes$"):
        _get(conn, "/long")
    conn.close()


def _with_fields(count: int, size: int = 20) -> bytes:
    lines = b"".join(b"X-F%05d: " % i + b"v" * (size - 11) + b"\r\n" for i in range(count))
    return b"HTTP/1.1 200 OK\r\n" + lines + b"\r\n"


def test_max_fields_header_lines_are_read_and_one_more_is_not(srv: HostileServer) -> None:
    srv.answer("GET", "/ok", _with_fields(wire.MAX_FIELDS))
    srv.answer("GET", "/many", _with_fields(wire.MAX_FIELDS + 1))
    conn = Connection(srv.host, timeout=5)
    status, fields, _ = conn.request("GET", "/ok", {})
    assert status == 200 and len(fields) == wire.MAX_FIELDS
    conn.close()
    with pytest.raises(WireError, match=r"^the answer's headers exceed 65536 bytes or 128 lines$"):
        _get(conn, "/many")
    conn.close()


def _head_of(total: int) -> bytes:
    """A status line and headers of exactly ``total`` bytes (lines of at most 1,000), then the blank line."""
    head = b"HTTP/1.1 200 OK\r\n"
    i = 0
    while len(head) < total:
        size = min(1000, total - len(head))
        size = size if total - len(head) - size == 0 or total - len(head) - size >= 10 else size - 10
        head += b"X-F%03d: " % i + b"v" * (size - 10) + b"\r\n"
        i += 1
    assert len(head) == total
    return head + b"\r\n"


def test_headers_up_to_max_head_bytes_are_read_and_one_byte_more_is_not(srv: HostileServer) -> None:
    srv.answer("GET", "/ok", _head_of(wire.MAX_HEAD))
    srv.answer("GET", "/big", _head_of(wire.MAX_HEAD + 1))
    conn = Connection(srv.host, timeout=5)
    assert conn.request("GET", "/ok", {})[0] == 200
    conn.close()
    with pytest.raises(WireError, match=r"^the answer's headers exceed 65536 bytes or 128 lines$"):
        conn.request("GET", "/big", {})
    conn.close()


def test_a_trailer_of_max_head_bytes_is_read_and_one_byte_more_is_not(srv: HostileServer) -> None:
    trailer = _head_of(wire.MAX_HEAD).removeprefix(b"HTTP/1.1 200 OK\r\n")  # lines, then the blank one
    padded = b"X-T: " + b"t" * (len(b"HTTP/1.1 200 OK\r\n") - 7) + b"\r\n"
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n"
    srv.answer("GET", "/ok", chunked + padded + trailer)
    srv.answer("GET", "/x", chunked + padded + b"X" + trailer)
    conn = Connection(srv.host, timeout=5)
    assert _get(conn, "/ok")[2] == b"a"
    with pytest.raises(WireError, match=r"^the answer's trailer exceeds 65536 bytes$"):
        _get(conn)
    conn.close()


# --- what it refuses ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b"HTTP/2 200 OK\r\n\r\n", r"not an HTTP/1\.x status line: b'.*'"),
        (b"HTTP/1.1 20 OK\r\n\r\n", r"not an HTTP/1\.x status line: b'.*'"),
        (b"HTTP/1.1 099 OK\r\n\r\n", r"not an HTTP/1\.x status line: b'.*'"),
        (b"HTTP/1.1 2000 OK\r\n\r\n", r"not an HTTP/1\.x status line: b'.*'"),
        (b"ICY 200 OK\r\n\r\n", r"not an HTTP/1\.x status line: b'.*'"),
        (b"HTTP/1.1 200 OK\rX: y\r\n\r\n", r"not an HTTP/1\.x status line: b'.*'"),
        (
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            r"an informational answer \(10[01]\)",
        ),
        (b"HTTP/1.1 101 Switching\r\n\r\n", r"an informational answer \(10[01]\)"),
        (b"HTTP/1.1 200 OK\r\nX-A: 1\r\n  folded\r\nContent-Length: 0\r\n\r\n", r"not a header line: b'.*'"),
        (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", r"not a header line: b'.*'"),
        (b"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", r"not a header line: b'.*'"),
        (b"HTTP/1.1 200 OK\r\n: empty name\r\n\r\n", r"not a header line: b'.*'"),
        (b"HTTP/1.1 200 OK\r\nX-A\xff: 1\r\n\r\n", r"not a header line: b'.*'"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello", r"Content-Length '.*' is not one number"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", r"Content-Length '.*' is not one number"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 0x5\r\n\r\nhello", r"Content-Length '.*' is not one number"),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
            r"Content-Length '.*' is not one number",
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
            r"Content-Length '.*' is not one number",
        ),
        (b"HTTP/1.1 200 OK\r\nContent-Length: \xd9\xa3\r\n\r\nabc", r"Content-Length '.*' is not one number"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: " + b"1" * 19 + b"\r\n\r\n", r"Content-Length '.*' is not one number"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", r"Transfer-Encoding '.*' \(with Content-Length .*\)"),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
            r"Transfer-Encoding '.*' \(with Content-Length .*\)",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
            r"Transfer-Encoding '.*' \(with Content-Length .*\)",
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 0\r\n\r\n",
            r"an encoded body \(Accept-Encoding: identity was asked\)",
        ),
    ],
)
def test_an_answer_it_does_not_read_is_refused(srv: HostileServer, raw: bytes, why: str) -> None:
    srv.answer("GET", "/x", raw)
    conn = Connection(srv.host, timeout=5)
    with pytest.raises(WireError, match=f"^(?:{why})$"):
        _get(conn)
    conn.close()


@pytest.mark.parametrize(
    ("chunks", "why"),
    [
        (b"zz\r\n", r"not a chunk size: b'.*'"),
        (b"0x5\r\nhello\r\n0\r\n\r\n", r"not a chunk size: b'.*'"),
        (b"+5\r\nhello\r\n0\r\n\r\n", r"not a chunk size: b'.*'"),
        (b"-1\r\n", r"not a chunk size: b'.*'"),
        (b"\r\n", r"not a chunk size: b'.*'"),
        (b"1" * 16 + b"\r\n", r"not a chunk size: b'.*'"),
        (b"5\x0b\r\nhello\r\n0\r\n\r\n", r"not a chunk size: b'.*'"),
        (b"5X\r\nhello\r\n0\r\n\r\n", r"not a chunk size: b'.*'"),
        (b"5\r\nhelloX\r\n0\r\n\r\n", "a chunk does not end where its size says"),
    ],
)
def test_a_chunked_body_it_does_not_read_is_refused(srv: HostileServer, chunks: bytes, why: str) -> None:
    srv.answer("GET", "/x", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks)
    conn = Connection(srv.host, timeout=5)
    with pytest.raises(WireError, match=f"^(?:{why})$"):
        _get(conn)
    conn.close()


def test_a_chunk_size_of_fifteen_hex_digits_is_a_size(srv: HostileServer) -> None:
    srv.route(
        "GET",
        "/x",
        _answer_then_close(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"0" * 14 + b"3\r\nabc\r\n0\r\n\r\n"
        ),
    )
    conn = Connection(srv.host, timeout=5)
    assert _get(conn)[2] == b"abc"
    conn.close()


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b"", "the connection ended before the answer did"),
        (b"HTTP/1.1 200 OK\r\nContent-Len", "the connection ended before the answer did"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello", "the answer ends 5 bytes before its end"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", "the answer ends 2 bytes before its end"),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
            "the connection ended before the answer did",
        ),
    ],
)
def test_an_answer_cut_short_is_refused(srv: HostileServer, raw: bytes, why: str) -> None:
    srv.route("GET", "/x", _answer_then_close(raw))
    conn = Connection(srv.host, timeout=5)
    with pytest.raises(WireError, match=f"^(?:{why})$"):
        _get(conn)
    conn.close()


def test_reading_after_close_is_refused(srv: HostileServer) -> None:
    srv.answer("GET", "/x", response(200, b"hello"))
    conn = Connection(srv.host, timeout=5)
    _, _, body = conn.request("GET", "/x", {})
    conn.close()
    with pytest.raises(WireError, match=r"^the connection was closed$"):
        b"".join(body)


# --- what it never sends ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "target", "headers", "why"),
    [
        ("POST", "/x", {}, "method 'POST'"),
        ("GET", "/x y", {}, "a request target or host with a character HTTP does not allow"),
        ("GET", "/x\r\nEvil: 1", {}, "a request target or host with a character HTTP does not allow"),
        ("GET", "/caf\u00e9", {}, "a request target or host with a character HTTP does not allow"),
        ("GET", "", {}, "a request target or host with a character HTTP does not allow"),
        ("GET", "/x", {"X-A": "v\r\nEvil: 1"}, "header '.*' with a character HTTP does not allow"),
        ("GET", "/x", {"X-A": "v\nEvil: 1"}, "header '.*' with a character HTTP does not allow"),
        ("GET", "/x", {"X-A": "caf\u00e9"}, "header '.*' with a character HTTP does not allow"),
        ("GET", "/x", {"X-A": "nul\x00"}, "header '.*' with a character HTTP does not allow"),
        ("GET", "/x", {"Bad Name": "v"}, "header '.*' with a character HTTP does not allow"),
        ("GET", "/x", {"X-\u00e9": "v"}, "header '.*' with a character HTTP does not allow"),
        ("GET", "/x", {"": "v"}, "header '.*' with a character HTTP does not allow"),
    ],
)
def test_a_request_http_does_not_allow_is_never_sent(
    srv: HostileServer, method: str, target: str, headers: dict[str, str], why: str
) -> None:
    conn = Connection(srv.host, timeout=5)
    with pytest.raises(WireError, match=f"^{why}$"):
        conn.request(method, target, headers)
    assert conn.sock is None and srv.accepted == 0


def test_a_tab_in_a_header_value_is_sent(srv: HostileServer) -> None:
    srv.answer("GET", "/x", response(200))
    conn = Connection(srv.host, timeout=5)
    assert conn.request("GET", "/x", {"X-A": "a\tb ~"})[0] == 200
    assert srv.log[-1].headers["x-a"] == "a\tb ~"
    conn.close()


@pytest.mark.parametrize(
    ("netloc", "why"),
    [
        ("r\u00e9gistry.test", "host 'r\u00e9gistry.test' is not ASCII"),
        ("host:0", "cannot connect to 'host:0'"),
        ("host:65536", "cannot connect to 'host:65536'"),
        ("host:99999", "cannot connect to 'host:99999'"),
        (":5000", "cannot connect to ':5000'"),
        ("[]:80", r"cannot connect to '\[\]:80'"),
    ],
)
def test_a_host_it_cannot_connect_to_is_refused_before_any_connection(netloc: str, why: str) -> None:
    with pytest.raises(WireError, match=f"^{why}$"):
        Connection(netloc, timeout=5)


@pytest.mark.parametrize(("netloc", "port"), [("host", 80), ("host:65535", 65535), ("host:1", 1), ("[::1]:5000", 5000)])
def test_the_port_is_the_given_one_or_the_schemes(netloc: str, port: int) -> None:
    conn = Connection(netloc, timeout=5)
    assert (conn.host, conn.port) == (netloc.rsplit(":", 1)[0].strip("[]") if ":" in netloc else netloc, port)


def test_https_defaults_to_port_443() -> None:
    import ssl

    assert Connection("host", timeout=5, context=ssl.create_default_context()).port == 443


def test_a_silent_server_ends_the_read_after_the_socket_timeout(srv: HostileServer) -> None:

    def silent(req: Request, conn: socket.socket, s: HostileServer) -> None:
        s.stopping.wait(30)

    srv.route("GET", "/x", silent)
    conn = Connection(srv.host, timeout=0.3)
    with pytest.raises(OSError):
        _get(conn)
    conn.close()
