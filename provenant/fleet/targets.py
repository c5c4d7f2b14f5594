"""What ``fleet scan TARGET...`` means: expand targets into (repository, tag) references.

A TARGET is one of

* ``REGISTRY/REPO`` — every tag of the repository; ``REGISTRY/REPO:TAG`` or ``@DIGEST`` — that one;
* ``REGISTRY/team/*`` — a glob over the repositories of ``/v2/_catalog`` (``*`` within a path segment,
  ``**`` across), every tag of each;
* ``oci:DIR`` or an existing directory — every ``ref.name`` of an OCI image layout (``DIR:NAME``: one);
* ``@FILE`` — a file of targets, one a line (blank lines and ``#`` comments ignored; no nesting).

Tag filters (``--tag GLOB``, ``--newest N`` by semver or by created date) apply to every listed tag;
an explicit ``:TAG`` is taken as given.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, NamedTuple, Protocol

from provenant.errors import UsageError
from provenant.fleet.onthreads import on_threads
from provenant.globs import glob_match
from provenant.reference import Reference, parse_reference
from provenant.sources.kind import registry_text, split_kind, split_path

if TYPE_CHECKING:
    from datetime import datetime

#: Characters that make a repository path a glob over the catalog.
_GLOB = re.compile(r"[*?]")
#: Tags that hold attachments, not images: cosign's ``sha256-<hex>.sig/.att/.sbom`` and the OCI
#: referrers tag fallback ``sha256-<hex>``.
_ATTACHMENT_TAG = re.compile(r"^sha256-[0-9a-f]{64}(?:\.(?:sig|att|sbom))?$")
#: Lines read from one ``@FILE`` at most (a file of references is input we did not write).
MAX_FILE_LINES = 100_000


class Lister(Protocol):
    """What expanding a repository or a glob asks a registry (:class:`~provenant.sources.registry.RegistryClient`)."""

    def list_tags(self, ref: Reference) -> list[str]: ...

    def list_repositories(self, registry: str) -> list[str]: ...


class NotARegistryTarget(Exception):
    """Raised by :func:`expand` with ``registry_only`` for a target that is not in a registry (an OCI layout)."""


class ImageRef(NamedTuple):
    """One reference to scan: ``text`` is what :func:`provenant.sources.open.open_target` opens."""

    repository: str
    tag: str | None
    text: str
    registry: bool


class TagFilter(NamedTuple):
    """``--tag`` globs (any may match; none: all tags) and ``--newest N`` by ``order``."""

    globs: tuple[str, ...] = ()
    newest: int | None = None
    order: str = "semver"  # or "created"

    def select(self, tags: Sequence[str], created: Callable[[str], datetime | None]) -> list[str]:
        """The tags this filter keeps, in the input order (newest first when ``newest`` is set)."""
        kept = [t for t in tags if not self.globs or any(glob_match(g, t) for g in self.globs)]
        if self.newest is None:
            return kept
        if self.order == "semver":
            from provenant.fleet.versions.semver import parse_tag

            ranked = [(v, t) for t in kept if (v := parse_tag(t)) is not None]
            ranked.sort(key=lambda vt: vt[0], reverse=True)
            return [t for _, t in ranked[: self.newest]]
        dated = [(d, t) for t in kept if (d := created(t)) is not None]
        dated.sort(key=lambda dt: dt[0], reverse=True)
        return [t for _, t in dated[: self.newest]]


def _explicit_tag(text: str) -> bool:
    """Whether a registry reference names a tag or digest itself (``repo:tag``, ``repo@sha256:...``)."""
    if "@" in text:
        return True
    return ":" in text.rsplit("/", 1)[-1]


def _file_lines(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8") as fh:
            lines = []
            for n, raw in enumerate(fh):
                if n >= MAX_FILE_LINES:
                    raise UsageError(f"@{path}: more than {MAX_FILE_LINES} lines; split the file")
                line = raw.strip()
                if line and not line.startswith("#"):
                    lines.append(line)
            return lines
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the target file @{path}: {getattr(exc, 'strerror', None) or exc}") from None


def _layout_refs(text: str, filt: TagFilter) -> list[ImageRef]:
    from provenant.sources.filestore import DirStore
    from provenant.sources.layout import OciLayoutSource, _ref_names

    _kind, rest = split_kind(text)
    path, selector = split_path(rest)
    if not path.is_dir():
        raise UsageError(f"{text}: fleet scan reads registries and OCI layout directories, not tarballs")
    repo = str(path.absolute())
    if selector is not None:
        return [ImageRef(repo, selector, f"oci:{repo}:{selector}", registry=False)]
    source = OciLayoutSource(DirStore(path), None, "OCI layout")
    try:
        names = [n for d in source.index.manifests for n in _ref_names(d)]
        digests = [d.digest for d in source.index.manifests if not _ref_names(d)]
    finally:
        source.close()
    tags = filt.select(list(dict.fromkeys(names)), lambda _t: None)
    out = [ImageRef(repo, t, f"oci:{repo}:{t}", registry=False) for t in tags]
    if not filt.globs and filt.newest is None:
        out += [ImageRef(repo, None, f"oci:{repo}:{d}", registry=False) for d in digests]
    return out


def _repo_refs(
    client: Lister,
    ref: Reference,
    filt: TagFilter,
    created: Callable[[str], datetime | None],
    listed: dict[str, frozenset[str]] | None,
) -> list[ImageRef]:
    every = client.list_tags(ref)
    if listed is not None:
        listed[ref.name] = frozenset(every)
    tags = [t for t in every if not _ATTACHMENT_TAG.match(t)]
    keep = filt.select(tags, lambda t: created(f"{ref.name}:{t}"))
    return [ImageRef(ref.name, t, f"{ref.name}:{t}", registry=True) for t in keep]


def expand(
    targets: Iterable[str],
    client: Lister,
    filt: TagFilter,
    created: Callable[[str], datetime | None],
    *,
    listed: dict[str, frozenset[str]] | None = None,
    registry_only: bool = False,
    _nested: bool = False,
) -> list[ImageRef]:
    """Every reference the targets name, without duplicates, in target order.

    ``listed`` receives every tag (attachment tags included) of each repository whose tags were listed.
    ``registry_only``: raise :class:`NotARegistryTarget` at the first target that is not in a registry.
    """
    out: dict[tuple[str, str | None, str], ImageRef] = {}
    for text in targets:
        if text.startswith("@") and not _nested:
            found = expand(
                _file_lines(text[1:]), client, filt, created, listed=listed, registry_only=registry_only, _nested=True
            )
        elif text.startswith("@"):
            raise UsageError(f"{text}: a target file cannot name another target file")
        else:
            found = _expand_one(text, client, filt, created, listed, registry_only=registry_only)
        for r in found:
            out.setdefault((r.repository, r.tag, r.text), r)
    return list(out.values())


def _expand_one(
    text: str,
    client: Lister,
    filt: TagFilter,
    created: Callable[[str], datetime | None],
    listed: dict[str, frozenset[str]] | None,
    *,
    registry_only: bool = False,
) -> list[ImageRef]:
    reg = registry_text(text)
    if reg is None:
        if registry_only:
            raise NotARegistryTarget(text)
        return _layout_refs(text, filt)
    host, slash, path = reg.partition("/")
    if slash and _GLOB.search(path):
        if "." not in host and ":" not in host and host != "localhost":
            raise UsageError(f"{text}: a repository glob needs the registry host first (REGISTRY/team/*)")
        pattern = path.split("@", 1)[0]
        if ":" in pattern.rsplit("/", 1)[-1]:
            raise UsageError(f"{text}: a repository glob takes no tag; use --tag GLOB to filter tags")
        refs = [
            parse_reference(f"{host}/{repo}") for repo in client.list_repositories(host) if glob_match(pattern, repo)
        ]
        # Each repository's tags are a round trip: asked at once, not one after another.
        found = on_threads(lambda ref: _repo_refs(client, ref, filt, created, listed), refs)
        return [r for refs_of_repo in found for r in refs_of_repo or ()]
    ref = parse_reference(reg)
    if _explicit_tag(reg):
        tag = ref.tag if ref.digest is None else None
        return [ImageRef(ref.name, tag, str(ref), registry=True)]
    return _repo_refs(client, ref, filt, created, listed)
