"""``provenant attestations``: everything attached to an image, per subject, with trust labels."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from provenant.attest.discover import Discovery, RepositoryHints, Subject, discover
from provenant.attest.evaluate import Attachment, Trust, evaluate
from provenant.attest.keyless import KeylessPolicy
from provenant.attest.keys import PublicKey
from provenant.image import FetchedManifest, ImageReader
from provenant.oci.platform import PlatformSpec
from provenant.session import Session
from provenant.sources.registry import RegistrySource

if TYPE_CHECKING:
    from provenant.sbom.generate import Analysis


class SubjectResult(BaseModel):
    """One subject (the index, the single manifest, or a platform manifest) and what is attached to it."""

    kind: str = Field(description="index, manifest or platform")
    digest: str
    media_type: str
    platform: str | None = None
    attachments: list[Attachment]


class AttestationsResult(BaseModel):
    """The result of ``provenant attestations``."""

    reference: str
    source: str
    digest: str
    media_type: str
    keys: list[str] = Field(description="fingerprints of the public keys signatures were checked against")
    keyless: str | None = Field(default=None, description="the trusted keyless signers, when a trusted root was given")
    referrers: str = Field(description="api, tag-fallback, mixed, or not-applicable (not a registry)")
    subjects: list[SubjectResult]
    notes: list[str] = Field(default_factory=list)

    def subject(self, digest: str) -> SubjectResult:
        """The subject with ``digest``."""
        return next(s for s in self.subjects if s.digest == digest)


def _subject_result(s: Subject, attachments: list[Attachment]) -> SubjectResult:
    return SubjectResult(
        kind=s.kind, digest=s.digest, media_type=s.media_type, platform=s.platform, attachments=attachments
    )


def build_result(reference: str, source: str, found: Discovery, trust: Trust) -> AttestationsResult:
    """Evaluate every discovered item and group by subject."""
    evaluated = [(f.subject, evaluate(f, trust)) for f in found.found]
    subjects = [_subject_result(s, [a for subj, a in evaluated if subj == s.digest]) for s in found.subjects]
    return AttestationsResult(
        reference=reference,
        source=source,
        digest=str(found.top.digest),
        media_type=found.top.media_type,
        keys=[k.fingerprint for k in trust.keys],
        keyless=trust.keyless.match.describe() if trust.keyless is not None else None,
        referrers=found.referrers,
        subjects=subjects,
        notes=list(found.notes),
    )


def _discover(
    session: Session,
    reader: ImageReader,
    platforms: list[PlatformSpec] | None,
    *,
    top: FetchedManifest | None = None,
    artifact_type: str | None = None,
    workers: int = 8,
    hints: RepositoryHints | None = None,
) -> Discovery:
    """:func:`discover` on ``reader``; the registry routes (cosign tags, referrers) only for a registry source,
    local sources have in-index attestations only."""
    source = reader.source
    ref = source.ref if isinstance(source, RegistrySource) else None
    client = session.client if ref is not None else None
    return discover(reader, client, ref, platforms, top=top, artifact_type=artifact_type, workers=workers, hints=hints)


def attestations_for(
    session: Session,
    analysis: Analysis,
    platforms: list[PlatformSpec] | None = None,
    *,
    keys: Sequence[PublicKey] = (),
    keyless: KeylessPolicy | None = None,
    workers: int = 8,
    hints: RepositoryHints | None = None,
) -> AttestationsResult:
    """What is attached to an image :func:`~provenant.sbom.generate.analyze` already read, discovered with
    the same reader and index, so no manifest or blob is read twice (``hints``: what the caller knows of the
    repository, e.g. its tag list)."""
    found = _discover(session, analysis.reader, platforms, top=analysis.top, workers=workers, hints=hints)
    return build_result(analysis.target, analysis.source, found, Trust(tuple(keys), keyless))


def run_discovery(
    session: Session, target: str, platforms: list[PlatformSpec] | None, artifact_type: str | None = None
) -> tuple[Discovery, str]:
    """Open ``target`` and discover what is attached; returns the discovery and the source description."""
    opened = session.open(target)
    found = _discover(session, session.reader(opened), platforms, artifact_type=artifact_type)
    return found, opened.source.describe()


def list_attestations(
    session: Session,
    target: str,
    *,
    keys: Sequence[PublicKey] = (),
    platforms: list[PlatformSpec] | None = None,
    keyless: KeylessPolicy | None = None,
    artifact_type: str | None = None,
) -> AttestationsResult:
    """Library entry point of ``provenant attestations``."""
    found, source = run_discovery(session, target, platforms, artifact_type)
    return build_result(target, source, found, Trust(tuple(keys), keyless))
