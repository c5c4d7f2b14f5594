"""``fleet scan``: resolve every target, scan each unique layer once, record each image in one transaction.

1. Expand the targets into (repository, tag) references and resolve each to its digest, on threads (one
   manifest request each). A digest the inventory already holds from this scanner version is not
   scanned again: only the tag is recorded (with history when it moved), for a batch of references in
   one transaction. The new images' platform manifests and configs are read once, here.
2. Collect the layers of every new platform manifest, deduplicated by digest, and run the ones the layer
   cache lacks as layer jobs on the executor: the cost grows with the unique layers, not the images.
3. Per image, the SBOM ``provenant sbom`` makes (from the manifests read in step 1; all layers now come
   from the cache), its attestations and signatures (looking up only the attachment tags the
   repository lists), and optional policy verdicts, written in one transaction. A broken image is
   stored as failed with its one-line error; the others go on.

Progress goes to a :class:`~provenant.progress.Progress` observer as :class:`~provenant.progress.FleetStatus`.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

from sqlalchemy import select

from provenant import limits as limits_mod
from provenant.errors import ProvenantError
from provenant.fleet import models as m
from provenant.fleet.ingest import (
    AttestationRow,
    ImageRecord,
    clear_failures,
    record_failure,
    record_tag,
    record_tags,
    write_image,
)
from provenant.fleet.layerjob import LayerJob, LayerOutcome
from provenant.fleet.store import Store
from provenant.fleet.summary import Failure, ScanSummary, scanner_version
from provenant.fleet.targets import ImageRef, TagFilter, expand
from provenant.progress import FleetStatus, Progress
from provenant.textsafe import one_line

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy.orm import Session as DbSession

    from provenant.attest.discover import RepositoryHints
    from provenant.attest.keyless import KeylessPolicy
    from provenant.attest.keys import PublicKey
    from provenant.cache import LayerCache
    from provenant.image import FetchedManifest, ImageReader, PlatformImage
    from provenant.policy.schema import ImagePolicy
    from provenant.session import Session
    from provenant.sources.registry import RegistryOptions


_T = TypeVar("_T")
_R = TypeVar("_R")


class Executor(Protocol):
    """Runs layer jobs somewhere and yields their outcomes as they finish."""

    name: str

    def run(self, jobs: Sequence[LayerJob]) -> Iterator[LayerOutcome]: ...


#: Threads resolving references and reading manifests at once (see ScanSettings.threads).
RESOLVE_THREADS = 8
#: References resolved, then recorded in one transaction, at a time: bounds what is held in memory for
#: a registry of 100,000 tags, and what an interrupt can lose.
RESOLVE_BATCH = 512
#: Threads assembling images at once. Cataloguing holds the GIL, so more threads only slow the one
#: thread writing the database; two overlap one image's registry requests with another's cataloguing.
ANALYSE_THREADS = 2


@dataclass
class _Pending:
    """A resolved image still to scan, with every reference that named it."""

    ref: ImageRef
    reader: ImageReader
    top: FetchedManifest
    #: What its SBOMs name it by: the reference's repository and tag (a layout's description, no tag).
    name: str
    tag: str | None
    images: list[PlatformImage] = field(default_factory=list)
    names: list[ImageRef] = field(default_factory=list)
    error: str | None = None


@dataclass
class _Resolved:
    """One reference's answer: its reader and top manifest, or the one-line error."""

    ref: ImageRef
    reader: ImageReader | None = None
    top: FetchedManifest | None = None
    name: str = ""
    tag: str | None = None
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
    #: The observer of the scan's stages (None: the session's, i.e. the CLI's ``--progress``).
    progress: Progress | None = None
    #: Public keys signatures are verified against (``verified`` is true only for those).
    keys: Sequence[PublicKey] = ()
    #: Threads resolving references and reading manifests at once (network-bound; every request still
    #: goes through the one registry client, its limits and its 429 backoff).
    threads: int = RESOLVE_THREADS


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


