"""Questions to the inventory: where is a package, which images lack evidence, which layers are shared.

Each query returns pydantic rows (serialised as JSON, CSV or a table like every other command's models).
Version ranges are applied in the package type's own ordering (:mod:`provenant.fleet.versions`) after an
indexed lookup by name or purl, so only the matching package rows are compared.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel
from sqlalchemy import ColumnElement, and_, func, not_, or_, select
from sqlalchemy.orm import Session, aliased

from provenant.errors import UsageError
from provenant.fleet import models as m
from provenant.fleet.versions import VersionSpec, ordering


class PackageHit(BaseModel):
    """One package in one platform image, under one tag (or none: an image named by digest only)."""

    repository: str | None
    tag: str | None
    image_digest: str
    platform: str
    manifest_digest: str
    name: str
    version: str
    type: str
    purl: str | None
    introduced_by_layer: str | None


class ImageRow(BaseModel):
    """A tagged image (index or manifest) of the inventory."""

    repository: str | None
    tag: str | None
    image_digest: str
    status: str
    platforms: list[str]
    error: str | None = None


class SharedLayer(BaseModel):
    """A layer and how many platform manifests and repositories use it."""

    digest: str
    size: int
    manifests: int
    repositories: int


def find_packages(
    db: Session,
    *,
    name: str | None = None,
    purl_base: str | None = None,
    version: str | None = None,
    types: Sequence[str] = (),
) -> list[PackageHit]:
    """Every (tag, platform) holding a package named ``name`` (or with purl ``purl_base``), in range."""
    spec = VersionSpec.parse(version) if version else None
    conds: list[ColumnElement[bool]] = []
    if name is not None:
        conds.append(m.Package.name == name)
    if purl_base is not None:
        conds.append(m.Package.purl_base == purl_base)
    if types:
        conds.append(m.Package.type.in_(types))
    if not conds:
        raise UsageError("say which package: a NAME or a purl")
    packages = list(db.scalars(select(m.Package).where(and_(*conds))))
    if spec is not None:
        packages = [p for p in packages if spec.matches(p.version, ordering(p.type))]
    if not packages:
        return []
    by_id = {p.id: p for p in packages}
    intro = aliased(m.Layer)
    stmt = (
        select(
            m.Occurrence.package_id,
            m.Repository.name,
            m.Tag.name,
            m.Image.digest,
            m.Manifest.platform,
            m.Manifest.digest,
            intro.digest,
        )
        .select_from(m.Occurrence)
        .join(m.Manifest, m.Manifest.id == m.Occurrence.manifest_id)
        .join(m.ImageManifest, m.ImageManifest.manifest_id == m.Manifest.id)
        .join(m.Image, m.Image.id == m.ImageManifest.image_id)
        .outerjoin(intro, intro.id == m.Occurrence.layer_id)
        .outerjoin(m.Tag, m.Tag.image_id == m.Image.id)
        .outerjoin(m.Repository, m.Repository.id == m.Tag.repository_id)
    )
    hits: list[PackageHit] = []
    ids = list(by_id)
    for start in range(0, len(ids), 500):  # bound the IN list (SQLite's host parameters)
        for pid, repo, tag, image, platform, manifest, layer in db.execute(
            stmt.where(m.Occurrence.package_id.in_(ids[start : start + 500]))
        ):
            p = by_id[pid]
            hits.append(
                PackageHit(
                    repository=repo,
                    tag=tag,
                    image_digest=image,
                    platform=platform,
                    manifest_digest=manifest,
                    name=p.name,
                    version=p.version,
                    type=p.type,
                    purl=p.purl,
                    introduced_by_layer=layer,
                )
            )
    hits.sort(key=lambda h: (h.repository or "", h.tag or "", h.platform, h.name, h.version, h.purl or ""))
    return hits


def parse_purl_query(text: str) -> tuple[str, str | None]:
    """``pkg:deb/debian/openssl[@VERSION]`` → (purl base, exact version or None)."""
    if not text.startswith("pkg:") or "/" not in text:
        raise UsageError(f"{text!r} is not a purl; expected e.g. pkg:deb/debian/openssl")
    from provenant.fleet.ingest import purl_base

    base = purl_base(text)
    assert base is not None
    rest = text.split("?", 1)[0].split("#", 1)[0]
    version = rest[len(base) + 1 :] if len(rest) > len(base) else None
    return base, version or None


def list_images(
    db: Session,
    *,
    unsigned: bool = False,
    unverified: bool = False,
    without_provenance: bool = False,
    missing_platform: str | None = None,
    base: str | None = None,
    failed: bool = False,
) -> list[ImageRow]:
    """Tagged images, filtered: no signature, none verified, no provenance attestation, a platform missing,
    built on ``base`` (a platform manifest whose layers start with all the layers of one of the base's)."""
    conds: list[ColumnElement[bool]] = [m.Image.status == ("failed" if failed else "ok")]
    if base is not None:
        conds.append(m.Image.id.in_(_built_on(db, base)))
    if unsigned:
        # Any signature: a signature item, or an attestation that carries one (verified or not).
        signed = select(m.Attestation.image_id).where(
            or_(m.Attestation.kind == "signature", m.Attestation.trust.not_in(("unsigned", "unreadable")))
        )
        conds.append(not_(m.Image.id.in_(signed)))
    if unverified:
        conds.append(not_(m.Image.id.in_(select(m.Attestation.image_id).where(m.Attestation.verified))))
    if without_provenance:
        prov = select(m.Attestation.image_id).where(
            m.Attestation.kind == "attestation", m.Attestation.predicate_type.like("https://slsa.dev/provenance/%")
        )
        conds.append(not_(m.Image.id.in_(prov)))
    if missing_platform is not None:
        has = (
            select(m.ImageManifest.image_id)
            .join(m.Manifest, m.Manifest.id == m.ImageManifest.manifest_id)
            .where(or_(m.Manifest.platform == missing_platform, m.Manifest.platform.like(missing_platform + "/%")))
        )
        conds.append(not_(m.Image.id.in_(has)))
    stmt = (
        select(m.Image, m.Repository.name, m.Tag.name)
        .outerjoin(m.Tag, m.Tag.image_id == m.Image.id)
        .outerjoin(m.Repository, m.Repository.id == m.Tag.repository_id)
        .where(and_(*conds))
    )
    rows = list(db.execute(stmt))
    platforms: dict[int, list[str]] = {}
    for image_id, platform in db.execute(
        select(m.ImageManifest.image_id, m.Manifest.platform).join(
            m.Manifest, m.Manifest.id == m.ImageManifest.manifest_id
        )
    ):
        platforms.setdefault(image_id, []).append(platform)
    out = [
        ImageRow(
            repository=repo,
            tag=tag,
            image_digest=img.digest,
            status=img.status,
            platforms=sorted(platforms.get(img.id, [])),
            error=img.error,
        )
        for img, repo, tag in rows
    ]
    out.sort(key=lambda r: (r.repository or "", r.tag or "", r.image_digest))
    return out


def shared_layers(db: Session, *, limit: int = 20) -> list[SharedLayer]:
    """The layers used by the most platform manifests (ties: the biggest first)."""
    n_manifests = func.count(func.distinct(m.ManifestLayer.manifest_id))
    n_repos = func.count(func.distinct(m.Tag.repository_id))
    stmt = (
        select(m.Layer.digest, m.Layer.size, n_manifests, n_repos)
        .join(m.ManifestLayer, m.ManifestLayer.layer_id == m.Layer.id)
        .join(m.ImageManifest, m.ImageManifest.manifest_id == m.ManifestLayer.manifest_id)
        .outerjoin(m.Tag, m.Tag.image_id == m.ImageManifest.image_id)
        .group_by(m.Layer.id, m.Layer.digest, m.Layer.size)
        .having(n_manifests > 1)
        .order_by(n_manifests.desc(), m.Layer.size.desc(), m.Layer.digest)
        .limit(limit)
    )
    return [SharedLayer(digest=d, size=s, manifests=nm, repositories=nr) for d, s, nm, nr in db.execute(stmt)]


def _layer_lists(db: Session) -> dict[int, list[int]]:
    lists: dict[int, list[int]] = {}
    for manifest_id, layer_id in db.execute(
        select(m.ManifestLayer.manifest_id, m.ManifestLayer.layer_id).order_by(
            m.ManifestLayer.manifest_id, m.ManifestLayer.position
        )
    ):
        lists.setdefault(manifest_id, []).append(layer_id)
    return lists


def _built_on(db: Session, base: str) -> set[int]:
    """Ids of the images (other than ``base`` itself) with a platform manifest on top of one of base's."""
    from provenant.fleet.export import stored_result

    base_image = stored_result(db, base)  # raises "not in the inventory" with what to do
    base_digests = {sbom.manifest_digest for sbom in base_image.images}
    lists = _layer_lists(db)
    digest_of = {mid: digest for mid, digest in db.execute(select(m.Manifest.id, m.Manifest.digest))}
    prefixes = [tuple(lists.get(mid, [])) for mid, d in digest_of.items() if d in base_digests]
    on_base = {
        mid
        for mid, layers in lists.items()
        if digest_of.get(mid) not in base_digests and any(p and tuple(layers[: len(p)]) == p for p in prefixes)
    }
    images = db.execute(select(m.ImageManifest.image_id, m.ImageManifest.manifest_id))
    return {image_id for image_id, manifest_id in images if manifest_id in on_base} - {
        i for i in db.scalars(select(m.Image.id).where(m.Image.digest == base_image.digest))
    }
