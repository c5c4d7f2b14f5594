"""A tiny in-memory ImageSource for unit tests of the shared image code (not a registry)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from provenant.digest import Digest
from provenant.errors import SourceError
from provenant.sources.base import RawManifest


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()


class MemorySource:
    """Blobs by digest and tags by name; ``tamper`` swaps the bytes served for a digest."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self.types: dict[str, str] = {}
        self.tags: dict[str, str] = {}
        self.tamper: dict[str, bytes] = {}
        self.default = "latest"

    def add(self, data: bytes, media_type: str | None = None) -> dict[str, Any]:
        d = str(Digest.of(data))
        self.blobs[d] = data
        if media_type:
            self.types[d] = media_type
        return {"mediaType": media_type or "application/octet-stream", "digest": d, "size": len(data)}

    def add_json(self, obj: Any, media_type: str) -> dict[str, Any]:
        return self.add(canonical(obj), media_type)

    def describe(self) -> str:
        return "memory"

    def default_identifier(self) -> str:
        return self.default

    def get_manifest(self, identifier: str) -> RawManifest:
        d = self.tags.get(identifier, identifier)
        if d not in self.blobs:
            raise SourceError(f"no manifest {identifier}")
        return RawManifest(self.tamper.get(d, self.blobs[d]), self.types.get(d))

    @contextmanager
    def open_blob(self, digest: Digest, size: int | None) -> Iterator[Iterator[bytes]]:
        data = self.tamper.get(str(digest), self.blobs[str(digest)])
        yield iter([data[i : i + 7] for i in range(0, len(data), 7)])

    def close(self) -> None:
        pass
