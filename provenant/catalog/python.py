"""Python distributions: ``*.dist-info/METADATA``, ``*.egg-info/PKG-INFO`` (either case) and zipped ``.egg`` files.

The interpreter's own ``Python-X.Y.egg-info`` (Debian and old CPython installs) is the runtime,
not a PyPI package: it is skipped, as syft does.
"""

from __future__ import annotations

import csv
import io
import json
import lzma
import posixpath
import re
import zipfile
import zlib
from collections.abc import Sequence
from email.parser import BytesParser
from email.policy import compat32
from typing import ClassVar

from provenant.catalog.base import Cataloger, CatalogError, Distro, MiB, ParsedFile, ViewFile
from provenant.catalog.licenses import expression
from provenant.catalog.purls import purl_of
from provenant.sbom.model import Package
from provenant.structured import DepthError, load_json_text

_CLASSIFIER = "License :: OSI Approved :: "
_CLASSIFIER_SPDX = {
    "MIT License": "MIT",
    "Apache Software License": "Apache-2.0",
    "BSD License": "BSD-3-Clause",
    "ISC License (ISCL)": "ISC",
    "Python Software Foundation License": "PSF-2.0",
    "Mozilla Public License 2.0 (MPL 2.0)": "MPL-2.0",
    "GNU General Public License v3 (GPLv3)": "GPL-3.0-only",
    "GNU Lesser General Public License v3 (LGPLv3)": "LGPL-3.0-only",
}


def normalize_name(name: str) -> str:
    """PEP 503: lowercase, runs of ``-_.`` become one ``-``."""
    return re.sub(r"[-_.]+", "-", name).lower()


_MAX_METADATA = 4 * MiB
_EGG_METADATA = "EGG-INFO/PKG-INFO"


def _egg_metadata(data: bytes) -> bytes:
    """``EGG-INFO/PKG-INFO`` of a zipped egg, read no further than ``_MAX_METADATA`` whatever the zip claims."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            try:
                info = zf.getinfo(_EGG_METADATA)
            except KeyError as exc:
                raise CatalogError(f"zipped egg without {_EGG_METADATA}") from exc
            if info.file_size > _MAX_METADATA:
                raise CatalogError(f"{_EGG_METADATA} of {info.file_size} bytes is over {_MAX_METADATA}; not read")
            with zf.open(info) as f:
                # A forged header may understate the size: never inflate past the cap.
                out = f.read(_MAX_METADATA + 1)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, lzma.LZMAError, OSError, EOFError) as exc:
        raise CatalogError(f"zipped egg unreadable: {exc}") from exc
    except (RuntimeError, NotImplementedError, ValueError) as exc:  # encrypted, unknown compression
        raise CatalogError(f"zipped egg unreadable: {exc}") from exc
    if len(out) > _MAX_METADATA:
        raise CatalogError(f"{_EGG_METADATA} inflates past {_MAX_METADATA} bytes; not read")
    return out


def _record_files(path: str, data: bytes) -> list[str]:
    """The installed files a wheel's ``RECORD`` lists, as image paths (they are relative to site-packages)."""
    site = posixpath.dirname(posixpath.dirname(path))
    out = []
    rows = csv.reader(io.StringIO(data.decode("utf-8", "replace")))
    try:
        for row in rows:
            if row and row[0]:
                out.append(posixpath.normpath(posixpath.join(site, row[0])).lstrip("/"))
    except csv.Error as exc:
        raise CatalogError(f"RECORD is not valid CSV at line {rows.line_num}; its file list is not read") from exc
    return out


