"""``fleet scan``: resolve every target, scan each unique layer once, record each image in one transaction.

1. Expand the targets into (repository, tag) references and resolve each to its digest. A digest the
   inventory already holds from this scanner version is not scanned again: only the tag is recorded
   (with history when it moved).
2. Collect the layers of every new platform manifest, deduplicated by digest, and run the ones the layer
   cache lacks as layer jobs on the executor: the cost grows with the unique layers, not the images.
3. Per image, the SBOM ``provenant sbom`` makes (all layers now come from the cache), its attestations
   and signatures, and optional policy verdicts, written in one transaction. A broken image is stored
   as failed with its one-line error; the others go on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from pydantic import BaseModel
from sqlalchemy import select

from provenant import __version__
from provenant import limits as limits_mod
from provenant.errors import ProvenantError
from provenant.fleet import models as m
from provenant.fleet.ingest import (
    AttestationRow,
    ImageRecord,
    clear_failure,
    record_failure,
    record_tag,
    write_image,
)
from provenant.fleet.layerjob import LayerJob, LayerOutcome
from provenant.fleet.store import Store
from provenant.fleet.targets import ImageRef, TagFilter, expand
from provenant.textsafe import one_line

if TYPE_CHECKING:
    from collections.abc import Iterator

    from provenant.attest.keyless import KeylessPolicy
    from provenant.attest.keys import PublicKey
    from provenant.cache import LayerCache
    from provenant.image import FetchedManifest, PlatformImage
    from provenant.policy.schema import ImagePolicy
    from provenant.session import Session
    from provenant.sources.registry import RegistryOptions


class Executor(Protocol):
    """Runs layer jobs somewhere and yields their outcomes as they finish."""

    name: str

    def run(self, jobs: Sequence[LayerJob]) -> Iterator[LayerOutcome]: ...


class Failure(BaseModel):
    """A reference that failed, and why (one line)."""

    reference: str
    error: str


class ScanSummary(BaseModel):
    """What one ``fleet scan`` did."""

    references: int
    images: int
    scanned: int
    unchanged: int
    failed: int
    platforms: int
    layers: int
    layers_scanned: int
    layers_cached: int
    tags_moved: int
    seconds: float
    failures: list[Failure]

    def line(self) -> str:
        """The one summary line."""
        return (
            f"fleet scan: {self.references} references, {self.images} images ({self.scanned} scanned, "
            f"{self.unchanged} unchanged, {self.failed} failed), {self.platforms} platform manifests, "
            f"{self.layers} unique layers ({self.layers_scanned} scanned, {self.layers_cached} from the cache), "
            f"{self.tags_moved} tags new or moved, {self.seconds:.1f} s"
        )


def scanner_version() -> str:
    """What makes a stored result stale: provenant's version and the layer scanner's."""
    from provenant.catalog.registry import default_plan

    return f"{__version__}+{default_plan().version}"


@dataclass
class _Pending:
    """A resolved image still to scan, with every reference that named it."""

    ref: ImageRef
    top: FetchedManifest
    images: list[PlatformImage] = field(default_factory=list)
    names: list[ImageRef] = field(default_factory=list)
    error: str | None = None


@dataclass
class ScanSettings:
    """How to scan: where the registry and cache are, how many workers, which policy."""

    registry: RegistryOptions
    #: The layer cache: a directory, or an fsspec URL shared by every worker.
    cache: str
    executor: Executor
    policy: ImagePolicy | None = None
    policy_path: Path | None = None
    rescan: bool = False
    progress: Callable[[str], None] | None = None
    #: Public keys signatures are verified against (``verified`` is true only for those).
    keys: Sequence[PublicKey] = ()


def _created_lookup(session: Session) -> Callable[[str], datetime | None]:
    """For ``--newest N --by created``: the created date of a reference's first platform."""

    def created(text: str) -> datetime | None:
        try:
            reader = session.reader(session.open(text))
            images = reader.load_images(reader.resolve())
        except ProvenantError:
            return None
        dates = [img.config.created for img in images if img.config.created is not None]
        return max(dates) if dates else None

    return created


