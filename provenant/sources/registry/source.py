"""The registry as an :class:`~provenant.sources.base.ImageSource`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager

from provenant.digest import Digest
from provenant.reference import Reference
from provenant.sources.base import RawManifest
from provenant.sources.registry.client import RegistryClient
from provenant.sources.registry.options import RegistryOptions


class RegistrySource:
    """One repository of a registry, read through a (possibly shared) :class:`RegistryClient`.

    ``close()`` closes the client only when this source created it (``client=None``); a client passed
    in belongs to the caller (e.g. a session shared by several sources).
    """

    def __init__(
        self, ref: Reference, client: RegistryClient | None = None, *, options: RegistryOptions | None = None
    ) -> None:
        self.ref = ref
        self._owns_client = client is None
        self.client = client if client is not None else RegistryClient(options)

    def __repr__(self) -> str:
        return f"RegistrySource({str(self.ref)!r})"

    def describe(self) -> str:
        """``registry <host>/<repository>``."""
        return f"registry {self.ref.name}"

    def default_identifier(self) -> str:
        """The digest of the reference when it has one, else its tag."""
        return self.ref.identifier

    def get_manifest(self, identifier: str) -> RawManifest:
        """The manifest or index named by a tag or digest, unverified."""
        return self.client.get_manifest(self.ref, identifier)

    def open_blob(self, digest: Digest, size: int | None) -> AbstractContextManager[Iterator[bytes]]:
        """Chunks of blob ``digest``, unverified (resumed on dropped connections)."""
        return self.client.open_blob(self.ref, digest, size)

    def list_tags(self) -> list[str]:
        """Every tag of the repository."""
        return self.client.list_tags(self.ref)

    def close(self) -> None:
        """Close the client if this source created it."""
        if self._owns_client:
            self.client.close()