class _Status:
    """The counts behind :class:`~provenant.progress.FleetStatus`, sent to the observer at each step."""

    def __init__(self, observer: Progress, references: int) -> None:
        self.observer = observer
        self.started = self.stage_started = time.monotonic()
        self.now = FleetStatus(stage="resolve", references=references)

    def update(self, **changes: object) -> None:
        if changes.get("stage", self.now.stage) != self.now.stage:
            self.stage_started = time.monotonic()
        t = time.monotonic()
        changes.update(elapsed=t - self.started, stage_elapsed=t - self.stage_started)
        self.now = replace(self.now, **changes)  # type: ignore[arg-type]
        self.observer.fleet(self.now)


def _on_threads(fn: Callable[[_T], _R], items: Sequence[_T], threads: int) -> Iterator[_R]:
    """``fn`` of each item on up to ``threads`` threads, results in order; leaving early (an interrupt, an
    error) cancels the calls not started, so Ctrl-C does not wait for the whole list.
    """
    if not items:
        return
    pool = ThreadPoolExecutor(max_workers=max(1, min(threads, len(items))))
    try:
        yield from pool.map(fn, items)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _resolve(session: Session, ref: ImageRef) -> _Resolved:
    """Open and resolve one reference (run on a thread: one manifest request)."""
    try:
        opened = session.open(ref.text)
        reader = session.reader(opened)
        top = reader.resolve()
    except ProvenantError as exc:
        return _Resolved(ref, error=_error(exc))
    if opened.reference is not None:
        name, tag = opened.reference.name, opened.reference.tag
    else:
        name, tag = reader.source.describe(), None
    return _Resolved(ref, reader, top, name, tag)


def _load(item: _Pending) -> None:
    """The platform manifests and configs of a new image (run on a thread)."""
    try:
        item.images = item.reader.load_images(item.top)
    except ProvenantError as exc:
        item.error = _error(exc)


def _list_tags(session: Session, repository: str) -> frozenset[str] | None:
    """Every tag of a registry repository, for :class:`RepositoryHints` (None when it cannot be listed)."""
    from provenant.reference import parse_reference

    try:
        return frozenset(session.client.list_tags(parse_reference(repository)))
    except ProvenantError:
        return None  # discovery then looks each attachment tag up, as for a single image


def scan_fleet(
    session: Session, store: Store, targets: Sequence[str], filt: TagFilter, cfg: ScanSettings
) -> ScanSummary:
    """Scan ``targets`` into ``store``; see the module docstring for the steps."""
    observer = cfg.progress or session.progress
    try:
        return _scan(session, store, targets, filt, cfg, observer=observer)
    finally:
        observer.finished()


def _scan(
    session: Session, store: Store, targets: Sequence[str], filt: TagFilter, cfg: ScanSettings, *, observer: Progress
) -> ScanSummary:
    started = time.monotonic()
    scanner = scanner_version()
    listed: dict[str, frozenset[str]] = {}
    refs = expand(targets, session.client, filt, _created_lookup(session), listed=listed)
    status = _Status(observer, len(refs))
    status.update()
    run = _Run(session, store, cfg, status, scanner, listed)
    run.resolve(refs)
    if run.pending:  # an unchanged registry stops here: nothing more is read or imported
        run.scan_new()
    status.update(stage="done")
    return ScanSummary(
        references=len(refs),
        images=len(run.pending) + len(run.unchanged),
        scanned=run.scanned,
        unchanged=len(run.unchanged),
        failed=len(run.failures),
        platforms=run.platforms,
        layers=run.layers,
        layers_scanned=run.layers_scanned,
        layers_cached=run.layers_cached,
        tags_moved=run.moved,
        seconds=round(time.monotonic() - started, 3),
        failures=run.failures,
    )


