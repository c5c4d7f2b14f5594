"""Streaming a blob with resumption: when the connection drops mid-blob, ask again from where we were.

The chunks are not verified here (callers wrap them in :class:`provenant.digest.VerifyingStream`), but
never more than ``size`` bytes are handed out when the size is known, and more is an error at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import NoReturn

import httpx

from provenant.errors import RegistryError
from provenant.sources.registry.bodies import decoded_chunks
from provenant.textsafe import printable

CHUNK_SIZE = 1 << 20


def _bounded(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Chunks as the transport delivers them, split when over :data:`CHUNK_SIZE`.

    The network transport (:class:`~provenant.sources.registry.stdlib_transport.StdlibTransport`)
    already delivers at most ``CHUNK_SIZE`` bytes per chunk (one socket read, often less); bigger ones
    come from a decoded ``Content-Encoding`` or a test transport's whole-body answer.
    Not ``iter_bytes(CHUNK_SIZE)``: its re-chunking copies every byte once more and costs more than
    the hashing (measured: 2.3 s against 0.64 s for a 1 GiB blob on loopback).
    """
    for chunk in chunks:
        if len(chunk) <= CHUNK_SIZE:
            yield chunk
            continue
        for start in range(0, len(chunk), CHUNK_SIZE):
            yield chunk[start : start + CHUNK_SIZE]


_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$", re.IGNORECASE)


def parse_content_range(value: str | None) -> tuple[int, int, int | None] | None:
    """``bytes start-end/total`` as (start, end, total or None for ``*``)."""
    if not value:
        return None
    m = _CONTENT_RANGE.match(value)
    if not m:
        return None
    total = None if m.group(3) == "*" else int(m.group(3))
    return int(m.group(1)), int(m.group(2)), total


