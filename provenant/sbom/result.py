"""The result of ``provenant sbom``: per platform image, its layers, packages and scan issues."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from provenant.catalog.base import Distro
from provenant.sbom.model import Package


class ScanIssue(BaseModel):
    """A problem that did not stop the scan: a corrupt database, a file over the size cap, ..."""

    reason: str
    path: str | None = None
    layer_index: int | None = None
    layer_digest: str | None = None
    cataloger: str | None = None


class LayerInfo(BaseModel):
    """One layer of an image as scanned."""

    index: int
    digest: str = Field(description="compressed digest (manifest descriptor)")
    diff_id: str = Field(description="uncompressed digest (config rootfs.diff_ids)")
    media_type: str
    size: int = Field(description="compressed size in bytes")
    uncompressed_size: int
    file_count: int
    created_by: str | None = Field(default=None, description="history line that made the layer")
    from_cache: bool = False


class ImageSbom(BaseModel):
    """Everything installed in the final filesystem of one platform image."""

    name: str = Field(description="repository (registry/path) or the local source's path")
    tag: str | None = None
    platform: str
    manifest_digest: str
    index_digest: str | None = Field(default=None, description="the index the platform was selected from")
    config_digest: str
    created: datetime | None = None
    distro: Distro | None = None
    layers: list[LayerInfo]
    packages: list[Package]
    issues: list[ScanIssue] = Field(default_factory=list)


class ToolInfo(BaseModel):
    """The tool that produced the SBOM."""

    name: str = "provenant"
    version: str
    vendor: str = "provenant"


class SbomResult(BaseModel):
    """``provenant sbom``: one :class:`ImageSbom` per selected platform."""

    reference: str
    source: str
    digest: str = Field(description="digest of what the reference resolved to (index or manifest)")
    media_type: str
    tool: ToolInfo
    images: list[ImageSbom]
