"""CycloneDX 1.6 JSON written directly: the bytes cyclonedx-python-lib writes for the same BOM, in linear time.

The library's model keeps every collection in a sorted set whose order compares whole components
(a tuple of ~30 fields built on every comparison), and its writer serialises, parses and serialises
again: 10,000 packages took seconds. Here the same document is built as plain data: the same fields
(:mod:`provenant.sbom.cyclonedx` builds the library model, still used for XML), the same ordering
rules (components by type, group, name, version, bom-ref; properties by name and value; occurrences
and dependencies by ref; duplicates dropped as the sets drop them), keys sorted as the library's
writer sorts them, and the same final ``json.dumps(indent=2)``. ``tests/unit/test_sbom_encode_scaling.py``
checks byte equality with the library on varied inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from json.encoder import encode_basestring_ascii as _escape
from typing import Any
from uuid import UUID, uuid4

from provenant.catalog.licenses import spdx_expression
from provenant.jsontext import dumps_indented
from provenant.sbom.canonical_purl import canonical_purl
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

Obj = dict[str, Any]
SCHEMA = "http://cyclonedx.org/schema/bom-1.6.schema.json"
# What cyclonedx-python-lib's XsUri does to a URL (best effort towards anyURI / iri-reference).
_URI_REPLACEMENTS = (
    (" ", "%20"),
    ('"', "%22"),
    ("'", "%27"),
    ("[", "%5B"),
    ("]", "%5D"),
    ("<", "%3C"),
    (">", "%3E"),
    ("{", "%7B"),
    ("}", "%7D"),
)


def _timestamp(when: datetime) -> str:
    """As py-serializable writes it: ISO 8601, a naive time taken as local time."""
    return (when.astimezone() if when.tzinfo is None else when).isoformat()


def _uri(url: str) -> str:
    for old, new in _URI_REPLACEMENTS:
        url = url.replace(old, new)
    return url


def _purl(text: str) -> str:
    """The purl as the library writes it back; one it cannot read (a Package made by hand: the catalogers'
    purls are all readable, see :func:`provenant.catalog.purls.purl_of`) as it is, rather than no BOM."""
    try:
        return canonical_purl(text)
    except (ValueError, TypeError):
        return text


def _none_last(value: str | None) -> tuple[bool, str]:
    """The library's tuple order: None after every value."""
    return (value is None, value or "")


def _component_key(c: Obj) -> tuple[Any, ...]:
    # Refs are unique in a document, so these five decide the order the library's sorted set gives.
    return (c["type"], _none_last(c.get("group")), c["name"], _none_last(c.get("version")), c["bom-ref"])


def _sorted_components(components: list[Obj]) -> list[Obj]:
    return sorted(components, key=_component_key)


def _properties(pairs: list[tuple[str, str]]) -> list[Obj]:
    return [{"name": n, "value": v} for n, v in sorted(set(pairs))]


def _licenses(pkg: Package) -> list[Obj]:
    expression = spdx_expression(pkg.license_expression) if pkg.license_expression else None
    if expression:
        return [{"expression": expression}]
    names = pkg.licenses or ([pkg.license_expression] if pkg.license_expression else [])
    kept = {n.strip() for n in names} - {""}
    return [{"license": {"name": name}} for name in sorted(kept)]


def _set(obj: Obj, key: str, value: Any) -> None:
    """The library leaves out what is None and empty collections."""
    if value is not None and value not in ([], {}):
        obj[key] = value


def _package(pkg: Package, ref_prefix: str) -> Obj:
    ref = ref_prefix + pkg.key()
    obj: Obj = {"type": "application" if is_application(pkg) else "library", "name": pkg.name, "bom-ref": ref}
    version, version_props = cyclonedx_version(pkg.version)
    _set(obj, "version", version)
    _set(obj, "purl", _purl(pkg.purl) if pkg.purl else None)
    cpe, cpe_props = cpe_fields(pkg)
    _set(obj, "cpe", cpe)
    _set(obj, "licenses", _licenses(pkg))
    if pkg.supplier:
        obj["supplier"] = {"name": pkg.supplier}
    _set(obj, "publisher", pkg.supplier)
    _set(obj, "description", pkg.description)
    url = homepage(pkg)
    if url:
        obj["externalReferences"] = [{"type": "website", "url": _uri(url)}]
    paths = sorted({"/" + loc.path.lstrip("/") for loc in pkg.locations})
    if paths:
        obj["evidence"] = {"occurrences": [{"bom-ref": f"{ref}#{p}", "location": p} for p in paths]}
    _set(obj, "properties", _properties(property_pairs(pkg) + cpe_props + version_props))
    return _keys_sorted(obj)


def _image(img: ImageSbom, ref: str) -> Obj:
    pairs = [(f"{P}platform", img.platform), (f"{P}manifest-digest", img.manifest_digest)]
    pairs.append((f"{P}config-digest", img.config_digest))
    if img.index_digest:
        pairs.append((f"{P}index-digest", img.index_digest))
    if img.tag:
        pairs.append((f"{P}tag", img.tag))
    purl = image_purl(img.name, img.manifest_digest, arch=platform_arch(img.platform), tag=img.tag)
    return _keys_sorted(
        {
            "type": "container",
            "name": img.name,
            "version": img.manifest_digest,
            "bom-ref": ref,
            "purl": canonical_purl(purl),
            "properties": _properties(pairs),
        }
    )


