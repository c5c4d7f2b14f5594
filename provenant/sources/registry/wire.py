"""HTTP/1.1 requests over one kept-alive socket, for the quick path (:mod:`socket`, and :mod:`ssl` for https).

:mod:`http.client` imports the :mod:`email` package and :mod:`ssl` whatever the scheme: ~15 ms, a fifth of
a nightly rescan of an unchanged local registry (:mod:`provenant.fleet.unchanged`). The quick path needs
a small part of HTTP/1.1 — a GET or HEAD without a body, then a status, headers and a body framed by
``Content-Length``, ``chunked`` or the end of the connection — and this module reads exactly that part.

Whatever else an answer holds is refused with :class:`WireError` rather than guessed at, and the
caller then asks again with the full client (httpx): a status line or header it cannot read, folded
headers, over :data:`MAX_HEAD` bytes of status line and headers, a ``1xx`` answer, a ``Content-Length``
that is not one plain number (two different values included), a ``Transfer-Encoding`` other than
``chunked`` or beside a ``Content-Length``, a ``Content-Encoding``, a chunk-size line that is not hex, a
body cut short. A request with a character HTTP does not allow in its target or a header is never sent.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from provenant.sources.registry.hosts import DEFAULT_PORTS, HostPort

if TYPE_CHECKING:
    import ssl
    from io import BufferedReader

#: Bytes in one status, header, chunk-size or trailer line.
MAX_LINE = 8 << 10
#: Bytes of the status line and headers together (and of a chunked body's trailer).
MAX_HEAD = 64 << 10
#: Header lines in one answer.
MAX_FIELDS = 128
#: Bytes handed out at once while reading a body.
READ_SIZE = 64 << 10

_STATUS = re.compile(rb"HTTP/1\.([01]) ([1-9][0-9][0-9])(?: [^\r\n]*)?\r?\n")
_FIELD_NAME = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,15}")
#: Printable ASCII without space: what may go in a request target.
_TARGET = re.compile(r"[!-~]+")
#: Printable ASCII and tab: what may go in a header value sent.
_VALUE = re.compile(r"[ -~\t]*")
_BLANK = (b"\r\n", b"\n")


class WireError(Exception):
    """An answer (or a request) this module does not take; the full client will."""


class Connection:
    """One kept-alive connection to ``host[:port]``, opened on the first request and again after a close.

    ``sock`` is the open socket (None between connections): :func:`provenant.sources.registry.watch.cut_after`
    shuts it down to bound a whole read.
    """

    def __init__(self, netloc: str, *, timeout: float, context: ssl.SSLContext | None = None) -> None:
        if not netloc.isascii():
            raise WireError(f"host {netloc!r} is not ASCII")
        hp = HostPort.parse(netloc)
        port = hp.port if hp.port is not None else DEFAULT_PORTS["https" if context is not None else "http"]
        if not hp.host or not 0 < port < 65536:
            raise WireError(f"cannot connect to {netloc!r}")
        self.netloc = netloc
        self.host = hp.host
        self.port = port
        self.timeout = timeout
        self.context = context
        self.sock: socket.socket | None = None
        # Buffered reads (lines and body parts taken from one buffer, no copy of what is left per read).
        self._file: BufferedReader | None = None

    def request(
        self, method: str, target: str, headers: Mapping[str, str]
    ) -> tuple[int, dict[str, str], Iterator[bytes]]:
        """Send one request; return its status, lowercased headers (repeats joined by ``", "``) and body.

        The body is an iterator of byte strings (none for HEAD, 204 and 304); read it to its end before the
        next request, or :meth:`close` the connection (as after any WireError or OSError: it is then in an
        unknown state). Headers are read under the socket's timeout per ``recv`` only: bound the whole call
        with ``cut_after`` when that matters.
        """
        self._send(_request_bytes(method, target, self.netloc, headers))
        status, closes, fields = self._head(self._line())
        if method == "HEAD" or status in (204, 304):
            body: Iterator[bytes] = iter(())
            if closes:
                self.close()
        else:
            body = self._body(fields, closes)
        return status, fields, body

    def close(self) -> None:
        """Close the socket (the next request opens a new one)."""
        sock, file, self.sock, self._file = self.sock, self._file, None, None
        if file is not None:
            file.close()
        if sock is not None:
            sock.close()

    def _send(self, data: bytes) -> None:
        if self.sock is None:
            # An ASCII name as bytes: a str would be IDNA-encoded, which imports encodings.idna (~2 ms).
            address = (self.host.encode("ascii"), self.port)
            sock = socket.create_connection(address, timeout=self.timeout)  # type: ignore[arg-type]  # bytes work
            try:
                if self.context is not None:
                    sock = self.context.wrap_socket(sock, server_hostname=self.host)
            except BaseException:
                sock.close()
                raise
            self.sock, self._file = sock, sock.makefile("rb")
        self.sock.sendall(data)

    def _reader(self) -> BufferedReader:
        if self._file is None:
            raise WireError("the connection was closed")
        return self._file

    def _line(self) -> bytes:
        """One line with its end."""
        line = self._reader().readline(MAX_LINE)
        if line.endswith(b"\n"):
            return line
        if len(line) == MAX_LINE:
            raise WireError(f"a line of the answer is longer than {MAX_LINE} bytes")
        raise WireError("the connection ended before the answer did")

    def _head(self, first: bytes) -> tuple[int, bool, dict[str, str]]:
        """The status, whether the server closes after this answer, and the header fields."""
        m = _STATUS.fullmatch(first)
        if m is None:
            raise WireError(f"not an HTTP/1.x status line: {first[:80]!r}")
        status = int(m.group(2))
        if status < 200:
            raise WireError(f"an informational answer ({status})")
        fields: dict[str, str] = {}
        size, count = len(first), 0
        while (line := self._line()) not in _BLANK:
            size, count = size + len(line), count + 1
            if size > MAX_HEAD or count > MAX_FIELDS:
                raise WireError(f"the answer's headers exceed {MAX_HEAD} bytes or {MAX_FIELDS} lines")
            name, colon, value = line.partition(b":")
            if not colon or not _FIELD_NAME.fullmatch(name):
                raise WireError(f"not a header line: {line[:80]!r}")  # folded lines included
            key = name.decode("ascii").lower()
            text = value.strip(b" \t\r\n").decode("latin-1")
            fields[key] = f"{fields[key]}, {text}" if key in fields else text
        tokens = {t.strip().lower() for t in fields.get("connection", "").split(",")}
        return status, m.group(1) == b"0" or "close" in tokens, fields

    def _body(self, fields: Mapping[str, str], closes: bool) -> Iterator[bytes]:
        if fields.get("content-encoding", "identity").strip().lower() != "identity":
            raise WireError("an encoded body (Accept-Encoding: identity was asked)")
        coding, length = fields.get("transfer-encoding"), fields.get("content-length")
        if coding is not None:
            if length is not None or coding.strip().lower() != "chunked":
                raise WireError(f"Transfer-Encoding {coding!r} (with Content-Length {length!r})")
            return self._chunked(closes)
        if length is not None:
            if not (length.isascii() and length.isdigit() and len(length) <= 18):
                raise WireError(f"Content-Length {length!r} is not one number")
            return self._sized(int(length), closes)
        return self._to_end()

    def _sized(self, left: int, closes: bool) -> Iterator[bytes]:
        yield from self._exactly(left)
        if closes:
            self.close()

    def _exactly(self, left: int) -> Iterator[bytes]:
        while left > 0:
            part = self._reader().read1(min(left, READ_SIZE))
            if not part:
                raise WireError(f"the answer ends {left} bytes before its end")
            left -= len(part)
            yield part

    def _chunked(self, closes: bool) -> Iterator[bytes]:
        while True:
            size_line = self._line()
            size_text = size_line.split(b";", 1)[0].strip(b" \t\r\n")
            if not _CHUNK_SIZE.fullmatch(size_text):
                raise WireError(f"not a chunk size: {size_line[:80]!r}")
            size = int(size_text, 16)
            if size == 0:
                break
            yield from self._exactly(size)
            if self._line() not in _BLANK:
                raise WireError("a chunk does not end where its size says")
        trailer = 0
        while (line := self._line()) not in _BLANK:
            trailer += len(line)
            if trailer > MAX_HEAD:
                raise WireError(f"the answer's trailer exceeds {MAX_HEAD} bytes")
        if closes:
            self.close()

    def _to_end(self) -> Iterator[bytes]:
        """A body without a length: everything until the server closes the connection."""
        while part := self._reader().read1(READ_SIZE):
            yield part
        self.close()


def _request_bytes(method: str, target: str, netloc: str, headers: Mapping[str, str]) -> bytes:
    """The request's bytes; WireError for anything HTTP does not allow where it would go."""
    if method not in ("GET", "HEAD"):
        raise WireError(f"method {method!r}")
    lines = [f"{method} {target} HTTP/1.1", f"Host: {netloc}", "Accept-Encoding: identity"]
    if not _TARGET.fullmatch(target) or not _TARGET.fullmatch(netloc):
        raise WireError("a request target or host with a character HTTP does not allow")
    for name, value in headers.items():
        if not _FIELD_NAME.fullmatch(name.encode("ascii", "replace")) or not _VALUE.fullmatch(value):
            raise WireError(f"header {name!r} with a character HTTP does not allow")
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")
