"""The inventory schema: SQLAlchemy 2 typed ORM models (the Alembic migrations create the same tables).

An *image* is what a reference resolves to (an index or a single manifest, by digest); a *manifest* is
one platform image of it. Packages are stored once and linked to the manifests they occur in, with the
layer that introduced them, so a query touches occurrences and packages only.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

#: Constraint names fixed by convention, so migrations name them the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of the inventory tables."""

    metadata = MetaData(naming_convention=NAMING)


class Repository(Base):
    """A repository (``registry/path``) or a local source (an OCI layout's path)."""

    __tablename__ = "repositories"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(1024), unique=True)


class Image(Base):
    """What a reference resolved to: an index or a single manifest, scanned once per scanner version."""

    __tablename__ = "images"
    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(200), unique=True)
    media_type: Mapped[str] = mapped_column(String(200))
    #: ``ok`` or ``failed`` (then ``error`` holds the one-line reason).
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    scanner: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(1100), doc="how the source described itself when scanned")
    scanned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: The image's evidence (provenant.evidence.stored.ImageFacts JSON, gzip-compressed) that ``fleet policy``
    #: evaluates; NULL for images stored by a scanner before revision 0003 (or failed ones).
    evidence: Mapped[bytes | None] = mapped_column(LargeBinary)


class Tag(Base):
    """A tag of a repository and the image it points at now (its past in :class:`TagEvent`)."""

    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("repository_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    repository_id: Mapped[int] = mapped_column(ForeignKey("repositories.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TagEvent(Base):
    """History of a tag: each image it was seen pointing at, from when."""

    __tablename__ = "tag_history"
    id: Mapped[int] = mapped_column(primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), index=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"))
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Manifest(Base):
    """One platform image, keyed by its manifest digest, with its SBOM as ``provenant sbom`` made it."""

    __tablename__ = "manifests"
    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(200), unique=True)
    platform: Mapped[str] = mapped_column(String(200), index=True)
    config_digest: Mapped[str] = mapped_column(String(200))
    created: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    distro: Mapped[str | None] = mapped_column(String(200))
    #: The ImageSbom JSON, gzip-compressed: what ``fleet export`` encodes again, without a rescan.
    sbom: Mapped[bytes] = mapped_column(LargeBinary)


class ImageManifest(Base):
    """Which platform manifests an image (index) has."""

    __tablename__ = "image_manifests"
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), primary_key=True)
    manifest_id: Mapped[int] = mapped_column(ForeignKey("manifests.id", ondelete="CASCADE"), primary_key=True)
    #: Order of the platform in the index (what ``provenant sbom`` lists first).
    position: Mapped[int] = mapped_column()


class Layer(Base):
    """A layer blob, by compressed digest."""

    __tablename__ = "layers"
    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(200), unique=True)
    diff_id: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(BigInteger)
    uncompressed_size: Mapped[int] = mapped_column(BigInteger)


class ManifestLayer(Base):
    """The ordered layers of a manifest."""

    __tablename__ = "manifest_layers"
    manifest_id: Mapped[int] = mapped_column(ForeignKey("manifests.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)
    layer_id: Mapped[int] = mapped_column(ForeignKey("layers.id", ondelete="CASCADE"), index=True)


class Package(Base):
    """A package identity (purl, name, version, type, licenses), stored once for every image holding it."""

    __tablename__ = "packages"
    __table_args__ = (Index("ix_packages_type_name", "type", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Package.key() of the SBOM model: what makes two packages the same.
    key: Mapped[str] = mapped_column(String(2048), unique=True)
    purl: Mapped[str | None] = mapped_column(String(2048), index=True)
    #: The purl without version, qualifiers and subpath (``pkg:deb/debian/openssl``), for ``query purl``.
    purl_base: Mapped[str | None] = mapped_column(String(2048), index=True)
    name: Mapped[str] = mapped_column(String(1024), index=True)
    version: Mapped[str] = mapped_column(String(512))
    type: Mapped[str] = mapped_column(String(64))
    licenses: Mapped[str] = mapped_column(Text, doc="JSON list of license expressions")


class Occurrence(Base):
    """A package in a platform image, with the layer that introduced it."""

    __tablename__ = "occurrences"
    manifest_id: Mapped[int] = mapped_column(ForeignKey("manifests.id", ondelete="CASCADE"), primary_key=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("packages.id", ondelete="CASCADE"), primary_key=True)
    layer_id: Mapped[int | None] = mapped_column(ForeignKey("layers.id", ondelete="SET NULL"))
    __table_args__ = (Index("ix_occurrences_package_manifest", "package_id", "manifest_id"),)


class Attestation(Base):
    """An attestation, signature or attached SBOM found for an image or one of its platform manifests."""

    __tablename__ = "attestations"
    id: Mapped[int] = mapped_column(primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), index=True)
    subject: Mapped[str] = mapped_column(String(200), doc="digest the item is attached to")
    kind: Mapped[str] = mapped_column(String(32), doc="attestation, signature, sbom, other")
    format: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(64), doc="buildkit-index, cosign-tag, oci-referrers, ...")
    predicate_type: Mapped[str | None] = mapped_column(String(1024))
    trust: Mapped[str] = mapped_column(String(1024), doc="the trust label of provenant attestations")
    signer: Mapped[str | None] = mapped_column(String(1024))
    verified: Mapped[bool] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text)


class Verdict(Base):
    """One policy check's result for one image, under one policy (by digest of the policy file)."""

    __tablename__ = "verdicts"
    id: Mapped[int] = mapped_column(primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), index=True)
    policy_digest: Mapped[str] = mapped_column(String(200))
    check_id: Mapped[str] = mapped_column(String(200))
    platform: Mapped[str | None] = mapped_column(String(200))
    result: Mapped[str] = mapped_column(String(32))
    evidence: Mapped[str] = mapped_column(Text)


class ScanFailure(Base):
    """A reference that could not be resolved to a digest at all (so no image row can hold the error)."""

    __tablename__ = "scan_failures"
    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(1100), unique=True)
    error: Mapped[str] = mapped_column(Text)
    failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
