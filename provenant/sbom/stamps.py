"""Renewing what makes each generated SBOM document unique, in an already encoded document.

A cached document (:mod:`provenant.sbom.doccache`) describes the same image as a fresh one, but every
generated CycloneDX BOM gets its own serial number and timestamp, an SPDX document its creation time,
and provenant's own JSON says the layers came from the cache. These functions put the values a fresh
encoding would have into the text, without the libraries that encoded it (they cost more to import
than a cached run takes). A format missing here is not cached.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID, uuid4

from provenant.jsontext import dumps_indented


@dataclass(frozen=True)
class Stamps:
    """The generation-specific values of one run."""

    serial: UUID
    now: datetime

    @classmethod
    def fresh(cls) -> Stamps:
        """A new serial number and the current time."""
        return cls(uuid4(), datetime.now(UTC))


class Restamper:
    """How to renew one format's stamps; :meth:`faithful` says whether a text can be cached at all."""

    def restamp(self, text: str, stamps: Stamps) -> str:
        """``text`` with ``stamps`` in place of the ones it was encoded with."""
        return text

    def faithful(self, text: str) -> bool:
        """True when :meth:`restamp` leaves everything but the stamps byte-for-byte as encoded."""
        return True


class _JsonStamp(Restamper):
    """Edits the parsed document and writes it back the way its encoder did (indent, ASCII escapes)."""

    def __init__(self, indent: int, ensure_ascii: bool, edit: Callable[[dict[str, object], Stamps], None]) -> None:
        self._indent = indent
        self._ascii = ensure_ascii
        self._edit = edit

    def _dump(self, doc: object) -> str:
        # json.dumps's bytes, not its pure-Python indenting encoder: that was 1.5 s of a cold sbom of
        # 10,000 packages (faithful) and of each cached run (restamp).
        return dumps_indented(doc, " " * self._indent, ensure_ascii=self._ascii)

    def restamp(self, text: str, stamps: Stamps) -> str:
        doc = json.loads(text)
        if not isinstance(doc, dict):
            raise ValueError("not a JSON object")
        self._edit(doc, stamps)
        return self._dump(doc)

    def faithful(self, text: str) -> bool:
        try:
            return self._dump(json.loads(text)) == text
        except ValueError:
            return False


def _obj(doc: dict[str, object], key: str) -> dict[str, object]:
    value = doc.get(key)
    if not isinstance(value, dict):
        raise ValueError(f"no {key!r} object")
    return value


def _cyclonedx(doc: dict[str, object], stamps: Stamps) -> None:
    doc["serialNumber"] = stamps.serial.urn
    _obj(doc, "metadata")["timestamp"] = stamps.now.isoformat()


def _spdx(doc: dict[str, object], stamps: Stamps) -> None:
    created = stamps.now.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
    _obj(doc, "creationInfo")["created"] = created


def _provenant(doc: dict[str, object], stamps: Stamps) -> None:
    images = doc.get("images")
    if not isinstance(images, list):
        raise ValueError("no 'images' list")
    for image in images:
        for layer in image.get("layers", []) if isinstance(image, dict) else []:
            if isinstance(layer, dict):
                layer["from_cache"] = True


# The root element's serialNumber and the first timestamp, which is metadata's: both come before any
# content, so a package name can never be mistaken for them.
_XML_SERIAL = re.compile(r'(<bom\b[^>]*?\bserialNumber=")urn:uuid:[0-9a-fA-F-]{36}(")')
_XML_TIMESTAMP = re.compile(r"(<metadata>\s*<timestamp>)[^<]*(</timestamp>)")


class _CycloneDxXml(Restamper):
    def restamp(self, text: str, stamps: Stamps) -> str:
        out, n = _XML_SERIAL.subn(rf"\g<1>{stamps.serial.urn}\g<2>", text, count=1)
        out, m = _XML_TIMESTAMP.subn(rf"\g<1>{stamps.now.isoformat()}\g<2>", out, count=1)
        if n != 1 or m != 1:
            raise ValueError("no serialNumber or metadata timestamp")
        return out

    def faithful(self, text: str) -> bool:
        return bool(_XML_SERIAL.search(text) and _XML_TIMESTAMP.search(text))


#: Format name → how to renew a cached document of that format (cyclonedx-python-lib and spdx-tools
#: write JSON with ASCII escapes, pydantic without).
RESTAMP: dict[str, Restamper] = {
    "cyclonedx-json": _JsonStamp(2, True, _cyclonedx),
    "cyclonedx-xml": _CycloneDxXml(),
    "spdx-json": _JsonStamp(4, True, _spdx),
    "json": _JsonStamp(2, False, _provenant),
    "table": Restamper(),
}
