"""Find everything attached to an image, by all four routes, as one list per subject.

Subjects are the top-level digest (the index, or the single manifest) and every selected platform
manifest. For each subject:

* **BuildKit** in-index attestation manifests (``vnd.docker.reference.type: attestation-manifest``,
  ``vnd.docker.reference.digest``; also the ``oci-artifact=true`` variant with ``subject``);
* **cosign tags** ``sha256-<hex>.sig`` / ``.att`` / ``.sbom`` in the same repository;
* **OCI referrers**: ``GET /v2/<name>/referrers/<digest>``, or, when the registry answers 404, the
  ``sha256-<hex>`` tag holding the referrers index (cosign v3 Sigstore bundles live here).

An OCI image layout has no registry API; the same attachments are found in its ``index.json``: the
``sigs`` / ``atts`` entries of a ``cosign save`` layout (they belong to its image), entries named like
cosign's tags (``sha256-<hex>.sig`` …), and manifests whose ``subject`` is a subject.

Nothing is interpreted here: each attached item becomes a :class:`Found` with the verified bytes
(every manifest and blob is checked against its digest) or the reason it could not be read.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Literal

from provenant.attest import constants as c
from provenant.digest import Digest
from provenant.errors import NotFoundError, ProvenantError
from provenant.image import FetchedManifest, ImageReader
from provenant.limits import LimitExceededError
from provenant.oci import mediatypes as mt
from provenant.oci.models import Descriptor, Manifest, parse_index
from provenant.oci.platform import PlatformSpec, is_platform_manifest, select_platforms
from provenant.reference import Reference
from provenant.sources.layout import COSIGN_ATTACHMENT_KINDS, COSIGN_KIND, OciLayoutSource, attachment_tag
from provenant.sources.registry import RegistryClient

Source = Literal["buildkit-index", "cosign-tag", "cosign-layout", "oci-referrers", "oci-referrers-tag"]
Format = Literal["in-toto", "dsse", "simplesigning", "sigstore-bundle", "sbom", "unknown"]
SubjectKind = Literal["index", "manifest", "platform"]

#: Attached blobs read into memory at most this large (SBOM statements can be a few MB).
MAX_ATTACHMENT_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class Subject:
    """Something evidence can be attached to: the index, the single manifest, or a platform manifest."""

    kind: SubjectKind
    digest: str
    media_type: str
    size: int | None
    platform: str | None = None


@dataclass
class Found:
    """One attached item, read but not interpreted."""

    subject: str
    source: Source
    location: str
    container: str
    format: Format
    media_type: str
    annotations: dict[str, str] = field(default_factory=dict)
    data: bytes | None = None
    error: str | None = None
    #: The OCI ``subject`` of the manifest holding the item (referrers, BuildKit oci-artifact).
    container_subject: str | None = None
    #: Problems with how the item is attached (e.g. a referrers index entry whose manifest names another subject).
    problems: list[str] = field(default_factory=list)


@dataclass
class Discovery:
    """Everything found for one image."""

    top: FetchedManifest
    subjects: list[Subject]
    found: list[Found]
    #: ``api``, ``tag-fallback``, ``mixed``, ``not-applicable`` (not a registry).
    referrers: str
    notes: list[str] = field(default_factory=list)


@dataclass
class RepositoryHints:
    """What a caller scanning many images of one repository already knows; it saves requests per image.

    ``tags``: every tag the repository listed (``GET /v2/<name>/tags/list``) when the scan started; a cosign
    or referrers-fallback tag not in it is not looked up (None: not listed, every tag is looked up).
    ``referrers_api``: False once the registry answered the referrers API with 404 for this repository
    (the OCI distribution spec reserves 404 for a registry without the API), so later subjects go to the
    tag fallback directly; :func:`discover` sets it.
    """

    tags: frozenset[str] | None = None
    referrers_api: bool | None = None


def _format_of(media_type: str) -> Format:
    if media_type == c.IN_TOTO:
        return "in-toto"
    if media_type == c.DSSE_ENVELOPE:
        return "dsse"
    if media_type == c.SIMPLESIGNING:
        return "simplesigning"
    if media_type in c.SIGSTORE_BUNDLE_TYPES:
        return "sigstore-bundle"
    if media_type in c.SBOM_MEDIA_TYPES:
        return "sbom"
    return "unknown"


class _Finder:
    def __init__(
        self,
        reader: ImageReader,
        client: RegistryClient | None,
        ref: Reference | None,
        artifact_type: str | None,
        hints: RepositoryHints | None = None,
    ) -> None:
        self.reader = reader
        self.client = client
        self.ref = ref
        self.artifact_type = artifact_type
        self.hints = hints or RepositoryHints()
        #: In-index attestation manifests already read (BuildKit ``oci-artifact=true`` ones are referrers too).
        self.seen: set[str] = set()

    # -- helpers -----------------------------------------------------------------------------------

    def _read(self, item: Found, desc: Descriptor) -> None:
        if desc.size > MAX_ATTACHMENT_BYTES:
            item.error = f"{desc.size} bytes, over the {MAX_ATTACHMENT_BYTES}-byte limit for attached documents"
            return
        try:
            item.data = self.reader.read_blob(desc, item.location)
        except ProvenantError as exc:
            item.error = exc.diagnostics()

    def _layers(
        self,
        manifest: Manifest,
        container: str,
        subject: str,
        source: Source,
        where: str,
    ) -> list[Found]:
        out: list[Found] = []
        n = len(manifest.layers)
        for i, layer in enumerate(manifest.layers):
            fmt = _format_of(layer.media_type)
            loc = f"{where} layer {i + 1}/{n}" if n > 1 else where
            item = Found(
                subject=subject,
                source=source,
                location=loc,
                container=container,
                format=fmt,
                media_type=layer.media_type,
                annotations=dict(layer.annotations or {}),
                container_subject=manifest.subject.digest if manifest.subject else None,
            )
            if fmt not in ("sbom", "unknown"):
                self._read(item, layer)
            out.append(item)
        return out

    # -- BuildKit ----------------------------------------------------------------------------------

    def buildkit(self, top: FetchedManifest, subjects: dict[str, Subject]) -> list[Found]:
        """In-index attestation manifests, for the selected platforms."""
        found: list[Found] = []
        index = top.as_index()
        platforms_in_index = {d.digest for d in index.manifests if is_platform_manifest(d)}
        for desc in index.manifests:
            ann = desc.annotations or {}
            is_att = desc.is_attestation or desc.artifact_type == c.DOCKER_ATTESTATION_MANIFEST
            if not is_att:
                continue
            target = ann.get(mt.REFERENCE_DIGEST_ANNOTATION)
            if target is not None and target in platforms_in_index and target not in subjects:
                continue  # a platform that was not selected
            where = f"index entry {desc.digest}"
            try:
                fetched = self.reader.fetch_manifest(desc.digest, declared=desc)
                manifest = fetched.as_manifest()
            except ProvenantError as exc:
                found.append(
                    Found(
                        subject=target or str(top.digest),
                        source="buildkit-index",
                        location=where,
                        container=desc.digest,
                        format="unknown",
                        media_type=desc.media_type,
                        error=exc.diagnostics(),
                    )
                )
                continue
            subj_field = manifest.subject.digest if manifest.subject else None
            target = target or subj_field
            problems: list[str] = []
            if subj_field is not None and target is not None and subj_field != target:
                problems.append(f"attestation manifest's subject is {subj_field}, but its index entry says {target}")
            if target is None or target not in subjects:
                problems.append(
                    f"attestation manifest refers to {target or 'nothing'}, which is not a platform of this index"
                )
                target = str(top.digest)
            self.seen.add(desc.digest)
            items = self._layers(manifest, desc.digest, target, "buildkit-index", where)
            for item in items:
                item.problems.extend(problems)
            found.extend(items)
        return found

    # -- cosign tags -------------------------------------------------------------------------------

    def cosign_tags(self, subject: Subject) -> list[Found]:
        """``.sig``, ``.att`` and ``.sbom`` of one subject."""
        found: list[Found] = []
        for suffix in c.TAG_SUFFIXES:
            tag = c.tag_for(subject.digest, suffix)
            if self.hints.tags is not None and tag not in self.hints.tags:
                continue  # the repository's tag list has no such tag: the lookup would answer 404
            where = f"tag {tag}"
            try:
                fetched = self.reader.fetch_manifest(tag)
                manifest = fetched.as_manifest()
            except NotFoundError:
                continue
            except ProvenantError as exc:
                found.append(Found(subject.digest, "cosign-tag", where, tag, "unknown", "?", error=exc.diagnostics()))
                continue
            found.extend(self._layers(manifest, str(fetched.digest), subject.digest, "cosign-tag", where))
        return found

    # -- OCI referrers -----------------------------------------------------------------------------

    def referrers(self, subject: Subject) -> tuple[list[Found], bool | None]:
        """Referrers of one subject: the API, or the ``sha256-<hex>`` tag when the API is missing."""
        assert self.client is not None and self.ref is not None
        raw = None
        if self.hints.referrers_api is not False:
            raw = self.client.get_referrers(self.ref, Digest.parse(subject.digest), self.artifact_type)
            if raw is None:
                self.hints.referrers_api = False
        api = raw is not None
        source: Source = "oci-referrers" if api else "oci-referrers-tag"
        if raw is None:
            tag = c.tag_for(subject.digest)
            if self.hints.tags is not None and tag not in self.hints.tags:
                return [], False
            try:
                fetched = self.reader.fetch_manifest(tag)
            except NotFoundError:
                return [], False
            if not fetched.is_index:
                return [
                    Found(
                        subject.digest,
                        source,
                        f"tag {tag}",
                        tag,
                        "unknown",
                        fetched.media_type,
                        error=f"referrers tag {tag} is not an image index ({fetched.media_type})",
                    )
                ], False
            raw = fetched.data
        index = parse_index(raw, f"referrers of {subject.digest}")
        bound = self.reader.limits.referrers
        if len(index.manifests) > bound:
            # Each entry costs a request: a list this long is refused, not walked (the API route checks
            # this page by page as it reads; the tag fallback's index is checked here).
            raise LimitExceededError(
                f"referrers of {subject.digest}: {len(index.manifests)} manifests listed", "referrers"
            )
        found: list[Found] = []
        for desc in index.manifests:
            if self.artifact_type and not api and desc.artifact_type != self.artifact_type:
                continue  # the API applies the filter itself (or the client does); the tag index is filtered here
            if desc.digest in self.seen:
                continue  # a BuildKit attestation manifest with a subject, already listed from the index
            where = f"referrer {desc.digest}" if api else f"referrer {desc.digest} (tag {c.tag_for(subject.digest)})"
            try:
                fetched = self.reader.fetch_manifest(desc.digest, declared=desc)
                if fetched.is_index:
                    found.append(Found(subject.digest, source, where, desc.digest, "unknown", fetched.media_type))
                    continue
                manifest = fetched.as_manifest()
            except ProvenantError as exc:
                found.append(
                    Found(
                        subject.digest, source, where, desc.digest, "unknown", desc.media_type, error=exc.diagnostics()
                    )
                )
                continue
            items = self._layers(manifest, desc.digest, subject.digest, source, where)
            artifact = manifest.artifact_type or desc.artifact_type or manifest.config.media_type
            for item in items:
                if item.container_subject != subject.digest:
                    item.problems.append(
                        f"referrer manifest's subject is {item.container_subject or 'missing'}, not {subject.digest}"
                    )
                ann = dict(manifest.annotations or {})
                ann.update(item.annotations)
                ann.setdefault("artifactType", artifact)
                item.annotations = ann
            found.extend(items)
        return found, api

    # -- OCI layouts -------------------------------------------------------------------------------

    def layout(self, layout: OciLayoutSource, top: FetchedManifest, subjects: dict[str, Subject]) -> list[Found]:
        """Attachments listed in a layout's index.json (cosign save kinds, cosign tag names, subject referrers)."""
        found: list[Found] = []
        entries = [d for d in layout.index.manifests if d.digest != str(top.digest) and d.digest not in self.seen]
        bound = self.reader.limits.referrers
        if len(entries) > bound:
            raise LimitExceededError(f"{layout.describe()}: index.json lists {len(entries)} manifests", "referrers")
        for desc in entries:
            kind = (desc.annotations or {}).get(COSIGN_KIND)
            tag = attachment_tag(desc)
            where = f"index.json entry {desc.digest}"
            source: Source = "cosign-layout"
            if kind in COSIGN_ATTACHMENT_KINDS:
                subject: str | None = str(top.digest)  # cosign save writes one image's sigs and atts
                where += f" ({kind.rpartition('/')[2]})"
            elif tag is not None and tag[1] is not None:
                subject, source = tag[0], "cosign-tag"
                where = f"tag {tag[0].replace(':', '-')}.{tag[1]}"
            else:
                subject = None  # a referrer, when its manifest's subject is one of ours
            if subject is not None and subject not in subjects:
                continue
            try:
                fetched = self.reader.fetch_manifest(desc.digest, declared=desc)
                if fetched.is_index:
                    continue  # an image of the layout, or a referrers index (its entries are listed too)
                manifest = fetched.as_manifest()
            except ProvenantError as exc:
                if subject is not None:
                    found.append(
                        Found(subject, source, where, desc.digest, "unknown", desc.media_type, error=exc.diagnostics())
                    )
                continue
            if subject is None:
                if manifest.subject is None or manifest.subject.digest not in subjects:
                    continue
                subject, source, where = manifest.subject.digest, "oci-referrers", f"referrer {desc.digest} (layout)"
            found.extend(self._layers(manifest, desc.digest, subject, source, where))
        return found