def _error(exc: BaseException) -> str:
    if isinstance(exc, ProvenantError):
        return one_line(exc.diagnostics())
    return one_line(f"{type(exc).__name__}: {exc}")


def scan_fleet(
    session: Session, store: Store, targets: Sequence[str], filt: TagFilter, cfg: ScanSettings
) -> ScanSummary:
    """Scan ``targets`` into ``store``; see the module docstring for the steps."""
    from provenant.sbom.generate import _layers_of

    started = time.monotonic()
    say = cfg.progress or (lambda _msg: None)
    scanner = scanner_version()
    refs = expand(targets, session.client, filt, _created_lookup(session))
    say(f"{len(refs)} references")
    failures: list[Failure] = []
    pending: dict[str, _Pending] = {}
    unchanged: set[str] = set()
    moved = 0

    # 1. Resolve; record tags of images already in the inventory.
    for ref in refs:
        try:
            reader = session.reader(session.open(ref.text))
            top = reader.resolve()
        except ProvenantError as exc:
            failures.append(Failure(reference=ref.text, error=_error(exc)))
            with store.sessions.begin() as db:
                record_failure(db, ref.text, _error(exc))
            continue
        digest = str(top.digest)
        with store.sessions.begin() as db:
            clear_failure(db, ref.text)
            known = db.scalar(select(m.Image).where(m.Image.digest == digest))
            if known is not None and known.status == "ok" and known.scanner == scanner and not cfg.rescan:
                moved += record_tag(db, ref.repository, ref.tag, known)
                unchanged.add(digest)
                continue
        item = pending.setdefault(digest, _Pending(ref, top))
        item.names.append(ref)
        if item.error is None and not item.images:
            try:
                item.images = reader.load_images(top)
            except ProvenantError as exc:
                item.error = _error(exc)

    # 2. Unique layers of every new platform manifest, scanned once on the executor.
    lim = limits_mod.current()
    jobs: dict[str, LayerJob] = {}
    layers_of: dict[str, list[str]] = {}
    for digest, item in pending.items():
        if item.error:
            continue
        try:
            per_image = [_layers_of(img) for img in item.images]
        except ProvenantError as exc:
            item.error = _error(exc)
            continue
        layers_of[digest] = [layer.desc.digest for layers in per_image for layer in layers]
        for layers in per_image:
            for layer in layers:
                jobs.setdefault(
                    layer.desc.digest,
                    LayerJob(
                        source=_pinned(item.ref, digest),
                        digest=layer.desc.digest,
                        size=layer.desc.size,
                        media_type=layer.desc.media_type,
                        diff_id=layer.diff_id,
                        cache=cfg.cache,
                        limits=lim,
                        registry=cfg.registry,
                    ),
                )
    from provenant.catalog.registry import default_plan
    from provenant.fleet.remotecache import open_layer_cache
    from provenant.layers.limitkey import scan_limits_key

    cache = open_layer_cache(cfg.cache)
    cache_key = f"{default_plan().version}-{scan_limits_key(lim)}"
    todo = [j for j in jobs.values() if (hit := cache.get(cache_key, j.digest)) is None or hit.diff_id != j.diff_id]
    cached = len(jobs) - len(todo)
    say(f"{len(pending)} images to scan: {len(jobs)} unique layers, {cached} in the cache, {len(todo)} to scan")
    layer_errors: dict[str, str] = {}
    for n, outcome in enumerate(cfg.executor.run(todo), 1):
        if outcome.error:
            layer_errors[outcome.digest] = one_line(outcome.error)
        say(f"layers {n}/{len(todo)}")

    # 3. Per image: SBOM from the cached scans, attestations, verdicts; one transaction each.
    scanned = platforms = 0
    for n, (digest, item) in enumerate(pending.items(), 1):
        broken = next((layer_errors[d] for d in layers_of.get(digest, []) if d in layer_errors), None)
        record = ImageRecord(
            digest=digest,
            media_type=item.top.media_type,
            source=item.ref.text,
            scanner=scanner,
            error=item.error or broken,
        )
        if record.error is None:
            try:
                _analyse(session, item, record, cache, cfg)
            except ProvenantError as exc:
                record.error = _error(exc)
        if record.error is not None:
            failures.extend(Failure(reference=r.text, error=record.error) for r in item.names)
        else:
            scanned += 1
            platforms += len(record.sboms)
        with store.sessions.begin() as db:
            image = write_image(db, record, [])
            for r in item.names:
                moved += record_tag(db, r.repository, r.tag, image)
        say(f"images {n}/{len(pending)}")
    return ScanSummary(
        references=len(refs),
        images=len(pending) + len(unchanged),
        scanned=scanned,
        unchanged=len(unchanged),
        failed=len(failures),
        platforms=platforms,
        layers=len(jobs),
        layers_scanned=len(todo) - len(layer_errors),
        layers_cached=cached,
        tags_moved=moved,
        seconds=round(time.monotonic() - started, 3),
        failures=failures,
    )


