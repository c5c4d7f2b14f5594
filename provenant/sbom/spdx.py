"""SPDX 2.3 JSON from SBOM results, built with spdx-tools.

The image is a CONTAINER package the document DESCRIBES; it CONTAINS every package, and the OS
package (OPERATING_SYSTEM) CONTAINS the OS packages. A package's CPEs are SECURITY ``cpe23Type``
external references, before its purl (PACKAGE_MANAGER ``purl``). Merged documents describe the index, which
CONTAINS each platform image. The namespace is derived from the digests, so it is stable.
"""

from __future__ import annotations

import hashlib
import io
import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from spdx_tools.spdx.model.actor import Actor, ActorType
from spdx_tools.spdx.model.checksum import Checksum, ChecksumAlgorithm
from spdx_tools.spdx.model.document import CreationInfo, Document
from spdx_tools.spdx.model.extracted_licensing_info import ExtractedLicensingInfo
from spdx_tools.spdx.model.package import ExternalPackageRef, ExternalPackageRefCategory, Package, PackagePurpose
from spdx_tools.spdx.model.relationship import Relationship, RelationshipType
from spdx_tools.spdx.model.spdx_no_assertion import SpdxNoAssertion
from spdx_tools.spdx.validation.uri_validators import validate_url
from spdx_tools.spdx.writer.json.json_writer import write_document_to_stream

from provenant.catalog.licenses import LICENSE_REF, parsed_expression, spdx_expression
from provenant.sbom import model
from provenant.sbom.fields import OS_TYPES, cpes, homepage, image_purl, is_application, platform_arch
from provenant.sbom.result import ImageSbom, ToolInfo

NAMESPACE_BASE = "https://provenant.dev/spdxdocs"
_ID_CHARS = re.compile(r"[^A-Za-z0-9.-]+")
_NAME_EMAIL = re.compile(r"(?P<name>.*?)\s*<(?P<email>[^<>\s]+@[^<>\s]+)>")
_CHECKSUMS = {"sha256": ChecksumAlgorithm.SHA256, "sha512": ChecksumAlgorithm.SHA512}


def spdx_id(kind: str, label: str, *identity: str) -> str:
    """``SPDXRef-<kind>-<label>-<hash>``: the label for readers, the hash (of the identity) for uniqueness.

    The label (which may hold a registry host) is left out of the hash, so the same content gets the
    same ids wherever it was pulled from.
    """
    short = hashlib.sha256("\0".join((kind, *identity)).encode()).hexdigest()[:12]
    clean = _ID_CHARS.sub("-", label)[:60].strip("-")
    return f"SPDXRef-{kind}-{clean}-{short}" if clean else f"SPDXRef-{kind}-{short}"


def _declared(pkg: model.Package) -> Any:
    expression = spdx_expression(pkg.license_expression) if pkg.license_expression else None
    return parsed_expression(expression) if expression else SpdxNoAssertion()


def supplier_parts(text: str | None) -> tuple[str, str | None] | None:
    """``Name <email>`` as (name, email) of an organization; None when there is no name at all.

    Parentheses would end the name in the written form (``Organization: name (email)``).
    """
    text = " ".join((text or "").split())
    m = _NAME_EMAIL.fullmatch(text)
    name, email = (m["name"], m["email"]) if m else (text, None)
    name = name.replace("(", "[").replace(")", "]").strip(' ,"')
    if not name:  # only an address: it is the best name there is
        name, email = email or "", None
    return (name, email) if name else None


def _supplier(text: str | None) -> Actor | SpdxNoAssertion:
    parts = supplier_parts(text)
    return Actor(ActorType.ORGANIZATION, *parts) if parts else SpdxNoAssertion()


def _purl_ref(purl: str) -> ExternalPackageRef:
    return ExternalPackageRef(ExternalPackageRefCategory.PACKAGE_MANAGER, "purl", purl)


def _cpe_refs(pkg: model.Package) -> list[ExternalPackageRef]:
    """One SECURITY ``cpe23Type`` reference per CPE, before the purl (as syft orders them)."""
    return [ExternalPackageRef(ExternalPackageRefCategory.SECURITY, "cpe23Type", c) for c in cpes(pkg)]


def _checksums(digest: str) -> list[Checksum]:
    algorithm, _, value = digest.partition(":")
    return [Checksum(_CHECKSUMS[algorithm], value)] if algorithm in _CHECKSUMS and value else []


def source_info(pkg: model.Package) -> str | None:
    if pkg.locations:
        return "acquired from " + "; ".join(f"layer {loc.diff_id} at /{loc.path.lstrip('/')}" for loc in pkg.locations)
    if pkg.introduced_in is not None:
        return f"acquired from layer {pkg.introduced_in.diff_id}"
    return None


def _package(pkg: model.Package, prefix: str) -> Package:
    url = homepage(pkg)
    return Package(
        spdx_id=spdx_id("Package", f"{pkg.type}-{pkg.name}", prefix, pkg.key()),
        name=pkg.name,
        version=pkg.version or None,
        download_location=SpdxNoAssertion(),
        supplier=_supplier(pkg.supplier) if pkg.supplier else None,
        files_analyzed=False,
        homepage=url if url and not validate_url(url) else None,
        license_concluded=SpdxNoAssertion(),
        license_declared=_declared(pkg),
        copyright_text=SpdxNoAssertion(),
        source_info=source_info(pkg),
        description=pkg.description,
        external_references=[*_cpe_refs(pkg), *([_purl_ref(pkg.purl)] if pkg.purl else [])],
        primary_package_purpose=PackagePurpose.APPLICATION if is_application(pkg) else PackagePurpose.LIBRARY,
    )


