"""Progress events of long work (resolve, fetch, scan), sent to an observer; nothing happens by default.

The library never prints: :func:`current` is a no-op :class:`Progress` unless a caller (the CLI's
``--progress``) activates another. Observers are called from worker threads (layers are fetched and
scanned in parallel) and must be thread-safe and cheap: :meth:`Progress.layer_bytes` runs per chunk.
Everything passed in may come from a registry (platform strings, references): observers that print it
must make it safe (``provenant.textsafe``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence


class Progress:
    """The observer interface; every method is a no-op here, so a subclass overrides what it shows."""

    def resolved(self, reference: str, digest: str, media_type: str) -> None:
        """The top manifest (index or image) of ``reference`` was fetched."""

    def planned(self, layers: Mapping[str, Sequence[str]], sizes: Mapping[str, int]) -> None:
        """Platform manifests were fetched: layer digests per platform, and each layer's compressed size."""

    def layer_cached(self, digest: str) -> None:
        """Layer ``digest``'s scan came from the cache: nothing is fetched for it."""

    def layer_bytes(self, digest: str, count: int) -> None:
        """``count`` more compressed bytes of layer ``digest`` arrived."""

    def layer_scanned(self, digest: str) -> None:
        """Layer ``digest`` was fetched and scanned."""

    def finished(self) -> None:
        """The work is done (or failed): an observer that draws must stop drawing now."""


NOOP = Progress()
_current: Progress = NOOP


def current() -> Progress:
    """The process-wide observer (the no-op one unless :func:`activate` set another)."""
    return _current


def activate(progress: Progress) -> Progress:
    """Make ``progress`` the process-wide observer; returns the previous one."""
    global _current  # process-wide like limits.activate: worker threads see it too
    previous, _current = _current, progress
    return previous


def counted(chunks: Iterator[bytes], digest: str, progress: Progress) -> Iterator[bytes]:
    """``chunks`` unchanged, reporting each chunk's size to ``progress``."""
    if progress is NOOP:
        yield from chunks
        return
    for chunk in chunks:
        progress.layer_bytes(digest, len(chunk))
        yield chunk
