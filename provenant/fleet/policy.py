"""``fleet policy``: a policy over the whole inventory, from the evidence ``fleet scan`` stored.

No rescan and no network: each tagged image's stored :class:`~provenant.evidence.stored.ImageFacts` and
platform SBOMs become an :class:`~provenant.evidence.Evidence` and go through the policy engine, the same
evaluation ``provenant policy check`` and ``fleet scan --policy`` run. Trusted base images the policy
names are looked up in the inventory. An image is *not evaluated* (never passed) when it has no stored
evidence (scanned before schema 0003, or failed) or when its attachments were verified against other
keys than the policy's: a rescan gives it what is missing.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field
from sqlalchemy import select

from provenant.evidence.model import BaseResolver, Evidence, TrustedBase
from provenant.evidence.stored import FORMAT, ImageFacts, from_facts
from provenant.fleet import models as m
from provenant.fleet.ingest import VerdictRow
from provenant.globs import glob_match
from provenant.jsontext import model_from_json
from provenant.policy.model import PolicyReport, exit_code_of, verdict_of

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from provenant.attest.keyless import KeylessPolicy
    from provenant.attest.keys import PublicKey
    from provenant.policy.schema import ImagePolicy
    from provenant.sbom.result import ImageSbom

RowVerdict = Literal["pass", "warn", "deny", "not-evaluated"]


class PolicyRow(BaseModel):
    """One tagged image's verdict for one subject (the image as a whole, or one platform)."""

    repository: str
    tag: str
    image_digest: str
    subject: str = Field(description="'image' (checks about the whole image) or the platform")
    digest: str | None = Field(description="the manifest the subject is")
    verdict: RowVerdict
    failing: list[str] = Field(description="the checks that denied or warned, as CHECK=EFFECT")
    reason: str | None = Field(default=None, description="why the image was not evaluated")


class FleetPolicyResult(BaseModel):
    """``fleet policy``: a row per tagged image and subject, the per-image reports, the overall verdict."""

    policy: str
    policy_name: str
    policy_digest: str
    evaluated_on: dt.date
    rows: list[PolicyRow]
    reports: list[PolicyReport] = Field(description="the full policy report of every evaluated image")
    images: int
    not_evaluated: int
    not_applicable: int = Field(description="tagged images the policy's images: globs do not match")
    verdict: Literal["pass", "warn", "deny"]
    exit_code: int

    def line(self) -> str:
        """The one summary line."""
        counts = {v: sum(1 for r in self.reports if r.verdict == v) for v in ("pass", "warn", "deny")}
        return (
            f"fleet policy {self.policy_name or self.policy}: {self.images} tagged images, {counts['deny']} denied, "
            f"{counts['warn']} warned, {counts['pass']} passed, {self.not_evaluated} not evaluated, "
            f"{self.not_applicable} not matching the policy's images"
        )


def policy_digest(path: Path) -> str:
    """What identifies a policy in stored verdicts: the digest of the file's bytes."""
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def target_of(repository: str, tag: str) -> tuple[str, bool]:
    """The reference ``provenant policy`` would be given for ``repository:tag``, and whether it is a registry's."""
    if Path(repository).is_absolute():  # fleet scan stores an OCI layout by its absolute path
        return f"oci:{repository}:{tag}", False
    return f"{repository}:{tag}", True


def evaluate_stored(
    facts: ImageFacts,
    sboms: Sequence[ImageSbom],
    target: str,
    policy: ImagePolicy,
    policy_path: Path,
    *,
    registry: bool,
    resolver: BaseResolver | None = None,
    today: dt.date | None = None,
) -> PolicyReport:
    """The policy engine over stored evidence, for the image as ``target`` names it (a registry reference
    when ``registry``, else a local layout that has no name to match)."""
    from provenant.policy.engine import evaluate
    from provenant.reference import parse_reference

    ev = from_facts(
        facts,
        {s.manifest_digest: s for s in sboms},
        target=target,
        reference=parse_reference(target) if registry else None,
        resolver=resolver,
    )
    return evaluate(ev, policy, today=today or dt.datetime.now(dt.UTC).date(), policy_path=str(policy_path))


