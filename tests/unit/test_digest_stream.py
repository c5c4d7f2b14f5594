"""Stream hashing: inline for small streams, on a worker thread past the limit, same digest either way."""

from __future__ import annotations

import hashlib
import os
import threading

import pytest

from provenant.digest import Digest, StreamHash, VerifyingStream
from provenant.errors import DigestMismatchError

DATA = os.urandom(3 << 20)


def _chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def _hash_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "provenant-hash")


@pytest.mark.parametrize(("limit", "chunk"), [(1 << 40, 65536), (0, 65536), (100_000, 4096), (0, 1 << 20)])
def test_same_digest_inline_and_threaded(limit: int, chunk: int) -> None:
    h = StreamHash("sha256", inline_limit=limit, batch=256 * 1024, depth=2)
    for c in _chunks(DATA, chunk):
        h.update(c)
    assert h.hexdigest() == hashlib.sha256(DATA).hexdigest()
    assert h.size == len(DATA)
    assert h.hexdigest() == hashlib.sha256(DATA).hexdigest()  # idempotent
    assert _hash_threads() == 0


def test_abandoned_verifying_stream_stops_its_thread() -> None:
    digest = Digest.of(DATA)
    stream = VerifyingStream(iter(_chunks(DATA * 4, 1 << 20)), digest, "blob", None)
    it = iter(stream)
    for _ in range(10):  # past the 8 MiB inline limit: the worker thread runs
        next(it)
    assert _hash_threads() == 1
    it.close()  # type: ignore[attr-defined]
    assert _hash_threads() == 0


def test_large_tampered_stream_is_rejected() -> None:
    big = DATA * 4
    tampered = big[:-1] + bytes([big[-1] ^ 1])
    with pytest.raises(DigestMismatchError):
        for _ in VerifyingStream(iter(_chunks(tampered, 65536)), Digest.of(big), "blob", len(big)):
            pass
    assert _hash_threads() == 0
