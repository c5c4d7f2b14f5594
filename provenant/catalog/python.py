"""Python distributions: ``*.dist-info/METADATA`` and ``*.egg-info/PKG-INFO`` anywhere in the tree."""

from __future__ import annotations

import posixpath
import re
from email.parser import BytesParser
from email.policy import compat32
from typing import ClassVar

from packageurl import PackageURL

from provenant.catalog.base import Cataloger, CatalogError, MiB, ParsedFile
from provenant.catalog.licenses import expression
from provenant.sbom.model import Package

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


class PythonCataloger(Cataloger):
    """Installed Python distributions (wheels, pip, setuptools)."""

    name: ClassVar[str] = "python"
    patterns: ClassVar[tuple[str, ...]] = ("**/*.dist-info/METADATA", "**/*.egg-info/PKG-INFO", "**/*.egg-info")
    max_size: ClassVar[int] = 4 * MiB
    package_types: ClassVar[tuple[str, ...]] = ("pypi",)

    def parse(self, path: str, data: bytes) -> ParsedFile:
        msg = BytesParser(policy=compat32).parsebytes(data, headersonly=True)
        name, version = msg.get("Name"), msg.get("Version")
        if not name or not version:
            raise CatalogError("package metadata without Name/Version")
        name, version = str(name).strip(), str(version).strip()
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
        site = posixpath.dirname(posixpath.dirname(path) if not path.endswith(".egg-info") else path)
        return ParsedFile(
            packages=[
                Package(
                    name=name,
                    version=version,
                    type="pypi",
                    purl=PackageURL("pypi", None, normalize_name(name), version).to_string(),
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
