"""The one small protocol every image source satisfies.

A source hands out raw manifest bytes and raw blob chunks; it does not verify or interpret them.
Shared code (:mod:`provenant.image`) checks digests, picks platforms and builds everything else.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol

from provenant.digest import Digest


@dataclass(frozen=True)
class RawManifest:
    """Manifest bytes exactly as the source holds them, with the media type the source declared."""

    data: bytes
    media_type: str | None
    #: Extra facts the source learned while fetching (e.g. registry rate-limit headers).
    facts: dict[str, str] = field(default_factory=dict)


class ImageSource(Protocol):
    """A place images are read from."""

    def describe(self) -> str:
        """Human description of the source, e.g. ``registry 127.0.0.1:5000/repo`` or ``OCI layout ./dir``."""
        ...

    def default_identifier(self) -> str:
        """The tag or digest the user asked for (what :meth:`get_manifest` resolves first)."""
        ...

    def get_manifest(self, identifier: str) -> RawManifest:
        """The manifest or index named by a tag or ``alg:hex`` digest, unverified."""
        ...

    def open_blob(self, digest: Digest, size: int | None) -> AbstractContextManager[Iterator[bytes]]:
        """Chunks of the blob ``digest``, unverified; callers wrap them in a verifying stream."""
        ...

    def close(self) -> None:
        """Release connections and files."""
        ...
