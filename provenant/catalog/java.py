"""Java archives (jar, war, ear, Jenkins plugins): Maven coordinates, nested archives read in memory.

Evidence, best first: ``META-INF/maven/<group>/<artifact>/pom.properties`` (one package each, so
shaded jars list what they embed), else the ``pom.xml`` beside where it would be, else
``META-INF/MANIFEST.MF`` (Jenkins plugins' ``Short-Name``/``Plugin-Version`` too) and the file name,
where a ``group.artifact-version.jar`` name (sbt/Play ``lib/``) loses the group the manifest names. Nested archives
(``WEB-INF/lib``, ``BOOT-INF/lib``, any ``*.jar`` entry) are opened from memory up to
``Limits.archive_depth`` levels and ``Limits.file_bytes`` bytes in total, so a zip bomb costs an
issue, not the scan.
"""

from __future__ import annotations

import io
import lzma
import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from provenant import limits as _limits
from provenant.catalog.base import Cataloger, CatalogError, MiB, ParsedFile
from provenant.catalog.licenses import expression
from provenant.catalog.purls import purl_of
from provenant.limits import how_to_raise
from provenant.sbom.model import Package
from provenant.structured import text_only

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

ARCHIVE_SUFFIXES = (".jar", ".war", ".ear", ".jpi", ".hpi", ".par", ".sar", ".nar", ".kar", ".lpkg")
_MAX_TEXT = 1 * MiB  # pom.properties, pom.xml, MANIFEST.MF
_POM_PROPERTIES = re.compile(r"META-INF/maven/([^/]+)/([^/]+)/pom\.properties")
_POM_XML = re.compile(r"META-INF/maven/([^/]+)/([^/]+)/pom\.xml")
_VERSIONED_NAME = re.compile(r"(?P<name>.+?)-(?P<version>\d[\w.+~-]*)")
_PROPERTY = re.compile(r"\s*([^=:\s]+)\s*[=:\s]\s*(.*)")
# What reading a damaged or exotic zip can raise (RuntimeError also covers encrypted entries and
# unsupported compression methods, whose error class derives from it).
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    lzma.LZMAError,
    ValueError,
    OSError,
    EOFError,
    RuntimeError,
)
_MANIFEST_VERSIONS = ("Implementation-Version", "Plugin-Version", "Bundle-Version", "Specification-Version")
#: Manifest fields naming the artifact (Jenkins plugins) and its group, best first.
_MANIFEST_NAMES = ("Short-Name", "Extension-Name")
_MANIFEST_GROUPS = ("Implementation-Vendor-Id", "Group-Id")


class JavaCataloger(Cataloger):
    """Maven packages in Java archives, including archives nested inside them."""

    name: ClassVar[str] = "java"
    patterns: ClassVar[tuple[str, ...]] = tuple(f"**/*{s}" for s in ARCHIVE_SUFFIXES)
    max_size: ClassVar[int] = 128 * MiB
    package_types: ClassVar[tuple[str, ...]] = ("maven",)
    #: Bytes all nested archives and metadata files of one top-level archive may inflate to
    #: (None: ``Limits.file_bytes``).
    max_uncompressed: ClassVar[int | None] = None

    def parse(self, path: str, data: bytes) -> ParsedFile:
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
        except _ZIP_ERRORS as exc:
            raise CatalogError(f"not a readable zip archive: {exc}") from exc
        lim = _limits.current()
        budget = lim.file_bytes if self.max_uncompressed is None else self.max_uncompressed
        walk = _Walk(self.name, budget=budget, max_depth=lim.archive_depth)
        with archive:
            walk.archive(archive, posixpath.basename(path), depth=0)
        return ParsedFile(packages=walk.packages, issues=walk.issues)


