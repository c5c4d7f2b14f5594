"""Content digests (``sha256:<hex>``, ``sha512:<hex>``) and verification of bytes and streams."""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, NamedTuple

from provenant.errors import DigestMismatchError, InvalidReferenceError

if TYPE_CHECKING:
    import queue

_HEX_LENGTHS = {"sha256": 64, "sha512": 128}
# Matched with fullmatch: ``$`` would also accept a trailing newline.
_DIGEST_RE = re.compile(r"(?P<alg>[a-z0-9]+(?:[.+_-][a-z0-9]+)*):(?P<hex>[a-zA-Z0-9=_-]+)")


class Digest(NamedTuple):
    """A validated content digest; ``str(d)`` is its canonical ``alg:hex`` form.

    A named tuple (immutable, ordered, hashable), not a dataclass: importing :mod:`dataclasses` (it imports
    :mod:`inspect`) is ~8 ms of a ``fleet scan`` of an unchanged registry, which needs no other.
    """

    algorithm: str
    hex: str

    @classmethod
    def parse(cls, text: str) -> Digest:
        """Parse and validate ``alg:hex``; only sha256 and sha512 are accepted."""
        m = _DIGEST_RE.fullmatch(text)
        if not m:
            raise InvalidReferenceError(
                f"invalid digest {text!r}: expected 'sha256:<64 hex digits>' or 'sha512:<128 hex digits>'"
            )
        alg, hx = m.group("alg"), m.group("hex")
        if alg not in _HEX_LENGTHS:
            raise InvalidReferenceError(f"unsupported digest algorithm {alg!r} in {text!r}: expected sha256 or sha512")
        if len(hx) != _HEX_LENGTHS[alg] or not re.fullmatch(r"[0-9a-f]+", hx):
            raise InvalidReferenceError(
                f"invalid {alg} digest {text!r}: expected {_HEX_LENGTHS[alg]} lowercase hex digits, "
                f"got {len(hx)} characters"
            )
        return cls(alg, hx)

    @classmethod
    def of(cls, data: bytes, algorithm: str = "sha256") -> Digest:
        """The digest of ``data``."""
        return cls(algorithm, hashlib.new(algorithm, data).hexdigest())

    @property
    def short(self) -> str:
        """The first 12 hex digits, as docker prints image IDs."""
        return self.hex[:12]

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hex}"


def verify_bytes(data: bytes, expected: Digest, what: str, *, size: int | None = None) -> bytes:
    """Return ``data`` if it hashes to ``expected`` (and has ``size`` bytes when given), else raise."""
    if size is not None and len(data) != size:
        raise DigestMismatchError(what, expected=f"{size} bytes", got=f"{len(data)} bytes")
    got = Digest.of(data, expected.algorithm)
    if got != expected:
        raise DigestMismatchError(what, expected=str(expected), got=str(got))
    return data


class StreamHash:
    """A hash fed chunk by chunk; once more than ``inline_limit`` bytes went in, updates move to a thread.

    hashlib releases the GIL while it hashes a large buffer, so hashing a big layer then runs on another
    core while the caller decompresses and parses it; small blobs stay on the calling thread, where a
    thread would only cost. Call :meth:`hexdigest` (or :meth:`close`) to stop the thread.
    """

    def __init__(self, algorithm: str, inline_limit: int = 8 << 20, batch: int = 1 << 20, depth: int = 2) -> None:
        self._hash = hashlib.new(algorithm)
        self._limit = inline_limit
        self._batch_size = batch
        self._depth = depth
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._queue: queue.Queue[list[bytes] | None] | None = None
        self._thread: threading.Thread | None = None  # pragma: no mutate (only read together with _queue)
        self.size = 0

    def update(self, chunk: bytes) -> None:
        """Add ``chunk``."""
        self.size += len(chunk)
        if self._queue is not None:
            # Batches, not chunks: the thread must win the GIL back after every update, so few large
            # updates keep it hashing instead of waiting.
            self._pending.append(chunk)
            self._pending_size += len(chunk)
            if self._pending_size >= self._batch_size:
                self._flush(self._queue)
            return
        self._hash.update(chunk)
        if self.size > self._limit:
            import queue  # only for a large blob (a rescan of an unchanged registry hashes none)

            self._queue = queue.Queue(maxsize=self._depth)
            self._thread = threading.Thread(target=self._run, args=(self._queue,), name="provenant-hash", daemon=True)
            self._thread.start()

    def _flush(self, q: queue.Queue[list[bytes] | None]) -> None:
        if self._pending:
            q.put(self._pending)
            self._pending, self._pending_size = [], 0

    def _run(self, q: queue.Queue[list[bytes] | None]) -> None:
        while (batch := q.get()) is not None:
            for chunk in batch:  # one by one (tens of KiB or more: hashlib releases the GIL); a join copies them
                self._hash.update(chunk)

    def close(self) -> None:
        """Wait for the queued updates and stop the thread (idempotent)."""
        if self._queue is not None and self._thread is not None:
            self._flush(self._queue)
            self._queue.put(None)
            self._thread.join()
        self._queue = self._thread = None

    def hexdigest(self) -> str:
        """The digest of everything added."""
        self.close()
        return self._hash.hexdigest()


class VerifyingStream:
    """Wraps an iterator of byte chunks; hashes as it goes and checks digest and size at the end.

    The check happens when the underlying iterator is exhausted, so a consumer that reads to the end
    can never see a successful finish on tampered content.
    """

    def __init__(self, chunks: Iterator[bytes], expected: Digest, what: str, size: int | None) -> None:
        self._chunks = chunks
        self._expected = expected
        self._what = what
        self._size = size
        self._hash = StreamHash(expected.algorithm)
        self.bytes_read = 0

    def __iter__(self) -> Iterator[bytes]:
        try:
            for chunk in self._chunks:
                self.bytes_read += len(chunk)
                if self._size is not None and self.bytes_read > self._size:
                    raise DigestMismatchError(
                        self._what, expected=f"{self._size} bytes", got=f"more than {self._size} bytes"
                    )
                self._hash.update(chunk)
                yield chunk
            if self._size is not None and self.bytes_read != self._size:
                raise DigestMismatchError(self._what, expected=f"{self._size} bytes", got=f"{self.bytes_read} bytes")
            got = Digest(self._expected.algorithm, self._hash.hexdigest())
        finally:
            self._hash.close()
        if got != self._expected:
            raise DigestMismatchError(self._what, expected=str(self._expected), got=str(got))
