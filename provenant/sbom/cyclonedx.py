"""CycloneDX 1.6 (JSON and XML) from SBOM results, built with cyclonedx-python-lib.

The image is ``metadata.component`` (a container); the OS is an ``operating-system`` component that
depends on the OS packages; every package carries its purl, licenses, ``evidence.occurrences`` for its
locations and ``provenant:`` properties for layer attribution. With several platforms merged, the index
is the metadata component and each platform is a container component holding its packages.

The library orders components itself (type, group, name, version, bom-ref); that order is total, so
equal inputs with equal serial and timestamp give equal bytes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Literal
from uuid import UUID

from cyclonedx.model import ExternalReference, ExternalReferenceType, Property, XsUri
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.component_evidence import ComponentEvidence, Occurrence
from cyclonedx.model.contact import OrganizationalEntity
from cyclonedx.model.license import DisjunctiveLicense, LicenseExpression
from cyclonedx.model.tool import ToolRepository
from cyclonedx.output import make_outputter
from cyclonedx.schema import OutputFormat, SchemaVersion
from license_expression import ExpressionError, ExpressionParseError, get_spdx_licensing
from packageurl import PackageURL

from provenant.sbom.model import Package
from provenant.sbom.result import ImageSbom, ToolInfo
from provenant.sbom.table import issue_text
from provenant.textsafe import xml_safe

OS_TYPES = frozenset({"deb", "apk", "rpm"})
P = "provenant:"
LICENSE_REF = re.compile(r"LicenseRef-[A-Za-z0-9.-]+")
# Conservative: both formats reject homepages that are not URIs, and package metadata holds anything.
_HOMEPAGE = re.compile(r"https?://[^\s\"<>\\^`{|}]+")


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


@cache
def spdx_expression(text: str) -> str | None:
    """``text`` as a canonical SPDX expression, or None unless every symbol is an SPDX id or ``LicenseRef-``."""
    licensing = get_spdx_licensing()
    try:
        parsed = licensing.parse(text)
    except ExpressionError:
        return None
    if parsed is None:
        return None
    if any(not LICENSE_REF.fullmatch(s) for s in licensing.validate(parsed).invalid_symbols):
        return None
    try:
        licensing.parse(str(parsed), validate=True, strict=True)
    except ExpressionParseError:  # an exception used as a license or the other way round
        return None
    except ExpressionError:  # unknown keys: only the LicenseRef- ones checked above remain
        pass
    return str(parsed)


def homepage(pkg: Package) -> str | None:
    """The package's homepage when it is a plain http(s) URL."""
    url = (pkg.homepage or "").strip()
    return url if _HOMEPAGE.fullmatch(url) else None


def is_application(pkg: Package) -> bool:
    """A Go main module (the go cataloger gives it ``main_package``) is an application; the rest are libraries."""
    return pkg.type == "golang" and bool(pkg.metadata.get("main_package"))


def _licenses(pkg: Package) -> list[LicenseExpression | DisjunctiveLicense]:
    expression = spdx_expression(pkg.license_expression) if pkg.license_expression else None
    if expression:
        return [LicenseExpression(expression)]
    names = pkg.licenses or ([pkg.license_expression] if pkg.license_expression else [])
    return [DisjunctiveLicense(name=name) for name in dict.fromkeys(n.strip() for n in names) if name]


def _properties(pkg: Package) -> list[Property]:
    props = [Property(name=f"{P}found-by", value=pkg.found_by)]
    layer = pkg.introduced_in or (pkg.locations[0] if pkg.locations else None)
    if layer is not None:
        props.append(Property(name=f"{P}layer:index", value=str(layer.layer_index)))
        props.append(Property(name=f"{P}layer:diff-id", value=layer.diff_id))
    if pkg.introduced_in is not None and pkg.introduced_in.created_by:
        props.append(Property(name=f"{P}introduced-by", value=pkg.introduced_in.created_by))
    if pkg.source_package and pkg.source_package != pkg.name:
        props.append(Property(name=f"{P}source-package", value=pkg.source_package))
    if pkg.arch:
        props.append(Property(name=f"{P}arch", value=pkg.arch))
    props += [Property(name=f"{P}metadata:{k}", value=v) for k, v in sorted(pkg.metadata.items()) if v]
    return props


def _component(pkg: Package, ref_prefix: str) -> Component:
    ref = ref_prefix + pkg.key()
    paths = dict.fromkeys("/" + loc.path.lstrip("/") for loc in pkg.locations)
    url = homepage(pkg)
    return Component(
        type=ComponentType.APPLICATION if is_application(pkg) else ComponentType.LIBRARY,
        name=pkg.name,
        version=pkg.version,
        bom_ref=ref,
        purl=PackageURL.from_string(pkg.purl) if pkg.purl else None,
        licenses=_licenses(pkg),
        supplier=OrganizationalEntity(name=pkg.supplier) if pkg.supplier else None,
        publisher=pkg.supplier,
        description=pkg.description,
        external_references=[ExternalReference(type=ExternalReferenceType.WEBSITE, url=XsUri(url))] if url else [],
        # Explicit occurrence bom-refs: the library orders occurrences by bom-ref, and an unset one
        # orders at random, which would make equal inputs give different bytes.
        evidence=ComponentEvidence(occurrences=[Occurrence(bom_ref=f"{ref}#{p}", location=p) for p in paths])
        if paths
        else None,
        properties=_properties(pkg),
    )


