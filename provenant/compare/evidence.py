"""One pass over an image: layers, scans and packages per platform, plus what is attached to it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from provenant.attest.evaluate import Attachment
from provenant.attest.keyless import KeylessPolicy
from provenant.attest.keys import PublicKey
from provenant.attest.result import AttestationsResult, attestations_for
from provenant.cache import LayerCache
from provenant.layers.scan import LayerScan
from provenant.oci.platform import PlatformSpec
from provenant.sbom.generate import Analysis, ImageAnalysis, analyze
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


@dataclass
class ImageEvidence:
    """An analysed image and the attachments of its subjects (index and platform manifests)."""

    analysis: Analysis
    attestations: AttestationsResult

    def attachments(self, image: ImageAnalysis) -> list[Attachment]:
        """What is attached to one platform manifest (empty when nothing is)."""
        digest = str(image.image.manifest_digest)
        for subject in self.attestations.subjects:
            if subject.digest == digest:
                return subject.attachments
        return []

    def top_attachments(self) -> list[Attachment]:
        """What is attached to the index (or the single manifest) itself."""
        top = str(self.analysis.top.digest)
        if not self.analysis.top.is_index:
            return []  # a single manifest is its own platform subject: see attachments()
        return next((s.attachments for s in self.attestations.subjects if s.digest == top), [])


def gather(
    session: Session,
    target: str,
    platforms: list[PlatformSpec] | None = None,
    *,
    cache: LayerCache | None = None,
    keys: Sequence[PublicKey] = (),
    keyless: KeylessPolicy | None = None,
    workers: int = 4,
) -> ImageEvidence:
    """Analyse ``target`` and discover its attachments with the same reader (manifests are read once).

    Signatures are checked against ``keys``, certificate signatures against ``keyless``; without them a
    signature is labelled ``signed-unverified`` / ``keyless-unverified``.
    """
    analysis = analyze(session, target, platforms, cache=cache, workers=workers)
    return ImageEvidence(analysis, attestations_for(session, analysis, platforms, keys=keys, keyless=keyless))
