"""PHP Composer packages installed into ``vendor/``: ``vendor/composer/installed.json`` (Composer 1 and 2)."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from provenant.catalog.base import Cataloger, CatalogError, MiB, ParsedFile
from provenant.catalog.licenses import expression
from provenant.catalog.purls import purl_of
from provenant.sbom.model import Package
from provenant.structured import DepthError, load_json_text


def _str(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


class ComposerCataloger(Cataloger):
    """Packages Composer installed, from its own record of them."""

    name: ClassVar[str] = "composer"
    patterns: ClassVar[tuple[str, ...]] = ("**/vendor/composer/installed.json",)
    max_size: ClassVar[int] = 32 * MiB
    package_types: ClassVar[tuple[str, ...]] = ("composer",)

    def parse(self, path: str, data: bytes) -> ParsedFile:
        try:
            doc = load_json_text(data, "installed.json")
        except (UnicodeDecodeError, json.JSONDecodeError, DepthError) as exc:
            raise CatalogError(f"installed.json is not valid JSON: {exc}") from exc
        # Composer 1 wrote a list; Composer 2 an object with "packages" (and "dev-package-names").
        entries = doc.get("packages") if isinstance(doc, dict) else doc
        if not isinstance(entries, list):
            raise CatalogError("installed.json holds no package list")
        dev = set(_strings(doc.get("dev-package-names"))) if isinstance(doc, dict) else set()
        parsed = ParsedFile()
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict) or not _str(entry.get("name")) or not _str(entry.get("version")):
                parsed.issues.append(f"package {i}: no name and version; skipped")
                continue
            parsed.packages.append(self._package(entry, dev))
        return parsed

    def _package(self, entry: dict[str, Any], dev: set[str]) -> Package:
        name, version = str(entry["name"]).strip(), str(entry["version"]).strip()
        vendor, _, bare = name.rpartition("/")
        licenses = _strings(entry.get("license"))  # composer.json allows one string; installed.json a list
        raw_authors = entry.get("authors")
        authors = (
            [a.get("name") for a in raw_authors if isinstance(a, dict) and _str(a.get("name"))]
            if isinstance(raw_authors, list)
            else []
        )
        raw_source = entry.get("source")
        source: dict[str, Any] = raw_source if isinstance(raw_source, dict) else {}
        metadata = {
            k: v
            for k, v in (("source_url", _str(source.get("url"))), ("source_ref", _str(source.get("reference"))))
            if v
        }
        if name in dev:
            metadata["dev"] = "true"
        return Package(
            name=name,
            version=version,
            type="composer",
            purl=purl_of("composer", vendor or None, bare, version),
            licenses=licenses,
            license_expression=expression(licenses),
            supplier=", ".join(str(a) for a in authors) or None,
            description=_str(entry.get("description")),
            homepage=_str(entry.get("homepage")),
            metadata=metadata,
            found_by=self.name,
        )


def _strings(value: object) -> list[str]:
    """The strings of a JSON value that should be a list of strings (one string counts as a list of one)."""
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
