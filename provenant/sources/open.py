"""Turn what the user typed into an image source.

``oci:DIR[:NAME]``, ``oci-archive:FILE[:NAME]``, ``docker-archive:FILE[:REPO:TAG]``, ``registry:REF``
or ``docker://REF`` say it explicitly; otherwise an existing directory is an OCI layout, an existing
file is a tarball, and anything else is a registry reference.
"""

from __future__ import annotations

from dataclasses import dataclass

from provenant.errors import SourceError
from provenant.reference import Reference, parse_reference
from provenant.sources.archive import open_archive
from provenant.sources.base import ImageSource
from provenant.sources.filestore import DirStore
from provenant.sources.kind import registry_text, split_kind, split_path
from provenant.sources.layout import OciLayoutSource
from provenant.sources.registry import RegistryClient, RegistrySource


@dataclass
class Target:
    """An opened source and, for registries, the parsed reference."""

    source: ImageSource
    reference: Reference | None
    kind: str


def open_target(text: str, client: RegistryClient) -> Target:
    """Open the image source that ``text`` names; registry sources share ``client``."""
    registry = registry_text(text)
    if registry is not None:
        ref = parse_reference(registry)
        return Target(RegistrySource(ref, client), ref, "registry")
    kind, rest = split_kind(text)
    path, selector = split_path(rest)
    if path.is_dir():
        if kind not in (None, "oci:"):
            raise SourceError(f"{path} is a directory, but {kind} expects a tarball")
        return Target(OciLayoutSource(DirStore(path), selector, "OCI layout"), None, "oci-layout")
    if kind == "oci:":
        raise SourceError(f"{path} is not a directory; oci: expects an OCI image layout directory")
    label = "OCI archive" if kind == "oci-archive:" else "docker-archive"
    source = open_archive(path, selector, label)
    return Target(source, None, "archive")
