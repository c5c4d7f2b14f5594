"""Everything the checks look at, gathered ONCE per run.

One :func:`~provenant.sbom.generate.analyze` pass (layer scans from the shared layer cache, per-platform
images and SBOMs), one attestation discovery on the same reader and index (trust labels against the
given keys, provenance summaries), the reference as the user gave it, and the optional Dockerfile.
Trusted base images named by the policy are resolved only when a check needs their layers. Checks never
fetch anything themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from provenant.attest.evaluate import Attachment
from provenant.attest.keyless import KeylessPolicy
from provenant.attest.keys import PublicKey
from provenant.attest.provenance import ProvenanceSummary
from provenant.attest.result import AttestationsResult
from provenant.cache import LayerCache
from provenant.errors import ProvenantError
from provenant.hygiene import HygieneReport
from provenant.image import FetchedManifest, ImageReader
from provenant.oci.platform import PlatformSpec, select_platforms
from provenant.policy.dockerfile import Dockerfile
from provenant.reference import Reference, parse_reference
from provenant.sbom.generate import Analysis, ImageAnalysis
from provenant.session import Session
from provenant.sources.registry import RegistrySource

BASE_NAME_ANNOTATION = "org.opencontainers.image.base.name"
BASE_DIGEST_ANNOTATION = "org.opencontainers.image.base.digest"


@dataclass
class PlatformEvidence:
    """One platform image and what is attached to it."""

    platform: str
    digest: str
    analysis: ImageAnalysis
    annotations: dict[str, str]
    attachments: list[Attachment]
    _hygiene: HygieneReport | None = None

    @property
    def diff_ids(self) -> list[str]:
        """The image's uncompressed layer digests, bottom first."""
        return [layer.diff_id for layer in self.analysis.layers]

    def hygiene(self) -> HygieneReport:
        """Root user, secrets, build tooling, caches and wasted bytes of this platform (assessed once, lazily)."""
        if self._hygiene is None:
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


@dataclass
class Evidence:
    """All evidence of one run."""

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
    session: Session
    analysis: Analysis
    notes: list[str] = field(default_factory=list)
    _trusted: dict[tuple[str, str], TrustedBase] = field(default_factory=dict)
    _tops: dict[str, tuple[ImageReader, FetchedManifest] | ProvenantError] = field(default_factory=dict)

    def trusted_base(self, ref: str, platform: str) -> TrustedBase:
        """The layers of trusted base ``ref`` for ``platform`` (resolved once, from the same session)."""
        key = (ref, platform)
        if key not in self._trusted:
            self._trusted[key] = self._resolve_trusted(ref, platform)
        return self._trusted[key]

    def _top(self, ref: str) -> tuple[ImageReader, FetchedManifest]:
        """The reader and top manifest of trusted base ``ref``, resolved once for all platforms.

        The image being checked is reused when ``ref`` names it, so its index is not fetched again.
        """
        if ref not in self._tops:
            try:
                if self.reference is not None and parse_reference(ref) == self.reference:
                    self._tops[ref] = (self.analysis.reader, self.analysis.top)
                else:
                    reader = self.session.reader(self.session.open(ref))
                    self._tops[ref] = (reader, reader.resolve())
            except ProvenantError as exc:
                self._tops[ref] = exc  # an unreachable base is tried once, not once per platform
        found = self._tops[ref]
        if isinstance(found, ProvenantError):
            raise found
        return found

    def _resolve_trusted(self, ref: str, platform: str) -> TrustedBase:
        try:
            reader, top = self._top(ref)
            if top.is_index:
                chosen = select_platforms(top.as_index(), [PlatformSpec.parse(platform)])
                digest = chosen[0].digest
            else:
                digest = str(top.digest)
            # The image being checked may be the trusted base itself: reuse what was read.
            for p in self.platforms:
                if p.digest == digest:
                    return TrustedBase(ref, digest, tuple(p.diff_ids))
            image = reader.load_platform(chosen[0]) if top.is_index else reader.load_platform(None, top)
            return TrustedBase(ref, digest, tuple(image.config.rootfs.diff_ids))
        except ProvenantError as exc:
            return TrustedBase(ref, None, (), exc.diagnostics())


def gather(
    session: Session,
    target: str,
    *,
    platforms: list[PlatformSpec] | None = None,
    cache: LayerCache | None = None,
    keys: Sequence[PublicKey] = (),
    keyless: KeylessPolicy | None = None,
    dockerfile: Dockerfile | None = None,
    workers: int = 4,
) -> Evidence:
    """One pass over ``target``: images, scans and SBOMs, then everything attached to it."""
    from provenant.attest.result import attestations_for
    from provenant.sbom.generate import analyze

    analysis = analyze(session, target, platforms, cache=cache, workers=workers)
    source = analysis.reader.source
    ref = source.ref if isinstance(source, RegistrySource) else None
    attestations = attestations_for(session, analysis, platforms, keys=keys, keyless=keyless, workers=workers)
    by_subject = {s.digest: s.attachments for s in attestations.subjects}
    top = analysis.top
    if top.is_index:
        index_platforms = [str(PlatformSpec.of(d.platform)) for d in select_platforms(top.as_index()) if d.platform]
    else:
        index_platforms = [str(analysis.images[0].image.platform)]
    per_platform = []
    for img in analysis.images:
        digest = str(img.image.manifest_digest)
        annotations = dict(img.image.descriptor.annotations or {}) if img.image.descriptor else {}
        annotations.update(img.image.manifest.annotations or {})
        per_platform.append(
            PlatformEvidence(str(img.image.platform), digest, img, annotations, list(by_subject.get(digest, [])))
        )
    image_attachments = list(by_subject.get(str(top.digest), [])) if top.is_index else []
    return Evidence(
        target=target,
        reference=ref,
        source=analysis.source,
        digest=str(top.digest),
        is_index=top.is_index,
        index_platforms=index_platforms,
        platforms=per_platform,
        image_attachments=image_attachments,
        attestations=attestations,
        dockerfile=dockerfile,
        session=session,
        analysis=analysis,
        notes=list(attestations.notes),
    )
