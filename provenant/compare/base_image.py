"""The base image of an image, from the evidence that names it, and which evidence that was.

Order of preference:

1. SLSA provenance: the ``pkg:docker/...`` base images among v0.2 ``materials`` or v1
   ``buildDefinition.resolvedDependencies`` (BuildKit records every ``FROM`` there, with its digest);
2. the OCI annotations ``org.opencontainers.image.base.name`` / ``.base.digest`` on the manifest.

Layer-prefix matching against candidate images is not attempted: it needs a list of candidates.
"""

from __future__ import annotations

import urllib.parse
from typing import Literal

from pydantic import BaseModel, Field

from provenant.attest.evaluate import Attachment
from provenant.attest.provenance import Dependency
from provenant.image import PlatformImage

BASE_NAME_ANNOTATION = "org.opencontainers.image.base.name"
BASE_DIGEST_ANNOTATION = "org.opencontainers.image.base.digest"


class BaseImage(BaseModel):
    """The image this one was built from, as the evidence states it."""

    name: str | None = Field(description="repository[:tag] as the evidence names it")
    digest: str | None = Field(description="digest of the base image (often its index)")
    evidence: Literal["provenance", "annotations"]
    detail: str = Field(description="the field the facts were read from")
    trust: str | None = Field(default=None, description="trust label of the provenance attachment")
    also: list[str] = Field(
        default_factory=list, description="other base images the provenance lists (multi-stage builds)"
    )

    def same_as(self, other: BaseImage | None) -> bool:
        """Same base: equal digests when both have one, else equal names."""
        if other is None:
            return False
        if self.digest and other.digest:
            return self.digest == other.digest
        return self.name == other.name


def _purl_name(purl: str) -> str:
    """``pkg:docker/library/debian@12?platform=...`` → ``library/debian:12``."""
    body = purl[len("pkg:docker/") :].split("?", 1)[0].split("#", 1)[0]
    name, _, version = body.partition("@")
    name = urllib.parse.unquote(name)
    version = urllib.parse.unquote(version)
    if not version:
        return name
    return f"{name}@{version}" if version.startswith("sha256:") else f"{name}:{version}"


def _dep_name(dep: Dependency) -> str | None:
    return _purl_name(dep.purl) if dep.purl else dep.uri


def _from_dependencies(deps: list[Dependency], field: str, trust: str) -> BaseImage:
    first = deps[0]
    sha = first.digest.get("sha256")
    return BaseImage(
        name=_dep_name(first),
        digest=f"sha256:{sha}" if sha else None,
        evidence="provenance",
        detail=field,
        trust=trust,
        also=[n for n in (_dep_name(d) for d in deps[1:]) if n],
    )


def find_base_image(image: PlatformImage, attachments: list[Attachment]) -> BaseImage | None:
    """The base image per the provenance attached to ``image``, else per its manifest annotations."""
    for att in attachments:
        prov = att.provenance
        if prov is None or not prov.base_images:
            continue
        field = "materials" if prov.slsa_version == "v0.2" else "buildDefinition.resolvedDependencies"
        # Provenance does not say which stage is the final one; the first listed is reported, the rest in ``also``.
        return _from_dependencies(prov.base_images, field, att.trust)
    ann = image.manifest.annotations or {}
    name, digest = ann.get(BASE_NAME_ANNOTATION), ann.get(BASE_DIGEST_ANNOTATION)
    if name or digest:
        return BaseImage(
            name=name, digest=digest, evidence="annotations", detail=f"{BASE_NAME_ANNOTATION}, {BASE_DIGEST_ANNOTATION}"
        )
    return None