def verdict_rows(report: PolicyReport, policy_path: Path) -> list[VerdictRow]:
    """The findings of ``report`` as the inventory stores them."""
    digest = policy_digest(policy_path)
    return [
        VerdictRow(
            policy_digest=digest,
            check_id=f.check,
            platform=None if f.subject == "image" else f.subject,
            result=f.status,
            evidence=json.dumps(f.evidence, sort_keys=True, default=str),
        )
        for result in report.results
        for f in result.findings
    ]


class InventoryBases:
    """Resolves a policy's trusted base images from the inventory (tag or digest), never the network."""

    def __init__(self, db: Session) -> None:
        self.db = db

    def __call__(self, ev: Evidence, ref: str, platform: str) -> TrustedBase:
        from provenant.errors import ProvenantError
        from provenant.fleet.export import _split
        from provenant.oci.platform import PlatformSpec

        try:
            repository, tag, digest, _ = _split(ref)
            want = str(PlatformSpec.parse(platform))
        except ProvenantError as exc:
            return TrustedBase(ref, None, (), exc.diagnostics())
        image = _image(self.db, repository, tag, digest)
        if image is None:
            return TrustedBase(ref, None, (), f"{ref} is not in the inventory: add it to a fleet scan")
        manifests = list(
            self.db.execute(
                select(m.Manifest.id, m.Manifest.digest, m.Manifest.platform)
                .join(m.ImageManifest, m.ImageManifest.manifest_id == m.Manifest.id)
                .where(m.ImageManifest.image_id == image.id)
                .order_by(m.ImageManifest.position)
            )
        )
        single = len(manifests) == 1 and not image.media_type.endswith(("index.v1+json", "list.v2+json"))
        chosen = next((r for r in manifests if single or r.platform == want), None)
        if chosen is None:
            return TrustedBase(ref, None, (), f"{ref} has no {want} manifest in the inventory")
        diff_ids = self.db.scalars(
            select(m.Layer.diff_id)
            .join(m.ManifestLayer, m.ManifestLayer.layer_id == m.Layer.id)
            .where(m.ManifestLayer.manifest_id == chosen.id)
            .order_by(m.ManifestLayer.position)
        )
        return TrustedBase(ref, chosen.digest, tuple(diff_ids))


def _image(db: Session, repository: str, tag: str | None, digest: str | None) -> m.Image | None:
    if digest is not None:
        return db.scalar(select(m.Image).where(m.Image.digest == digest, m.Image.status == "ok"))
    return db.scalar(
        select(m.Image)
        .join(m.Tag, m.Tag.image_id == m.Image.id)
        .join(m.Repository, m.Repository.id == m.Tag.repository_id)
        .where(m.Repository.name == repository, m.Tag.name == tag, m.Image.status == "ok")
    )


def _sboms(db: Session, image_id: int) -> list[ImageSbom]:
    from provenant.sbom.result import ImageSbom

    rows = db.scalars(
        select(m.Manifest.sbom)
        .join(m.ImageManifest, m.ImageManifest.manifest_id == m.Manifest.id)
        .where(m.ImageManifest.image_id == image_id)
    )
    return [model_from_json(ImageSbom, gzip.decompress(b), "stored SBOM") for b in rows]


def _trust_mismatch(facts: ImageFacts, keys: Sequence[PublicKey], keyless: KeylessPolicy | None) -> str | None:
    """Why the stored trust labels do not answer this policy's question (None: they do)."""
    want = sorted({k.fingerprint for k in keys})
    have = sorted(set(facts.attestations.keys))
    want_keyless = keyless.match.describe() if keyless is not None else None
    if want == have and want_keyless == facts.attestations.keyless:
        return None
    return (
        "its signatures were verified against other keys or signers than this policy's: rescan with "
        "provenant fleet scan --rescan --policy FILE (and the same --key)"
    )


