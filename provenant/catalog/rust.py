"""Rust crates: ``Cargo.lock`` and the dependency list cargo-auditable embeds in binaries.

``cargo auditable build`` stores the crate graph as zlib-compressed JSON (``{"packages": [...]}``) in a
``.dep-v0`` section. ELF keeps its section table at the end of the file, so the section is not looked
up: the stream is watched for a zlib header whose first bytes inflate to ``{"packages"``, and only then
inflated further, to at most ``max_audit_bytes`` (a compressed bomb stops there, as an issue).
"""

from __future__ import annotations

import json
import zlib
from typing import Any, ClassVar

from provenant import limits as _limits
from provenant.catalog.base import Cataloger, CatalogError, MiB, ParsedFile, StreamParser
from provenant.catalog.purls import purl_of
from provenant.sbom.model import Package
from provenant.structured import DepthError, load_json_text

_ZLIB_HEADERS = (b"\x78\x01", b"\x78\x5e", b"\x78\x9c", b"\x78\xda")
_AUDIT_START = b'{"packages"'
#: Compressed bytes that surely inflate to more than the 11 of ``{"packages"``.
_PROBE = 64


def _crate(name: str, version: str, found_by: str, metadata: dict[str, str]) -> Package:
    return Package(
        name=name,
        version=version,
        type="cargo",
        purl=purl_of("cargo", None, name, version),
        metadata=metadata,
        found_by=found_by,
    )


class AuditStream(StreamParser):
    """Finds and inflates a cargo-auditable blob in an executable as it streams past."""

    def __init__(self, found_by: str, cap: int) -> None:
        self._found_by = found_by
        self._cap = cap
        self._prev = b""  # the previous chunk's end: a header and its first bytes may straddle chunks
        self._inflater: Any = None
        self._out = bytearray()
        self._done = False
        self._over = False

    def feed(self, chunk: bytes) -> None:
        if self._done:
            return
        if self._inflater is not None:
            self._inflate(chunk)
            return
        buf = self._prev + chunk
        last = len(buf) - _PROBE  # a header later than this is probed again with the next chunk
        for header in _ZLIB_HEADERS:
            at = buf.find(header, 0, max(0, last + len(header)))
            while 0 <= at <= last:
                try:
                    head = zlib.decompressobj().decompress(buf[at : at + _PROBE], len(_AUDIT_START))
                except zlib.error:
                    head = b""
                if head == _AUDIT_START:
                    self._inflater = zlib.decompressobj()
                    self._inflate(buf[at:])
                    return
                at = buf.find(header, at + 1, max(0, last + len(header)))
        self._prev = buf[-(_PROBE - 1) :]

    def _inflate(self, data: bytes) -> None:
        try:
            room = self._cap - len(self._out) + 1
            self._out += self._inflater.decompress(data, room)
        except zlib.error:
            self._done = True  # a false start: the header bytes were not a stream after all
            self._inflater = None
            self._out.clear()
            return
        if len(self._out) > self._cap:
            self._over, self._done = True, True
            self._out.clear()
        elif self._inflater.eof:
            self._done = True

    def close(self) -> ParsedFile | None:
        if self._over:
            return ParsedFile(issues=[f"cargo-auditable data inflates past {self._cap} bytes; not read"])
        if not self._out or not self._done or self._inflater is None:
            return None
        try:
            doc = load_json_text(bytes(self._out), "cargo-auditable data")
        except (UnicodeDecodeError, json.JSONDecodeError, DepthError) as exc:
            return ParsedFile(issues=[f"cargo-auditable data is not valid JSON: {exc}"])
        entries = doc.get("packages") if isinstance(doc, dict) else None
        if not isinstance(entries, list):
            return ParsedFile(issues=["cargo-auditable data without a package list"])
        packages = []
        for e in entries:
            if isinstance(e, dict) and all(isinstance(e.get(k), str) and e[k].strip() for k in ("name", "version")):
                meta = {"source": str(e.get("source") or ""), "kind": str(e.get("kind") or "runtime")}
                packages.append(_crate(e["name"], e["version"], self._found_by, {k: v for k, v in meta.items() if v}))
        return ParsedFile(packages=packages)


class RustCataloger(Cataloger):
    """Crates from ``Cargo.lock`` files and from cargo-auditable binaries."""

    name: ClassVar[str] = "rust"
    patterns: ClassVar[tuple[str, ...]] = ("**/Cargo.lock",)
    max_size: ClassVar[int] = 16 * MiB
    streams_executables: ClassVar[bool] = True
    package_types: ClassVar[tuple[str, ...]] = ("cargo",)
    #: Inflated audit JSON kept at most (Limits.file_bytes caps it too): real graphs are a few hundred KiB.
    max_audit_bytes: ClassVar[int] = 16 * MiB

    def stream(self, path: str, size: int) -> StreamParser | None:
        return AuditStream(self.name, min(self.max_audit_bytes, _limits.current().file_bytes))

    def parse(self, path: str, data: bytes) -> ParsedFile:
        if not path.endswith("Cargo.lock"):  # a whole binary (tests, tools): the stream fed one chunk
            parser = AuditStream(self.name, min(self.max_audit_bytes, _limits.current().file_bytes))
            parser.feed(data)
            return parser.close() or ParsedFile()
        import tomllib  # only for images with a Cargo.lock: not on every run's start-up

        try:
            doc = tomllib.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError) as exc:
            raise CatalogError(f"Cargo.lock is not valid TOML: {exc}") from exc
        parsed = ParsedFile()
        listed = doc.get("package", [])
        if not isinstance(listed, list):
            raise CatalogError("Cargo.lock: [[package]] is not an array of tables")
        for i, entry in enumerate(listed):
            if not isinstance(entry, dict) or not all(
                isinstance(entry.get(k), str) and entry[k].strip() for k in ("name", "version")
            ):
                parsed.issues.append(f"package {i}: no name and version; skipped")
                continue
            meta = {k: entry[k] for k in ("source", "checksum") if isinstance(entry.get(k), str)}
            parsed.packages.append(_crate(entry["name"], entry["version"], self.name, meta))
        return parsed
