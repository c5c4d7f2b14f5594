"""Image references: ``[registry[:port]/]path[:tag][@digest]`` with Docker Hub normalisation.

The grammar follows distribution/reference: the first path component is a registry host when it
contains ``.`` or ``:``, is ``localhost``, or is a bracketed IPv6 address; otherwise the image lives
on Docker Hub, and a single-component path gets the ``library/`` prefix.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from provenant.digest import Digest
from provenant.errors import InvalidReferenceError

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
_HUB_ALIASES = {"docker.io", "index.docker.io", "registry-1.docker.io"}
DEFAULT_TAG = "latest"

# Patterns are used with fullmatch (``$`` alone would accept a trailing newline).
_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_HOSTNAME = re.compile(r"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*$")
_IPV6 = re.compile(r"^\[[0-9a-fA-F:.]*:[0-9a-fA-F:.]*(?:%[0-9A-Za-z_.-]+)?\]$")
_MAX_NAME = 255


def api_host(registry: str) -> str:
    """The host to talk ``registry``'s API to (Docker Hub's API lives on another name)."""
    return DOCKER_HUB_API if registry == DOCKER_HUB else registry


class Reference(NamedTuple):
    """A parsed, normalised image reference (a named tuple, as :class:`~provenant.digest.Digest` says why)."""

    registry: str
    repository: str
    tag: str | None = None
    digest: Digest | None = None

    @classmethod
    def parse(cls, text: str) -> Reference:
        """Parse ``text``; a bad reference raises with the part that is wrong."""
        return parse_reference(text)

    @property
    def name(self) -> str:
        """``registry/repository`` without tag or digest."""
        return f"{self.registry}/{self.repository}"

    @property
    def api_host(self) -> str:
        """The host to talk the registry API to (Docker Hub's API lives on another name)."""
        return api_host(self.registry)

    @property
    def identifier(self) -> str:
        """What to ask the registry for: the digest when there is one, else the tag."""
        if self.digest is not None:
            return str(self.digest)
        return self.tag or DEFAULT_TAG

    def with_digest(self, digest: Digest) -> Reference:
        """The same name and tag, pinned to ``digest``."""
        return self._replace(digest=digest)

    def with_tag(self, tag: str) -> Reference:
        """The same name at ``tag`` with no digest."""
        return self._replace(tag=tag, digest=None)

    def __str__(self) -> str:
        out = self.name
        if self.tag is not None:
            out += f":{self.tag}"
        if self.digest is not None:
            out += f"@{self.digest}"
        return out


def _split_domain(name: str) -> tuple[str | None, str]:
    first, sep, rest = name.partition("/")
    if not sep:
        return None, name
    looks_like_host = (
        "." in first or ":" in first or first == "localhost" or first.startswith("[") or first.lower() != first
    )
    return (first, rest) if looks_like_host else (None, name)


def _validate_host(host: str, text: str) -> str:
    if host.startswith("["):
        addr, closed, port = host.partition("]")
        addr += closed
        if not closed or not _IPV6.fullmatch(addr):
            raise InvalidReferenceError(f"invalid registry host {host!r} in {text!r}: malformed IPv6 address")
        port = port.removeprefix(":") if port.startswith(":") else ("" if not port else "!")
    else:
        addr, _, port = host.partition(":")
        if not _HOSTNAME.fullmatch(addr):
            raise InvalidReferenceError(f"invalid registry host {addr!r} in {text!r}")
    if port and (not port.isdigit() or not 0 < int(port) < 65536):
        raise InvalidReferenceError(f"invalid registry port in {host!r} of {text!r}: expected 1-65535")
    return host


def parse_reference(text: str) -> Reference:
    """Parse an image reference and normalise Docker Hub names."""
    if not text or text != text.strip():
        raise InvalidReferenceError(f"invalid image reference {text!r}: empty or surrounded by whitespace")
    rest, at, digest_text = text.partition("@")
    digest = Digest.parse(digest_text) if at else None
    domain, path = _split_domain(rest)
    tag: str | None = None
    # A colon after the last slash is a tag separator; one before it belongs to the host:port.
    last = path.rfind("/")
    colon = path.rfind(":")
    if colon > last:
        path, tag = path[:colon], path[colon + 1 :]
        if not _TAG.fullmatch(tag):
            raise InvalidReferenceError(
                f"invalid tag {tag!r} in {text!r}: tags are 1-128 of [A-Za-z0-9_.-], not starting with . or -"
            )
    if domain is not None:
        domain = _validate_host(domain, text)
    if not path:
        raise InvalidReferenceError(f"invalid image reference {text!r}: missing repository name")
    for comp in path.split("/"):
        if not _COMPONENT.fullmatch(comp):
            raise InvalidReferenceError(
                f"invalid repository path component {comp!r} in {text!r}: "
                "use lowercase letters, digits and single separators (. _ __ -)"
            )
    registry = domain or DOCKER_HUB
    if registry in _HUB_ALIASES:
        registry = DOCKER_HUB
    if registry == DOCKER_HUB and "/" not in path:
        path = f"library/{path}"
    if len(f"{registry}/{path}") > _MAX_NAME:
        raise InvalidReferenceError(f"invalid image reference {text!r}: name longer than {_MAX_NAME} characters")
    if tag is None and digest is None:
        tag = DEFAULT_TAG
    return Reference(registry=registry, repository=path, tag=tag, digest=digest)
