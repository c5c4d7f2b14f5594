"""Stream hashing: inline for small streams, on a worker thread past the limit, same digest either way."""

from __future__ import annotations

import hashlib
import os
import threading

import pytest

from provenant.digest import Digest, StreamHash, VerifyingStream, verify_bytes
from provenant.errors import DigestMismatchError, InvalidReferenceError

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


def test_batches_of_two_chunks_hash_both() -> None:
    h = StreamHash("sha256", inline_limit=0, batch=128 * 1024)
    for c in _chunks(DATA, 64 * 1024):
        h.update(c)
    assert h.hexdigest() == hashlib.sha256(DATA).hexdigest()


def test_parse_refuses_what_is_not_a_digest() -> None:
    with pytest.raises(InvalidReferenceError) as info:
        Digest.parse("sha256")
    assert info.value.message == (
        "invalid digest 'sha256': expected 'sha256:<64 hex digits>' or 'sha512:<128 hex digits>'"
    )


MISMATCH = "content does not match its digest"
HINT = " (the source served corrupted or tampered bytes; do not trust this image)"


def test_verify_bytes_names_what_and_both_sides() -> None:
    data = b"abc"
    good = Digest.of(data)
    assert verify_bytes(data, good, "config", size=3) == data
    sha512 = Digest.of(data, "sha512")
    assert verify_bytes(data, sha512, "config") == data
    with pytest.raises(DigestMismatchError) as info:
        verify_bytes(data, good, "config c", size=4)
    assert info.value.diagnostics() == f"config c: {MISMATCH}: expected 4 bytes, got 3 bytes" + HINT
    with pytest.raises(DigestMismatchError) as info:
        verify_bytes(b"abd", good, "config c")
    assert info.value.diagnostics() == (
        f"config c: content does not match its digest: expected {good}, got {Digest.of(b'abd')}" + HINT
    )
    assert (info.value.expected, info.value.got) == (str(good), str(Digest.of(b"abd")))


def _drain(stream: VerifyingStream) -> bytes:
    return b"".join(stream)


def test_verifying_stream_messages() -> None:
    data = b"0123456789"
    good = Digest.of(data)
    assert _drain(VerifyingStream(iter([data[:4], data[4:]]), good, "blob b", 10)) == data
    assert _drain(VerifyingStream(iter([data]), good, "blob b", None)) == data
    with pytest.raises(DigestMismatchError) as info:
        _drain(VerifyingStream(iter([data[:4], data[4:]]), good, "blob b", 5))
    assert info.value.diagnostics() == f"blob b: {MISMATCH}: expected 5 bytes, got more than 5 bytes" + HINT
    with pytest.raises(DigestMismatchError) as info:
        _drain(VerifyingStream(iter([data]), good, "blob b", 11))
    assert info.value.diagnostics() == f"blob b: {MISMATCH}: expected 11 bytes, got 10 bytes" + HINT
    other = b"0123456780"
    with pytest.raises(DigestMismatchError) as info:
        _drain(VerifyingStream(iter([other]), good, "blob b", 10))
    assert info.value.diagnostics() == (
        f"blob b: content does not match its digest: expected {good}, got {Digest.of(other)}" + HINT
    )
    stream = VerifyingStream(iter([data[:3], data[3:]]), good, "blob b", 10)
    _drain(stream)
    assert stream.bytes_read == 10
