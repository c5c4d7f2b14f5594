"""The hygiene report: evidence about bad practices inside an image, for the policy engine."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class SecretFinding(BaseModel):
    """A secret shipped in the image: in the config env, a history line, or a file of some layer."""

    rule: str = Field(description="stable kebab-case rule id, e.g. private-key, aws-access-key, secret-env")
    where: Literal["env", "history", "file"]
    path: str | None = Field(default=None, description='for files: "/path" in the image')
    layer_index: int | None = Field(default=None, description="the layer holding the file / made by the history line")
    deleted: bool = Field(
        default=False, description="the file is removed or replaced by a later layer, but still shipped in its layer"
    )
    detail: str = Field(description="what matched, redacted: never the secret value")


class ToolingFinding(BaseModel):
    """An installed OS package that is only needed to build software."""

    package: str
    version: str
    type: str = Field(description="package type: deb, rpm, apk")
    reason: str = Field(description='why it counts: "compiler", "build-essential", "development headers (-dev)", ...')


class CacheFinding(BaseModel):
    """A package-manager cache left in the final filesystem."""

    kind: str = Field(description="apt-lists, apt-archives, apk-cache, pip-cache, npm-cache, yarn-cache, ...")
    path: str = Field(description='the cache directory in the final view, e.g. "/var/lib/apt/lists"')
    files: int
    bytes: int


class WastedFile(BaseModel):
    """A regular file whose copy in ``layer_index`` is hidden by a later layer (still pulled)."""

    path: str = Field(description='"/path" in the image')
    layer_index: int
    size: int
    reason: Literal["overwritten", "deleted"]


class HygieneReport(BaseModel):
    """Everything :func:`provenant.hygiene.assess` finds in one platform image."""

    user: str | None = Field(description="the config User as written (None when unset)")
    runs_as_root: bool = Field(description='User unset, "", "0", "root", "0:<group>" or "root:<group>"')
    secrets: list[SecretFinding]
    build_tooling: list[ToolingFinding]
    caches: list[CacheFinding]
    wasted_bytes: int = Field(description="sum of wasted_files sizes")
    wasted_files: list[WastedFile] = Field(description="every hidden copy, largest first")
    size: int = Field(description="uncompressed bytes of all layers")
    compressed_size: int = Field(description="config plus layer descriptor sizes (what a pull transfers)")