def _pinned(ref: ImageRef, digest: str) -> str:
    """The reference pinned to ``digest`` (so every job reads exactly the image that was resolved)."""
    if ref.registry:
        return f"{ref.repository}@{digest}"
    return f"oci:{ref.repository}:{digest}"


def _analyse(session: Session, item: _Pending, record: ImageRecord, cache: LayerCache, cfg: ScanSettings) -> None:
    """Fill ``record`` from the one evidence gatherer: SBOMs (as ``provenant sbom`` makes them), attachments,
    the stored evidence, and the verdicts ``fleet policy`` would give from that same stored evidence."""
    from provenant.evidence import gather
    from provenant.evidence.stored import facts_of

    keys, keyless = trust_for(cfg.policy, cfg.policy_path, cfg.keys)
    ev = gather(session, item.ref.text, cache=cache, keys=keys, keyless=keyless, workers=4)
    if ev.digest != record.digest:
        # The tag moved between resolving and scanning: store what was scanned under its own digest.
        record.digest, record.media_type = ev.digest, ev.live.top.media_type
    record.source = ev.source
    record.sboms = [a.sbom for a in ev.live.images]
    record.attestations = [
        AttestationRow(
            subject=subject.digest,
            kind=a.kind,
            format=a.format,
            source=a.source,
            predicate_type=a.predicate_type,
            trust=a.trust,
            signer=a.signer,
            verified=a.trust.startswith("signed:"),
            error=a.error,
        )
        for subject in ev.attestations.subjects
        for a in subject.attachments
    ]
    record.evidence = facts_of(ev)
    if cfg.policy is not None:
        from provenant.fleet.policy import evaluate_stored, verdict_rows

        assert cfg.policy_path is not None
        # Trusted bases are resolved live here, as provenant policy check does (fleet policy reads the inventory).
        report = evaluate_stored(
            record.evidence,
            record.sboms,
            item.ref.text,
            cfg.policy,
            cfg.policy_path,
            registry=item.ref.registry,
            resolver=lambda _stored, ref, platform: ev.trusted_base(ref, platform),
        )
        record.verdicts = verdict_rows(report, cfg.policy_path)


def trust_for(
    policy: ImagePolicy | None, policy_path: Path | None, keys: Sequence[PublicKey]
) -> tuple[list[PublicKey], KeylessPolicy | None]:
    """The keys and keyless signers attachments are verified against: ``--key`` plus the policy's own."""
    if policy is None:
        return list(keys), None
    from provenant.policy.engine import policy_keyless, policy_keys

    return [*keys, *policy_keys(policy, policy_path)], policy_keyless(policy, policy_path)
