"""Progress events of long work (resolve, fetch, scan), sent to an observer; nothing happens by default.

The library never prints: :func:`current` is a no-op :class:`Progress` unless a caller (the CLI's
``--progress``) activates another. Observers are called from worker threads (layers are fetched and
scanned in parallel) and must be thread-safe and cheap: :meth:`Progress.layer_bytes` runs per chunk.
Everything passed in may come from a registry (platform strings, references): observers that print it
must make it safe (``provenant.textsafe``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

FleetStage = Literal["resolve", "layers", "images", "done"]


def eta(done: float, total: float, elapsed: float) -> float | None:
    """Seconds left when ``done`` of ``total`` units took ``elapsed`` seconds at a steady rate (None: no rate yet)."""
    if total <= 0 or done >= total:
        return 0.0
    if done <= 0 or elapsed <= 0:
        return None
    return elapsed * (total - done) / done


@dataclass(frozen=True)
class FleetStatus:
    """Where a ``fleet scan`` stands; the scan sends a fresh snapshot at each step.

    Stages run in order: ``resolve`` (each reference to a digest; unchanged images are done here),
    ``layers`` (the unique layers missing from the cache, scanned on the executor), ``images`` (each new
    image assembled from the cached scans, its attachments found, written), ``done``.
    """

    stage: FleetStage
    references: int
    resolved: int = 0
    #: New images to scan, and how many are written.
    images: int = 0
    images_done: int = 0
    unchanged: int = 0
    #: Unique layers the cache lacked (to scan), how many finished; layers served by the cache.
    layers: int = 0
    layers_done: int = 0
    layers_cached: int = 0
    #: Compressed bytes of the layers to scan, and of those finished (fetched by the executor).
    bytes_total: int = 0
    bytes_done: int = 0
    failures: int = 0
    elapsed: float = 0.0
    #: Seconds since the current stage started (its rate gives the ETA).
    stage_elapsed: float = 0.0

    def eta(self) -> float | None:
        """Seconds left in the current stage, at its rate so far (layers: by bytes; None: no rate yet)."""
        if self.stage == "resolve":
            return eta(self.resolved, self.references, self.stage_elapsed)
        if self.stage == "layers":
            if self.bytes_total > 0:
                return eta(self.bytes_done, self.bytes_total, self.stage_elapsed)
            return eta(self.layers_done, self.layers, self.stage_elapsed)
        if self.stage == "images":
            return eta(self.images_done, self.images, self.stage_elapsed)
        return 0.0


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

    def fleet(self, status: FleetStatus) -> None:
        """A ``fleet scan`` moved on (called from the scan's own thread, not from workers)."""

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