def _image_component(img: ImageSbom, ref: str) -> Component:
    props = [
        Property(name=f"{P}platform", value=img.platform),
        Property(name=f"{P}manifest-digest", value=img.manifest_digest),
        Property(name=f"{P}config-digest", value=img.config_digest),
    ]
    if img.index_digest:
        props.append(Property(name=f"{P}index-digest", value=img.index_digest))
    if img.tag:
        props.append(Property(name=f"{P}tag", value=img.tag))
    return Component(
        type=ComponentType.CONTAINER,
        name=img.name,
        version=img.manifest_digest,
        bom_ref=ref,
        purl=PackageURL.from_string(
            image_purl(img.name, img.manifest_digest, arch=platform_arch(img.platform), tag=img.tag)
        ),
        properties=props,
    )


def _add_image(bom: Bom, img: ImageSbom, image: Component, prefix: str, nested: bool) -> None:
    """Packages of one image into ``bom`` (top level, or nested under ``image``), with dependencies."""
    components = [_component(p, prefix) for p in img.packages]
    os_component = None
    if img.distro is not None:
        os_component = Component(
            type=ComponentType.OPERATING_SYSTEM,
            name=img.distro.id,
            version=img.distro.version_id,
            description=img.distro.pretty_name,
            bom_ref=f"{prefix}os:{img.distro.purl_distro}",
        )
    added = [*components, *([os_component] if os_component else [])]
    (image.components if nested else bom.components).update(added)
    os_packages = [c for c, p in zip(components, img.packages, strict=True) if p.type in OS_TYPES]
    others = [c for c, p in zip(components, img.packages, strict=True) if p.type not in OS_TYPES]
    if os_component is not None:
        bom.register_dependency(os_component, os_packages)
        bom.register_dependency(image, [os_component, *others])
    else:
        bom.register_dependency(image, components)
    for c in components:
        bom.register_dependency(c, [])


def _issues(images: Sequence[ImageSbom], merged: bool) -> list[Property]:
    return [
        Property(name=f"{P}issue", value=f"{img.platform} {issue_text(i)}" if merged else issue_text(i))
        for img in images
        for i in img.issues
    ]


def cyclonedx_bom(
    images: Sequence[ImageSbom],
    tool: ToolInfo,
    *,
    merged_index: tuple[str, str] | None = None,
    serial: UUID | None = None,
    timestamp: datetime | None = None,
) -> Bom:
    """One BOM: for one image, or (``merged_index`` = (reference, index digest)) for several platforms."""
    if not images or (merged_index is None and len(images) != 1):
        raise ValueError(f"a CycloneDX document holds one image, or several with merged_index (got {len(images)})")
    tools = ToolRepository(
        components=[Component(type=ComponentType.APPLICATION, name=tool.name, version=tool.version, group=tool.vendor)]
    )
    bom = Bom(serial_number=serial) if serial else Bom()
    issues = _issues(images, merged_index is not None)
    if merged_index is None:
        img = images[0]
        top = _image_component(img, f"image:{img.manifest_digest}")
        bom.metadata = BomMetaData(tools=tools, component=top, properties=issues, timestamp=timestamp)
        _add_image(bom, img, top, "", nested=False)
        return bom
    reference, index_digest = merged_index
    first = images[0]
    top = Component(
        type=ComponentType.CONTAINER,
        name=first.name,
        version=index_digest,
        bom_ref=f"index:{index_digest}",
        purl=PackageURL.from_string(image_purl(first.name, index_digest, tag=first.tag)),
        properties=[Property(name=f"{P}reference", value=reference)],
    )
    bom.metadata = BomMetaData(tools=tools, component=top, properties=issues, timestamp=timestamp)
    platform_components = []
    for img in images:
        comp = _image_component(img, f"image:{img.manifest_digest}")
        _add_image(bom, img, comp, f"{img.platform}:", nested=True)
        bom.components.add(comp)
        platform_components.append(comp)
    bom.register_dependency(top, platform_components)
    return bom


def encode_cyclonedx(bom: Bom, fmt: Literal["json", "xml"]) -> str:
    """Serialise as CycloneDX 1.6 JSON or XML."""
    if fmt == "json":
        return make_outputter(bom, OutputFormat.JSON, SchemaVersion.V1_6).output_as_string(indent=2)
    from xml.dom.minidom import parseString

    # XML 1.0 cannot carry control characters at all (not even as &#27;), and the serializer writes them
    # raw: one package name with an ESC made the document unreadable (its own pretty-printer failed on
    # it). They can only sit in text and attribute values, so each is shown escaped (``\x1b``) over the
    # whole compact string, which is then indented as the library would have.
    compact = xml_safe(make_outputter(bom, OutputFormat.XML, SchemaVersion.V1_6).output_as_string())
    return parseString(compact).toprettyxml(indent="  ")  # noqa: S318 - our own document, made well-formed above
