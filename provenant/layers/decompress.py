"""Decompress a layer stream (gzip, zstd or plain tar), chosen by the bytes, not the media type.

Media types lie often enough (Docker's gzip type on uncompressed layers) that the magic number of the
first chunk decides. gzip uses isal when it is installed (about twice as fast as zlib), else zlib.

A few KiB of gzip or zstd can stand for gigabytes, so no step ever produces more than :data:`STEP`
bytes (``max_length`` for gzip, a bounded ``read`` of a zstd stream reader) and the whole layer stops
at ``Limits.layer_bytes`` decompressed bytes: memory stays flat whatever the ratio.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import IO, Any, cast

from provenant import limits as _limits
from provenant.errors import ProvenantError
from provenant.limits import LimitExceededError, Limits

#: Most decompressed bytes one step hands on (and so holds at once).
STEP = 1 << 20
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


class LayerFormatError(ProvenantError):
    """A layer's bytes are not a (compressed) tar stream."""


def _gzip_decompressor() -> Any:
    try:
        from isal import isal_zlib  # type: ignore[import-not-found,unused-ignore]

        return isal_zlib.decompressobj(31)
    except ImportError:
        return zlib.decompressobj(31)


def _inflate(d: Any, data: bytes) -> Iterator[bytes]:
    """Everything ``data`` inflates to in ``d``, at most STEP bytes per step."""
    while True:
        out = d.decompress(data, STEP)
        if out:
            yield out
        if d.eof:
            return
        data = d.unconsumed_tail
        # A full step may leave output pending inside the decompressor even with all input taken.
        if not data and len(out) < STEP:
            return


def _gunzip(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    d = _gzip_decompressor()
    chunk: bytes | None = first
    try:
        while chunk is not None:
            data = chunk
            while data:
                if d.eof:
                    # Concatenated gzip members are valid gzip (pigz, some builders): start a new member.
                    d = _gzip_decompressor()
                yield from _inflate(d, data)
                data = d.unused_data if d.eof else b""
            chunk = next(rest, None)
        out = d.flush()
        if out:
            yield out
    except zlib.error as exc:
        raise LayerFormatError(f"corrupt gzip stream: {exc}") from exc
    if not d.eof:
        raise LayerFormatError("gzip stream ended early (truncated layer)")


class _ChunkReader:
    """A ``read(n)`` file interface over an iterator of chunks (what zstd's stream reader pulls from)."""

    def __init__(self, first: bytes, rest: Iterator[bytes]) -> None:
        self._buf = first
        self._rest = rest

    def read(self, n: int = -1) -> bytes:
        while not self._buf:
            chunk = next(self._rest, None)
            if chunk is None:
                return b""
            self._buf = chunk
        if n < 0 or n >= len(self._buf):
            out, self._buf = self._buf, b""
        else:
            out, self._buf = self._buf[:n], self._buf[n:]
        return out


def _unzstd(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    import zstandard

    # decompressobj().decompress() returns all a frame holds at once (10 GiB of zeros: MemoryError);
    # a stream reader hands out at most what each read() asks for.
    reader = zstandard.ZstdDecompressor().stream_reader(
        cast(IO[bytes], _ChunkReader(first, rest)), read_size=STEP, read_across_frames=True, closefd=False
    )
    try:
        while True:
            out = reader.read(STEP)
            if not out:
                return
            yield out
    except zstandard.ZstdError as exc:
        raise LayerFormatError(f"corrupt zstd stream: {exc}") from exc


def decompressed(chunks: Iterator[bytes], *, limits: Limits | None = None, what: str = "layer") -> Iterator[bytes]:
    """The uncompressed tar bytes of a layer stream, whatever its compression, stopping at
    ``limits.layer_bytes`` with :class:`LimitExceededError` naming ``what``."""
    lim = limits or _limits.current()
    first = b""
    for chunk in chunks:
        first += chunk
        if len(first) >= 4:
            break
    if first.startswith(GZIP_MAGIC):
        out = _gunzip(first, chunks)
    elif first.startswith(ZSTD_MAGIC):
        out = _unzstd(first, chunks)
    else:
        out = _plain(first, chunks)
    return _budget(out, lim, what)


def _budget(chunks: Iterator[bytes], lim: Limits, what: str) -> Iterator[bytes]:
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > lim.layer_bytes:
            raise LimitExceededError(f"{what}: decompressed size", "layer_bytes", limits=lim)
        yield chunk


def _plain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    if first:
        yield first
    yield from rest
