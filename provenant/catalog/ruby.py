"""Ruby gems: installed ``specifications/*.gemspec`` and ``Gemfile.lock``.

A gemspec is Ruby code; it is never evaluated. The fields are read statically from the
``<var>.<field> = <literal>`` assignments that ``gem install`` writes (``s.name = "rack".freeze``):
string literals only, so a gemspec computing its fields yields what it spells out, or nothing.
"""

from __future__ import annotations

import re
from typing import ClassVar

from provenant.catalog.base import Cataloger, CatalogError, MiB, ParsedFile
from provenant.catalog.licenses import expression
from provenant.catalog.purls import purl_of
from provenant.sbom.model import Package

_FIELDS = ("name", "version", "license", "licenses", "homepage", "authors", "summary")
_ASSIGN = re.compile(r"^\s*\w+\.(" + "|".join(_FIELDS) + r")\s*=\s*(.{0,4096})$", re.MULTILINE)
_STRING = re.compile(r'"((?:[^"\\\n]|\\.){0,1024})"|\'((?:[^\'\\\n]|\\.){0,1024})\'')
_LITERAL = r"""(?:"(?:[^"\\\n]|\\.){0,1024}"|'(?:[^'\\\n]|\\.){0,1024}')(?:\.freeze)?"""
#: The whole right-hand side is a literal or an array of literals: anything else is code, and not read.
_LITERAL_VALUE = re.compile(rf"\s*(?:{_LITERAL}|\[\s*(?:{_LITERAL}\s*,\s*)*(?:{_LITERAL})?\s*\])\s*")
_UNICODE = re.compile(r"\\u([0-9a-fA-F]{4})")
#: ``    name (version)`` in a lockfile's ``specs:``; dependencies are indented further.
_LOCK_SPEC = re.compile(r"^    ([A-Za-z0-9_.-]+) \(([^)\s]+)\)$")


def _strings(value: str) -> list[str]:
    out = []
    for m in _STRING.finditer(value):
        text = m.group(1) if m.group(1) is not None else m.group(2)
        out.append(_UNICODE.sub(lambda u: chr(int(u.group(1), 16)), text).replace('\\"', '"'))
    return out


def _first(fields: dict[str, list[str]], key: str) -> str | None:
    values = fields.get(key)
    return values[0] if values else None


def _gem(name: str, version: str, found_by: str, **fields: object) -> Package:
    return Package(
        name=name,
        version=version,
        type="gem",
        purl=purl_of("gem", None, name, version),
        found_by=found_by,
        **fields,  # type: ignore[arg-type]
    )


class RubyCataloger(Cataloger):
    """Installed gems (gemspecs under ``specifications/``) and bundler lockfiles."""

    name: ClassVar[str] = "ruby"
    patterns: ClassVar[tuple[str, ...]] = ("**/specifications/*.gemspec", "**/Gemfile.lock")
    max_size: ClassVar[int] = 4 * MiB
    package_types: ClassVar[tuple[str, ...]] = ("gem",)

    def parse(self, path: str, data: bytes) -> ParsedFile:
        text = data.decode("utf-8", "replace")
        if path.endswith("Gemfile.lock"):
            return self._lockfile(text)
        fields: dict[str, list[str]] = {}
        for m in _ASSIGN.finditer(text):
            if _LITERAL_VALUE.fullmatch(m.group(2)):
                fields.setdefault(m.group(1), _strings(m.group(2)))
        name, version = (fields.get("name") or [""])[0], (fields.get("version") or [""])[0]
        if not name or not version:
            raise CatalogError("gemspec without a literal name and version (it is never run)")
        licenses = fields.get("licenses") or fields.get("license") or []
        authors = fields.get("authors") or []
        return ParsedFile(
            packages=[
                _gem(
                    name,
                    version,
                    self.name,
                    licenses=licenses,
                    license_expression=expression(licenses),
                    supplier=", ".join(authors) or None,
                    homepage=_first(fields, "homepage"),
                    description=_first(fields, "summary"),
                )
            ]
        )

    def _lockfile(self, text: str) -> ParsedFile:
        packages: list[Package] = []
        section = ""
        for line in text.splitlines():
            if line and not line[0].isspace():
                section = line.strip()
                continue
            if section in ("GEM", "GIT", "PATH"):  # specs from rubygems, git checkouts, local paths
                m = _LOCK_SPEC.match(line)
                if m:
                    packages.append(_gem(m.group(1), m.group(2), self.name, metadata={"source": "Gemfile.lock"}))
        return ParsedFile(packages=packages)
