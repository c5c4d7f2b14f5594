"""``provenant compare``: the platforms of one index side by side.

Sizes, as everywhere in provenant:

* ``compressed_size`` = config blob + every layer blob, as the manifest's descriptors state them (what a
  pull of that platform transfers besides the manifest itself, the same number ``inspect`` shows);
  the manifest document's own size is reported apart as ``manifest_size``.
* ``uncompressed_size`` = the sum of the layers' uncompressed tar streams as scanned.

Layers are matched across platforms by ``diff_id`` (the uncompressed digest), so the same content
compressed differently still counts as shared.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Sequence

from pydantic import BaseModel, Field

from provenant.attest import constants as c
from provenant.attest.evaluate import KEYLESS_UNVERIFIED, SIGNATURE_INVALID, SIGNED_UNVERIFIED, Attachment
from provenant.attest.keyless import KeylessPolicy
from provenant.attest.keys import PublicKey
from provenant.cache import LayerCache
from provenant.compare.base_image import BaseImage, find_base_image
from provenant.evidence import Evidence, gather
from provenant.oci.platform import PlatformSpec
from provenant.sbom.generate import ImageAnalysis
from provenant.session import Session

#: Trust labels of items that carry a signature, whether or not it could be checked (besides ``signed:…``).
SIGNED_STATES = frozenset({SIGNED_UNVERIFIED, KEYLESS_UNVERIFIED, SIGNATURE_INVALID})


#: Other platforms named per layer: an index of thousands of platforms sharing one base layer would
#: otherwise list every platform on every platform's row (quadratic: 4 GB and 1.6 GB of HTML at 10k).
MAX_SHARED_LISTED = 16


class LayerRow(BaseModel):
    """One layer of a platform image."""

    index: int
    digest: str = Field(description="compressed digest (manifest descriptor)")
    diff_id: str = Field(description="uncompressed digest (config rootfs.diff_ids)")
    size: int = Field(description="compressed size from the manifest descriptor")
    uncompressed_size: int
    file_count: int
    created_by: str | None = Field(description="the history line that made the layer (secrets masked)")
    shared_with: list[str] = Field(
        description=f"other platforms whose images have a layer with this diff_id (sorted, at most {MAX_SHARED_LISTED})"
    )
    shared_count: int = Field(0, description="how many other platforms have a layer with this diff_id")


class AttestationCoverage(BaseModel):
    """What evidence is attached to one subject."""

    provenance: bool = Field(description="a SLSA provenance statement is attached")
    sbom: bool = Field(description="an SBOM (SPDX or CycloneDX statement, or an attached SBOM document) is attached")
    signed: bool = Field(description="at least one attachment carries a signature (checked or not)")
    verified: bool = Field(description="at least one signature verified against a trusted key/identity")
    predicate_types: list[str]
    trust: list[str] = Field(description="the distinct trust labels of the attachments")

    @property
    def summary(self) -> str:
        """``provenance+sbom (unsigned)`` style text for tables."""
        kinds = [k for k, present in (("provenance", self.provenance), ("sbom", self.sbom)) if present]
        if not kinds and not self.signed:
            return "none"
        return f"{'+'.join(kinds) or 'signature'} ({self.state})"

    @property
    def state(self) -> str:
        """``verified``, ``signature invalid``, ``signed`` (not checked: no key) or ``unsigned``.

        A signature that fails with the given keys must not read as "signed" next to a good image.
        """
        if self.verified:
            return "verified"
        if SIGNATURE_INVALID in self.trust:
            return "signature invalid"
        return "signed" if self.signed else "unsigned"


class PlatformSummary(BaseModel):
    """One platform of the index."""

    platform: str
    manifest_digest: str
    manifest_size: int | None = Field(description="size of the manifest document (from the index entry)")
    config_size: int
    compressed_size: int = Field(description="config + layers, as the manifest's descriptors state them")
    uncompressed_size: int = Field(description="sum of the layers' uncompressed sizes")
    layer_count: int
    shared_layers: int = Field(description="layers whose diff_id another platform also has")
    unique_layers: int = Field(description="layers no other platform has")
    package_count: int
    packages_by_type: dict[str, int]
    distro: str | None
    base_image: BaseImage | None
    attestations: AttestationCoverage
    layers: list[LayerRow]


class PackagePresence(BaseModel):
    """A package that some platforms have and others do not."""

    type: str
    name: str
    present_on: list[str]
    missing_on: list[str]
    versions: dict[str, str] = Field(description="platform -> version, where present")


class VersionSkew(BaseModel):
    """A package present on several platforms at different versions."""

    type: str
    name: str
    versions: dict[str, str] = Field(description="platform -> version (several versions joined with ', ')")


class CompareResult(BaseModel):
    """The result of ``provenant compare``."""

    reference: str
    source: str
    digest: str
    media_type: str
    is_index: bool
    platforms: list[PlatformSummary]
    common_layers: int = Field(description="distinct diff_ids present on every platform")
    partial_packages: list[PackagePresence] = Field(description="packages missing on some platforms")
    version_skew: list[VersionSkew]
    required: list[str]
    missing_required: list[str]
    ok: bool = Field(description="every required platform is present (exit code 1 when not)")
    index_attestations: AttestationCoverage | None = Field(description="what is attached to the index itself")
    notes: list[str] = Field(default_factory=list)


def coverage(attachments: Sequence[Attachment]) -> AttestationCoverage:
    """Summarise a subject's attachments."""
    families = {c.predicate_family(a.predicate_type) for a in attachments}
    return AttestationCoverage(
        provenance="slsa-provenance" in families,
        sbom=bool(families & {"spdx", "cyclonedx"}) or any(a.kind == "sbom" for a in attachments),
        signed=any(a.trust.startswith("signed:") or a.trust in SIGNED_STATES for a in attachments),
        verified=any(a.verified for a in attachments),
        predicate_types=sorted({a.predicate_type for a in attachments if a.predicate_type}),
        trust=sorted({a.trust for a in attachments}),
    )