def _tags_job(finder: _Finder, subject: Subject) -> tuple[list[Found], bool | None]:
    return finder.cosign_tags(subject), None


def _subjects(top: FetchedManifest, platforms: list[PlatformSpec] | None) -> list[Subject]:
    if not top.is_index:
        return [Subject("manifest", str(top.digest), top.media_type, len(top.data))]
    out = [Subject("index", str(top.digest), top.media_type, len(top.data))]
    for desc in select_platforms(top.as_index(), platforms):
        plat = str(PlatformSpec.of(desc.platform)) if desc.platform else None
        out.append(Subject("platform", desc.digest, desc.media_type, desc.size, plat))
    return out


def discover(
    reader: ImageReader,
    client: RegistryClient | None,
    ref: Reference | None,
    platforms: list[PlatformSpec] | None = None,
    *,
    top: FetchedManifest | None = None,
    artifact_type: str | None = None,
    workers: int = 8,
    hints: RepositoryHints | None = None,
) -> Discovery:
    """Everything attached to the image ``reader`` resolves to (registry routes only when ``ref`` is given).

    ``artifact_type`` restricts the referrers route to artifacts of that type (the API's ``artifactType``
    filter; applied by hand to the tag fallback index). ``hints``: what the caller knows of the repository
    (its tags, whether it has the referrers API), shared across the images of one repository.
    """
    top = top or reader.resolve()
    subjects = _subjects(top, platforms)
    by_digest = {s.digest: s for s in subjects}
    finder = _Finder(reader, client, ref, artifact_type, hints)
    found: list[Found] = []
    notes: list[str] = []
    if top.is_index:
        found.extend(finder.buildkit(top, by_digest))
    if isinstance(reader.source, OciLayoutSource):
        found.extend(finder.layout(reader.source, top, by_digest))
        notes.append(
            "OCI layout: attachments were looked for in index.json (cosign save entries, sha256-<hex>.sig/.att/.sbom "
            "names, manifests with a subject)"
        )
        order = {s.digest: i for i, s in enumerate(subjects)}
        found.sort(key=lambda f: order.get(f.subject, len(order)))
        return Discovery(top, subjects, found, "not-applicable", notes)
    if client is None or ref is None:
        notes.append("not a registry: only attestations inside the index were looked for (no tags, no referrers)")
        return Discovery(top, subjects, found, "not-applicable", notes)

    jobs: list[Callable[[], tuple[list[Found], bool | None]]] = []
    for s in subjects:
        jobs.append(partial(_tags_job, finder, s))
        jobs.append(partial(finder.referrers, s))
    if workers <= 1:
        results = [job() for job in jobs]
    else:
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(jobs)))) as pool:
            results = list(pool.map(lambda job: job(), jobs))
    api_answers = set()
    for items, api in results:
        found.extend(items)
        if api is not None:
            api_answers.add(api)
    referrers = "api" if api_answers == {True} else "tag-fallback" if api_answers == {False} else "mixed"
    if referrers == "tag-fallback":
        notes.append("the registry has no referrers API (404); read the sha256-<hex> referrers tags instead")
    order = {s.digest: i for i, s in enumerate(subjects)}
    found.sort(key=lambda f: order.get(f.subject, len(order)))
    return Discovery(top, subjects, found, referrers, notes)
