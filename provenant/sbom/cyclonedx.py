"""CycloneDX 1.6 (JSON and XML) from SBOM results, built with cyclonedx-python-lib.

The image is ``metadata.component`` (a container); the OS is an ``operating-system`` component that
depends on the OS packages; every package carries its purl, its first CPE (``cpe``; the others as
``provenant:cpe23`` properties, as syft writes ``syft:cpe23``), licenses, ``evidence.occurrences`` for its
locations and ``provenant:`` properties for layer attribution. With several platforms merged, the index
is the metadata component and each platform is a container component holding its packages.

The library orders components itself (type, group, name, version, bom-ref); that order is total, so
equal inputs with equal serial and timestamp give equal bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Literal, Protocol
from uuid import UUID

from cyclonedx.model import ExternalReference, ExternalReferenceType, Property, XsUri
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.bom_ref import BomRef
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.component_evidence import ComponentEvidence, Occurrence
from cyclonedx.model.contact import OrganizationalEntity
from cyclonedx.model.dependency import Dependency
from cyclonedx.model.license import DisjunctiveLicense, LicenseExpression
from cyclonedx.model.tool import ToolRepository
from cyclonedx.output import make_outputter
from cyclonedx.schema import OutputFormat, SchemaVersion
from packageurl import PackageURL

from provenant.catalog.licenses import LICENSE_REF, spdx_expression
from provenant.sbom.fields import (
    OS_TYPES,
    P,
    cpe_fields,
    cyclonedx_version,
    homepage,
    image_purl,
    is_application,
    issue_properties,
    platform_arch,
    property_pairs,
)
from provenant.sbom.model import Package
from provenant.sbom.result import ImageSbom, ToolInfo
from provenant.textsafe import xml_safe

__all__ = [
    "LICENSE_REF",
    "OS_TYPES",
    "cyclonedx_bom",
    "encode_cyclonedx",
    "homepage",
    "image_purl",
    "is_application",
    "platform_arch",
    "spdx_expression",
]


def _licenses(pkg: Package) -> list[LicenseExpression | DisjunctiveLicense]:
    expression = spdx_expression(pkg.license_expression) if pkg.license_expression else None
    if expression:
        return [LicenseExpression(expression)]
    names = pkg.licenses or ([pkg.license_expression] if pkg.license_expression else [])
    return [DisjunctiveLicense(name=name) for name in dict.fromkeys(n.strip() for n in names) if name]


def _component(pkg: Package, ref_prefix: str) -> Component:
    ref = ref_prefix + pkg.key()
    paths = dict.fromkeys("/" + loc.path.lstrip("/") for loc in pkg.locations)
    url = homepage(pkg)
    cpe, cpe_props = cpe_fields(pkg)
    version, version_props = cyclonedx_version(pkg.version)
    return Component(
        type=ComponentType.APPLICATION if is_application(pkg) else ComponentType.LIBRARY,
        name=pkg.name,
        version=version,
        bom_ref=ref,
        purl=PackageURL.from_string(pkg.purl) if pkg.purl else None,
        cpe=cpe,
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
        properties=[Property(name=n, value=v) for n, v in [*property_pairs(pkg), *cpe_props, *version_props]],
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


class _Ref(Protocol):
    @property
    def bom_ref(self) -> BomRef: ...


def _dependency(target: _Ref, depends_on: Sequence[_Ref] = ()) -> Dependency:
    return Dependency(ref=target.bom_ref, dependencies=[Dependency(ref=d.bom_ref) for d in depends_on])


def _add_image(bom: Bom, img: ImageSbom, image: Component, prefix: str, nested: bool) -> list[Dependency]:
    """Packages of one image into ``bom`` (top level, or nested under ``image``); returns their dependencies.

    The graph is built here, one ``Dependency`` per component: ``Bom.register_dependency`` searches
    every registered dependency on each call, which made the BOM quadratic in packages.
    """
    components = [_component(p, prefix) for p in img.packages]
    os_component = None
    if img.distro is not None:
        version, version_props = cyclonedx_version(img.distro.version_id)
        os_component = Component(
            type=ComponentType.OPERATING_SYSTEM,
            name=img.distro.id,
            version=version,
            description=img.distro.pretty_name,
            bom_ref=f"{prefix}os:{img.distro.purl_distro}",
            properties=[Property(name=n, value=v) for n, v in version_props],
        )
    added = [*components, *([os_component] if os_component else [])]
    (image.components if nested else bom.components).update(added)
    if os_component is None:
        graph = [_dependency(image, components)]
    else:
        os_packages = [c for c, p in zip(components, img.packages, strict=True) if p.type in OS_TYPES]
        others = [c for c, p in zip(components, img.packages, strict=True) if p.type not in OS_TYPES]
        graph = [_dependency(os_component, os_packages), _dependency(image, [os_component, *others])]
    return graph + [_dependency(c) for c in components]


def _linear_validation(bom: Bom) -> None:
    """Make the ``Bom.validate()`` every outputter runs linear in components, with the same result.

    It calls ``register_dependency`` for every top-level component, and each call searches all
    dependencies (cyclonedx-python-lib issue #1006, still open in 11.x): with every component
    already in the graph, those calls change nothing, so known refs are answered from a set.
    Anything else goes to the library's own method.
    """
    known = {d.ref.value for d in bom.dependencies}
    register = bom.register_dependency

    def register_known(target: _Ref, depends_on: Iterable[_Ref] | None = None) -> None:
        if depends_on or target.bom_ref.value not in known:
            register(target, depends_on)  # type: ignore[arg-type]  # the library's Dependable protocol

    bom.register_dependency = register_known  # type: ignore[method-assign]


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
    issues = [Property(name=n, value=v) for n, v in issue_properties(images, merged_index is not None)]
    if merged_index is None:
        img = images[0]
        top = _image_component(img, f"image:{img.manifest_digest}")
        bom.metadata = BomMetaData(tools=tools, component=top, properties=issues, timestamp=timestamp)
        bom.dependencies = _add_image(bom, img, top, "", nested=False)
        _linear_validation(bom)
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
    graph: list[Dependency] = []
    for img in images:
        comp = _image_component(img, f"image:{img.manifest_digest}")
        graph += _add_image(bom, img, comp, f"{img.platform}:", nested=True)
        bom.components.add(comp)
        platform_components.append(comp)
    bom.dependencies = [*graph, _dependency(top, platform_components)]
    _linear_validation(bom)
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
