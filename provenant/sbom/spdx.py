"""SPDX 2.3 JSON from SBOM results, built and validated with spdx-tools.

The image is a CONTAINER package the document DESCRIBES; it CONTAINS every package, and the OS
package (OPERATING_SYSTEM) CONTAINS the OS packages. Merged documents describe the index, which
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

from license_expression import ExpressionError, get_spdx_licensing
from spdx_tools.spdx.model.actor import Actor, ActorType
from spdx_tools.spdx.model.checksum import Checksum, ChecksumAlgorithm
from spdx_tools.spdx.model.document import CreationInfo, Document
from spdx_tools.spdx.model.extracted_licensing_info import ExtractedLicensingInfo
from spdx_tools.spdx.model.package import ExternalPackageRef, ExternalPackageRefCategory, Package, PackagePurpose
from spdx_tools.spdx.model.relationship import Relationship, RelationshipType
from spdx_tools.spdx.model.spdx_no_assertion import SpdxNoAssertion
from spdx_tools.spdx.writer.json.json_writer import write_document_to_stream

from provenant.errors import ProvenantError
from provenant.sbom import model
from provenant.sbom.cyclonedx import OS_TYPES, image_purl
from provenant.sbom.result import ImageSbom, ToolInfo

NAMESPACE_BASE = "https://provenant.dev/spdxdocs"
_ID_CHARS = re.compile(r"[^A-Za-z0-9.-]+")
_LICENSE_REF = re.compile(r"LicenseRef-[A-Za-z0-9.-]+")


def _spdx_id(*parts: str) -> str:
    text = "-".join(parts)
    short = hashlib.sha256(text.encode()).hexdigest()[:12]
    return f"SPDXRef-{_ID_CHARS.sub('-', text)[:60].strip('-')}-{short}"


def _declared(pkg: model.Package) -> Any:
    if pkg.license_expression:
        try:
            return get_spdx_licensing().parse(pkg.license_expression)
        except ExpressionError:
            pass
    return SpdxNoAssertion()


def _purl_ref(purl: str) -> ExternalPackageRef:
    return ExternalPackageRef(ExternalPackageRefCategory.PACKAGE_MANAGER, "purl", purl)


def _package(pkg: model.Package, prefix: str) -> Package:
    where = pkg.introduced_in
    source = None
    if pkg.locations:
        loc = pkg.locations[0]
        source = f"acquired from layer {loc.diff_id} at /{loc.path}"
    elif where is not None:
        source = f"acquired from layer {where.diff_id}"
    supplier = Actor(ActorType.ORGANIZATION, pkg.supplier.replace("\n", " ")) if pkg.supplier else SpdxNoAssertion()
    app = pkg.type == "golang" and pkg.metadata.get("main_module") == pkg.name
    return Package(
        spdx_id=_spdx_id("Package", prefix, pkg.type, pkg.name, pkg.key()),
        name=pkg.name,
        version=pkg.version,
        download_location=SpdxNoAssertion(),
        supplier=supplier,
        files_analyzed=False,
        license_concluded=SpdxNoAssertion(),
        license_declared=_declared(pkg),
        copyright_text=SpdxNoAssertion(),
        source_info=source,
        description=pkg.description,
        external_references=[_purl_ref(pkg.purl)] if pkg.purl else [],
        primary_package_purpose=PackagePurpose.APPLICATION if app else PackagePurpose.LIBRARY,
    )


def _image_package(img: ImageSbom) -> Package:
    arch = img.platform.split("/")[1] if "/" in img.platform else None
    return Package(
        spdx_id=_spdx_id("Image", img.platform, img.manifest_digest),
        name=f"{img.name} ({img.platform})",
        version=img.manifest_digest,
        download_location=SpdxNoAssertion(),
        files_analyzed=False,
        checksums=[Checksum(ChecksumAlgorithm.SHA256, img.manifest_digest.split(":", 1)[1])],
        license_concluded=SpdxNoAssertion(),
        license_declared=SpdxNoAssertion(),
        copyright_text=SpdxNoAssertion(),
        external_references=[_purl_ref(image_purl(img.name, img.manifest_digest, arch=arch, tag=img.tag))],
        primary_package_purpose=PackagePurpose.CONTAINER,
    )


def _add_image(doc: Document, img: ImageSbom, image: Package, prefix: str) -> None:
    os_pkg = None
    if img.distro is not None:
        os_pkg = Package(
            spdx_id=_spdx_id("OS", prefix, img.distro.id, img.distro.version_id or ""),
            name=img.distro.id,
            version=img.distro.version_id,
            download_location=SpdxNoAssertion(),
            files_analyzed=False,
            description=img.distro.pretty_name,
            primary_package_purpose=PackagePurpose.OPERATING_SYSTEM,
        )
        doc.packages.append(os_pkg)
        doc.relationships.append(Relationship(image.spdx_id, RelationshipType.CONTAINS, os_pkg.spdx_id))
    for pkg in img.packages:
        spdx_pkg = _package(pkg, prefix)
        doc.packages.append(spdx_pkg)
        doc.relationships.append(Relationship(image.spdx_id, RelationshipType.CONTAINS, spdx_pkg.spdx_id))
        if os_pkg is not None and pkg.type in OS_TYPES:
            doc.relationships.append(Relationship(os_pkg.spdx_id, RelationshipType.CONTAINS, spdx_pkg.spdx_id))


def spdx_document(
    images: Sequence[ImageSbom],
    tool: ToolInfo,
    *,
    merged_index: tuple[str, str] | None = None,
    created: datetime | None = None,
) -> Document:
    """One SPDX 2.3 document for one image, or for several platforms of an index (``merged_index``)."""
    digests = [merged_index[1]] if merged_index else [img.manifest_digest for img in images]
    first = images[0]
    name = f"{first.name}@{digests[0]}" if merged_index else f"{first.name} {first.platform}"
    namespace = f"{NAMESPACE_BASE}/{_ID_CHARS.sub('-', first.name)}-{uuid.uuid5(uuid.NAMESPACE_URL, ' '.join(digests))}"
    info = CreationInfo(
        spdx_version="SPDX-2.3",
        spdx_id="SPDXRef-DOCUMENT",
        name=name,
        document_namespace=namespace,
        creators=[Actor(ActorType.TOOL, f"{tool.name}-{tool.version}")],
        created=(created or datetime.now(UTC)).replace(microsecond=0),
    )
    doc = Document(info)
    if merged_index is None:
        image = _image_package(first)
        doc.packages.append(image)
        doc.relationships.append(Relationship("SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, image.spdx_id))
        _add_image(doc, first, image, first.platform)
        return doc
    index = Package(
        spdx_id=_spdx_id("Index", merged_index[1]),
        name=first.name,
        version=merged_index[1],
        download_location=SpdxNoAssertion(),
        files_analyzed=False,
        checksums=[Checksum(ChecksumAlgorithm.SHA256, merged_index[1].split(":", 1)[1])],
        external_references=[_purl_ref(image_purl(first.name, merged_index[1], tag=first.tag))],
        primary_package_purpose=PackagePurpose.CONTAINER,
    )
    doc.packages.append(index)
    doc.relationships.append(Relationship("SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, index.spdx_id))
    for img in images:
        image = _image_package(img)
        doc.packages.append(image)
        doc.relationships.append(Relationship(index.spdx_id, RelationshipType.CONTAINS, image.spdx_id))
        _add_image(doc, img, image, img.platform)
    return doc


def encode_spdx_json(doc: Document) -> str:
    """SPDX JSON; spdx-tools validates the document while writing and refuses an invalid one."""
    refs = sorted({r for p in doc.packages for r in _LICENSE_REF.findall(str(p.license_declared))})
    doc.extracted_licensing_info = [
        ExtractedLicensingInfo(
            license_id=r, extracted_text=r.removeprefix("LicenseRef-").replace("-", " "), license_name=r
        )
        for r in refs
    ]
    out = io.StringIO()
    try:
        write_document_to_stream(doc, out, validate=True)
    except ValueError as exc:
        raise ProvenantError(f"internal error: the SPDX document did not validate: {str(exc)[:300]}") from exc
    return out.getvalue()
