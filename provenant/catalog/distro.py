"""The distro of an image, from ``os-release`` (freedesktop spec) or older release files."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from typing import ClassVar

from provenant.catalog.base import Cataloger, CatalogError, Distro, ParsedFile, ViewFile
from provenant.sbom.model import Package

OS_RELEASE = ("etc/os-release", "usr/lib/os-release")
FALLBACKS = {"etc/alpine-release": "alpine", "etc/debian_version": "debian"}


def parse_os_release(text: str) -> dict[str, str]:
    """``KEY=value`` lines with shell-style quoting and escapes; comments and blank lines skipped."""
    out: dict[str, str] = {}
    for raw_line in text.splitlines():
        line = raw_line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, raw = line.partition("=")
        try:
            words = shlex.split(raw, posix=True)
        except ValueError:
            words = [raw.strip("\"'")]
        out[key.strip()] = words[0] if words else ""
    return out


class DistroCataloger(Cataloger):
    """Reads ``os-release`` and fallbacks; reports facts, not packages."""

    name: ClassVar[str] = "distro"
    patterns: ClassVar[tuple[str, ...]] = (*OS_RELEASE, *FALLBACKS)
    max_size: ClassVar[int] = 64 * 1024

    def parse(self, path: str, data: bytes) -> ParsedFile:
        text = data.decode("utf-8", "replace")
        if path in FALLBACKS:
            version = text.strip().split()[0] if text.strip() else None
            distro = Distro(id=FALLBACKS[path], version_id=version)
            return ParsedFile(facts={"distro": distro.model_dump()})
        fields = parse_os_release(text)
        if "ID" not in fields:
            raise CatalogError("os-release has no ID field")
        distro = Distro(
            id=fields["ID"].lower(),
            version_id=fields.get("VERSION_ID"),
            version_codename=fields.get("VERSION_CODENAME"),
            id_like=fields.get("ID_LIKE", "").split(),
            name=fields.get("NAME"),
            pretty_name=fields.get("PRETTY_NAME"),
        )
        return ParsedFile(facts={"distro": distro.model_dump()})

    def assemble(self, files: Sequence[ViewFile], distro: Distro | None) -> list[Package]:
        return []


def detect_distro(files: Sequence[ViewFile]) -> Distro | None:
    """The distro from the best visible file: etc/os-release, then usr/lib/os-release, then fallbacks."""
    order = {p: i for i, p in enumerate((*OS_RELEASE, *FALLBACKS))}
    for f in sorted(files, key=lambda f: order.get(f.path, len(order))):
        raw = f.parsed.facts.get("distro")
        if isinstance(raw, dict):
            distro = Distro.model_validate(raw)
            # debian_version says "12.5" where os-release says VERSION_ID="12": keep the major.
            if f.path in FALLBACKS and distro.id == "debian" and distro.version_id:
                distro = distro.model_copy(update={"version_id": distro.version_id.split(".")[0]})
            return distro
    return None
