"""The one gatherer: one analysis pass over an image, one attestation discovery on the same reader.

``compare``, ``diff``, ``report``, ``policy`` and ``fleet scan`` all call :func:`gather`; manifests are read
once, layers come from the layer cache (scanned once), signatures are checked against the given keys
(without keys a signature is labelled ``signed-unverified`` / ``keyless-unverified``). Trusted base images
a policy names are resolved only when a check asks, on the same session.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from provenant.cache import LayerCache
from provenant.errors import ProvenantError
from provenant.evidence.model import Evidence, PlatformEvidence, TrustedBase
from provenant.oci.platform import PlatformSpec, select_platforms

if TYPE_CHECKING:
    from provenant.attest.discover import RepositoryHints
    from provenant.attest.keyless import KeylessPolicy
    from provenant.attest.keys import PublicKey
    from provenant.image import FetchedManifest, ImageReader
    from provenant.layers.scan import LayerScan
    from provenant.policy.dockerfile import Dockerfile
    from provenant.sbom.generate import Analysis
    from provenant.session import Session


class RunCache(LayerCache):
    """The given layer cache plus this run's scans in memory.

    ``diff`` and ``report`` read several images in one run; with ``--no-cache`` (or a cold cache that
    cannot be written) a layer both images share would otherwise be fetched and scanned twice.
    """

    def __init__(self, inner: LayerCache) -> None:
        super().__init__(inner.root, enabled=inner.enabled)
        self.inner = inner
        self._memory: dict[tuple[str, str], LayerScan] = {}

    def get(self, scanner: str, digest: str) -> LayerScan | None:
        hit = self._memory.get((scanner, digest))
        return hit if hit is not None else self.inner.get(scanner, digest)

    def put(self, scanner: str, scan: LayerScan) -> None:
        self._memory[(scanner, scan.digest)] = scan
        self.inner.put(scanner, scan)


class LiveBases:
    """Resolves trusted base images from the registry, each reference's top manifest once for all platforms."""

    def __init__(self) -> None:
        self._tops: dict[str, tuple[ImageReader, FetchedManifest] | ProvenantError] = {}

    def __call__(self, ev: Evidence, ref: str, platform: str) -> TrustedBase:
        try:
            reader, top = self._top(ev, ref)
            if top.is_index:
                chosen = select_platforms(top.as_index(), [PlatformSpec.parse(platform)])
                digest = chosen[0].digest
            else:
                digest = str(top.digest)
            # The image being checked may be the trusted base itself: reuse what was read.
            for p in ev.platforms:
                if p.digest == digest:
                    return TrustedBase(ref, digest, tuple(p.diff_ids))
            image = reader.load_platform(chosen[0]) if top.is_index else reader.load_platform(None, top)
            return TrustedBase(ref, digest, tuple(image.config.rootfs.diff_ids))
        except ProvenantError as exc:
            return TrustedBase(ref, None, (), exc.diagnostics())

    def _top(self, ev: Evidence, ref: str) -> tuple[ImageReader, FetchedManifest]:
        """The reader and top manifest of ``ref``; the image being checked is reused when ``ref`` names it."""
        from provenant.reference import parse_reference

        if ref not in self._tops:
            try:
                if ev.reference is not None and parse_reference(ref) == ev.reference:
                    self._tops[ref] = (ev.live.reader, ev.live.top)
                else:
                    assert ev.session is not None  # live evidence always has its session
                    reader = ev.session.reader(ev.session.open(ref))
                    self._tops[ref] = (reader, reader.resolve())
            except ProvenantError as exc:
                self._tops[ref] = exc  # an unreachable base is tried once, not once per platform
        found = self._tops[ref]
        if isinstance(found, ProvenantError):
            raise found
        return found


def gather(
    session: Session,
    target: str,
    platforms: list[PlatformSpec] | None = None,
    *,
    cache: LayerCache | None = None,
    keys: Sequence[PublicKey] = (),
    keyless: KeylessPolicy | None = None,
    dockerfile: Dockerfile | None = None,
    workers: int = 4,
) -> Evidence:
    """One pass over ``target``: images, scans and SBOMs, then everything attached to it."""
    from provenant.sbom.generate import analyze

    analysis = analyze(session, target, platforms, cache=cache, workers=workers)
    return evidence_of(session, analysis, platforms, keys=keys, keyless=keyless, dockerfile=dockerfile, workers=workers)


def evidence_of(
    session: Session,
    analysis: Analysis,
    platforms: list[PlatformSpec] | None = None,
    *,
    keys: Sequence[PublicKey] = (),
    keyless: KeylessPolicy | None = None,
    dockerfile: Dockerfile | None = None,
    workers: int = 4,
    hints: RepositoryHints | None = None,
) -> Evidence:
    """:func:`gather` of an image already analysed (``fleet scan`` resolves and scans first): its attachments
    discovered on the same reader; ``hints`` is what the caller knows of the repository (its tag list)."""
    from provenant.attest.result import attestations_for
    from provenant.sources.registry import RegistrySource

    target = analysis.target
    source = analysis.reader.source
    ref = source.ref if isinstance(source, RegistrySource) else None
    attestations = attestations_for(
        session, analysis, platforms, keys=keys, keyless=keyless, workers=workers, hints=hints
    )
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
        resolver=LiveBases(),
    )