def package_versions(image: ImageAnalysis) -> dict[tuple[str, str], str]:
    """(type, name) -> version; a name installed at several versions keeps them all, sorted."""
    found: dict[tuple[str, str], set[str]] = {}
    for pkg in image.sbom.packages:
        found.setdefault((pkg.type, pkg.name), set()).add(pkg.version)
    return {key: ", ".join(sorted(v)) for key, v in found.items()}


def _others(platforms: list[str], me: str) -> tuple[list[str], int]:
    """The first :data:`MAX_SHARED_LISTED` of ``platforms`` (sorted, distinct) other than ``me``, and how many."""
    i = bisect.bisect_left(platforms, me)
    mine = i < len(platforms) and platforms[i] == me
    listed = [p for p in platforms[: MAX_SHARED_LISTED + 1] if p != me][:MAX_SHARED_LISTED]
    return listed, len(platforms) - mine


def _summary(ev: Evidence, image: ImageAnalysis, shared: dict[str, list[str]]) -> PlatformSummary:
    platform = image.sbom.platform
    img = image.image
    rows = []
    for info in image.sbom.layers:
        others, count = _others(shared.get(info.diff_id, []), platform)
        rows.append(
            LayerRow(
                index=info.index,
                digest=info.digest,
                diff_id=info.diff_id,
                size=info.size,
                uncompressed_size=info.uncompressed_size,
                file_count=info.file_count,
                created_by=info.created_by,
                shared_with=others,
                shared_count=count,
            )
        )
    attachments = ev.attachments(image)
    distro = image.sbom.distro
    return PlatformSummary(
        platform=platform,
        manifest_digest=str(img.manifest_digest),
        manifest_size=img.descriptor.size if img.descriptor is not None else len(ev.live.top.data),
        config_size=img.manifest.config.size,
        compressed_size=img.compressed_size,
        uncompressed_size=image.uncompressed_size,
        layer_count=len(rows),
        shared_layers=sum(1 for r in rows if r.shared_count),
        unique_layers=sum(1 for r in rows if not r.shared_count),
        package_count=len(image.sbom.packages),
        packages_by_type=dict(sorted(Counter(p.type for p in image.sbom.packages).items())),
        distro=distro.pretty_name if distro is not None else None,
        base_image=find_base_image(img, attachments),
        attestations=coverage(attachments),
        layers=rows,
    )


def _package_differences(images: Sequence[ImageAnalysis]) -> tuple[list[PackagePresence], list[VersionSkew]]:
    per_platform = {im.sbom.platform: package_versions(im) for im in images}
    names = sorted({key for versions in per_platform.values() for key in versions})
    partial: list[PackagePresence] = []
    skew: list[VersionSkew] = []
    for key in names:
        versions = {p: v[key] for p, v in per_platform.items() if key in v}
        missing = [p for p in per_platform if key not in per_platform[p]]
        if missing:
            partial.append(
                PackagePresence(
                    type=key[0], name=key[1], present_on=list(versions), missing_on=missing, versions=versions
                )
            )
        if len(set(versions.values())) > 1:
            skew.append(VersionSkew(type=key[0], name=key[1], versions=versions))
    return partial, skew


def summarize(ev: Evidence, required: Sequence[PlatformSpec] = ()) -> CompareResult:
    """The comparison of every analysed platform of ``ev``."""
    analysis = ev.live
    images = analysis.images
    # diff_id -> the platforms having it, sorted once: each layer row then costs O(MAX_SHARED_LISTED).
    having: dict[str, set[str]] = {}
    for im in images:
        for layer in im.layers:
            having.setdefault(layer.diff_id, set()).add(im.sbom.platform)
    shared = {diff_id: sorted(plats) for diff_id, plats in having.items()}
    present = {im.image.platform for im in images}
    missing = [str(r) for r in required if r not in present]
    partial, skew = _package_differences(images)
    notes = []
    if len(images) == 1:
        notes.append("a single platform: nothing to compare it with")
    top_attachments = ev.top_attachments()
    return CompareResult(
        reference=analysis.target,
        source=analysis.source,
        digest=str(analysis.top.digest),
        media_type=analysis.top.media_type,
        is_index=analysis.top.is_index,
        platforms=[_summary(ev, im, shared) for im in images],
        common_layers=sum(1 for plats in shared.values() if len(plats) == len(images)),
        partial_packages=partial,
        version_skew=skew,
        required=[str(r) for r in required],
        missing_required=missing,
        ok=not missing,
        index_attestations=coverage(top_attachments) if analysis.top.is_index else None,
        notes=notes,
    )


def compare_platforms(
    session: Session,
    target: str,
    *,
    require: Sequence[PlatformSpec] = (),
    cache: LayerCache | None = None,
    keys: Sequence[PublicKey] = (),
    keyless: KeylessPolicy | None = None,
    workers: int = 4,
) -> CompareResult:
    """Library entry point of ``provenant compare``: every platform of ``target`` (attestation manifests excluded).

    Signatures are checked against ``keys`` and keyless ones against ``keyless`` (``verified`` needs one).
    """
    return summarize(gather(session, target, cache=cache, keys=keys, keyless=keyless, workers=workers), require)
