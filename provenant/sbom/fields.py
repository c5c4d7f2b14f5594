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
# An http(s) IRI by RFC 3987's grammar (CycloneDX JSON's "iri-reference", as jsonschema checks it with
# rfc3987-syntax: ucschar only in the BMP), the IP-literal host left out. Package metadata holds anything,
# and a homepage outside this grammar made the whole CycloneDX document invalid (a damaged gemspec's
# 'https://github.c\ufffdm/rack/rack'). '[' and ']' are kept in a path, query or fragment: the CycloneDX
# writers percent-encode them as cyclonedx-python-lib does, and SPDX's own URL check decides for SPDX.
_UCS = "\u00a0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef"
_PCT = "%[0-9A-Fa-f]{2}"
_REG = f"(?:[-A-Za-z0-9._~{_UCS}!$&'()*+,;=]|{_PCT})"  # iunreserved, sub-delims, pct-encoded
_PCHAR = f"(?:[-A-Za-z0-9._~{_UCS}!$&'()*+,;=:@\\[\\]]|{_PCT})"
_HOMEPAGE = re.compile(
    f"https?://(?:(?:{_REG}|:)*@)?{_REG}+(?::[0-9]*)?"  # userinfo, host, port
    f"(?:/{_PCHAR}*)*(?:\\?(?:{_PCHAR}|[/?\ue000-\uf8ff])*)?(?:#(?:{_PCHAR}|[/?])*)?"  # path, query, fragment
)
# A CPE 2.3 formatted string (NISTIR 7695 6.2): part, then ten attributes, each ANY (*), NA (-) or a
# value of unreserved or backslash-quoted characters with optional wildcards at either end; the
# language attribute is a language tag (as SPDX 2.3's cpe23Type pattern has it).
_CPE_VALUE = r"(?:[*-]|(?:\?+|\*)?(?:[A-Za-z0-9._-]|\\[\\*?!\"#$%&'()+,/:;<=>@\[\]^`{|}~])+(?:\?+|\*)?)"
_CPE_LANGUAGE = r"(?:[*-]|[A-Za-z]{2,3}(?:-(?:[A-Za-z]{2}|[0-9]{3}))?)"
_CPE23 = re.compile(rf"cpe:2\.3:[aho*-](?::{_CPE_VALUE}){{5}}:{_CPE_LANGUAGE}(?::{_CPE_VALUE}){{4}}")


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
    return url if _HOMEPAGE.fullmatch(url) else None


def cpes(pkg: Package) -> list[str]:
    """The package's CPEs the SBOM formats carry: each once, in the cataloger's order (the most specific
    first, as syft orders them), only well-formed CPE 2.3 names (SPDX refuses others, and a malformed
    name matches no vulnerability record; provenant's own JSON keeps ``Package.cpes`` as found)."""
    if not pkg.cpes:
        return []
    return [c for c in dict.fromkeys(pkg.cpes) if _CPE23.fullmatch(c)]


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


#: The longest ``version`` CycloneDX 1.6's schema accepts (``maxLength``).
CYCLONEDX_MAX_VERSION = 1024


def cyclonedx_version(version: str | None) -> tuple[str | None, list[tuple[str, str]]]:
    """CycloneDX's ``version`` of a component, and the properties that go with it.

    A version over the schema's 1,024 characters (package metadata holds anything: a damaged composer
    database gave one of 5,000) made the whole document invalid. It is left out of ``version`` and kept
    whole in a ``provenant:version`` property (properties have no length limit).
    """
    if version is None or len(version) <= CYCLONEDX_MAX_VERSION:
        return version, []
    return None, [(f"{P}version", version)]


def cpe_fields(pkg: Package) -> tuple[str | None, list[tuple[str, str]]]:
    """CycloneDX's one ``cpe`` (the first CPE) and a ``provenant:cpe23`` property for each other one.

    syft writes the others as ``syft:cpe23`` properties; this is the same name in provenant's namespace.
    """
    found = cpes(pkg)
    if not found:
        return None, []
    return found[0], [(f"{P}cpe23", c) for c in found[1:]]


def issue_properties(images: Sequence[ImageSbom], merged: bool) -> list[tuple[str, str]]:
    """One ``provenant:issue`` (name, value) per scan issue; merged documents name the platform."""
    return [
        (f"{P}issue", f"{img.platform} {issue_text(i)}" if merged else issue_text(i))
        for img in images
        for i in img.issues
    ]