@dataclass
class _Walk:
    """State of one top-level archive's walk: what was found, what went wrong, what is left to spend."""

    found_by: str
    budget: int
    max_depth: int
    packages: list[Package] = field(default_factory=list)
    issues: list[str] = field(default_factory=list)

    def archive(self, zf: zipfile.ZipFile, label: str, depth: int) -> None:
        # A damaged central directory can name an entry "" (ZipInfo.is_dir would raise on it).
        entries = {i.filename: i for i in zf.infolist() if i.filename and not i.is_dir()}
        nested_label = label if depth else None
        found = self._from_poms(zf, entries, label)
        if not found:
            found = self._from_pom_xmls(zf, entries, label)
        if not found:
            fallback = self._from_manifest(zf, entries, label)
            found = [fallback] if fallback else []
        for pkg in found:
            if nested_label:
                pkg.metadata["path_in_archive"] = nested_label
            self.packages.append(pkg)
        for name, info in entries.items():
            if name.lower().endswith(ARCHIVE_SUFFIXES):
                self._nested(zf, info, f"{label}!/{name}", depth + 1)

    def _nested(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo, label: str, depth: int) -> None:
        if depth > self.max_depth:
            hint = how_to_raise("archive_depth")
            self.issues.append(f"{label}: nested more than {self.max_depth} archives deep; not opened ({hint})")
            return
        data = self._read(zf, info, label, limit=self.budget)
        if data is None:
            return
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as inner:
                self.archive(inner, label, depth)
        except _ZIP_ERRORS as exc:
            self.issues.append(f"{label}: nested archive unreadable: {exc}")

    def _read(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo, label: str, limit: int) -> bytes | None:
        """An entry's bytes, charged to the walk's budget; None (and an issue) when too big or corrupt."""
        if info.file_size > min(limit, self.budget):
            if info.file_size > self.budget:
                what = f"uncompressed size limit ({how_to_raise('file_bytes')})"
            else:
                what = "size limit"
            self.issues.append(f"{label}: {info.file_size} bytes exceeds the {what}; not read")
            return None
        self.budget -= info.file_size
        try:
            with zf.open(info) as f:
                return f.read(info.file_size)
        except _ZIP_ERRORS as exc:
            self.issues.append(f"{label}: entry unreadable: {exc}")
            return None

    def _text(self, zf: zipfile.ZipFile, entries: dict[str, zipfile.ZipInfo], name: str, label: str) -> str | None:
        info = entries.get(name)
        if info is None:
            return None
        data = self._read(zf, info, f"{label}!/{name}", limit=_MAX_TEXT)
        return None if data is None else data.decode("utf-8", "replace")

    def _from_poms(self, zf: zipfile.ZipFile, entries: dict[str, zipfile.ZipInfo], label: str) -> list[Package]:
        out: list[Package] = []
        for name in sorted(entries):
            m = _POM_PROPERTIES.fullmatch(name)
            if not m:
                continue
            props = _properties(self._text(zf, entries, name, label) or "")
            group = props.get("groupId") or m.group(1)
            artifact = props.get("artifactId") or m.group(2)
            version = props.get("version")
            if not version:
                self.issues.append(f"{label}!/{name}: no version; ignored")
                continue
            pom = self._text(zf, entries, name.removesuffix("pom.properties") + "pom.xml", label)
            licenses = _pom_licenses(pom) if pom else []
            out.append(self._package(group, artifact, version, licenses, {"evidence": "pom.properties"}))
        return out

    def _from_pom_xmls(self, zf: zipfile.ZipFile, entries: dict[str, zipfile.ZipInfo], label: str) -> list[Package]:
        """Coordinates from ``META-INF/maven/<g>/<a>/pom.xml`` when no ``pom.properties`` is beside it."""
        out: list[Package] = []
        for name in sorted(entries):
            m = _POM_XML.fullmatch(name)
            if not m:
                continue
            pom = _pom_coordinates(self._text(zf, entries, name, label) or "")
            group = pom.get("groupId") or m.group(1)
            artifact = pom.get("artifactId") or m.group(2)
            version = pom.get("version", "")
            if not version or "${" in version:
                continue  # a property the build resolved, not written down here
            licenses = pom.get("licenses", "").split("\n") if pom.get("licenses") else []
            out.append(self._package(group, artifact, version, licenses, {"evidence": "pom.xml"}))
        return out

    def _from_manifest(self, zf: zipfile.ZipFile, entries: dict[str, zipfile.ZipInfo], label: str) -> Package | None:
        manifest = _manifest(self._text(zf, entries, "META-INF/MANIFEST.MF", label) or "")
        stem = text_only(posixpath.basename(label).rsplit(".", 1)[0])  # a file name may not be UTF-8
        m = _VERSIONED_NAME.fullmatch(stem)
        group = next((manifest[k] for k in _MANIFEST_GROUPS if manifest.get(k)), None)
        name = next((manifest[k] for k in _MANIFEST_NAMES if manifest.get(k)), None)
        if name is None:
            name = m.group("name") if m else stem
            if group and name.startswith(group + "."):
                name = name[len(group) + 1 :]  # sbt/Play: lib/<group>.<artifact>-<version>.jar
        version, source = next(
            ((manifest[k], f"manifest:{k}") for k in _MANIFEST_VERSIONS if manifest.get(k)), ("", "")
        )
        if not version and m:
            version, source = m.group("version"), "filename"
        if not version:
            return None
        evidence = {"evidence": "manifest" if source != "filename" else "filename", "version_from": source}
        return self._package(group, name, version, [], evidence)

    def _package(
        self, group: str | None, artifact: str, version: str, licenses: list[str], metadata: dict[str, str]
    ) -> Package:
        if group:
            metadata["group_id"] = group
        metadata["artifact_id"] = artifact
        return Package(
            name=artifact,
            version=version,
            type="maven",
            purl=purl_of("maven", group or None, artifact, version),
            licenses=licenses,
            license_expression=expression(licenses),
            metadata=metadata,
            found_by=self.found_by,
        )


