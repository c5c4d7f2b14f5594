"""Debian packages: ``var/lib/dpkg/status``, distroless ``status.d/*``, ``info/*.list``, DEP-5 copyright."""

from __future__ import annotations

import io
import itertools
import posixpath
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import ClassVar

from provenant.catalog.base import Cataloger, CatalogError, Distro, MiB, ParsedFile, ViewFile
from provenant.catalog.licenses import expression
from provenant.catalog.purls import os_package_purl
from provenant.sbom.model import Package

STATUS = "var/lib/dpkg/status"
STATUS_D = "var/lib/dpkg/status.d/"
INFO = "var/lib/dpkg/info/"
DOC = "usr/share/doc/"

#: One control paragraph: lowercased field name -> the first line of its value (all this cataloger reads).
Paragraph = dict[str, str]


def _lines(data: bytes, what: str) -> Iterator[str]:
    """The lines of ``data`` as text, decoded one at a time (a whole-file ``str`` or ``StringIO`` of a
    63 MB file costs up to four bytes a character); not UTF-8 is a :class:`CatalogError`."""
    offset = 0
    for raw in io.BytesIO(data):  # shares ``data``'s buffer, splits at b"\n" only
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CatalogError(f"not UTF-8 text at byte {offset + exc.start}: not a {what}") from exc
        offset += len(raw)


def _iter_paragraphs(lines: Iterable[str]) -> Iterator[Paragraph]:
    """Control paragraphs (deb822), one at a time, keeping only each field's first line.

    A hand loop over lines, not python-debian's Deb822: that kept every paragraph of a 63 MB status
    file as objects (6 GB); this holds one paragraph at a time and what the caller keeps of it.
    """
    para: Paragraph = {}
    for line in lines:
        if not line.strip():
            if para:
                yield para
                para = {}
            continue
        if line[0] in " \t#":
            continue  # continuation line (only first lines are read) or comment
        key, sep, value = line.partition(":")
        if sep and key.strip():
            para.setdefault(key.strip().lower(), value.strip())
    if para:
        yield para


def _snippet(para: Paragraph) -> str:
    return "\n".join(f"{k}: {v}" for k, v in list(para.items())[:3])[:60]


_UPSTREAM = re.compile(r"\d[A-Za-z0-9.+~:-]*")
_REVISION = re.compile(r"[A-Za-z0-9.+~]+")


def valid_version(version: str) -> bool:
    """Whether ``version`` is a deb-version(7) dpkg accepts: ``[epoch:]upstream[-revision]`` (not ``1:5.#``)."""
    epoch, colon, rest = version.partition(":")
    if not colon:
        epoch, rest = "0", version
    upstream, dash, revision = rest.rpartition("-")
    if not dash:
        upstream, revision = rest, "0"
    if not epoch.isdigit() or _REVISION.fullmatch(revision) is None:
        return False
    # A colon in the upstream part is only possible after an epoch, and a dash only before a revision.
    return _UPSTREAM.fullmatch(upstream) is not None and (bool(colon) or ":" not in upstream)


def _package(para: Paragraph) -> Package | None:
    name, version = para.get("package"), para.get("version")
    if not name or not version:
        return None
    status = para.get("status")
    if status is not None and status.split()[-1:] != ["installed"]:
        return None  # removed, half-installed or config-files only
    source = (para.get("source") or name).split(" ", 1)[0]
    return Package(
        name=name,
        version=version,
        type="deb",
        arch=para.get("architecture"),
        source_package=source,
        supplier=para.get("maintainer"),
        description=para.get("description") or None,
        homepage=para.get("homepage"),
        found_by="dpkg",
    )