class ResumableBlob:
    """Iterates a blob's bytes over one or more responses, never past the descriptor's size.

    ``fetch(offset)`` sends the GET (with ``Range: bytes=<offset>-`` when offset > 0) and returns the
    open, streamed response; ``fail(response)`` raises the right error for an unusable answer.

    The rules: a range is only ever asked for below ``size``; once ``size`` bytes are in, the reader
    finishes (the caller verifies them) when the answer ends, even if it breaks off short of its
    Content-Length; a byte past ``size`` is an error at once. A 416, or a partial answer that does not fit (a
    ``Content-Range`` starting before or after the offset asked for, or with another total), makes the
    reader start again from byte 0 once — the bytes already handed out are skipped — and fail the
    second time, naming the blob.
    """

    def __init__(
        self,
        fetch: Callable[[int], httpx.Response],
        fail: Callable[[httpx.Response], NoReturn],
        *,
        what: str,
        host: str,
        size: int | None,
        max_resumes: int,
        delay: Callable[[int], float],
        sleep: Callable[[float], None],
    ) -> None:
        self._fetch = fetch
        self._fail = fail
        self._what = what
        self._host = host
        self._size = size
        self._max_resumes = max_resumes
        self._delay = delay
        self._sleep = sleep
        self.delivered = 0
        self.resumes = 0
        self.restarted = False
        self._total: int | None = size
        self._skip = 0  # pragma: no mutate (equivalent: _open(0) below sets it before any read)
        self._done = False
        self._response: httpx.Response | None = None  # pragma: no mutate (equivalent: _open(0) sets it)
        self._open(0)

    # -- responses ---------------------------------------------------------------------------------

    def _open(self, offset: int) -> None:
        if offset > 0 and self._size is not None and offset >= self._size:  # never ask past the descriptor's size
            # Equivalent mutants: unreachable today (a resume offset is always below size); kept as a guard.
            self._done = True  # pragma: no mutate
            return
        resp = self._fetch(offset)
        self._response = resp
        status = resp.status_code
        if status == 200:
            # From byte 0: a server that ignored the Range header, or a restart; skip what was handed out.
            self._skip = self.delivered
            length = resp.headers.get("content-length", "").strip()
            if self._size is None and length.isdigit():
                self._total = int(length)
            return
        if status == 206:
            problem = self._range_problem(resp, offset)
            if problem is None:
                self._skip = self.delivered - offset  # 0 on a resume; what was handed out on a restart
                return
        elif status == 416 and offset > 0:
            problem = f"the registry answered 416 (range not satisfiable) for bytes {offset}-"
        else:
            resp.close()
            self._fail(resp)
        resp.close()
        self._response = None
        self._restart(problem)

    def _range_problem(self, resp: httpx.Response, offset: int) -> str | None:
        """Why a 206 answer to ``Range: bytes=<offset>-`` cannot be used, or None when it fits."""
        header = resp.headers.get("content-range")
        rng = parse_content_range(header)
        if rng is None:
            return f"a partial answer with an unusable Content-Range {printable(str(header))!r}"
        start, end, total = rng
        if start != offset:
            return f"a partial answer starting at byte {start} when byte {offset} was asked for"
        if end < start:
            return f"a partial answer with an empty range {start}-{end}"
        if total is not None and self._total is not None and total != self._total:
            return f"a partial answer for a blob of {total} bytes, not {self._total}"
        if total is not None:
            self._total = total
        return None

    def _restart(self, problem: str) -> None:
        if self.restarted:
            raise RegistryError(
                f"registry {self._host}: download of {self._what} cannot be resumed: {problem}, "
                "again after starting over",
                hint="the registry's range support is broken; try again later",
            )
        self.restarted = True
        self._open(0)

    def close(self) -> None:
        """Close the current response."""
        if self._response is not None:
            self._response.close()
            self._response = None

    # -- iteration ---------------------------------------------------------------------------------

    def _complete(self) -> bool:
        if self._size is not None:
            return self.delivered >= self._size
        return self._total is None or self.delivered >= self._total

    def _room(self) -> int:
        """Bytes the current answer may still bring (skipped ones included), plus the one that shows an overrun."""
        if self._size is None:
            return CHUNK_SIZE
        return self._skip + self._size - self.delivered

    def chunks(self) -> Iterator[bytes]:
        """The blob's bytes in chunks of at most :data:`CHUNK_SIZE`."""
        while not self._done:
            resp = self._response
            if resp is None:
                return
            cause: str
            try:
                for raw in _bounded(decoded_chunks(resp, self._room, self._what)):
                    chunk = raw
                    if self._skip:
                        if len(chunk) <= self._skip:
                            self._skip -= len(chunk)
                            continue
                        chunk = chunk[self._skip :]
                        self._skip = 0
                    if self._size is not None and len(chunk) > self._size - self.delivered:
                        raise RegistryError(
                            f"registry {self._host}: {self._what} is larger than its descriptor says "
                            f"({self._size} bytes); refusing to read past its size",
                            hint="the registry serves other content than the manifest describes",
                        )
                    self.delivered += len(chunk)
                    yield chunk
                # Read on to the end of the answer even when all bytes are in: more bytes are an error
                # (above), while a connection that breaks off now is fine (below).
                if self._complete():
                    self._finish()
                    return
                cause = f"the answer ended early at byte {self.delivered} of {self._total}"
            except httpx.TransportError as exc:
                if self._size is not None and self.delivered == self._size:
                    self._finish()  # the body broke off after the last byte we needed (a lying Content-Length)
                    return
                cause = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            self.close()
            self._resume(printable(cause))

    def _finish(self) -> None:
        # Equivalent mutants: chunks() returns right after, and a later call finds no response either.
        self._done = True  # pragma: no mutate
        self.close()

    def _resume(self, cause: str) -> None:
        self.resumes += 1
        if self.resumes > self._max_resumes:
            total = f" of {self._total}" if self._total is not None else ""
            raise RegistryError(
                f"registry {self._host}: download of {self._what} broke off after {self.delivered}{total} "
                f"bytes {self.resumes} times ({cause})",
                hint="the connection to the registry is unstable; try again later",
            )
        self._sleep(self._delay(self.resumes - 1))
        self._open(self.delivered)
