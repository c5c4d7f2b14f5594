"""Base images of an image, from each kind of evidence, saying which evidence named them.

* ``provenance``: SLSA ``materials`` / ``resolvedDependencies`` of kind base-image (``pkg:docker/…``);
* ``annotations``: ``org.opencontainers.image.base.name`` / ``.base.digest`` on the manifest or its index entry;
* ``layers``: a trusted base image of the policy whose layers are a prefix of the image's layers;
* ``dockerfile``: the ``FROM`` lines of ``--dockerfile`` (used for pinning only: it says what was asked
  for, not what was built).
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass

from provenant.errors import ProvenantError
from provenant.evidence import BASE_DIGEST_ANNOTATION, BASE_NAME_ANNOTATION, Evidence, PlatformEvidence
from provenant.policy.model import SourceLocation
from provenant.reference import Reference, parse_reference


@dataclass(frozen=True)
class BaseCandidate:
    """One base image and where it was found."""

    source: str
    reference: Reference | None
    written: str  # as the evidence spelled it
    digest: str | None
    location: SourceLocation | None = None
    error: str | None = None
    #: The build asked for the base by digest (not a tag that was resolved to a digest at build time).
    pinned: bool = False

    @property
    def name(self) -> str:
        """The normalised reference, or what was written when it does not parse."""
        return str(self.reference) if self.reference is not None else self.written


def purl_reference(purl: str) -> tuple[str, bool]:
    """``pkg:docker/[namespace/]name@version?repository_url=…`` → (image reference text, pinned).

    The version is the tag or the digest the build asked for (a ``digest`` qualifier also means the
    build pinned it); ``repository_url`` (or a namespace that looks like a host) names the registry,
    otherwise Docker Hub.
    """
    body = purl.removeprefix("pkg:docker/")
    body, _, query = body.partition("?")
    path, _, version = body.partition("@")
    path = urllib.parse.unquote(path)
    qualifiers = urllib.parse.parse_qs(query)
    repo_url = qualifiers.get("repository_url", [None])[0]
    name = path
    if repo_url:
        repo = repo_url.split("://", 1)[-1].rstrip("/")
        last = path.rsplit("/", 1)[-1]
        # pkg:docker: repository_url is the registry and the namespace stays (gcr.io + customer/app);
        # some writers give the whole repository there, as pkg:oci does (gcr.io/customer/app + app).
        name = repo if repo.endswith(f"/{last}") else f"{repo}/{path}"
    version = urllib.parse.unquote(version) if version else ""
    pinned_digest = qualifiers.get("digest", [None])[0]
    if version.startswith("sha256:"):
        return f"{name}@{version}", True
    text = f"{name}:{version}" if version else name
    return (f"{text}@{pinned_digest}", True) if pinned_digest else (text, False)


def _candidate(
    source: str, written: str, digest: str | None, location: SourceLocation | None = None, *, pinned: bool = False
) -> BaseCandidate:
    try:
        ref: Reference | None = parse_reference(written)
    except ProvenantError as exc:
        return BaseCandidate(source, None, written, digest, location, exc.message)
    return BaseCandidate(source, ref, written, digest, location, pinned=pinned)


def from_provenance(p: PlatformEvidence) -> list[BaseCandidate]:
    """Base images named by the platform's provenance."""
    out: list[BaseCandidate] = []
    for _, prov in p.provenance():
        for dep in prov.base_images:
            if not dep.purl:
                continue
            text, pinned = purl_reference(dep.purl)
            sha = dep.digest.get("sha256")
            cand = _candidate("provenance", text, f"sha256:{sha}" if sha else None, pinned=pinned)
            if cand not in out:
                out.append(cand)
    return out


def from_annotations(p: PlatformEvidence) -> list[BaseCandidate]:
    """The base image named by the OCI base annotations."""
    name = p.annotations.get(BASE_NAME_ANNOTATION)
    digest = p.annotations.get(BASE_DIGEST_ANNOTATION)
    if not name:
        return []
    return [_candidate("annotations", name, digest or None, pinned="@" in name)]


def from_layers(ev: Evidence, p: PlatformEvidence, trusted: list[str]) -> tuple[list[BaseCandidate], list[str]]:
    """The trusted base with the longest layer prefix of the image; and problems resolving trusted bases."""
    best: tuple[int, BaseCandidate] | None = None
    problems: list[str] = []
    own = p.diff_ids
    for ref in trusted:
        tb = ev.trusted_base(ref, p.platform)
        if tb.error is not None:
            problems.append(f"{ref}: {tb.error}")
            continue
        n = len(tb.diff_ids)
        if n and own[:n] == list(tb.diff_ids) and (best is None or n > best[0]):
            best = (n, _candidate("layers", ref, tb.manifest_digest, pinned=True))
    return ([best[1]] if best else []), problems


def from_dockerfile(ev: Evidence) -> list[BaseCandidate]:
    """The external images the Dockerfile's FROM lines name."""
    if ev.dockerfile is None:
        return []
    out = []
    for f in ev.dockerfile.bases:
        loc = SourceLocation(path=ev.dockerfile.path, line=f.line)
        if f.reference is None:
            out.append(BaseCandidate("dockerfile", None, f.image or f.text, None, loc, f.error))
        else:
            out.append(BaseCandidate("dockerfile", f.reference, f.image, None, loc, pinned=f.pinned))
    return out