def _dependency(ref: str, on: Sequence[str] = ()) -> Obj:
    return {"dependsOn": sorted(set(on)), "ref": ref} if on else {"ref": ref}


def _keys_sorted(obj: Obj) -> Obj:
    """``obj`` with its keys in sorted order: the library's writer sorts keys, and this body's JSON is
    written in insertion order (every dict of the body is built or re-made sorted)."""
    return dict(sorted(obj.items()))


def _add_image(img: ImageSbom, image: Obj, prefix: str) -> tuple[list[Obj], list[Obj]]:
    """One image's package components (with its OS component) and their dependencies."""
    components = [_package(p, prefix) for p in img.packages]
    os_component = None
    if img.distro is not None:
        os_ref = f"{prefix}os:{img.distro.purl_distro}"
        os_component = {"type": "operating-system", "name": img.distro.id, "bom-ref": os_ref}
        version, version_props = cyclonedx_version(img.distro.version_id)
        _set(os_component, "version", version)
        _set(os_component, "description", img.distro.pretty_name)
        _set(os_component, "properties", _properties(version_props))
    refs = [c["bom-ref"] for c in components]
    if os_component is None:
        graph = [_dependency(image["bom-ref"], refs)]
    else:
        os_refs = [r for r, p in zip(refs, img.packages, strict=True) if p.type in OS_TYPES]
        others = [r for r, p in zip(refs, img.packages, strict=True) if p.type not in OS_TYPES]
        graph = [_dependency(os_ref, os_refs), _dependency(image["bom-ref"], [os_ref, *others])]
        components.append(_keys_sorted(os_component))
    graph += [_dependency(r) for r in refs]
    return components, graph


def cyclonedx_body(
    images: Sequence[ImageSbom],
    tool: ToolInfo,
    *,
    merged_index: tuple[str, str] | None = None,
    serial: UUID | None = None,
    timestamp: datetime | None = None,
) -> Obj:
    """The BOM as plain data in the library's order (JSON keys; ``$schema`` and the format keys left out).

    Every dict has its keys in sorted order, as the library's writer sorts them (the JSON is written
    in insertion order).

    Shared by the JSON and the XML writer (:mod:`provenant.sbom.cyclonedx_xml`).
    """
    if not images or (merged_index is None and len(images) != 1):
        raise ValueError(f"a CycloneDX document holds one image, or several with merged_index (got {len(images)})")
    tool_component = {"group": tool.vendor, "name": tool.name, "type": "application", "version": tool.version}
    metadata: Obj = {
        "timestamp": _timestamp(timestamp or datetime.now(tz=UTC)),
        "tools": {"components": [tool_component]},
    }
    _set(metadata, "properties", _properties(issue_properties(images, merged_index is not None)))
    if merged_index is None:
        img = images[0]
        top = _image(img, f"image:{img.manifest_digest}")
        components, graph = _add_image(img, top, "")
    else:
        reference, index_digest = merged_index
        first = images[0]
        top = {
            "bom-ref": f"index:{index_digest}",
            "name": first.name,
            "properties": _properties([(f"{P}reference", reference)]),
            "purl": canonical_purl(image_purl(first.name, index_digest, tag=first.tag)),
            "type": "container",
            "version": index_digest,
        }
        components, graph = [], []
        for img in images:
            platform = _image(img, f"image:{img.manifest_digest}")
            nested, deps = _add_image(img, platform, f"{img.platform}:")
            _set(platform, "components", _sorted_components(nested))
            components.append(_keys_sorted(platform))
            graph += deps
        graph.append(_dependency(top["bom-ref"], [f"image:{img.manifest_digest}" for img in images]))
    metadata["component"] = top
    body: Obj = {"metadata": _keys_sorted(metadata), "serialNumber": (serial or uuid4()).urn, "version": 1}
    _set(body, "components", _sorted_components(components))
    _set(body, "dependencies", sorted(graph, key=lambda d: d["ref"]))
    return _keys_sorted(body)


def cyclonedx_json(
    images: Sequence[ImageSbom],
    tool: ToolInfo,
    *,
    merged_index: tuple[str, str] | None = None,
    serial: UUID | None = None,
    timestamp: datetime | None = None,
) -> str:
    """The document :func:`~provenant.sbom.cyclonedx.cyclonedx_bom` + ``encode_cyclonedx(…, "json")`` give."""
    body = cyclonedx_body(images, tool, merged_index=merged_index, serial=serial, timestamp=timestamp)
    # The library's writer sorts keys (the body's are), then appends these three (json.dumps(indent=2)).
    text = dumps_indented(body)
    tail = {"$schema": SCHEMA, "bomFormat": "CycloneDX", "specVersion": "1.6"}
    return text[: -len("\n}")] + "".join(f",\n  {_escape(k)}: {_escape(v)}" for k, v in tail.items()) + "\n}"
