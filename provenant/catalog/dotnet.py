""".NET dependencies: the ``*.deps.json`` the SDK writes beside every application and library."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from provenant.catalog.base import Cataloger, CatalogError, MiB, ParsedFile
from provenant.catalog.purls import purl_of
from provenant.sbom.model import Package
from provenant.structured import DepthError, load_json_text

#: Library kinds that are NuGet packages or the application's own projects (reference assemblies are not).
_KINDS = ("package", "project")


class DotnetCataloger(Cataloger):
    """NuGet packages and projects listed in ``libraries`` of ``*.deps.json``."""

    name: ClassVar[str] = "dotnet"
    patterns: ClassVar[tuple[str, ...]] = ("**/*.deps.json",)
    #: Real ones are a few hundred KiB (the largest apps' a few MiB); every library becomes a package.
    max_size: ClassVar[int] = 4 * MiB
    package_types: ClassVar[tuple[str, ...]] = ("nuget",)

    def parse(self, path: str, data: bytes) -> ParsedFile:
        try:
            doc = load_json_text(data.removeprefix(b"\xef\xbb\xbf"), "deps.json")
        except (UnicodeDecodeError, json.JSONDecodeError, DepthError) as exc:
            raise CatalogError(f"deps.json is not valid JSON: {exc}") from exc
        libraries = doc.get("libraries") if isinstance(doc, dict) else None
        if not isinstance(libraries, dict):
            raise CatalogError("deps.json without a libraries object")
        parsed = ParsedFile()
        for key, info in libraries.items():
            name, sep, version = key.partition("/")
            if not sep or not name or not version or not isinstance(info, dict):
                parsed.issues.append(f"library {key[:80]!r}: not name/version; skipped")
                continue
            kind = info.get("type")
            if kind not in _KINDS:
                continue
            parsed.packages.append(self._package(name, version, str(kind), info))
        return parsed

    def _package(self, name: str, version: str, kind: str, info: dict[str, Any]) -> Package:
        metadata = {"library_type": kind}
        for field in ("sha512",):
            if isinstance(info.get(field), str) and info[field]:
                metadata[field] = info[field]
        return Package(
            name=name,
            version=version,
            type="nuget",
            purl=purl_of("nuget", None, name, version),
            metadata=metadata,
            found_by=self.name,
        )
