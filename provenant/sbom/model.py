"""The internal package model every cataloger produces and every encoder consumes."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Location(BaseModel):
    """Where a package's evidence was found: a path in the image and the layer that holds it."""

    path: str = Field(description="path in the image filesystem, without a leading slash")
    layer_index: int = Field(description="0-based position of the layer in the image")
    layer_digest: str = Field(description="compressed layer digest (the manifest's descriptor)")
    diff_id: str = Field(description="uncompressed layer digest (the config's rootfs.diff_ids)")


class IntroducedIn(BaseModel):
    """The layer from which a package is present in every layer's view up to the top."""

    layer_index: int
    layer_digest: str
    diff_id: str
    created_by: str | None = Field(default=None, description="the history line that made the layer")


class Package(BaseModel):
    """One installed package, as found by one cataloger.

    Catalogers fill what the evidence says (name, version, type, licenses, metadata). ``purl`` is
    completed by the cataloger's ``assemble`` step, which knows the distro. Image-level code adds
    ``locations`` and ``introduced_in``.
    """

    name: str
    version: str
    type: str = Field(description="purl type: deb, apk, rpm, pypi, npm, golang, maven, ...")
    purl: str | None = None
    arch: str | None = None
    cpes: list[str] = Field(default_factory=list, description="CPE 2.3 names (binary classifiers), as syft emits them")
    licenses: list[str] = Field(default_factory=list, description="licenses as declared by the package")
    license_expression: str | None = Field(default=None, description="declared licenses as one SPDX expression")
    source_package: str | None = None
    supplier: str | None = Field(default=None, description="maintainer / vendor / author as declared")
    description: str | None = None
    homepage: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict, description="cataloger-specific facts")
    files: list[str] = Field(default_factory=list, description="files the package database says it installed")
    found_by: str = Field(description="name of the cataloger")
    locations: list[Location] = Field(default_factory=list)
    introduced_in: IntroducedIn | None = None

    def key(self) -> str:
        """Identity for de-duplication: the purl, or type/name@version when there is none."""
        return self.purl or f"{self.type}/{self.name}@{self.version}"

    def order(self) -> tuple[str, str, str, str]:
        """Where the package goes in every list of packages: by type, name, version, then identity."""
        return (self.type, self.name, self.version, self.key())
