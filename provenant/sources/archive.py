"""``docker save`` tarballs and OCI archives.

A tarball with ``index.json`` is an OCI layout in a tar (OCI archives, and ``docker save`` since
Docker 25, which also writes ``manifest.json``): it is read as a layout, so digests are the ones the
image was built with. A legacy ``docker save`` tarball has only ``manifest.json``, a config and
uncompressed layer tars: provenant synthesises a Docker v2 manifest from it (layer digests are the
config's diff_ids, verified as the layers are read) and says so in the source facts.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from provenant.digest import Digest
from provenant.errors import SourceError
from provenant.oci import mediatypes as mt
from provenant.oci.models import parse_config
from provenant.sources.base import ImageSource, RawManifest
from provenant.sources.filestore import TarStore
from provenant.sources.layout import OciLayoutSource
from provenant.structured import load_json

MAX_JSON = 16 * 1024 * 1024


class _SavedImage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    config: str = Field(alias="Config")
    repo_tags: list[str] | None = Field(default=None, alias="RepoTags")
    layers: list[str] = Field(alias="Layers")


def _canonical(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


class DockerArchiveSource:
    """A legacy ``docker save`` tarball (``manifest.json`` without ``index.json``)."""

    def __init__(self, store: TarStore, selector: str | None) -> None:
        self.store = store
        try:
            raw = load_json(store.read("manifest.json", MAX_JSON), f"{store.describe()}: manifest.json")
            entries = [_SavedImage.model_validate(e) for e in raw]
        except (UnicodeDecodeError, json.JSONDecodeError, TypeError, ValidationError) as exc:
            raise SourceError(f"{store.describe()}: manifest.json is not a docker save manifest: {exc}") from exc
        if not entries:
            raise SourceError(f"{store.describe()}: manifest.json lists no images")
        self.image = self._select(entries, selector)
        self._blobs: dict[str, str] = {}
        self._manifest = self._synthesise()
        self.digest = Digest.of(self._manifest)

    def _select(self, entries: list[_SavedImage], selector: str | None) -> _SavedImage:
        if selector is None:
            if len(entries) == 1:
                return entries[0]
            tags = ", ".join(t for e in entries for t in (e.repo_tags or []))
            raise SourceError(
                f"{self.store.describe()}: holds {len(entries)} images; say which one",
                hint=f"append :NAME:TAG to the path, one of: {tags}",
            )
        for e in entries:
            for t in e.repo_tags or []:
                if selector in (t, t.rsplit(":", 1)[-1]):
                    return e
        raise SourceError(f"{self.store.describe()}: no image tagged {selector!r} in manifest.json")

    def _synthesise(self) -> bytes:
        cfg_bytes = self.store.read(self.image.config, MAX_JSON)
        cfg_digest = Digest.of(cfg_bytes)
        config = parse_config(cfg_bytes, f"{self.store.describe()}: {self.image.config}")
        diff_ids = config.rootfs.diff_ids
        if len(diff_ids) != len(self.image.layers):
            raise SourceError(
                f"{self.store.describe()}: config lists {len(diff_ids)} diff_ids but manifest.json "
                f"lists {len(self.image.layers)} layers"
            )
        self._blobs[str(cfg_digest)] = self.image.config
        layers = []
        for path, diff_id in zip(self.image.layers, diff_ids, strict=True):
            self._blobs[diff_id] = path
            layers.append({"mediaType": mt.DOCKER_LAYER_TAR, "size": self.store.size(path), "digest": diff_id})
        return _canonical(
            {
                "schemaVersion": 2,
                "mediaType": mt.DOCKER_MANIFEST,
                "config": {"mediaType": mt.DOCKER_CONFIG, "size": len(cfg_bytes), "digest": str(cfg_digest)},
                "layers": layers,
            }
        )

    def describe(self) -> str:
        return f"docker-archive {self.store.describe()}"

    def default_identifier(self) -> str:
        return str(self.digest)

    def get_manifest(self, identifier: str) -> RawManifest:
        if identifier not in (str(self.digest), self.default_identifier()):
            raise SourceError(f"{self.store.describe()}: no manifest {identifier} in this docker save tarball")
        facts = {"synthesized": "manifest built from docker save manifest.json (layers are uncompressed)"}
        return RawManifest(self._manifest, mt.DOCKER_MANIFEST, facts)

    def open_blob(self, digest: Digest, size: int | None) -> AbstractContextManager[Iterator[bytes]]:
        path = self._blobs.get(str(digest))
        if path is None:
            raise SourceError(f"{self.store.describe()}: no blob {digest} in this docker save tarball")
        return self.store.open_chunks(path)

    def close(self) -> None:
        self.store.close()


def open_archive(path: Path, selector: str | None, kind: str) -> ImageSource:
    """Open a docker-save or OCI tarball, whichever format it holds."""
    store = TarStore(path)
    if store.exists("index.json"):
        return OciLayoutSource(store, selector, kind)
    if store.exists("manifest.json"):
        return DockerArchiveSource(store, selector)
    store.close()
    raise SourceError(
        f"{path}: neither index.json nor manifest.json in the tarball",
        hint="expected a `docker save` tarball or an OCI archive",
    )