@dataclass
class _Run:
    """The state of one scan between its steps."""

    session: Session
    store: Store
    cfg: ScanSettings
    status: _Status
    scanner: str
    #: Every tag of each registry repository listed so far (for attachment discovery).
    listed: dict[str, frozenset[str]]
    failures: list[Failure] = field(default_factory=list)
    pending: dict[str, _Pending] = field(default_factory=dict)
    unchanged: set[str] = field(default_factory=set)
    moved: int = 0
    scanned: int = 0
    platforms: int = 0
    layers: int = 0
    layers_scanned: int = 0
    layers_cached: int = 0

    @property
    def threads(self) -> int:
        return max(1, self.cfg.threads)

    def resolve(self, refs: Sequence[ImageRef]) -> None:
        """Step 1: resolve the references on threads (one manifest request each), RESOLVE_BATCH at a time; per
        batch, in one transaction, record the failures and the tags of images already in the inventory
        (recording a tag again is idempotent: an interrupt loses nothing, and the next run resumes).
        """
        failed = 0
        for start in range(0, len(refs), RESOLVE_BATCH):
            batch: list[_Resolved] = []
            for res in _on_threads(partial(_resolve, self.session), refs[start : start + RESOLVE_BATCH], self.threads):
                batch.append(res)
                failed += res.error is not None
                self.status.update(resolved=start + len(batch), failures=failed)
            self._record(batch)
        self.status.update(images=len(self.pending), unchanged=len(self.unchanged))

    def _record(self, resolved: list[_Resolved]) -> None:
        """One transaction for a batch: failures, unchanged images' tags; the new images become pending."""
        ok = [r for r in resolved if r.top is not None]
        with self.store.sessions.begin() as db:
            known = _known_images(db, [str(r.top.digest) for r in ok if r.top is not None])
            for r in resolved:
                if r.error is not None:
                    self.failures.append(Failure(reference=r.ref.text, error=r.error))
                    record_failure(db, r.ref.text, r.error)
            clear_failures(db, [r.ref.text for r in ok])
            same: list[tuple[str, str | None, m.Image]] = []
            for r in ok:
                assert r.top is not None and r.reader is not None
                digest = str(r.top.digest)
                image = known.get(digest)
                if image is not None and image.status == "ok" and image.scanner == self.scanner and not self.cfg.rescan:
                    same.append((r.ref.repository, r.ref.tag, image))
                    self.unchanged.add(digest)
                    continue
                item = self.pending.setdefault(digest, _Pending(r.ref, r.reader, r.top, r.name, r.tag))
                item.names.append(r.ref)
            self.moved += record_tags(db, same)

    def scan_new(self) -> None:
        """Steps 2 and 3 for the images the inventory lacks."""
        from provenant.attest.discover import RepositoryHints

        # Platform manifests and configs of the new images, and the tag list of each registry repository
        # they are in (attachment discovery then looks up only the cosign and referrers tags that exist).
        repos = sorted({i.ref.repository for i in self.pending.values() if i.ref.registry} - self.listed.keys())
        tag_lists = dict(zip(repos, _on_threads(partial(_list_tags, self.session), repos, self.threads), strict=True))
        for _ in _on_threads(_load, list(self.pending.values()), self.threads):
            pass
        self.listed.update({r: t for r, t in tag_lists.items() if t is not None})
        hints = {repo: RepositoryHints(tags=tags) for repo, tags in self.listed.items()}
        cache, layers_of, layer_errors = self._scan_layers()
        self._write_images(cache, layers_of, layer_errors, hints)

    def _scan_layers(self) -> tuple[LayerCache, dict[str, list[str]], dict[str, str]]:
        """Step 2: the unique layers of every new platform manifest, scanned once on the executor."""
        from provenant.catalog.registry import default_plan
        from provenant.fleet.remotecache import RecentScans, open_layer_cache
        from provenant.layers.limitkey import scan_limits_key
        from provenant.sbom.generate import _layers_of

        lim = limits_mod.current()
        jobs: dict[str, LayerJob] = {}
        layers_of: dict[str, list[str]] = {}
        for digest, item in self.pending.items():
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
                            cache=self.cfg.cache,
                            limits=lim,
                            registry=self.cfg.registry,
                        ),
                    )
        cache = RecentScans(open_layer_cache(self.cfg.cache))
        key = f"{default_plan().version}-{scan_limits_key(lim)}"
        todo = [j for j in jobs.values() if (hit := cache.get(key, j.digest)) is None or hit.diff_id != j.diff_id]
        self.layers, self.layers_cached = len(jobs), len(jobs) - len(todo)
        sizes = {j.digest: j.size for j in todo}
        self.status.update(
            stage="layers", layers=len(todo), layers_cached=self.layers_cached, bytes_total=sum(sizes.values())
        )
        layer_errors: dict[str, str] = {}
        fetched = 0
        for n, outcome in enumerate(self.cfg.executor.run(todo), 1):
            if outcome.error:
                layer_errors[outcome.digest] = one_line(outcome.error)
            else:
                fetched += sizes.get(outcome.digest, 0)
            self.status.update(layers_done=n, bytes_done=fetched)
        self.layers_scanned = len(todo) - len(layer_errors)
        return cache, layers_of, layer_errors

    def _write_images(
        self,
        cache: LayerCache,
        layers_of: dict[str, list[str]],
        layer_errors: dict[str, str],
        hints: dict[str, RepositoryHints],
    ) -> None:
        """Step 3: per image, on threads (attachment discovery waits on the registry): SBOMs from the cached
        scans of the manifests step 1 read, attachments, verdicts. Written in reference order, one
        transaction each, by this thread alone.
        """
        self.status.update(stage="images")
        items = list(self.pending.items())

        def analyse(digest: str, item: _Pending) -> ImageRecord:
            broken = next((layer_errors[d] for d in layers_of.get(digest, []) if d in layer_errors), None)
            record = ImageRecord(
                digest=digest,
                media_type=item.top.media_type,
                source=item.ref.text,
                scanner=self.scanner,
                error=item.error or broken,
            )
            if record.error is None:
                try:
                    _analyse(self.session, item, record, cache, self.cfg, hints=hints.get(item.ref.repository))
                except ProvenantError as exc:
                    record.error = _error(exc)
            return record

        workers = min(ANALYSE_THREADS, self.threads)
        pool = ThreadPoolExecutor(max_workers=min(workers, len(items)))
        try:
            window: deque[tuple[_Pending, Future[ImageRecord]]] = deque()
            ahead = iter(items)
            for n in range(1, len(items) + 1):
                # A bounded number of analyses run ahead of the writer (each holds its SBOMs in memory).
                while len(window) < 2 * workers and (nxt := next(ahead, None)) is not None:
                    window.append((nxt[1], pool.submit(analyse, *nxt)))
                item, future = window.popleft()
                record = future.result()
                if record.error is not None:
                    self.failures.extend(Failure(reference=name.text, error=record.error) for name in item.names)
                else:
                    self.scanned += 1
                    self.platforms += len(record.sboms)
                with self.store.sessions.begin() as db:
                    image = write_image(db, record, [])
                    for name in item.names:
                        self.moved += record_tag(db, name.repository, name.tag, image)
                self.status.update(images_done=n, failures=len(self.failures))
        finally:
            # On an interrupt, analyses not started are dropped; running ones finish (bounded by the limits).
            pool.shutdown(wait=True, cancel_futures=True)


