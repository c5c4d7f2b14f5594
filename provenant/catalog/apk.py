"""Alpine packages: ``lib/apk/db/installed`` (one record per package, blank-line separated)."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from typing import ClassVar

from provenant.catalog.base import Cataloger, CatalogError, Distro, MiB, ParsedFile, ViewFile
from provenant.catalog.licenses import expression
from provenant.catalog.purls import os_package_purl
from provenant.sbom.model import Package


def _records(data: bytes) -> Iterator[list[tuple[str, str]]]:
    """Records one at a time (the database is streamed: only the packages made of it are kept); lines
    are decoded one by one (a whole-file ``str`` or ``StringIO`` costs up to four bytes a character)."""
    current: list[tuple[str, str]] = []
    offset = 0
    for raw in io.BytesIO(data):  # shares ``data``'s buffer
        try:
            line = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError as exc:
            raise CatalogError(f"not UTF-8 text at byte {offset + exc.start}: not an apk database") from exc
        offset += len(raw)
        if not line.strip():
            if current:
                yield current
                current = []
            continue
        key, sep, value = line.partition(":")
        if sep and len(key) == 1:
            current.append((key, value))
    if current:
        yield current


class ApkCataloger(Cataloger):
    """apk's installed database."""

    name: ClassVar[str] = "apk"
    patterns: ClassVar[tuple[str, ...]] = ("lib/apk/db/installed", "usr/lib/apk/db/installed")
    max_size: ClassVar[int] = 64 * MiB
    package_types: ClassVar[tuple[str, ...]] = ("apk",)

    def parse(self, path: str, data: bytes) -> ParsedFile:
        parsed = ParsedFile()
        count = 0
        for record in _records(data):
            count += 1
            fields: dict[str, str] = {}
            files: list[str] = []
            directory = ""
            for key, value in record:
                if key == "F":
                    directory = value
                elif key == "R":
                    files.append(f"{directory}/{value}" if directory else value)
                else:
                    fields.setdefault(key, value)
            if not fields.get("P") or not fields.get("V"):
                parsed.issues.append(f"record without P:/V: ({' '.join(k + ':' + v for k, v in record[:3])!r}) skipped")
                continue
            licenses = [fields["L"]] if fields.get("L") else []
            meta = {k: fields[v] for k, v in (("build_time", "t"), ("commit", "c"), ("depends", "D")) if v in fields}
            parsed.packages.append(
                Package(
                    name=fields["P"],
                    version=fields["V"],
                    type="apk",
                    arch=fields.get("A"),
                    source_package=fields.get("o") or fields["P"],
                    supplier=fields.get("m"),
                    description=fields.get("T"),
                    homepage=fields.get("U"),
                    licenses=licenses,
                    license_expression=expression(licenses),
                    metadata=meta,
                    files=files,
                    found_by=self.name,
                )
            )
        if data.strip() and not count:
            raise CatalogError("no package records: not an apk database")
        if count and not parsed.packages:
            raise CatalogError("no valid package record: the apk database is corrupt")
        return parsed

    def assemble(self, files: Sequence[ViewFile], distro: Distro | None) -> list[Package]:
        return [self.complete(p.model_copy(), distro) for f in files for p in f.parsed.packages]

    def complete(self, pkg: Package, distro: Distro | None) -> Package:
        pkg.purl = os_package_purl("apk", "alpine", pkg, distro)
        return pkg
