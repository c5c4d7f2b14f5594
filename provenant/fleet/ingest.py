"""Writing what one image yielded into the inventory, in one transaction per image.

Everything an image adds (its manifests, layers, packages, occurrences, attestations, verdicts, tag
moves) is committed together or not at all, so an interrupted scan leaves the database as it was after
the last finished image, and the next run picks up the rest.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, insert, select

from provenant.fleet import models as m
from provenant.jsontext import model_json

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from provenant.evidence.stored import ImageFacts
    from provenant.sbom.result import ImageSbom


@dataclass
class AttestationRow:
    """One evaluated attachment, as stored."""

    subject: str
    kind: str
    format: str
    source: str
    predicate_type: str | None
    trust: str
    signer: str | None
    verified: bool
    error: str | None


@dataclass
class VerdictRow:
    """One policy finding, as stored."""

    policy_digest: str
    check_id: str
    platform: str | None
    result: str
    evidence: str


@dataclass
class ImageRecord:
    """Everything to write for one scanned image; ``error`` set means it failed (nothing else is kept)."""

    digest: str
    media_type: str
    source: str
    scanner: str
    sboms: list[ImageSbom] = field(default_factory=list)
    attestations: list[AttestationRow] = field(default_factory=list)
    verdicts: list[VerdictRow] = field(default_factory=list)
    #: What ``fleet policy`` evaluates later (None: stored without evidence).
    evidence: ImageFacts | None = None
    error: str | None = None


def now() -> datetime:
    """The current time, timezone-aware (stored as such on every backend)."""
    return datetime.now(UTC)


def purl_base(purl: str | None) -> str | None:
    """``pkg:deb/debian/openssl@3.0.11?arch=amd64`` → ``pkg:deb/debian/openssl``."""
    if purl is None:
        return None
    base = purl.split("#", 1)[0].split("?", 1)[0]
    # The version follows the last '@' of the path (a scoped npm name's '@' is percent-encoded).
    head, at, _version = base.rpartition("@")
    return head if at and "/" in head else base


def _compressed(text: str) -> bytes:
    """Stored JSON: gzip with mtime 0 (the same content gives the same bytes)."""
    return gzip.compress(text.encode(), compresslevel=6, mtime=0)


def _repository(db: Session, name: str) -> m.Repository:
    repo = db.scalar(select(m.Repository).where(m.Repository.name == name))
    if repo is None:
        repo = m.Repository(name=name)
        db.add(repo)
        db.flush()
    return repo


def record_tag(db: Session, repository: str, tag: str | None, image: m.Image) -> bool:
    """Point ``repository:tag`` at ``image``, keeping history; return whether the tag moved (or is new)."""
    if tag is None:
        return False
    repo = _repository(db, repository)
    row = db.scalar(select(m.Tag).where(m.Tag.repository_id == repo.id, m.Tag.name == tag))
    when = now()
    if row is not None and row.image_id == image.id:
        return False
    if row is None:
        row = m.Tag(repository_id=repo.id, name=tag, image_id=image.id, updated_at=when)
        db.add(row)
    else:
        row.image_id, row.updated_at = image.id, when
    db.flush()
    db.add(m.TagEvent(tag_id=row.id, image_id=image.id, seen_at=when))
    return True


def record_tags(db: Session, tags: Sequence[tuple[str, str | None, m.Image]]) -> int:
    """:func:`record_tag` for many (repository, tag, image) at once, with a few queries; returns how many moved.

    The rescan of an unchanged registry records every tag again: one query for the repositories and one
    for their tags, instead of two per tag, and a write only for the tags that moved.
    """
    wanted = [(r, t, img) for r, t, img in tags if t is not None]
    names = list(dict.fromkeys(r for r, _t, _img in wanted))
    repos: dict[str, m.Repository] = {}
    for start in range(0, len(names), 500):  # bound the IN list (SQLite's host parameters)
        chunk = names[start : start + 500]
        repos.update({r.name: r for r in db.scalars(select(m.Repository).where(m.Repository.name.in_(chunk)))})
    ids = [r.id for r in repos.values()]
    current: dict[tuple[int, str], m.Tag] = {}
    for start in range(0, len(ids), 500):
        chunk_ids = ids[start : start + 500]
        current.update(
            {(t.repository_id, t.name): t for t in db.scalars(select(m.Tag).where(m.Tag.repository_id.in_(chunk_ids)))}
        )
    moved = 0
    for repository, tag, image in wanted:
        assert tag is not None
        repo = repos.get(repository)
        row = current.get((repo.id, tag)) if repo is not None else None
        if row is not None and row.image_id == image.id:
            continue
        moved += record_tag(db, repository, tag, image)
        if repo is None:
            repos[repository] = _repository(db, repository)
    return moved


def _layers(db: Session, sbom: ImageSbom) -> dict[str, int]:
    digests = [layer.digest for layer in sbom.layers]
    have = {r.digest: r.id for r in db.scalars(select(m.Layer).where(m.Layer.digest.in_(digests)))}
    for layer in sbom.layers:
        if layer.digest not in have:
            row = m.Layer(
                digest=layer.digest,
                diff_id=layer.diff_id,
                media_type=layer.media_type,
                size=layer.size,
                uncompressed_size=layer.uncompressed_size,
            )
            db.add(row)
            db.flush()
            have[layer.digest] = row.id
    return have


def _packages(db: Session, sbom: ImageSbom) -> dict[str, int]:
    """Package ids by key, inserting the packages the inventory lacks (Core statements: no ORM objects)."""
    by_key = {p.key(): p for p in sbom.packages}
    keys = list(by_key)
    have: dict[str, int] = {}
    for start in range(0, len(keys), 500):  # bound the IN list (SQLite's host parameters)
        chunk = keys[start : start + 500]
        rows = db.execute(select(m.Package.key, m.Package.id).where(m.Package.key.in_(chunk)))
        have.update((key, pid) for key, pid in rows)
    new = [
        {
            "key": key,
            "purl": p.purl,
            "purl_base": purl_base(p.purl),
            "name": p.name,
            "version": p.version,
            "type": p.type,
            "licenses": json.dumps(p.licenses),
        }
        for key, p in by_key.items()
        if key not in have
    ]
    if new:
        inserted = db.execute(insert(m.Package).returning(m.Package.key, m.Package.id), new)
        have.update((key, pid) for key, pid in inserted)
    return have


def _manifest(db: Session, sbom: ImageSbom) -> m.Manifest:
    row = db.scalar(select(m.Manifest).where(m.Manifest.digest == sbom.manifest_digest))
    if row is not None:  # another index (or an earlier scanner version) stored it: replace its content
        db.execute(delete(m.Occurrence).where(m.Occurrence.manifest_id == row.id))
        db.execute(delete(m.ManifestLayer).where(m.ManifestLayer.manifest_id == row.id))
    else:
        row = m.Manifest(digest=sbom.manifest_digest)
        db.add(row)
    row.platform = sbom.platform
    row.config_digest = sbom.config_digest
    row.created = sbom.created
    row.distro = f"{sbom.distro.id} {sbom.distro.version_id or ''}".strip() if sbom.distro else None
    row.sbom = _compressed(model_json(sbom))
    db.flush()
    layer_ids = _layers(db, sbom)
    # Rows without identity of their own go in as executemany statements: the ORM's unit of work per
    # object was most of the cost of writing an image.
    if sbom.layers:
        db.execute(
            insert(m.ManifestLayer),
            [
                {"manifest_id": row.id, "position": layer.index, "layer_id": layer_ids[layer.digest]}
                for layer in sbom.layers
            ],
        )
    package_ids = _packages(db, sbom)
    occurrences: dict[int, int | None] = {}
    for p in sbom.packages:
        pid = package_ids[p.key()]
        if pid not in occurrences:
            occurrences[pid] = layer_ids.get(p.introduced_in.layer_digest) if p.introduced_in else None
    if occurrences:
        db.execute(
            insert(m.Occurrence),
            [{"manifest_id": row.id, "package_id": pid, "layer_id": lid} for pid, lid in occurrences.items()],
        )
    return row


def write_image(db: Session, record: ImageRecord, tags: Sequence[tuple[str, str | None]]) -> m.Image:
    """Store ``record`` and point ``tags`` ((repository, tag) pairs) at it; the caller commits."""
    image = db.scalar(select(m.Image).where(m.Image.digest == record.digest))
    if image is None:
        image = m.Image(digest=record.digest)
        db.add(image)
    image.media_type = record.media_type
    image.source = record.source[:1100]
    image.scanner = record.scanner
    image.scanned_at = now()
    image.status = "failed" if record.error else "ok"
    image.error = record.error
    image.evidence = _compressed(model_json(record.evidence)) if record.evidence and not record.error else None
    db.flush()
    db.execute(delete(m.ImageManifest).where(m.ImageManifest.image_id == image.id))
    db.execute(delete(m.Attestation).where(m.Attestation.image_id == image.id))
    db.execute(delete(m.Verdict).where(m.Verdict.image_id == image.id))
    if record.error is None:
        for position, sbom in enumerate(record.sboms):
            manifest = _manifest(db, sbom)
            db.add(m.ImageManifest(image_id=image.id, manifest_id=manifest.id, position=position))
        db.add_all(m.Attestation(image_id=image.id, **vars(a)) for a in record.attestations)
        db.add_all(m.Verdict(image_id=image.id, **vars(v)) for v in record.verdicts)
    for repository, tag in tags:
        record_tag(db, repository, tag, image)
    db.flush()
    return image


def record_failure(db: Session, reference: str, error: str) -> None:
    """Remember that ``reference`` could not even be resolved (no digest to key an image by)."""
    row = db.scalar(select(m.ScanFailure).where(m.ScanFailure.reference == reference))
    if row is None:
        row = m.ScanFailure(reference=reference)
        db.add(row)
    row.error, row.failed_at = error, now()


def clear_failure(db: Session, reference: str) -> None:
    """Forget an earlier resolution failure of ``reference`` (it resolved now)."""
    db.execute(delete(m.ScanFailure).where(m.ScanFailure.reference == reference))


def clear_failures(db: Session, references: Sequence[str]) -> None:
    """:func:`clear_failure` of many references, in statements of at most 500."""
    refs = list(references)
    for start in range(0, len(refs), 500):
        db.execute(delete(m.ScanFailure).where(m.ScanFailure.reference.in_(refs[start : start + 500])))
