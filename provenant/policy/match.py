"""Image globs: ``*`` matches within one path segment, ``**`` across segments.

Patterns and references are normalised the same way first (``nginx`` → ``docker.io/library/nginx``),
so a pattern written as a user would type a reference matches what the registry calls the image. A
pattern without a tag or digest matches the image name whatever its tag; with one, the whole
reference must match (``docker.io/library/debian:12*``). Matching takes linear time whatever the glob
(:func:`provenant.globs.glob_match`): a policy glob such as ``**/*a*a*a…b`` cannot stall a run.
"""

from __future__ import annotations

from provenant.globs import glob_match
from provenant.reference import DOCKER_HUB, Reference

_HUB_ALIASES = ("docker.io", "index.docker.io", "registry-1.docker.io")


def validate_glob(pattern: str) -> str:
    """Raise ``ValueError`` naming the problem when ``pattern`` is not a valid image glob."""
    if not pattern or pattern != pattern.strip() or any(ch.isspace() for ch in pattern):
        raise ValueError(f"invalid image glob {pattern!r}: empty or contains whitespace")
    if "***" in pattern:
        raise ValueError(f"invalid image glob {pattern!r}: '***' is not a wildcard; use '*' or '**'")
    for segment in pattern.split("/"):
        if not segment:
            raise ValueError(f"invalid image glob {pattern!r}: empty path segment")
        if "**" in segment and segment != "**" and not segment.startswith("**@") and not segment.startswith("**:"):
            raise ValueError(f"invalid image glob {pattern!r}: '**' must be a whole path segment")
    if pattern.count("@") > 1:
        raise ValueError(f"invalid image glob {pattern!r}: more than one '@'")
    return pattern


def _looks_like_host(segment: str) -> bool:
    return "." in segment or ":" in segment or segment == "localhost" or segment.startswith("[")


def normalize_glob(pattern: str) -> str:
    """Docker Hub normalisation applied to a glob (``nginx`` → ``docker.io/library/nginx``)."""
    validate_glob(pattern)
    if pattern.startswith("**"):
        return pattern
    first, sep, rest = pattern.partition("/")
    if sep and _looks_like_host(first) and "*" not in first.split(":")[0].strip("*"):
        host = DOCKER_HUB if first in _HUB_ALIASES else first
        if host == DOCKER_HUB and "/" not in rest and not rest.startswith("*"):
            rest = f"library/{rest}"
        return f"{host}/{rest}"
    if sep and _looks_like_host(first):
        return pattern  # a wildcard host such as *.example.com
    if not sep:
        return f"{DOCKER_HUB}/library/{pattern}"
    return f"{DOCKER_HUB}/{pattern}"


def _has_tag_or_digest(pattern: str) -> bool:
    last = pattern.rsplit("/", 1)[-1]
    return "@" in pattern or ":" in last


def matches(pattern: str, reference: Reference | str) -> bool:
    """Does the (normalised) ``pattern`` match ``reference``?"""
    ref = reference if isinstance(reference, Reference) else Reference.parse(reference)
    glob = normalize_glob(pattern)
    subject = str(ref) if _has_tag_or_digest(glob) else ref.name
    if glob_match(glob, subject):
        return True
    # ``name:tag`` patterns still match a reference that also carries a digest, and vice versa.
    if ref.tag is not None and ref.digest is not None:
        return glob_match(glob, f"{ref.name}:{ref.tag}") or glob_match(glob, f"{ref.name}@{ref.digest}")
    return False


def matches_registry(pattern: str, registry: str) -> bool:
    """A registry pattern (``ghcr.io``, ``*.example.com``, ``docker.io``) against a registry host."""
    host = DOCKER_HUB if pattern in _HUB_ALIASES else pattern
    return glob_match(host, registry)
