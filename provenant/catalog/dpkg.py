"""Debian packages: ``var/lib/dpkg/status``, distroless ``status.d/*``, ``info/*.list``, DEP-5 copyright."""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from provenant.catalog.base import Cataloger, CatalogError, Distro, MiB, ParsedFile, ViewFile
from provenant.catalog.licenses import expression
from provenant.catalog.purls import os_package_purl
from provenant.sbom.model import Package

if TYPE_CHECKING:
    from debian import deb822

STATUS = "var/lib/dpkg/status"
STATUS_D = "var/lib/dpkg/status.d/"
INFO = "var/lib/dpkg/info/"
DOC = "usr/share/doc/"


def _iter_paragraphs(text: str) -> list[deb822.Deb822]:
    # Imported here: python-debian (with its charset detection) costs ~25 ms, and a run whose layer
    # scans all come from the cache never parses a dpkg file.
    from debian import deb822

    return list(deb822.Deb822.iter_paragraphs(text.splitlines(keepends=True)))


def _paragraphs(data: bytes, path: str) -> list[deb822.Deb822]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CatalogError(f"not UTF-8 text at byte {exc.start}: not a dpkg database") from exc
    return _iter_paragraphs(text)


def _package(para: deb822.Deb822) -> Package | None:
    name, version = para.get("Package"), para.get("Version")
    if not name or not version:
        return None
    status = para.get("Status")
    if status is not None and status.split()[-1:] != ["installed"]:
        return None  # removed, half-installed or config-files only
    source = (para.get("Source") or name).split(" ", 1)[0]
    description = (para.get("Description") or "").split("\n", 1)[0] or None
    return Package(
        name=name,
        version=version,
        type="deb",
        arch=para.get("Architecture"),
        source_package=source,
        supplier=para.get("Maintainer"),
        description=description,
        homepage=para.get("Homepage"),
        found_by="dpkg",
    )


def _copyright_licenses(text: str) -> list[str]:
    """License short names of a DEP-5 machine-readable copyright file; [] for free-form files."""
    paras = _iter_paragraphs(text)
    if not paras or ("Format" not in paras[0] and "Format-Specification" not in paras[0]):
        return []
    out: list[str] = []
    for para in paras:
        lic = para.get("License")
        if lic:
            short = lic.split("\n", 1)[0].strip()
            if short and short not in out:
                out.append(short)
    return out


class DpkgCataloger(Cataloger):
    """dpkg's database and what it says about each package."""

    name: ClassVar[str] = "dpkg"
    patterns: ClassVar[tuple[str, ...]] = (STATUS, STATUS_D + "*", INFO + "*.list", DOC + "*/copyright")
    max_size: ClassVar[int] = 64 * MiB
    package_types: ClassVar[tuple[str, ...]] = ("deb",)

    def parse(self, path: str, data: bytes) -> ParsedFile:
        if path.startswith(INFO):
            files = [line.lstrip("/") for line in data.decode("utf-8", "replace").splitlines() if line.strip()]
            return ParsedFile(facts={"files": files})
        if path.startswith(DOC):
            licenses = _copyright_licenses(data.decode("utf-8", "replace"))
            # Normalised here, once per layer and cached, not at every assemble.
            return ParsedFile(facts={"licenses": licenses, "expression": expression(licenses)})
        if path.startswith(STATUS_D) and path.endswith(".md5sums"):
            return ParsedFile()
        parsed = ParsedFile()
        paras = _paragraphs(data, path)
        if data.strip() and not paras:
            raise CatalogError("no control paragraphs: not a dpkg database")
        for para in paras:
            pkg = _package(para)
            if pkg is not None:
                parsed.packages.append(pkg)
            elif not para.get("Package") or not para.get("Version"):
                parsed.issues.append(f"paragraph without Package/Version ({str(para)[:60]!r}) skipped")
        if paras and not parsed.packages and parsed.issues:
            raise CatalogError("no valid package paragraph: the dpkg database is corrupt")
        return parsed

    def assemble(self, files: Sequence[ViewFile], distro: Distro | None) -> list[Package]:
        listed: dict[str, list[str]] = {}
        licenses: dict[str, list[str]] = {}
        expressions: dict[str, str | None] = {}
        for f in files:
            if f.path.startswith(INFO):
                name = posixpath.basename(f.path).removesuffix(".list")
                listed[name] = list(f.parsed.facts.get("files", []))
            elif f.path.startswith(DOC):
                name = f.path.split("/")[3]
                licenses[name] = list(f.parsed.facts.get("licenses", []))
                expressions[name] = f.parsed.facts.get("expression")
        out = []
        for f in files:
            for pkg in f.parsed.packages:
                full = pkg.model_copy()
                full.files = listed.get(f"{pkg.name}:{pkg.arch}") or listed.get(pkg.name) or []
                full.licenses = licenses.get(pkg.name, [])
                full.license_expression = expressions.get(pkg.name)
                out.append(self.complete(full, distro))
        return out

    def complete(self, pkg: Package, distro: Distro | None) -> Package:
        pkg.purl = os_package_purl("deb", "debian", pkg, distro)
        return pkg
