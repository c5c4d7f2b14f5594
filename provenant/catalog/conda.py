"""conda environments: ``conda-meta/<name>-<version>-<build>.json``, one per installed package."""

from __future__ import annotations

import json
import posixpath
from typing import Any, ClassVar

from provenant.catalog.base import Cataloger, CatalogError, MiB, ParsedFile
from provenant.catalog.licenses import expression
from provenant.catalog.purls import purl_of
from provenant.sbom.model import Package
from provenant.structured import DepthError, load_json_text


def _channel(url: str) -> str:
    """``https://conda.anaconda.org/conda-forge/`` -> ``conda-forge`` (the purl's channel)."""
    return url.rstrip("/").rsplit("/", 1)[-1] if url else ""


_REQUIRED = ("name", "version")


class CondaCataloger(Cataloger):
    """Packages of a conda environment, with the files each installed (relative to the environment)."""

    name: ClassVar[str] = "conda"
    patterns: ClassVar[tuple[str, ...]] = ("**/conda-meta/*.json",)
    max_size: ClassVar[int] = 32 * MiB
    package_types: ClassVar[tuple[str, ...]] = ("conda",)

    def parse(self, path: str, data: bytes) -> ParsedFile:
        try:
            doc = load_json_text(data, "conda-meta JSON")
        except (UnicodeDecodeError, json.JSONDecodeError, DepthError) as exc:
            raise CatalogError(f"conda-meta file is not valid JSON: {exc}") from exc
        if not isinstance(doc, dict) or not all(isinstance(doc.get(k), str) and doc[k].strip() for k in _REQUIRED):
            raise CatalogError("conda-meta file without a name and version")
        prefix = posixpath.dirname(posixpath.dirname(path))  # the environment the files are relative to
        listed = doc.get("files")
        files = [posixpath.join(prefix, f) for f in listed if isinstance(f, str)] if isinstance(listed, list) else []
        return ParsedFile(packages=[self._package(doc, files)])

    def _package(self, doc: dict[str, Any], files: list[str]) -> Package:
        name, version = doc["name"], doc["version"]
        qualifiers = {
            "build": doc.get("build") if isinstance(doc.get("build"), str) else None,
            "channel": _channel(doc.get("channel") or "") if isinstance(doc.get("channel"), str) else None,
            "subdir": doc.get("subdir") if isinstance(doc.get("subdir"), str) else None,
        }
        license_ = doc.get("license")
        licenses = [license_] if isinstance(license_, str) and license_ else []
        return Package(
            name=name,
            version=version,
            type="conda",
            purl=purl_of("conda", None, name, version, {k: v for k, v in qualifiers.items() if v}),
            licenses=licenses,
            license_expression=expression(licenses),
            arch=doc.get("arch") if isinstance(doc.get("arch"), str) else None,
            metadata={k: str(v) for k, v in qualifiers.items() if v},
            files=files,
            found_by=self.name,
        )