def evaluate_inventory(
    db: Session,
    policy: ImagePolicy,
    policy_path: Path,
    *,
    repositories: Sequence[str] = (),
    tags: Sequence[str] = (),
    keys: Sequence[PublicKey] = (),
    today: dt.date | None = None,
) -> FleetPolicyResult:
    """Evaluate ``policy`` on every tagged image of the inventory (filtered by repository and tag globs)."""
    from provenant.fleet.scan import trust_for
    from provenant.policy.match import matches
    from provenant.reference import parse_reference

    today = today or dt.datetime.now(dt.UTC).date()
    all_keys, keyless = trust_for(policy, policy_path, keys)
    resolver = InventoryBases(db)
    tagged = db.execute(
        select(m.Repository.name, m.Tag.name, m.Image)
        .join(m.Tag, m.Tag.repository_id == m.Repository.id)
        .join(m.Image, m.Image.id == m.Tag.image_id)
        .order_by(m.Repository.name, m.Tag.name)
    )
    rows: list[PolicyRow] = []
    reports: list[PolicyReport] = []
    images = not_evaluated = not_applicable = 0
    for repository, tag, image in tagged:
        if repositories and not any(glob_match(g, repository) for g in repositories):
            continue
        if tags and not any(glob_match(g, tag) for g in tags):
            continue
        images += 1
        text, registry = target_of(repository, tag)
        if registry and not any(matches(g, parse_reference(text)) for g in policy.images):
            not_applicable += 1
            continue
        facts, reason = _facts(image)
        if reason is None:
            assert facts is not None
            reason = _trust_mismatch(facts, all_keys, keyless)
        if reason is not None:
            not_evaluated += 1
            rows.append(PolicyRow(repository=repository, tag=tag, image_digest=image.digest, subject="image",
                                  digest=image.digest, verdict="not-evaluated", failing=[], reason=reason))  # fmt: skip
            continue
        assert facts is not None
        report = evaluate_stored(
            facts, _sboms(db, image.id), text, policy, policy_path, registry=registry, resolver=resolver, today=today
        )
        reports.append(report)
        rows.extend(
            PolicyRow(
                repository=repository,
                tag=tag,
                image_digest=image.digest,
                subject=r.subject,
                digest=r.digest,
                verdict=r.verdict,
                failing=[f"{f.check}={f.effect}" for f in r.findings if f.effect != "none"],
            )
            for r in report.results
        )
    verdict = verdict_of([f for r in reports for f in r.findings()])
    return FleetPolicyResult(
        policy=str(policy_path),
        policy_name=policy.metadata.name or "",
        policy_digest=policy_digest(policy_path),
        evaluated_on=today,
        rows=rows,
        reports=reports,
        images=images,
        not_evaluated=not_evaluated,
        not_applicable=not_applicable,
        verdict=verdict,
        exit_code=exit_code_of(verdict, fail_on_warn=False),
    )


def _facts(image: m.Image) -> tuple[ImageFacts | None, str | None]:
    """The image's stored evidence, or why there is none to evaluate."""
    if image.status != "ok":
        return None, f"its scan failed ({image.error}): fix the image and run provenant fleet scan again"
    if image.evidence is None:
        return None, "no stored evidence (scanned by an older provenant): rescan with provenant fleet scan --rescan"
    try:
        facts = model_from_json(ImageFacts, gzip.decompress(image.evidence), "stored evidence")
    except (OSError, EOFError, ValueError) as exc:  # gzip: OSError (BadGzipFile) or EOFError; JSON: ValueError
        return (
            None,
            f"its stored evidence is unreadable ({type(exc).__name__}): rescan with provenant fleet scan --rescan",
        )
    if facts.format != FORMAT:
        return None, f"stored evidence format {facts.format}, this provenant reads {FORMAT}: rescan with --rescan"
    return facts, None
