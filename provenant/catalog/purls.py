"""purls of OS packages: the distro gives the namespace and the ``distro=`` qualifier."""

from __future__ import annotations

from packageurl import PackageURL

from provenant.catalog.base import Distro
from provenant.sbom.model import Package


def os_package_purl(purl_type: str, default_namespace: str, pkg: Package, distro: Distro | None) -> str:
    """``pkg:<type>/<distro id>/<name>@<version>?arch=…&distro=<id>-<version>&upstream=<source>``."""
    qualifiers: dict[str, str] = {}
    if pkg.arch:
        qualifiers["arch"] = pkg.arch
    if pkg.source_package and pkg.source_package != pkg.name:
        qualifiers["upstream"] = pkg.source_package
    if distro is not None:
        qualifiers["distro"] = distro.purl_distro
    namespace = distro.id if distro is not None else default_namespace
    return PackageURL(purl_type, namespace, pkg.name, pkg.version, qualifiers).to_string()
