"""Pydantic models of manifests, indexes, descriptors and image configs (OCI and Docker v2).

Models accept both formats; unknown fields are ignored because registries and builders add their own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from provenant.digest import Digest
from provenant.errors import ManifestError
from provenant.oci import mediatypes as mt
from provenant.oci.detect import load_object


class _Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True)


class Platform(_Model):
    """``os/architecture[/variant]`` as written in an index or config."""

    architecture: str
    os: str
    variant: str | None = None
    os_version: str | None = Field(default=None, alias="os.version")
    os_features: list[str] | None = Field(default=None, alias="os.features")

    def __str__(self) -> str:
        base = f"{self.os}/{self.architecture}"
        return f"{base}/{self.variant}" if self.variant else base


class Descriptor(_Model):
    """A content descriptor: media type, digest, size and optional platform/annotations."""

    media_type: str = Field(alias="mediaType")
    digest: str
    size: int = Field(ge=0)
    urls: list[str] | None = None
    annotations: dict[str, str] | None = None
    platform: Platform | None = None
    artifact_type: str | None = Field(default=None, alias="artifactType")

    @field_validator("digest")
    @classmethod
    def _valid_digest(cls, v: str) -> str:
        Digest.parse(v)
        return v

    @property
    def parsed_digest(self) -> Digest:
        """The digest as a :class:`Digest`."""
        return Digest.parse(self.digest)

    @property
    def is_attestation(self) -> bool:
        """True for BuildKit attestation manifests (never a platform of their own)."""
        ann = self.annotations or {}
        return ann.get(mt.REFERENCE_TYPE_ANNOTATION) == mt.ATTESTATION_MANIFEST


class Manifest(_Model):
    """An image manifest (OCI or Docker schema2)."""

    schema_version: int = Field(alias="schemaVersion")
    media_type: str | None = Field(default=None, alias="mediaType")
    artifact_type: str | None = Field(default=None, alias="artifactType")
    config: Descriptor
    layers: list[Descriptor]
    subject: Descriptor | None = None
    annotations: dict[str, str] | None = None


class Index(_Model):
    """An image index (OCI) or manifest list (Docker)."""

    schema_version: int = Field(alias="schemaVersion")
    media_type: str | None = Field(default=None, alias="mediaType")
    artifact_type: str | None = Field(default=None, alias="artifactType")
    manifests: list[Descriptor]
    subject: Descriptor | None = None
    annotations: dict[str, str] | None = None


class ContainerConfig(_Model):
    """The runtime defaults of an image (the ``config`` object of an image config)."""

    user: str | None = Field(default=None, alias="User")
    env: list[str] | None = Field(default=None, alias="Env")
    entrypoint: list[str] | None = Field(default=None, alias="Entrypoint")
    cmd: list[str] | None = Field(default=None, alias="Cmd")
    working_dir: str | None = Field(default=None, alias="WorkingDir")
    exposed_ports: dict[str, Any] | None = Field(default=None, alias="ExposedPorts")
    volumes: dict[str, Any] | None = Field(default=None, alias="Volumes")
    labels: dict[str, str] | None = Field(default=None, alias="Labels")
    stop_signal: str | None = Field(default=None, alias="StopSignal")


class RootFS(_Model):
    """``rootfs`` of an image config: the ordered uncompressed layer digests."""

    type: str
    diff_ids: list[str] = Field(default_factory=list)


class HistoryEntry(_Model):
    """One line of an image's build history."""

    created: datetime | None = None
    created_by: str | None = None
    author: str | None = None
    comment: str | None = None
    empty_layer: bool = False


class ImageConfig(_Model):
    """An image configuration blob (OCI or Docker)."""

    architecture: str
    os: str
    variant: str | None = None
    os_version: str | None = Field(default=None, alias="os.version")
    created: datetime | None = None
    author: str | None = None
    config: ContainerConfig = Field(default_factory=ContainerConfig)
    rootfs: RootFS
    history: list[HistoryEntry] = Field(default_factory=list)

    @property
    def platform(self) -> Platform:
        """The platform the config declares."""
        return Platform(architecture=self.architecture, os=self.os, variant=self.variant)


def first_error(exc: ValidationError) -> str:
    """``location: message`` of a validation error's first problem, for one-line errors."""
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"]) or "(document)"
    return f"{loc}: {err['msg']}"


def parse_index(data: bytes, what: str) -> Index:
    """Parse an index/manifest list, raising a one-line :class:`ManifestError` when malformed."""
    try:
        return Index.model_validate(load_object(data, what))
    except ValidationError as exc:
        raise ManifestError(f"{what} is not a valid image index: {first_error(exc)}") from exc


def parse_manifest(data: bytes, what: str) -> Manifest:
    """Parse an image manifest, raising a one-line :class:`ManifestError` when malformed."""
    try:
        return Manifest.model_validate(load_object(data, what))
    except ValidationError as exc:
        raise ManifestError(f"{what} is not a valid image manifest: {first_error(exc)}") from exc


def parse_config(data: bytes, what: str) -> ImageConfig:
    """Parse an image config blob, raising a one-line :class:`ManifestError` when malformed."""
    try:
        return ImageConfig.model_validate(load_object(data, what))
    except ValidationError as exc:
        raise ManifestError(f"{what} is not a valid image config: {first_error(exc)}") from exc
