"""Reading server answers within bounds: size caps, a minimum transfer rate, read timeouts and the deadline.

Every response body the registry client reads — manifests, blobs, tokens, listings, error answers — is
wrapped in :class:`GuardedStream` (by :class:`~provenant.sources.registry.transport.HttpSession`, so the
same bounds hold on the ``http.client`` transport and on httpx's own): a server that trickles (one byte
every few seconds), falls silent, or keeps a command past its ``--timeout`` ends in one
:class:`~provenant.limits.LimitExceededError`. Bodies that are read whole go through :func:`read_bounded`,
which stops at a byte cap whatever ``Content-Length`` says (or when it is missing), and inflates a
``Content-Encoding`` chunk by chunk so that a small compressed answer cannot expand past the cap.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable, Iterator

import httpx

from provenant import limits as limits_mod
from provenant.errors import RegistryError
from provenant.limits import LimitExceededError, Limits


class GuardedStream(httpx.SyncByteStream):
    """A response body that enforces ``read-timeout``, ``min-rate`` (after ``rate-window``) and the deadline.

    The rate counts only the time spent waiting for the server, not the time the consumer spends on each
    chunk, so a slow layer scan never looks like a slow registry.
    """

    def __init__(
        self,
        inner: httpx.SyncByteStream,
        what: str,
        limits: Limits,
        *,
        read_timeout: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._inner = inner
        self._what = what
        self._limits = limits
        self._read_timeout = read_timeout
        self._clock = clock
        self.waited = 0.0
        self.received = 0

    def __iter__(self) -> Iterator[bytes]:
        chunks = iter(self._inner)
        while True:
            started = self._clock()
            try:
                chunk = next(chunks)
            except StopIteration:
                return
            except httpx.ReadTimeout:
                raise LimitExceededError(
                    f"{self._what}: the server sent nothing for {self._read_timeout:g} s",
                    "read_timeout",
                    limits=self._limits.model_copy(update={"read_timeout": float(self._read_timeout)}),
                ) from None
            self.waited += self._clock() - started
            self.received += len(chunk)
            self._check()
            yield chunk

    def _check(self) -> None:
        lim = self._limits
        if lim.min_rate and self.waited >= lim.rate_window and self.received < lim.min_rate * self.waited:
            raise LimitExceededError(
                f"{self._what}: the server sent {self.received} bytes in {self.waited:.0f} s", "min_rate", limits=lim
            )
        limits_mod.check_deadline(self._what)

    def close(self) -> None:
        """Close the wrapped body."""
        self._inner.close()


_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


def decoded_chunks(response: httpx.Response, budget: Callable[[], int], what: str) -> Iterator[bytes]:
    """The body's bytes after its ``Content-Encoding``, never inflating more than ``budget()`` bytes per step.

    ``budget()`` is how many more bytes the caller could still accept (it reads one past that to notice an
    overrun); identity bodies come through as the transport delivers them.
    """
    if response.is_stream_consumed and hasattr(response, "_content"):
        yield response.content  # already in memory, decoded (a test transport's canned answer)
        return
    encoding = response.headers.get("content-encoding", "").strip().lower()
    if encoding in ("", "identity"):
        yield from response.iter_raw()
        return
    wbits = _WBITS.get(encoding)
    if wbits is None:
        raise RegistryError(f"{what}: the server sent an unsupported Content-Encoding {encoding!r}")
    inflater = zlib.decompressobj(wbits)
    try:
        for raw in response.iter_raw():
            pending = raw
            while pending:
                room = max(1, budget() + 1)
                out = inflater.decompress(pending, room)
                pending = inflater.unconsumed_tail
                if out:
                    yield out
                if inflater.eof:
                    return
    except zlib.error as exc:
        raise RegistryError(f"{what}: the server's {encoding} body is corrupt ({exc})") from None


def read_bounded(
    response: httpx.Response,
    cap: int,
    what: str,
    field: str,
    *,
    truncate: bool = False,
    limits: Limits | None = None,
) -> bytes:
    """Read the body up to ``cap`` bytes and keep it as ``response.content``.

    Over the cap: :class:`LimitExceededError` naming ``field`` — or, with ``truncate`` (error answers,
    which are only shown), the first ``cap`` bytes and the rest left unread; a ``truncate`` read that
    breaks off keeps what arrived. ``limits`` (default: the active ones) words the message.
    """
    length = response.headers.get("content-length", "").strip()
    if not truncate and length.isdigit() and int(length) > cap:
        raise LimitExceededError(f"{what} is {int(length)} bytes", field, limits=limits)
    parts: list[bytes] = []
    total = [0]  # a cell, read by the budget while the loop below grows it
    try:
        for chunk in decoded_chunks(response, lambda: cap - total[0], what):
            if total[0] + len(chunk) > cap:
                if not truncate:
                    raise LimitExceededError(f"{what} is more than {cap} bytes", field, limits=limits)
                parts.append(chunk[: cap - total[0]])
                break
            parts.append(chunk)
            total[0] += len(chunk)
    except httpx.TransportError:
        if not truncate:
            raise
        # An error answer is only shown: one that breaks off (or lies in its Content-Length) keeps what came.
    data = b"".join(parts)
    response._content = data  # what Response.read() would have set: .content and .json() work as usual
    return data
