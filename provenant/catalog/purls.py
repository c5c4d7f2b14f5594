"""purls as the catalogers write them: every SBOM format's form, or none when the library cannot make one."""

from __future__ import annotations

from packageurl import PackageURL

from provenant.catalog.base import Distro
from provenant.sbom.canonical_purl import canonical_purl
from provenant.sbom.model import Package


def purl_of(
    purl_type: str, namespace: str | None, name: str, version: str | None, qualifiers: dict[str, str] | None = None
) -> str | None:
    """The purl of these parts in the form packageurl-python writes back after reading it (what CycloneDX
    carries; SPDX and provenant's JSON then carry the same), or None when the library cannot write it or
    read it back: a name of only slashes or whitespace (``/``, ``/ /``, from a forged database) made it
    raise inside every encoder, and the package is listed without a purl instead.
    """
    try:
        return canonical_purl(PackageURL(purl_type, namespace, name, version, qualifiers).to_string())
    except (ValueError, TypeError):  # TypeError: the library's own failure on a name normalised to nothing
        return None


def os_package_purl(purl_type: str, default_namespace: str, pkg: Package, distro: Distro | None) -> str | None:
    """``pkg:<type>/<distro id>/<name>@<version>?arch=…&distro=<id>-<version>&upstream=<source>``."""
    qualifiers: dict[str, str] = {}
    if pkg.arch:
        qualifiers["arch"] = pkg.arch
    if pkg.source_package and pkg.source_package != pkg.name:
        qualifiers["upstream"] = pkg.source_package
    if distro is not None:
        qualifiers["distro"] = distro.purl_distro
    namespace = distro.id if distro is not None else default_namespace
    return purl_of(purl_type, namespace, pkg.name, pkg.version, qualifiers)
