"""SPDX 2.3 JSON written directly: the bytes spdx-tools writes for the document of :mod:`provenant.sbom.spdx`.

spdx-tools type-checks every field of every model object as it is set and converts the document
property by property (10,000 packages: seconds). Here the same document is written from plain data:
the same fields and values (the helpers of :mod:`provenant.sbom.spdx`), keys in the order of
spdx-tools' converters, None and empty lists left out as they leave them out, and
``json.dump(indent=4)``'s text. ``tests/unit/test_sbom_encode_scaling.py`` checks byte equality with
spdx-tools on varied inputs. ``spdx_document`` (the model) stays for the tests, attestations and
``--validate``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from spdx_tools.spdx.validation.uri_validators import validate_url

from provenant.catalog.licenses import LICENSE_REF, spdx_expression
from provenant.jsontext import dumps_indented
from provenant.sbom import model
from provenant.sbom.fields import OS_TYPES, cpes, homepage, image_purl, is_application, platform_arch
from provenant.sbom.result import ImageSbom, ToolInfo
from provenant.sbom.spdx import (
    EXTRACTED_COMMENT,
    namespace,
    packages_in_order,
    source_info,
    spdx_id,
    supplier_parts,
)

Obj = dict[str, Any]
NOASSERTION = "NOASSERTION"
_CHECKSUMS = {"sha256": "SHA256", "sha512": "SHA512"}


def _created(when: datetime) -> str:
    """As spdx-tools writes a date: UTC, no microseconds, ``Z``."""
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return when.replace(microsecond=0).isoformat() + "Z"


def _checksums(digest: str) -> list[Obj]:
    algorithm, _, value = digest.partition(":")
    return [{"algorithm": _CHECKSUMS[algorithm], "checksumValue": value}] if algorithm in _CHECKSUMS and value else []


def _purl_refs(purl: str | None) -> list[Obj]:
    if not purl:
        return []
    return [{"referenceCategory": "PACKAGE_MANAGER", "referenceLocator": purl, "referenceType": "purl"}]


def _cpe_refs(pkg: model.Package) -> list[Obj]:
    return [{"referenceCategory": "SECURITY", "referenceLocator": c, "referenceType": "cpe23Type"} for c in cpes(pkg)]


def _package_obj(**fields: Any) -> Obj:
    """A package in spdx-tools' key order, without what it leaves out (None, empty lists)."""
    order = (
        "SPDXID",
        "checksums",
        "copyrightText",
        "description",
        "downloadLocation",
        "externalRefs",
        "filesAnalyzed",
        "homepage",
        "licenseConcluded",
        "licenseDeclared",
        "name",
        "primaryPackagePurpose",
        "sourceInfo",
        "supplier",
        "versionInfo",
    )
    return {k: fields[k] for k in order if fields.get(k) is not None and fields.get(k) != []}


def _supplier(text: str | None) -> str | None:
    if not text:
        return None
    parts = supplier_parts(text)
    if parts is None:
        return NOASSERTION
    name, email = parts
    return f"Organization: {name}" + (f" ({email})" if email else "")


def _package(pkg: model.Package, prefix: str) -> Obj:
    url = homepage(pkg)
    expression = spdx_expression(pkg.license_expression) if pkg.license_expression else None
    return _package_obj(
        SPDXID=spdx_id("Package", f"{pkg.type}-{pkg.name}", prefix, pkg.key()),
        name=pkg.name,
        versionInfo=pkg.version or None,
        downloadLocation=NOASSERTION,
        supplier=_supplier(pkg.supplier),
        filesAnalyzed=False,
        homepage=url if url and not validate_url(url) else None,
        licenseConcluded=NOASSERTION,
        licenseDeclared=expression or NOASSERTION,
        copyrightText=NOASSERTION,
        sourceInfo=source_info(pkg),
        description=pkg.description,
        externalRefs=_cpe_refs(pkg) + _purl_refs(pkg.purl) if pkg.cpes else _purl_refs(pkg.purl),
        primaryPackagePurpose="APPLICATION" if is_application(pkg) else "LIBRARY",
    )


