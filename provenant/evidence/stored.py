"""Evidence as stored in the fleet inventory: the facts the policy checks read, serialisable.

What needs the layers (hygiene: secrets, tooling, caches, waste, user; sizes; diff ids) is computed when
the image is scanned and kept; attachments are kept with the trust they were given against the scan's
keys (``attestations.keys`` / ``keyless`` say which). Packages are not repeated here: they are the stored
SBOM of each platform manifest. :func:`facts_of` and :func:`from_facts` convert both ways.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from provenant.attest.result import AttestationsResult
from provenant.evidence.model import BaseResolver, Evidence, PlatformEvidence, StoredPlatform
from provenant.hygiene import HygieneReport
from provenant.reference import Reference
from provenant.sbom.result import ImageSbom

#: Bumped when the stored form changes incompatibly; evidence of another version is not evaluated.
FORMAT = 1


class PlatformFacts(BaseModel):
    """What the checks read of one platform image, beyond its SBOM and attachments."""

    platform: str
    digest: str
    annotations: dict[str, str]
    diff_ids: list[str]
    compressed_size: int
    uncompressed_size: int
    hygiene: HygieneReport


class ImageFacts(BaseModel):
    """What the checks read of one image (an index or a single manifest)."""

    format: int = FORMAT
    digest: str
    source: str
    is_index: bool
    index_platforms: list[str]
    platforms: list[PlatformFacts]
    attestations: AttestationsResult = Field(description="every attachment, with its trust against attestations.keys")
    notes: list[str] = Field(default_factory=list)


def facts_of(ev: Evidence) -> ImageFacts:
    """The storable facts of live evidence (assesses each platform's hygiene if no check did yet)."""
    return ImageFacts(
        digest=ev.digest,
        source=ev.source,
        is_index=ev.is_index,
        index_platforms=list(ev.index_platforms),
        platforms=[
            PlatformFacts(
                platform=p.platform,
                digest=p.digest,
                annotations=dict(p.annotations),
                diff_ids=p.diff_ids,
                compressed_size=p.compressed_size,
                uncompressed_size=p.uncompressed_size,
                hygiene=p.hygiene(),
            )
            for p in ev.platforms
        ],
        attestations=ev.attestations,
        notes=list(ev.notes),
    )


def from_facts(
    facts: ImageFacts,
    sboms: dict[str, ImageSbom],
    *,
    target: str,
    reference: Reference | None,
    resolver: BaseResolver | None,
) -> Evidence:
    """Evidence for the policy engine from stored ``facts`` and each platform's stored SBOM (by manifest digest).

    ``target`` and ``reference`` name the image as it is asked about now: the same digest may have been
    scanned under another repository, so a registry source is described from ``reference``.
    """
    by_subject = {s.digest: s.attachments for s in facts.attestations.subjects}
    platforms = [
        PlatformEvidence(
            platform=p.platform,
            digest=p.digest,
            analysis=None,
            annotations=dict(p.annotations),
            attachments=list(by_subject.get(p.digest, [])),
            stored=StoredPlatform(p, sboms[p.digest]),
        )
        for p in facts.platforms
    ]
    return Evidence(
        target=target,
        reference=reference,
        source=f"registry {reference.name}" if reference is not None else facts.source,
        digest=facts.digest,
        is_index=facts.is_index,
        index_platforms=list(facts.index_platforms),
        platforms=platforms,
        image_attachments=list(by_subject.get(facts.digest, [])) if facts.is_index else [],
        attestations=facts.attestations,
        dockerfile=None,
        session=None,
        analysis=None,
        notes=list(facts.notes),
        resolver=resolver,
    )