def _image_package(img: ImageSbom) -> Package:
    purl = image_purl(img.name, img.manifest_digest, arch=platform_arch(img.platform), tag=img.tag)
    return Package(
        spdx_id=spdx_id("Image", f"{img.name}-{img.platform}", img.manifest_digest),
        name=f"{img.name} ({img.platform})",
        version=img.manifest_digest,
        download_location=SpdxNoAssertion(),
        files_analyzed=False,
        checksums=_checksums(img.manifest_digest),
        license_concluded=SpdxNoAssertion(),
        license_declared=SpdxNoAssertion(),
        copyright_text=SpdxNoAssertion(),
        external_references=[_purl_ref(purl)],
        primary_package_purpose=PackagePurpose.CONTAINER,
    )


def _add_image(doc: Document, img: ImageSbom, image: Package) -> None:
    os_pkg = None
    if img.distro is not None:
        os_pkg = Package(
            spdx_id=spdx_id("OperatingSystem", img.distro.purl_distro, img.platform, img.manifest_digest),
            name=img.distro.id,
            version=img.distro.version_id,
            download_location=SpdxNoAssertion(),
            files_analyzed=False,
            description=img.distro.pretty_name,
            primary_package_purpose=PackagePurpose.OPERATING_SYSTEM,
        )
        doc.packages.append(os_pkg)
        doc.relationships.append(Relationship(image.spdx_id, RelationshipType.CONTAINS, os_pkg.spdx_id))
    for pkg in packages_in_order(img):
        spdx_pkg = _package(pkg, img.platform)
        doc.packages.append(spdx_pkg)
        doc.relationships.append(Relationship(image.spdx_id, RelationshipType.CONTAINS, spdx_pkg.spdx_id))
        if os_pkg is not None and pkg.type in OS_TYPES:
            doc.relationships.append(Relationship(os_pkg.spdx_id, RelationshipType.CONTAINS, spdx_pkg.spdx_id))


EXTRACTED_COMMENT = "license name as declared by the package; the text was not extracted"


def _extracted_licenses(doc: Document) -> list[ExtractedLicensingInfo]:
    """One entry per ``LicenseRef-`` used: SPDX requires them declared; provenant keeps no license texts."""
    refs = sorted({r for p in doc.packages for r in LICENSE_REF.findall(str(p.license_declared))})
    return [
        ExtractedLicensingInfo(
            license_id=r,
            extracted_text=r.removeprefix("LicenseRef-"),
            license_name=r.removeprefix("LicenseRef-"),
            comment=EXTRACTED_COMMENT,
        )
        for r in refs
    ]


def namespace(images: Sequence[ImageSbom], merged_index: tuple[str, str] | None, seed: str | None) -> str:
    """The document namespace: derived from the digests (and ``seed``), so stable."""
    digests = [*([merged_index[1]] if merged_index else []), *(img.manifest_digest for img in images)]
    identity = uuid.uuid5(uuid.NAMESPACE_URL, "\n".join([*digests, seed or ""]))
    return f"{NAMESPACE_BASE}/{_ID_CHARS.sub('-', images[0].name).strip('-')}-{identity}"


def packages_in_order(img: ImageSbom) -> list[model.Package]:
    """The order packages are written in."""
    return sorted(img.packages, key=model.Package.order)


def spdx_document(
    images: Sequence[ImageSbom],
    tool: ToolInfo,
    *,
    merged_index: tuple[str, str] | None = None,
    namespace_seed: str | None = None,
    created: datetime | None = None,
) -> Document:
    """One SPDX 2.3 document for one image, or for several platforms of an index (``merged_index``)."""
    if not images or (merged_index is None and len(images) != 1):
        raise ValueError(f"an SPDX document holds one image, or several with merged_index (got {len(images)})")
    first = images[0]
    info = CreationInfo(
        spdx_version="SPDX-2.3",
        spdx_id="SPDXRef-DOCUMENT",
        name=f"{first.name} {', '.join(img.platform for img in images)}",
        document_namespace=namespace(images, merged_index, namespace_seed),
        creators=[Actor(ActorType.TOOL, f"{tool.name}-{tool.version}")],
        created=(created or datetime.now(UTC)).replace(microsecond=0),
    )
    doc = Document(info)
    if merged_index is None:
        image = _image_package(first)
        doc.packages.append(image)
        doc.relationships.append(Relationship("SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, image.spdx_id))
        _add_image(doc, first, image)
    else:
        index_digest = merged_index[1]
        index = Package(
            spdx_id=spdx_id("Index", first.name, index_digest),
            name=first.name,
            version=index_digest,
            download_location=SpdxNoAssertion(),
            files_analyzed=False,
            checksums=_checksums(index_digest),
            external_references=[_purl_ref(image_purl(first.name, index_digest, tag=first.tag))],
            primary_package_purpose=PackagePurpose.CONTAINER,
        )
        doc.packages.append(index)
        doc.relationships.append(Relationship("SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, index.spdx_id))
        for img in images:
            image = _image_package(img)
            doc.packages.append(image)
            doc.relationships.append(Relationship(index.spdx_id, RelationshipType.CONTAINS, image.spdx_id))
            _add_image(doc, img, image)
    doc.extracted_licensing_info = _extracted_licenses(doc)
    return doc


def encode_spdx_json(doc: Document) -> str:
    """SPDX JSON, as spdx-tools writes it; ``sbom --validate`` checks it against the spec.

    Not validated here: spdx-tools' validation costs more than the encoding and the document is valid
    by construction (the tests validate it). Not de-duplicated either: that deep-copies the whole
    document to drop repeated list members, and every list built here holds distinct members.
    """
    out = io.StringIO()
    write_document_to_stream(doc, out, validate=False, drop_duplicates=False)
    return out.getvalue()
