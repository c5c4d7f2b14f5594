"""CycloneDX 1.6 (JSON and XML) from SBOM results, built with cyclonedx-python-lib.

The image is ``metadata.component`` (a container); the OS is an ``operating-system`` component that
depends on the OS packages; every package carries its purl, licenses, ``evidence.occurrences`` for its
locations and ``provenant:`` properties for layer attribution. With several platforms merged, the index
is the metadata component and each platform is a container component holding its packages.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal
from uuid import UUID

from cyclonedx.model import Property
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.component_evidence import ComponentEvidence, Occurrence
from cyclonedx.model.contact import OrganizationalEntity
from cyclonedx.model.license import DisjunctiveLicense, LicenseExpression
from cyclonedx.model.tool import ToolRepository
from cyclonedx.output import make_outputter
from cyclonedx.schema import OutputFormat, SchemaVersion
from packageurl import PackageURL

from provenant.sbom.model import Package
from provenant.sbom.result import ImageSbom, ToolInfo

OS_TYPES = frozenset({"deb", "apk", "rpm"})
P = "provenant:"


def image_purl(name: str, digest: str, *, arch: str | None = None, tag: str | None = None) -> str:
    """``pkg:oci/<last path segment>@<digest>?repository_url=<registry/path>&arch=…&tag=…`` (purl spec)."""
    qualifiers = {"repository_url": name}
    if arch:
        qualifiers["arch"] = arch
    if tag:
        qualifiers["tag"] = tag
    return PackageURL("oci", None, name.rsplit("/", 1)[-1].lower(), digest, qualifiers).to_string()


def _licenses(pkg: Package) -> list[LicenseExpression | DisjunctiveLicense]:
    if pkg.license_expression:
        return [LicenseExpression(pkg.license_expression)]
    return [DisjunctiveLicense(name=name) for name in dict.fromkeys(pkg.licenses)]


def _properties(pkg: Package) -> list[Property]:
    props = [Property(name=f"{P}found-by", value=pkg.found_by)]
    if pkg.introduced_in is not None:
        props.append(Property(name=f"{P}layer:index", value=str(pkg.introduced_in.layer_index)))
        props.append(Property(name=f"{P}layer:diff-id", value=pkg.introduced_in.diff_id))
        if pkg.introduced_in.created_by:
            props.append(Property(name=f"{P}introduced-by", value=pkg.introduced_in.created_by))
    elif pkg.locations:
        props.append(Property(name=f"{P}layer:diff-id", value=pkg.locations[0].diff_id))
    if pkg.source_package and pkg.source_package != pkg.name:
        props.append(Property(name=f"{P}source-package", value=pkg.source_package))
    if pkg.arch:
        props.append(Property(name=f"{P}arch", value=pkg.arch))
    props += [Property(name=f"{P}metadata:{k}", value=v) for k, v in sorted(pkg.metadata.items()) if v]
    return props


def _component(pkg: Package, ref_prefix: str) -> Component:
    app = pkg.type == "golang" and pkg.metadata.get("main_module") == pkg.name
    return Component(
        type=ComponentType.APPLICATION if app else ComponentType.LIBRARY,
        name=pkg.name,
        version=pkg.version,
        bom_ref=ref_prefix + pkg.key(),
        purl=PackageURL.from_string(pkg.purl) if pkg.purl else None,
        licenses=_licenses(pkg),
        supplier=OrganizationalEntity(name=pkg.supplier) if pkg.supplier else None,
        description=pkg.description,
        # Explicit occurrence bom-refs: the library orders occurrences by bom-ref, and an unset one
        # orders at random, which would make equal inputs give different bytes.
        evidence=ComponentEvidence(
            occurrences=[
                Occurrence(bom_ref=f"{ref_prefix}{pkg.key()}#/{loc.path}", location="/" + loc.path)
                for loc in pkg.locations
            ]
        )
        if pkg.locations
        else None,
        properties=_properties(pkg),
    )


def _image_component(img: ImageSbom, ref: str) -> Component:
    arch = img.platform.split("/")[1] if "/" in img.platform else None
    props = [
        Property(name=f"{P}platform", value=img.platform),
        Property(name=f"{P}manifest-digest", value=img.manifest_digest),
        Property(name=f"{P}config-digest", value=img.config_digest),
    ]
    if img.index_digest:
        props.append(Property(name=f"{P}index-digest", value=img.index_digest))
    return Component(
        type=ComponentType.CONTAINER,
        name=img.name,
        version=img.manifest_digest,
        bom_ref=ref,
        purl=PackageURL.from_string(image_purl(img.name, img.manifest_digest, arch=arch, tag=img.tag)),
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
            bom_ref=f"{prefix}os:{img.distro.id}@{img.distro.version_id or ''}",
        )
    added = [*components, *([os_component] if os_component else [])]
    if nested:
        image.components.update(added)
    else:
        bom.components.update(added)
    os_packages = [c for c, p in zip(components, img.packages, strict=True) if p.type in OS_TYPES]
    others = [c for c, p in zip(components, img.packages, strict=True) if p.type not in OS_TYPES]
    if os_component is not None:
        bom.register_dependency(os_component, os_packages)
        bom.register_dependency(image, [os_component, *others])
    else:
        bom.register_dependency(image, components)
    for c in components:
        bom.register_dependency(c, [])


def cyclonedx_bom(
    images: Sequence[ImageSbom],
    tool: ToolInfo,
    *,
    merged_index: tuple[str, str] | None = None,
    serial: UUID | None = None,
    timestamp: datetime | None = None,
) -> Bom:
    """One BOM: for one image, or (``merged_index`` = (reference, index digest)) for several platforms."""
    tools = ToolRepository(
        components=[Component(type=ComponentType.APPLICATION, name=tool.name, version=tool.version, group=tool.vendor)]
    )
    bom = Bom(serial_number=serial) if serial else Bom()
    issues = [
        Property(name=f"{P}issue", value=f"{img.platform} layer {i.layer_index} {i.path or ''}: {i.reason}")
        for img in images
        for i in img.issues
    ]
    if merged_index is None:
        (img,) = images
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
    output_format = OutputFormat.JSON if fmt == "json" else OutputFormat.XML
    return make_outputter(bom, output_format, SchemaVersion.V1_6).output_as_string(indent=2)
