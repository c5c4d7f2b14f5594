"""CycloneDX 1.6 XML written directly: the bytes the library path writes for the same BOM, in linear time.

The library path (:func:`provenant.sbom.cyclonedx.encode_cyclonedx`) builds cyclonedx-python-lib's model
(sorted sets compared field by field), serialises it with ElementTree, makes the text XML-safe
(:func:`~provenant.textsafe.xml_safe`: control characters shown escaped, since XML 1.0 cannot carry
them), parses it again with minidom and pretty-prints it: ~20 s of CPU at 10,000 packages. Here the
same document (:func:`~provenant.sbom.cyclonedx_json.cyclonedx_body`: same fields, same order) is
written as that pipeline writes it:

- elements in the schema's order, two-space indent, an element with only text on one line, an empty
  one as ``<x/>``;
- the values the model declares ``normalizedString`` with each tab and line end made a space;
- text and attribute values made XML-safe, then escaped as minidom escapes them (``& < " >``); a
  carriage return in text reaches the document as a newline (the XML parser's line-end rule) while an
  attribute keeps it (ElementTree wrote it as a character reference the parser gave back as is).

``tests/unit/test_sbom_encode_scaling.py`` checks byte equality with the library path on varied
and hostile inputs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from provenant.sbom.cyclonedx_json import Obj, cyclonedx_body
from provenant.sbom.result import ImageSbom, ToolInfo
from provenant.textsafe import xml_safe

NAMESPACE = "http://cyclonedx.org/schema/bom/1.6"
STEP = "  "
# The schema's normalizedString (py-serializable's xs_normalizedString): each line end or tab one space.
_NOT_NORMALIZED = re.compile(r"\r\n|\t|\n|\r")


def _plain(value: str) -> bool:
    """Printable ASCII: nothing for XML to forbid, no line end or tab to normalise (most values)."""
    return value.isascii() and value.isprintable()


def _escape(value: str) -> str:
    return _markup(value if _plain(value) else xml_safe(value))


def _markup(text: str) -> str:
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if '"' in text:
        text = text.replace('"', "&quot;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _normalized(value: str) -> str:
    return _NOT_NORMALIZED.sub(" ", value) if _NOT_NORMALIZED.search(value) else value


def _text(value: str) -> str:
    if "\r" in value:  # XML line ends: CR LF and a lone CR are read as LF
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return _escape(value)


class _Writer:
    """Lines of the pretty-printed document, appended in order."""

    def __init__(self) -> None:
        self.out: list[str] = ['<?xml version="1.0" ?>']

    def leaf(self, pad: str, tag: str, value: str, attrs: str = "", *, normalized: bool = True) -> None:
        """An element holding text; the model declares most as normalizedString (the others say so)."""
        text = _markup(value) if _plain(value) else _text(_normalized(value) if normalized else value)
        self.out.append(f"{pad}<{tag}{attrs}>{text}</{tag}>" if text else f"{pad}<{tag}{attrs}/>")

    def open(self, pad: str, tag: str, attrs: str = "") -> None:
        self.out.append(f"{pad}<{tag}{attrs}>")

    def close(self, pad: str, tag: str) -> None:
        self.out.append(f"{pad}</{tag}>")

    def properties(self, pad: str, props: list[Obj]) -> None:
        self.open(pad, "properties")
        inner = pad + STEP
        for prop in props:
            self.leaf(inner, "property", prop["value"], f' name="{_escape(prop["name"])}"')
        self.close(pad, "properties")

    def component(self, pad: str, c: Obj) -> None:
        attrs = f' type="{_escape(c["type"])}"'
        if "bom-ref" in c:
            attrs += f' bom-ref="{_escape(c["bom-ref"])}"'
        self.open(pad, "component", attrs)
        inner, deeper = pad + STEP, pad + 2 * STEP
        if "supplier" in c:
            self.open(inner, "supplier")
            self.leaf(deeper, "name", c["supplier"]["name"])
            self.close(inner, "supplier")
        for key in ("publisher", "group", "name", "version", "description"):
            if key in c:
                self.leaf(inner, key, c[key])
        if "licenses" in c:
            self.licenses(inner, c["licenses"])
        if "cpe" in c:  # a plain string in the model, not a normalizedString
            self.leaf(inner, "cpe", c["cpe"], normalized=False)
        if "purl" in c:
            self.leaf(inner, "purl", c["purl"], normalized=False)
        if "externalReferences" in c:
            self.open(inner, "externalReferences")
            for ref in c["externalReferences"]:
                self.open(deeper, "reference", f' type="{_escape(ref["type"])}"')
                self.leaf(deeper + STEP, "url", ref["url"], normalized=False)
                self.close(deeper, "reference")
            self.close(inner, "externalReferences")
        if "properties" in c:
            self.properties(inner, c["properties"])
        if "components" in c:
            self.components(inner, c["components"])
        if "evidence" in c:
            self.evidence(inner, c["evidence"]["occurrences"])
        self.close(pad, "component")

    def licenses(self, pad: str, licenses: list[Obj]) -> None:
        self.open(pad, "licenses")
        inner = pad + STEP
        for lic in licenses:
            if "expression" in lic:
                self.leaf(inner, "expression", lic["expression"])
            else:
                self.open(inner, "license")
                self.leaf(inner + STEP, "name", lic["license"]["name"])
                self.close(inner, "license")
        self.close(pad, "licenses")

    def evidence(self, pad: str, occurrences: list[Obj]) -> None:
        inner, deeper = pad + STEP, pad + 2 * STEP
        self.open(pad, "evidence")
        self.open(inner, "occurrences")
        for occ in occurrences:
            self.open(deeper, "occurrence", f' bom-ref="{_escape(occ["bom-ref"])}"')
            self.leaf(deeper + STEP, "location", occ["location"], normalized=False)
            self.close(deeper, "occurrence")
        self.close(inner, "occurrences")
        self.close(pad, "evidence")

    def components(self, pad: str, components: list[Obj]) -> None:
        self.open(pad, "components")
        for c in components:
            self.component(pad + STEP, c)
        self.close(pad, "components")

    def dependencies(self, pad: str, graph: list[Obj]) -> None:
        self.open(pad, "dependencies")
        inner = pad + STEP
        for dep in graph:
            ref = f' ref="{_escape(dep["ref"])}"'
            on = dep.get("dependsOn")
            if not on:
                self.out.append(f"{inner}<dependency{ref}/>")
                continue
            self.open(inner, "dependency", ref)
            self.out.extend(f'{inner}{STEP}<dependency ref="{_escape(r)}"/>' for r in on)
            self.close(inner, "dependency")
        self.close(pad, "dependencies")

    def metadata(self, pad: str, meta: dict[str, Any]) -> None:
        inner = pad + STEP
        self.open(pad, "metadata")
        self.leaf(inner, "timestamp", meta["timestamp"], normalized=False)
        self.open(inner, "tools")
        self.components(inner + STEP, meta["tools"]["components"])
        self.close(inner, "tools")
        self.component(inner, meta["component"])
        if "properties" in meta:
            self.properties(inner, meta["properties"])
        self.close(pad, "metadata")


def cyclonedx_xml(
    images: Sequence[ImageSbom],
    tool: ToolInfo,
    *,
    merged_index: tuple[str, str] | None = None,
    serial: UUID | None = None,
    timestamp: datetime | None = None,
) -> str:
    """The document :func:`~provenant.sbom.cyclonedx.cyclonedx_bom` + ``encode_cyclonedx(…, "xml")`` give."""
    body = cyclonedx_body(images, tool, merged_index=merged_index, serial=serial, timestamp=timestamp)
    w = _Writer()
    attrs = f' xmlns="{NAMESPACE}" serialNumber="{_escape(body["serialNumber"])}" version="{body["version"]}"'
    w.open("", "bom", attrs)
    w.metadata(STEP, body["metadata"])
    if "components" in body:
        w.components(STEP, body["components"])
    if "dependencies" in body:
        w.dependencies(STEP, body["dependencies"])
    w.close("", "bom")
    return "\n".join(w.out) + "\n"