#: A license named by the path of its text on every Debian system ("see /usr/share/common-licenses/GPL-2").
_COMMON_LICENSE = re.compile(r"/usr/share/common-licenses/([A-Za-z0-9][A-Za-z0-9_.+-]*)")
#: The separators of a DEP-5 ``License:`` value: ``GPL-1+ or Artistic, and BSD-4-clause-POWERDOG``.
_DEP5_SPLIT = re.compile(r",?\s+(?:or|and)\s+|,\s*", re.IGNORECASE)
_SHORT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+_~-]*")
_EXCEPTION = re.compile(r"(\S+)\s+with\s+\S+\s+exception", re.IGNORECASE)


def _short_names(value: str) -> list[str]:
    """The license short names of one DEP-5 ``License:`` value; [] when it is free text, not names."""
    names = []
    for part in _DEP5_SPLIT.split(value):
        token = part.strip().rstrip(".,;")
        exception = _EXCEPTION.fullmatch(token)
        if exception is not None:
            token = exception.group(1)
        if not token:
            continue
        if _SHORT_NAME.fullmatch(token) is None:
            return []  # "This software is provided 'as-is'...": text, not a license name
        if token.lower() != "none":
            names.append(token)
    return names


def _copyright_licenses(text: str) -> list[str]:
    """License short names of a copyright file.

    From a DEP-5 machine-readable file: each ``License:`` value split into its short names (free
    text in that field is not a name). From any file: the licenses named by their path under
    ``/usr/share/common-licenses/``, which is how most free-form files state theirs.
    """
    out: list[str] = []
    paras = _iter_paragraphs(text.splitlines())
    head = next(paras, None)
    if head is not None and ("format" in head or "format-specification" in head):
        for para in itertools.chain([head], paras):
            for short in _short_names(para.get("license", "")):
                if short not in out:
                    out.append(short)
    for m in _COMMON_LICENSE.finditer(text):
        short = m.group(1).rstrip(".")
        if short not in out:
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
            # distroless has no .list files: its md5sums name the files a package installed.
            text = data.decode("utf-8", "replace")
            files = [parts[1].lstrip("*/") for line in text.splitlines() if len(parts := line.split(None, 1)) == 2]
            return ParsedFile(facts={"files": files})
        parsed = ParsedFile()
        count = 0
        for para in _iter_paragraphs(_lines(data, "dpkg database")):
            count += 1
            pkg = _package(para)
            if pkg is not None and not valid_version(pkg.version):
                # dpkg itself refuses such a version; a purl or a version comparison on it is garbage.
                parsed.issues.append(f"package {pkg.name!r} has an invalid version {pkg.version!r}; skipped")
            elif pkg is not None:
                parsed.packages.append(pkg)
            elif not para.get("package") or not para.get("version"):
                parsed.issues.append(f"paragraph without Package/Version ({_snippet(para)!r}) skipped")
        if data.strip() and not count:
            raise CatalogError("no control paragraphs: not a dpkg database")
        if count and not parsed.packages and parsed.issues:
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
            elif f.path.startswith(STATUS_D) and f.path.endswith(".md5sums"):
                name = posixpath.basename(f.path).removesuffix(".md5sums")
                listed.setdefault(name, list(f.parsed.facts.get("files", [])))
            elif f.path.startswith(DOC):
                name = f.path.split("/")[3]
                licenses[name] = list(f.parsed.facts.get("licenses", []))
                expressions[name] = f.parsed.facts.get("expression")
        out = []
        used: set[str] = set()
        for f in files:
            for pkg in f.parsed.packages:
                full = pkg.model_copy()
                # One .list belongs to one installed package: several paragraphs of one name (a
                # corrupt or forged status) must not each get a copy of the same list.
                list_name = next((n for n in (f"{pkg.name}:{pkg.arch}", pkg.name) if n in listed), None)
                if list_name is not None and list_name not in used:
                    used.add(list_name)
                    full.files = listed[list_name]
                full.licenses = licenses.get(pkg.name, [])
                full.license_expression = expressions.get(pkg.name)
                out.append(self.complete(full, distro))
        return out

    def complete(self, pkg: Package, distro: Distro | None) -> Package:
        pkg.purl = os_package_purl("deb", "debian", pkg, distro)
        return pkg
