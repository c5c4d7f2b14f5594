"""Decompress a layer stream (gzip, zstd or plain tar), chosen by the bytes, not the media type.

Media types lie often enough (Docker's gzip type on uncompressed layers) that the magic number of the
first chunk decides. gzip uses isal when it is installed (about twice as fast as zlib), else zlib.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any

from provenant.errors import ProvenantError

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


def _gunzip(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    d = _gzip_decompressor()
    chunk: bytes | None = first
    try:
        while chunk is not None:
            out = d.decompress(chunk)
            if out:
                yield out
            # Concatenated gzip members are valid gzip (pigz, some builders): start a new member.
            while d.eof and d.unused_data:
                tail = d.unused_data
                d = _gzip_decompressor()
                out = d.decompress(tail)
                if out:
                    yield out
            chunk = next(rest, None)
        out = d.flush()
        if out:
            yield out
    except zlib.error as exc:
        raise LayerFormatError(f"corrupt gzip stream: {exc}") from exc
    if not d.eof:
        raise LayerFormatError("gzip stream ended early (truncated layer)")


def _unzstd(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    import zstandard

    d = zstandard.ZstdDecompressor().decompressobj(read_across_frames=True)
    chunk: bytes | None = first
    try:
        while chunk is not None:
            out = d.decompress(chunk)
            if out:
                yield out
            chunk = next(rest, None)
    except zstandard.ZstdError as exc:
        raise LayerFormatError(f"corrupt zstd stream: {exc}") from exc


def decompressed(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The uncompressed tar bytes of a layer stream, whatever its compression."""
    first = b""
    for chunk in chunks:
        first += chunk
        if len(first) >= 4:
            break
    if first.startswith(GZIP_MAGIC):
        return _gunzip(first, chunks)
    if first.startswith(ZSTD_MAGIC):
        return _unzstd(first, chunks)
    return _plain(first, chunks)


def _plain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    if first:
        yield first
    yield from rest
