"""Shared image reading on top of any :class:`~provenant.sources.base.ImageSource`.

Everything that must hold for every source lives here once: digest verification of manifests,
configs and blobs; telling an index from a manifest; platform selection; loading platform images.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

from provenant import limits as limits_mod
from provenant.digest import Digest, VerifyingStream, verify_bytes
from provenant.errors import InvalidReferenceError, ManifestError, PlatformNotFoundError
from provenant.limits import LimitExceededError, Limits
from provenant.oci import mediatypes as mt
from provenant.oci.detect import detect_media_type
from provenant.oci.models import (
    Descriptor,
    ImageConfig,
    Index,
    Manifest,
    parse_config,
    parse_index,
    parse_manifest,
)
from provenant.oci.platform import PlatformSpec, select_platforms
from provenant.sources.base import ImageSource


@dataclass(frozen=True)
class FetchedManifest:
    """A manifest or index whose bytes were hashed (and verified when asked for by digest)."""

    data: bytes
    media_type: str
    digest: Digest
    facts: dict[str, str] = field(default_factory=dict)

    @property
    def is_index(self) -> bool:
        """True for an OCI index or Docker manifest list."""
        return self.media_type in mt.INDEX_TYPES

    def as_index(self) -> Index:
        """Parse as an index; one listing more manifests than the ``platforms`` limit is refused."""
        index = parse_index(self.data, f"index {self.digest}")
        lim = limits_mod.current()
        # Every consumer (inspect, compare, report, policy) does work per entry: bound them where they are read.
        if len(index.manifests) > lim.platforms:
            raise LimitExceededError(
                f"index {self.digest}", "platforms", limits=lim, got=f"it lists {len(index.manifests)} manifests"
            )
        return index

    def as_manifest(self) -> Manifest:
        """Parse as an image manifest."""
        return parse_manifest(self.data, f"manifest {self.digest}")


@dataclass(frozen=True)
class PlatformImage:
    """One runnable image: its manifest, its config, and the index entry that pointed at it (if any)."""

    descriptor: Descriptor | None
    manifest_digest: Digest
    manifest_media_type: str
    manifest: Manifest
    config: ImageConfig
    config_size: int

    @property
    def platform(self) -> PlatformSpec:
        """The platform: the index entry's when there is one (that is what clients select on), else the config's."""
        if self.descriptor is not None and self.descriptor.platform is not None:
            return PlatformSpec.of(self.descriptor.platform)
        return PlatformSpec.of(self.config.platform)

    @property
    def compressed_size(self) -> int:
        """Config plus layers, as the manifest's descriptors state them (what a pull transfers)."""
        return self.manifest.config.size + sum(layer.size for layer in self.manifest.layers)


def _parse_identifier(identifier: str) -> Digest | None:
    if ":" in identifier and not identifier.startswith(":"):
        try:
            return Digest.parse(identifier)
        except InvalidReferenceError:
            return None
    return None


class ImageReader:
    """Reads manifests, configs and blobs of one source, verifying every byte against its digest."""

    def __init__(
        self, source: ImageSource, *, max_workers: int = 8, limits: Limits | None = None
    ) -> None:  # pragma: no mutate (thread count)
        self.source = source
        self._max_workers = max_workers
        self._limits = limits

    @property
    def limits(self) -> Limits:
        """The limits in force (given, else :func:`provenant.limits.current`)."""
        return self._limits if self._limits is not None else limits_mod.current()

    def fetch_manifest(self, identifier: str, *, declared: Descriptor | None = None) -> FetchedManifest:
        """Fetch a manifest by tag or digest; a digest request is verified (size too when ``declared``).

        Manifests, indexes and configs are small documents: one over ``manifest-bytes`` is refused, before
        it is fetched when its descriptor already says so.
        """
        what = f"manifest {identifier}"
        cap = self.limits.manifest_bytes
        if declared is not None and declared.size > cap:
            raise LimitExceededError(f"{what} is {declared.size} bytes", "manifest_bytes", limits=self.limits)
        raw = self.source.get_manifest(identifier)
        if len(raw.data) > cap:
            raise LimitExceededError(f"{what} is {len(raw.data)} bytes", "manifest_bytes", limits=self.limits)
        wanted = _parse_identifier(identifier)
        if wanted is not None:
            verify_bytes(raw.data, wanted, what, size=declared.size if declared else None)
            digest = wanted
        else:
            digest = Digest.of(raw.data)
        media_type = detect_media_type(raw.data, raw.media_type, what)
        if media_type not in mt.INDEX_TYPES and media_type not in mt.MANIFEST_TYPES:
            raise ManifestError(
                f"{what} has media type {media_type!r}, which is neither an image index nor an image manifest",
                hint="point provenant at an image, not at an artifact",
            )
        return FetchedManifest(raw.data, media_type, digest, dict(raw.facts))

    def resolve(self, identifier: str | None = None) -> FetchedManifest:
        """The top-level manifest or index the user asked for."""
        return self.fetch_manifest(identifier or self.source.default_identifier())

    def read_blob(self, desc: Descriptor, what: str) -> bytes:
        """A small blob (config, attestation) read fully and verified against its descriptor."""
        if desc.size > self.limits.manifest_bytes:
            raise LimitExceededError(f"{what} is {desc.size} bytes", "manifest_bytes", limits=self.limits)
        with self.stream_blob(desc, what) as chunks:
            return b"".join(chunks)

    @contextmanager
    def stream_blob(self, desc: Descriptor, what: str) -> Iterator[Iterator[bytes]]:
        """Chunks of a blob; digest and size are checked when the stream is exhausted."""
        digest = desc.parsed_digest
        with self.source.open_blob(digest, desc.size) as chunks:
            yield iter(VerifyingStream(chunks, digest, what, desc.size))

    def load_platform(self, desc: Descriptor | None, fetched: FetchedManifest | None = None) -> PlatformImage:
        """Load one image manifest (from an index entry, or already fetched) and its config."""
        if fetched is None:
            if desc is None:
                raise ValueError("load_platform needs a descriptor or a fetched manifest")
            fetched = self.fetch_manifest(desc.digest, declared=desc)
        if fetched.is_index:
            raise ManifestError(f"manifest {fetched.digest} is an index nested where an image manifest was expected")
        manifest = fetched.as_manifest()
        cfg_bytes = self.read_blob(manifest.config, f"config {manifest.config.digest}")
        config = parse_config(cfg_bytes, f"config {manifest.config.digest}")
        return PlatformImage(desc, fetched.digest, fetched.media_type, manifest, config, len(cfg_bytes))

    def load_images(self, top: FetchedManifest, platforms: list[PlatformSpec] | None = None) -> list[PlatformImage]:
        """The platform images of ``top`` (every platform of an index, or the one manifest), in index order."""
        if not top.is_index:
            image = self.load_platform(None, top)
            if platforms and image.platform not in platforms:
                raise PlatformNotFoundError(
                    f"image {top.digest} is {image.platform}, not {', '.join(map(str, platforms))}"
                )
            return [image]
        chosen = select_platforms(top.as_index(), platforms)
        if len(chosen) <= 1:
            return [self.load_platform(d) for d in chosen]
        with ThreadPoolExecutor(max_workers=min(self._max_workers, len(chosen))) as pool:
            return list(pool.map(self.load_platform, chosen))