def _direct_url(data: bytes) -> dict[str, str]:
    """PEP 610 ``direct_url.json``: where pip installed it from (a VCS URL and commit, or an archive)."""
    try:
        doc = load_json_text(data, "direct_url.json")
    except (UnicodeDecodeError, json.JSONDecodeError, DepthError) as exc:
        raise CatalogError(f"direct_url.json is not valid JSON: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("url"), str):
        raise CatalogError("direct_url.json without a url")
    out = {"direct_url": doc["url"]}
    vcs = doc.get("vcs_info")
    if isinstance(vcs, dict):
        for key in ("vcs", "commit_id", "requested_revision"):
            if isinstance(vcs.get(key), str):
                out[f"vcs_{key}"] = vcs[key]
    return out


class PythonCataloger(Cataloger):
    """Installed Python distributions (wheels, pip, setuptools)."""

    name: ClassVar[str] = "python"
    patterns: ClassVar[tuple[str, ...]] = (
        "**/*.dist-info/METADATA",
        "**/*.egg-info/PKG-INFO",
        "**/*.egg-info",
        "**/*DIST-INFO/METADATA",
        "**/*EGG-INFO/PKG-INFO",
        "**/*.egg",
        "**/*.dist-info/RECORD",
        "**/*.dist-info/direct_url.json",
    )
    #: Zipped eggs are read whole; their PKG-INFO is held to ``_MAX_METADATA``.
    max_size: ClassVar[int] = 64 * MiB
    package_types: ClassVar[tuple[str, ...]] = ("pypi",)

    def parse(self, path: str, data: bytes) -> ParsedFile:
        if path.endswith("/RECORD"):
            return ParsedFile(facts={"files": _record_files(path, data)})
        if path.endswith("/direct_url.json"):
            return ParsedFile(facts=_direct_url(data))
        if path.endswith(".egg"):
            data = _egg_metadata(data)
        elif len(data) > _MAX_METADATA:
            raise CatalogError(f"package metadata of {len(data)} bytes is over {_MAX_METADATA}; not read")
        msg = BytesParser(policy=compat32).parsebytes(data, headersonly=True)
        name, version = msg.get("Name"), msg.get("Version")
        if not name or not version:
            raise CatalogError("package metadata without Name/Version")
        name, version = str(name).strip(), str(version).strip()
        if name == "Python":
            return ParsedFile()  # the interpreter's own egg-info: the runtime, not a PyPI package
        licenses: list[str] = []
        spdx = msg.get("License-Expression")
        if spdx:
            licenses.append(str(spdx).strip())
        else:
            for classifier in msg.get_all("Classifier") or []:
                text = str(classifier)
                if text.startswith(_CLASSIFIER):
                    short = text.removeprefix(_CLASSIFIER)
                    licenses.append(_CLASSIFIER_SPDX.get(short, short))
            lic = str(msg.get("License") or "").strip()
            if not licenses and lic and "\n" not in lic and len(lic) < 80 and lic.upper() != "UNKNOWN":
                licenses.append(lic)
        supplier = msg.get("Author-email") or msg.get("Author") or msg.get("Maintainer-email") or msg.get("Maintainer")
        homepage = msg.get("Home-page")
        for url in msg.get_all("Project-URL") or []:
            label, _, link = str(url).partition(",")
            if not homepage and label.strip().lower() in ("homepage", "home", "source"):
                homepage = link.strip()
        flat = path.endswith((".egg-info", ".egg"))
        site = posixpath.dirname(path if flat else posixpath.dirname(path))
        if site.endswith(".egg"):  # an unzipped egg: <site>/<name>.egg/EGG-INFO/PKG-INFO
            site = posixpath.dirname(site)
        return ParsedFile(
            packages=[
                Package(
                    name=name,
                    version=version,
                    type="pypi",
                    purl=purl_of("pypi", None, normalize_name(name), version),
                    licenses=licenses,
                    license_expression=expression(licenses),
                    supplier=str(supplier).strip() if supplier else None,
                    description=str(msg.get("Summary") or "").strip() or None,
                    homepage=str(homepage).strip() if homepage else None,
                    metadata={"site": site},
                    found_by=self.name,
                )
            ]
        )

    def assemble(self, files: Sequence[ViewFile], distro: Distro | None) -> list[Package]:
        """Each distribution with the files its ``RECORD`` lists and where ``direct_url.json`` says it came from."""
        extras: dict[str, dict[str, object]] = {}
        for f in files:
            if f.path.endswith(("/RECORD", "/direct_url.json")):
                extras.setdefault(posixpath.dirname(f.path), {}).update(f.parsed.facts)
        out = []
        for f in files:
            for pkg in f.parsed.packages:
                facts = extras.get(posixpath.dirname(f.path))
                if facts:
                    pkg = pkg.model_copy()  # noqa: PLW2901 - parsed packages are shared: never changed in place
                    listed = facts.get("files")
                    pkg.files = [str(x) for x in listed] if isinstance(listed, list) else []
                    pkg.metadata = {**pkg.metadata, **{k: str(v) for k, v in facts.items() if k != "files"}}
                out.append(pkg)
        return out
