"""Streaming a blob with resumption: when the connection drops mid-blob, ask again from where we were.

The chunks are not verified here (callers wrap them in :class:`provenant.digest.VerifyingStream`), but
never more than ``size`` bytes are handed out when the size is known.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import NoReturn

import httpx

from provenant.errors import RegistryError

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
    """Iterates a blob's bytes over one or more responses.

    ``fetch(offset)`` sends the GET (with ``Range: bytes=<offset>-`` when offset > 0) and returns the
    open, streamed response; ``fail(response)`` raises the right error for an unusable answer.
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
        self._total: int | None = size
        self._skip = 0
        self._done = False
        self._response: httpx.Response | None = None
        self._open(0)

    # -- responses ---------------------------------------------------------------------------------

    def _open(self, offset: int) -> None:
        resp = self._fetch(offset)
        self._response = resp
        status = resp.status_code
        if status == 200:
            self._skip = offset
            length = resp.headers.get("content-length")
            if length is not None and length.isdigit():
                self._total = int(length)
        elif status == 206:
            rng = parse_content_range(resp.headers.get("content-range"))
            if rng is None or rng[0] > offset:
                resp.close()
                raise RegistryError(
                    f"registry {self._host}: resuming {self._what} at byte {offset} got a partial answer "
                    f"with Content-Range {resp.headers.get('content-range')!r}",
                    hint="the registry's range support is broken; try again",
                    status=206,
                )
            self._skip = offset - rng[0]
            if rng[2] is not None:
                self._total = rng[2]
        elif status == 416 and offset > 0 and self._total is not None and offset >= self._total:
            resp.close()
            self._done = True
        else:
            try:
                resp.read()
            finally:
                resp.close()
            self._fail(resp)

    def close(self) -> None:
        """Close the current response."""
        if self._response is not None:
            self._response.close()
            self._response = None

    # -- iteration ---------------------------------------------------------------------------------

    def chunks(self) -> Iterator[bytes]:
        """The blob's bytes in chunks of at most :data:`CHUNK_SIZE`."""
        while not self._done:
            resp = self._response
            if resp is None:
                return
            cause: str
            try:
                for raw in _bounded(resp.iter_bytes()):
                    chunk = raw
                    if self._skip:
                        if len(chunk) <= self._skip:
                            self._skip -= len(chunk)
                            continue
                        chunk = chunk[self._skip :]
                        self._skip = 0
                    if self._size is not None:
                        room = self._size - self.delivered
                        if room <= 0:
                            break
                        chunk = chunk[:room]
                    self.delivered += len(chunk)
                    yield chunk
                if (
                    self._total is None
                    or self.delivered >= self._total
                    or (self._size is not None and self.delivered >= self._size)
                ):
                    self._done = True
                    self.close()
                    return
                cause = f"the answer ended early at byte {self.delivered} of {self._total}"
            except httpx.TransportError as exc:
                cause = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            self.close()
            self._resume(cause)

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