def _known_images(db: DbSession, digests: Sequence[str]) -> dict[str, m.Image]:
    """The inventory's images among ``digests``, in queries of at most 500 digests."""
    wanted = list(dict.fromkeys(digests))
    out: dict[str, m.Image] = {}
    for start in range(0, len(wanted), 500):
        out.update(
            {i.digest: i for i in db.scalars(select(m.Image).where(m.Image.digest.in_(wanted[start : start + 500])))}
        )
    return out


def _pinned(ref: ImageRef, digest: str) -> str:
    """The reference pinned to ``digest`` (so every job reads exactly the image that was resolved)."""
    if ref.registry:
        return f"{ref.repository}@{digest}"
    return f"oci:{ref.repository}:{digest}"


def _analyse(
    session: Session,
    item: _Pending,
    record: ImageRecord,
    cache: LayerCache,
    cfg: ScanSettings,
    *,
    hints: RepositoryHints | None = None,
) -> None:
    """Fill ``record`` from the one evidence gatherer: SBOMs (as ``provenant sbom`` makes them), attachments,
    the stored evidence, and the verdicts ``fleet policy`` would give from that same stored evidence.

    The manifests and configs are the ones step 1 read (and verified): nothing is resolved again.
    """
    from provenant.evidence import evidence_of
    from provenant.evidence.stored import facts_of
    from provenant.sbom.generate import analyze_loaded

    analysis = analyze_loaded(
        item.reader, item.top, item.images, target=item.ref.text, name=item.name, tag=item.tag, cache=cache, workers=1
    )
    keys, keyless = trust_for(cfg.policy, cfg.policy_path, cfg.keys)
    # One thread per image: the images themselves are analysed on the scan's threads.
    ev = evidence_of(session, analysis, keys=keys, keyless=keyless, workers=1, hints=hints)
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