def _image_package(img: ImageSbom) -> Obj:
    purl = image_purl(img.name, img.manifest_digest, arch=platform_arch(img.platform), tag=img.tag)
    return _package_obj(
        SPDXID=spdx_id("Image", f"{img.name}-{img.platform}", img.manifest_digest),
        name=f"{img.name} ({img.platform})",
        versionInfo=img.manifest_digest,
        downloadLocation=NOASSERTION,
        filesAnalyzed=False,
        checksums=_checksums(img.manifest_digest),
        licenseConcluded=NOASSERTION,
        licenseDeclared=NOASSERTION,
        copyrightText=NOASSERTION,
        externalRefs=_purl_refs(purl),
        primaryPackagePurpose="CONTAINER",
    )


def _relationship(element: str, kind: str, related: str) -> Obj:
    return {"spdxElementId": element, "relatedSpdxElement": related, "relationshipType": kind}


def _add_image(packages: list[Obj], relationships: list[Obj], img: ImageSbom, image: Obj) -> None:
    os_pkg = None
    if img.distro is not None:
        os_pkg = _package_obj(
            SPDXID=spdx_id("OperatingSystem", img.distro.purl_distro, img.platform, img.manifest_digest),
            name=img.distro.id,
            versionInfo=img.distro.version_id,
            downloadLocation=NOASSERTION,
            filesAnalyzed=False,
            description=img.distro.pretty_name,
            primaryPackagePurpose="OPERATING_SYSTEM",
        )
        packages.append(os_pkg)
        relationships.append(_relationship(image["SPDXID"], "CONTAINS", os_pkg["SPDXID"]))
    for pkg in packages_in_order(img):
        spdx_pkg = _package(pkg, img.platform)
        packages.append(spdx_pkg)
        relationships.append(_relationship(image["SPDXID"], "CONTAINS", spdx_pkg["SPDXID"]))
        if os_pkg is not None and pkg.type in OS_TYPES:
            relationships.append(_relationship(os_pkg["SPDXID"], "CONTAINS", spdx_pkg["SPDXID"]))


def spdx_json(
    images: Sequence[ImageSbom],
    tool: ToolInfo,
    *,
    merged_index: tuple[str, str] | None = None,
    namespace_seed: str | None = None,
    created: datetime | None = None,
) -> str:
    """What ``encode_spdx_json(spdx_document(…))`` writes for the same arguments."""
    if not images or (merged_index is None and len(images) != 1):
        raise ValueError(f"an SPDX document holds one image, or several with merged_index (got {len(images)})")
    first = images[0]
    packages: list[Obj] = []
    relationships: list[Obj] = []
    if merged_index is None:
        image = _image_package(first)
        packages.append(image)
        relationships.append(_relationship("SPDXRef-DOCUMENT", "DESCRIBES", image["SPDXID"]))
        _add_image(packages, relationships, first, image)
    else:
        index_digest = merged_index[1]
        index = _package_obj(
            SPDXID=spdx_id("Index", first.name, index_digest),
            name=first.name,
            versionInfo=index_digest,
            downloadLocation=NOASSERTION,
            filesAnalyzed=False,
            checksums=_checksums(index_digest),
            externalRefs=_purl_refs(image_purl(first.name, index_digest, tag=first.tag)),
            primaryPackagePurpose="CONTAINER",
        )
        packages.append(index)
        relationships.append(_relationship("SPDXRef-DOCUMENT", "DESCRIBES", index["SPDXID"]))
        for img in images:
            image = _image_package(img)
            packages.append(image)
            relationships.append(_relationship(index["SPDXID"], "CONTAINS", image["SPDXID"]))
            _add_image(packages, relationships, img, image)
    refs = sorted({r for p in packages for r in LICENSE_REF.findall(p.get("licenseDeclared", ""))})
    extracted = [
        {
            "comment": EXTRACTED_COMMENT,
            "extractedText": r[len("LicenseRef-") :],
            "licenseId": r,
            "name": r[len("LicenseRef-") :],
        }
        for r in refs
    ]
    doc: Obj = {
        "SPDXID": "SPDXRef-DOCUMENT",
        "creationInfo": {
            "created": _created(created or datetime.now(UTC)),
            "creators": [f"Tool: {tool.name}-{tool.version}"],
        },
        "dataLicense": "CC0-1.0",
        "hasExtractedLicensingInfos": extracted,
        "name": f"{first.name} {', '.join(img.platform for img in images)}",
        "spdxVersion": "SPDX-2.3",
        "documentNamespace": namespace(images, merged_index, namespace_seed),
        "packages": packages,
        "relationships": relationships,
    }
    if not extracted:
        del doc["hasExtractedLicensingInfos"]
    return dumps_indented(doc, "    ")
