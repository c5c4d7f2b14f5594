"""Image globs: ``*`` within a segment, ``**`` across, Docker Hub normalisation on both sides."""

from __future__ import annotations

import time

import pytest

from provenant.policy.match import matches, matches_registry, normalize_glob, validate_glob


@pytest.mark.parametrize(
    ("pattern", "normalised"),
    [
        ("nginx", "docker.io/library/nginx"),
        ("library/*", "docker.io/library/*"),
        ("acme/app", "docker.io/acme/app"),
        ("index.docker.io/nginx", "docker.io/library/nginx"),
        ("ghcr.io/acme/**", "ghcr.io/acme/**"),
        ("registry:5000/img", "registry:5000/img"),
        ("localhost/img", "localhost/img"),
        ("**", "**"),
        ("**/debian", "**/debian"),
    ],
)
def test_normalize(pattern: str, normalised: str) -> None:
    assert normalize_glob(pattern) == normalised


@pytest.mark.parametrize(
    ("pattern", "reference", "expected"),
    [
        ("nginx", "nginx:1.25", True),
        ("nginx", "docker.io/library/nginx@sha256:" + "a" * 64, True),
        ("docker.io/library/*", "nginx", True),
        ("docker.io/*", "library/nginx", False),  # * stays within one segment
        ("docker.io/**", "library/nginx", True),
        ("ghcr.io/acme/*", "ghcr.io/acme/team/app:1", False),
        ("ghcr.io/acme/**", "ghcr.io/acme/team/app:1", True),
        ("registry:5000/img", "registry:5000/img:1", True),  # the port is not a tag
        ("registry:5000/img:1", "registry:5000/img:2", False),
        ("registry:5000/img:1", "registry:5000/img:1", True),
        ("debian:12*", "debian:12-slim", True),
        ("debian:12*", "debian:bookworm", False),
        ("*.example.com/**", "r.example.com/a/b", True),
        ("*.example.com/**", "example.com/a/b", False),
        ("**/debian-base", "127.0.0.1:5000/debian-base:12", True),
        ("**/debian-base", "127.0.0.1:5000/x/debian-base-slim:12", False),
        ("**", "anything/at/all:1", True),
    ],
)
def test_matches(pattern: str, reference: str, expected: bool) -> None:
    assert matches(pattern, reference) is expected


@pytest.mark.parametrize("bad", ["", " nginx", "a**b", "ghcr.io/**x", "a//b", "***", "a@b@c", "tab\there"])
def test_invalid_globs(bad: str) -> None:
    with pytest.raises(ValueError, match="invalid image glob"):
        validate_glob(bad)


def test_registry_patterns() -> None:
    assert matches_registry("docker.io", "docker.io")
    assert matches_registry("index.docker.io", "docker.io")
    assert matches_registry("127.0.0.1:*", "127.0.0.1:5000")
    assert not matches_registry("ghcr.io", "ghcr.io.evil.com")
    assert matches_registry("*.gcr.io", "eu.gcr.io")


@pytest.mark.parametrize(
    ("target", "registry", "repository", "tag"),
    [
        ("registry:5000/img", "registry:5000", "img", "latest"),
        ("registry:5000/team/img:1", "registry:5000", "team/img", "1"),
        ("registry:ghcr.io/acme/app:2", "ghcr.io", "acme/app", "2"),  # the explicit registry: prefix
    ],
)
def test_registry_host_with_port_is_not_the_registry_prefix(
    target: str, registry: str, repository: str, tag: str
) -> None:
    """The target of ``policy check``: ``registry:5000/img`` is host ``registry`` port 5000, not a tag."""
    from provenant.sources.open import open_target
    from provenant.sources.registry import RegistryClient

    with RegistryClient() as client:
        opened = open_target(target, client)
    assert opened.reference is not None
    assert (opened.reference.registry, opened.reference.repository, opened.reference.tag) == (registry, repository, tag)


@pytest.mark.parametrize(
    ("purl", "reference", "pinned"),
    [
        ("pkg:docker/debian@12?platform=linux%2Famd64", "debian:12", False),
        ("pkg:docker/library/debian@12", "library/debian:12", False),
        # purl spec example: the namespace stays, repository_url is the registry
        ("pkg:docker/customer/dockerimage@1.0?repository_url=gcr.io", "gcr.io/customer/dockerimage:1.0", False),
        ("pkg:docker/app@1?repository_url=https://registry.example.com/", "registry.example.com/app:1", False),
        ("pkg:docker/app@1?repository_url=registry.example.com/team/app", "registry.example.com/team/app:1", False),
        ("pkg:docker/127.0.0.1%3A5000/img@sha256:" + "a" * 64, "127.0.0.1:5000/img@sha256:" + "a" * 64, True),
        ("pkg:docker/img@2?digest=sha256:" + "b" * 64, "img:2@sha256:" + "b" * 64, True),
    ],
)
def test_provenance_base_image_purls(purl: str, reference: str, pinned: bool) -> None:
    from provenant.policy.bases import purl_reference

    assert purl_reference(purl) == (reference, pinned)


def test_adversarial_glob_is_matched_in_linear_time() -> None:
    # `*a*a*a…b` against `aaaa…` backtracks exponentially in a regex translation (12 stars: minutes).
    glob = "**/" + "*a" * 28 + "b"
    assert len(glob) >= 60
    start = time.monotonic()
    assert not matches(glob, "registry.example/" + "a" * 60)
    assert not matches_registry("*a" * 30 + "b", "a" * 60)
    assert time.monotonic() - start < 0.1


@pytest.mark.parametrize(
    ("glob", "subject", "expected"),
    [
        ("**/x", "x", True),
        ("**/x", "a/b/x", True),
        ("**/x", "/x", False),  # **/ matches whole directory names, not an empty one
        ("a/**", "a/b/c", True),
        ("a*", "ab/c", False),
        ("a?c", "abc", True),
        ("a?c", "a/c", False),
        ("*.example.com", "r.example.com", True),
        ("", "", True),
        ("*a*a*b", "aaab", True),
    ],
)
def test_glob_match_semantics(glob: str, subject: str, expected: bool) -> None:
    import re

    from provenant.globs import glob_match, glob_to_regex

    assert glob_match(glob, subject) is expected
    assert bool(re.fullmatch(glob_to_regex(glob), subject)) is expected  # the same language as the regex form
