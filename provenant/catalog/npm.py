"""Installed npm packages: ``node_modules/<name>/package.json`` and ``node_modules/@scope/<name>/package.json``."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from provenant.catalog.base import Cataloger, CatalogError, MiB, ParsedFile
from provenant.catalog.licenses import expression
from provenant.catalog.purls import purl_of
from provenant.sbom.model import Package
from provenant.structured import DepthError, load_json_text


def _licenses(doc: dict[str, Any]) -> list[str]:
    raw = doc.get("license")
    legacy = doc.get("licenses")  # a list of {"type": ...} (or of ids), or one of them alone
    items: list[Any] = [raw] if raw is not None else legacy if isinstance(legacy, list) else [legacy]
    out = []
    for item in items:
        value = item.get("type") if isinstance(item, dict) else item  # legacy {"type": "MIT", "url": ...}
        if isinstance(value, str) and value.strip():
            out.append(value.strip())
    return out


def _person(value: Any) -> str | None:
    """``author``: "Name <email>" as written, or the legacy {"name": ..., "email": ...} joined."""
    if isinstance(value, dict):
        value = " ".join(v for k in ("name", "email") if isinstance(v := value.get(k), str) and v)
    return value.strip() or None if isinstance(value, str) else None


class NpmCataloger(Cataloger):
    """Packages installed into ``node_modules`` (nested dependencies included)."""

    name: ClassVar[str] = "npm"
    # Exactly one directory (or @scope/name) below node_modules: a package's own sub-folder
    # package.json files (node_modules/x/lib/package.json) are not installed packages.
    patterns: ClassVar[tuple[str, ...]] = ("**/node_modules/*/package.json", "**/node_modules/@*/*/package.json")
    max_size: ClassVar[int] = 2 * MiB
    package_types: ClassVar[tuple[str, ...]] = ("npm",)

    def parse(self, path: str, data: bytes) -> ParsedFile:
        if path.startswith("usr/share/nodejs/"):
            return ParsedFile()  # Debian's node-* packages: dpkg owns them
        try:
            doc = load_json_text(data, "package.json")
        except (UnicodeDecodeError, json.JSONDecodeError, DepthError) as exc:
            raise CatalogError(f"package.json is not valid JSON: {exc}") from exc
        if not isinstance(doc, dict) or not isinstance(doc.get("name"), str) or not isinstance(doc.get("version"), str):
            raise CatalogError("package.json without a name and version")
        name, version = doc["name"], doc["version"]
        scope, _, bare = name.rpartition("/")
        if not bare.strip() or not version.strip():
            raise CatalogError(f"package.json with an empty name or version ({name!r}@{version!r})")
        licenses = _licenses(doc)
        homepage = doc.get("homepage")
        return ParsedFile(
            packages=[
                Package(
                    name=name,
                    version=version,
                    type="npm",
                    purl=purl_of("npm", scope or None, bare, version),
                    licenses=licenses,
                    license_expression=expression(licenses),
                    supplier=_person(doc.get("author")),
                    description=doc.get("description") if isinstance(doc.get("description"), str) else None,
                    homepage=homepage if isinstance(homepage, str) else None,
                    found_by=self.name,
                )
            ]
        )
