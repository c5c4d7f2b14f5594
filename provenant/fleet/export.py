"""``fleet export``: the SBOM ``provenant sbom`` made for a reference, from the inventory, without a rescan.

Each platform's ImageSbom is stored as scanned; a reference's documents are encoded from it again with
the repository and tag of the reference asked for (one image may carry several tags). Only the
generation stamps (CycloneDX serial number and timestamp, SPDX creation time) differ from a fresh run.
"""

from __future__ import annotations

import gzip
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from provenant.errors import UsageError
from provenant.fleet import models as m
from provenant.jsontext import model_from_json
from provenant.sbom.result import ImageSbom, SbomResult, ToolInfo

#: Document formats export encodes (table and json describe a run, not a stored document).
EXPORT_FORMATS = ("cyclonedx-json", "cyclonedx-xml", "spdx-json")


def _split(ref: str) -> tuple[str, str | None, str | None, bool]:
    """(repository as stored, tag, digest, is a registry reference) of ``ref``."""
    from provenant.reference import parse_reference

    local = ref.startswith("oci:")
    text = ref.removeprefix("oci:")
    digest = None
    if "@" in text:
        text, _, digest = text.rpartition("@")
    tag = None
    if digest is None:
        head, colon, tail = text.rpartition(":")
        if colon and "/" not in tail:
            text, tag = head, tail
    if local or Path(text).is_dir():
        return str(Path(text).absolute()), tag, digest, False
    parsed = parse_reference(ref)
    return parsed.name, parsed.tag if parsed.digest is None else None, digest, True


def stored_result(db: Session, ref: str) -> SbomResult:
    """The ``provenant sbom`` result of ``ref`` as the inventory holds it."""
    repository, tag, digest, registry = _split(ref)
    if digest is not None:
        image = db.scalar(select(m.Image).where(m.Image.digest == digest))
    else:
        image = db.scalar(
            select(m.Image)
            .join(m.Tag, m.Tag.image_id == m.Image.id)
            .join(m.Repository, m.Repository.id == m.Tag.repository_id)
            .where(m.Repository.name == repository, m.Tag.name == tag)
        )
    if image is None:
        raise UsageError(f"{ref} is not in the inventory; scan it first with provenant fleet scan")
    if image.status != "ok":
        raise UsageError(f"{ref}: its scan failed ({image.error}); fix the image or scan it again")
    rows = db.scalars(
        select(m.Manifest)
        .join(m.ImageManifest, m.ImageManifest.manifest_id == m.Manifest.id)
        .where(m.ImageManifest.image_id == image.id)
        .order_by(m.ImageManifest.position)
    )
    images = []
    for row in rows:
        sbom = model_from_json(ImageSbom, gzip.decompress(row.sbom), "stored SBOM")
        if registry:  # the name and tag of the reference asked for, as a fresh provenant sbom would put them
            sbom = sbom.model_copy(update={"name": repository, "tag": tag})
        images.append(sbom)
    return SbomResult(
        reference=ref,
        source=image.source,
        digest=image.digest,
        media_type=image.media_type,
        tool=ToolInfo(version=image.scanner.split("+", 1)[0]),
        images=images,
    )
