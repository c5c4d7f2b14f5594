"""Turn what the user typed into an image source.

``oci:DIR[:NAME]``, ``oci-archive:FILE[:NAME]``, ``docker-archive:FILE[:REPO:TAG]``, ``registry:REF``
or ``docker://REF`` say it explicitly; otherwise an existing directory is an OCI layout, an existing
file is a tarball, and anything else is a registry reference.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from provenant.errors import SourceError
from provenant.reference import Reference, parse_reference
from provenant.sources.archive import open_archive
from provenant.sources.base import ImageSource
from provenant.sources.filestore import DirStore
from provenant.sources.layout import OciLayoutSource
from provenant.sources.registry import RegistryClient, RegistrySource

_PORT_PATH = re.compile(r"\d+/")
_PREFIXES = ("oci:", "oci-archive:", "docker-archive:", "registry:", "docker://")


@dataclass
class Target:
    """An opened source and, for registries, the parsed reference."""

    source: ImageSource
    reference: Reference | None
    kind: str


def _split_path(spec: str) -> tuple[Path, str | None]:
    """``PATH[:SELECTOR]`` where PATH itself may contain colons: the longest existing prefix wins."""
    if Path(spec).exists():
        return Path(spec), None
    parts = spec.split(":")
    for i in range(len(parts) - 1, 0, -1):
        head = ":".join(parts[:i])
        if Path(head).exists():
            return Path(head), ":".join(parts[i:])
    raise SourceError(f"{spec.split(':', maxsplit=1)[0]}: no such file or directory")


def open_target(text: str, client: RegistryClient) -> Target:
    """Open the image source that ``text`` names; registry sources share ``client``."""
    kind = next((p for p in _PREFIXES if text.startswith(p)), None)
    if kind == "registry:" and _PORT_PATH.match(text, len(kind)):
        kind = None  # ``registry:5000/img`` is the host ``registry`` on port 5000, not the ``registry:`` prefix
    rest = text[len(kind) :] if kind else text
    if kind in ("registry:", "docker://"):
        ref = parse_reference(rest.removeprefix("//"))
        return Target(RegistrySource(ref, client), ref, "registry")
    if kind is None and not Path(text).exists() and not _has_existing_prefix(text):
        ref = parse_reference(text)
        return Target(RegistrySource(ref, client), ref, "registry")
    path, selector = _split_path(rest)
    if path.is_dir():
        if kind not in (None, "oci:"):
            raise SourceError(f"{path} is a directory, but {kind} expects a tarball")
        return Target(OciLayoutSource(DirStore(path), selector, "OCI layout"), None, "oci-layout")
    if kind == "oci:":
        raise SourceError(f"{path} is not a directory; oci: expects an OCI image layout directory")
    label = "OCI archive" if kind == "oci-archive:" else "docker-archive"
    source = open_archive(path, selector, label)
    return Target(source, None, "archive")


def _has_existing_prefix(text: str) -> bool:
    if text.startswith(("/", "./", "../", "~")):
        return True
    try:
        _split_path(text)
    except SourceError:
        return False
    return True
