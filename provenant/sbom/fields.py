"""What the SBOM encoders share: package and image fields as CycloneDX and SPDX both write them.

Light on purpose (no encoding library imported): the direct CycloneDX JSON encoder must not pay for
importing cyclonedx-python-lib's model.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from packageurl import PackageURL

from provenant.sbom.model import Package
from provenant.sbom.result import ImageSbom
from provenant.sbom.table import issue_text

OS_TYPES = frozenset({"deb", "apk", "rpm"})
P = "provenant:"
# Conservative: both formats reject homepages that are not URIs, and package metadata holds anything.
_HOMEPAGE = re.compile(r"https?://[^\s\"<>\\^`{|}]+")
# What cyclonedx-python-lib refuses as a URI (it raises): a stray '%', or two '#'.
_BAD_URI = re.compile(r"%(?![0-9A-F]{2})|#.*#", re.IGNORECASE)


def image_purl(name: str, digest: str, *, arch: str | None = None, tag: str | None = None) -> str:
    """``pkg:oci/<last path segment>@<digest>?arch=…&repository_url=<registry/path>&tag=…`` (purl spec).

    packageurl-python's canonical form keeps the digest's ``:`` unencoded; ``%3A`` parses the same.
    """
    qualifiers = {"repository_url": name}
    if arch:
        qualifiers["arch"] = arch
    if tag:
        qualifiers["tag"] = tag
    return PackageURL("oci", None, name.rstrip("/").rsplit("/", 1)[-1].lower(), digest, qualifiers).to_string()


def platform_arch(platform: str) -> str | None:
    """``amd64`` of ``linux/amd64`` (and of ``linux/arm64/v8``: the variant is not part of the purl)."""
    parts = platform.split("/")
    return parts[1] if len(parts) > 1 and parts[1] else None


def homepage(pkg: Package) -> str | None:
    """The package's homepage when it is a plain http(s) URL."""
    url = (pkg.homepage or "").strip()
    return url if _HOMEPAGE.fullmatch(url) and not _BAD_URI.search(url) else None


def is_application(pkg: Package) -> bool:
    """A Go main module (the go cataloger gives it ``main_package``) is an application; the rest are libraries."""
    return pkg.type == "golang" and bool(pkg.metadata.get("main_package"))


def property_pairs(pkg: Package) -> list[tuple[str, str]]:
    """The ``provenant:`` properties of a package, as (name, value) pairs."""
    props = [(f"{P}found-by", pkg.found_by)]
    layer = pkg.introduced_in or (pkg.locations[0] if pkg.locations else None)
    if layer is not None:
        props.append((f"{P}layer:index", str(layer.layer_index)))
        props.append((f"{P}layer:diff-id", layer.diff_id))
    if pkg.introduced_in is not None and pkg.introduced_in.created_by:
        props.append((f"{P}introduced-by", pkg.introduced_in.created_by))
    if pkg.source_package and pkg.source_package != pkg.name:
        props.append((f"{P}source-package", pkg.source_package))
    if pkg.arch:
        props.append((f"{P}arch", pkg.arch))
    props += [(f"{P}metadata:{k}", v) for k, v in sorted(pkg.metadata.items()) if v]
    return props


def issue_properties(images: Sequence[ImageSbom], merged: bool) -> list[tuple[str, str]]:
    """One ``provenant:issue`` (name, value) per scan issue; merged documents name the platform."""
    return [
        (f"{P}issue", f"{img.platform} {issue_text(i)}" if merged else issue_text(i))
        for img in images
        for i in img.issues
    ]