def _properties(text: str) -> dict[str, str]:
    """Java ``.properties`` as Maven writes pom.properties: ``key=value`` lines, ``#`` comments."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        m = _PROPERTY.match(line)
        if m and not m.group(1).startswith(("#", "!")):
            out[m.group(1)] = m.group(2).strip()
    return out


def _manifest(text: str) -> dict[str, str]:
    """The main section of a manifest; continuation lines start with one space."""
    out: dict[str, str] = {}
    key = ""
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if not line:
            break  # end of the main section
        if line.startswith(" ") and key:
            out[key] += line[1:]
        elif ":" in line:
            key, _, value = line.partition(":")
            out[key] = value.strip()
    return out


def _pom_coordinates(pom: str) -> dict[str, str]:
    """groupId, artifactId, version (the parent's where the project inherits them) and licenses of a pom."""
    root = _pom_root(pom)
    if root is None:
        return {}
    out: dict[str, str] = {}
    parent: dict[str, str] = {}
    for el in root:
        tag = _local(el.tag)
        if tag == "parent":
            parent = {_local(c.tag): (c.text or "").strip() for c in el}
        elif tag in ("groupId", "artifactId", "version") and el.text and el.text.strip():
            out[tag] = el.text.strip()
    for key in ("groupId", "version"):
        if key not in out and parent.get(key):
            out[key] = parent[key]
    names = _pom_licenses(pom)
    if names:
        out["licenses"] = "\n".join(names)
    return out


def _pom_root(pom: str) -> ET.Element | None:
    if "<!DOCTYPE" in pom or "<!ENTITY" in pom:
        return None  # Maven poms never need one; refusing it rules out entity expansion
    import xml.etree.ElementTree as ET  # only for images with Java archives: not on every run's start-up

    try:
        return ET.fromstring(pom)  # noqa: S314 - DTDs refused above, so no entities to expand
    except ET.ParseError:
        return None


def _pom_licenses(pom: str) -> list[str]:
    """License names from a pom.xml's ``<licenses>``; nothing from a pom that declares a DTD."""
    root = _pom_root(pom)
    if root is None:
        return []
    names = []
    for el in root.iter():
        if _local(el.tag) == "licenses":
            for lic in el:
                for child in lic:
                    if _local(child.tag) == "name" and child.text and child.text.strip():
                        names.append(" ".join(child.text.split()))
    return names


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
