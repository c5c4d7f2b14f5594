"""What is known about one image and each of its platform images, from a live pass or from the inventory.

A live :class:`Evidence` (made by :func:`provenant.evidence.gather`) holds the layer analysis too, which
``compare``, ``diff`` and ``report`` read. One loaded from the fleet inventory (:mod:`.stored`) holds the
facts the policy checks read and no analysis. The checks read only what both have: the properties below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from provenant.errors import ProvenantError

if TYPE_CHECKING:
    from provenant.attest.evaluate import Attachment
    from provenant.attest.provenance import ProvenanceSummary
    from provenant.attest.result import AttestationsResult
    from provenant.evidence.stored import PlatformFacts
    from provenant.hygiene import HygieneReport
    from provenant.policy.dockerfile import Dockerfile
    from provenant.reference import Reference
    from provenant.sbom.generate import Analysis, ImageAnalysis
    from provenant.sbom.model import Package
    from provenant.sbom.result import ImageSbom
    from provenant.session import Session

BASE_NAME_ANNOTATION = "org.opencontainers.image.base.name"
BASE_DIGEST_ANNOTATION = "org.opencontainers.image.base.digest"


@dataclass
class StoredPlatform:
    """The stored facts of one platform image and its stored SBOM (no layer analysis)."""

    facts: PlatformFacts
    sbom: ImageSbom


@dataclass
class PlatformEvidence:
    """One platform image and what is attached to it: live (``analysis``) or stored (``stored``)."""

    platform: str
    digest: str
    analysis: ImageAnalysis | None
    annotations: dict[str, str]
    attachments: list[Attachment]
    _hygiene: HygieneReport | None = None
    stored: StoredPlatform | None = None

    def _stored(self) -> StoredPlatform:
        if self.stored is None:
            raise ProvenantError(f"no analysis nor stored evidence for platform {self.platform}")
        return self.stored

    @property
    def diff_ids(self) -> list[str]:
        """The image's uncompressed layer digests, bottom first."""
        if self.analysis is not None:
            return [layer.diff_id for layer in self.analysis.layers]
        return list(self._stored().facts.diff_ids)

    @property
    def packages(self) -> list[Package]:
        """Every package of the platform's SBOM."""
        if self.analysis is not None:
            return self.analysis.sbom.packages
        return self._stored().sbom.packages

    @property
    def compressed_size(self) -> int:
        """Bytes a pull transfers (the layer blobs)."""
        if self.analysis is not None:
            return self.analysis.image.compressed_size
        return self._stored().facts.compressed_size

    @property
    def uncompressed_size(self) -> int:
        """Bytes of all layers uncompressed."""
        if self.analysis is not None:
            return self.analysis.uncompressed_size
        return self._stored().facts.uncompressed_size

    def hygiene(self) -> HygieneReport:
        """Root user, secrets, build tooling, caches and wasted bytes of this platform (assessed once, lazily)."""
        if self._hygiene is None:
            if self.analysis is None:
                self._hygiene = self._stored().facts.hygiene
            else:
                from provenant.hygiene import assess

                self._hygiene = assess(self.analysis)
        return self._hygiene

    def provenance(self) -> list[tuple[Attachment, ProvenanceSummary]]:
        """Every SLSA provenance statement about this platform that could be read."""
        return [(a, a.provenance) for a in self.attachments if a.provenance is not None]

    def provenance_attachments(self) -> list[Attachment]:
        """Every attachment of the SLSA provenance family, readable or not."""
        return [a for a in self.attachments if a.predicate_family == "slsa-provenance"]


@dataclass(frozen=True)
class TrustedBase:
    """A trusted base image of the policy, resolved for one platform."""

    reference: str
    manifest_digest: str | None
    diff_ids: tuple[str, ...]
    error: str | None = None


#: Resolves a trusted base (reference, platform) for an :class:`Evidence`: live from its registry
#: session, or from the inventory for stored evidence.
BaseResolver = Callable[["Evidence", str, str], TrustedBase]


@dataclass
class Evidence:
    """Everything known about one image: per platform, attachments, trust, and (live) the analysis."""

    target: str
    reference: Reference | None
    source: str
    digest: str
    is_index: bool
    #: Every runnable platform of the index (attestation manifests excluded), whatever ``--platform`` selected.
    index_platforms: list[str]
    platforms: list[PlatformEvidence]
    image_attachments: list[Attachment]
    attestations: AttestationsResult
    dockerfile: Dockerfile | None
    session: Session | None
    analysis: Analysis | None
    notes: list[str] = field(default_factory=list)
    resolver: BaseResolver | None = None
    _trusted: dict[tuple[str, str], TrustedBase] = field(default_factory=dict)

    @property
    def live(self) -> Analysis:
        """The layer analysis (only evidence gathered in this run has one)."""
        if self.analysis is None:
            raise ProvenantError(f"{self.target}: stored evidence has no layer analysis; analyse the image instead")
        return self.analysis

    def attachments(self, image: ImageAnalysis) -> list[Attachment]:
        """What is attached to one platform manifest of the analysis (empty when nothing is)."""
        digest = str(image.image.manifest_digest)
        for subject in self.attestations.subjects:
            if subject.digest == digest:
                return subject.attachments
        return []

    def top_attachments(self) -> list[Attachment]:
        """What is attached to the index itself (a single manifest is its own platform subject)."""
        return self.image_attachments

    def trusted_base(self, ref: str, platform: str) -> TrustedBase:
        """The layers of trusted base ``ref`` for ``platform`` (resolved once)."""
        key = (ref, platform)
        if key not in self._trusted:
            if self.resolver is None:
                self._trusted[key] = TrustedBase(ref, None, (), "no way to resolve trusted base images here")
            else:
                self._trusted[key] = self.resolver(self, ref, platform)
        return self._trusted[key]
