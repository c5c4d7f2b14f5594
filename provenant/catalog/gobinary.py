"""Go modules compiled into executables, from the build info the Go linker embeds (Go >= 1.18).

The ``.go.buildinfo`` section starts, 16-byte aligned, with a 32-byte header: the magic
``\\xff Go buildinf:``, the pointer size, and flags. With flag 0x2 (Go >= 1.18) two uvarint-length
prefixed strings follow: the Go version and the module info that ``go version -m`` prints. Older
binaries point into the data segment instead: :mod:`provenant.catalog.golegacy` follows those
pointers in the same single pass; what it cannot resolve is reported as an issue. The file is
scanned as it streams past, keeping only a small carry-over between chunks.

Like syft, each binary also yields the Go standard library it was compiled with
(``pkg:golang/stdlib@1.x.y``), and a main module built as ``(devel)`` takes its version from
``-X main.version=...``-style linker flags when the build settings record them.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import ClassVar

from provenant.catalog.base import Cataloger, MiB, ParsedFile
from provenant.catalog.golegacy import LegacyResolver
from provenant.catalog.purls import purl_of
from provenant.sbom.model import Package
from provenant.structured import text_only

MAGIC = b"\xff Go buildinf:"
_ALIGN = 16
_HEADER = 32
_FLAG_INLINE = 0x2
_MAX_STRING = 4 * MiB  # module info of even huge binaries is a few hundred KiB
#: A Go version string ("go1.22.3", "devel go1.23-abc1234 Tue Jan 2 15:04:05 2024 -0700 X:..."), with room.
_MAX_VERSION = 1024
_VERSION_PREFIXES = (b"go", b"devel")
_EXECUTABLE_MAGICS = (
    b"\x7fELF",
    b"MZ",  # PE
    b"\xfe\xed\xfa\xce",  # Mach-O 32/64, both byte orders, and universal
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
)
OLD_LAYOUT_ISSUE = "Go < 1.18 binary: its build info pointers could not be followed (not read)"


@dataclass(frozen=True)
class BuildInfo:
    """The two strings of a Go >= 1.18 build info blob."""

    go_version: str
    modinfo: str


class _Need:
    """Sentinel results of decoding at a candidate position."""


_MORE, _INVALID, _OLD = _Need(), _Need(), _Need()


def _uvarint(buf: bytearray, pos: int) -> tuple[int, int] | _Need:
    value = shift = 0
    for i in range(pos, min(pos + 10, len(buf))):
        value |= (buf[i] & 0x7F) << shift
        if buf[i] < 0x80:
            return value, i + 1
        shift += 7
    return _MORE if len(buf) - pos < 10 else _INVALID


def _decode(buf: bytearray, at: int) -> BuildInfo | _Need:
    """Decode the build info header at ``buf[at]`` (the magic is already there)."""
    if len(buf) - at < _HEADER:
        return _MORE
    if buf[at + 14] not in (4, 8):  # pointer size: anything else is a stray copy of the magic
        return _INVALID
    if not buf[at + 15] & _FLAG_INLINE:
        return _OLD if buf[at + 15] in (0, 1) else _INVALID
    pos = at + _HEADER
    strings: list[str] = []
    # Every check that can reject a candidate runs before waiting for (or decoding) its strings: a
    # forged header claiming megabytes used to be buffered and decoded at each of its many copies.
    for limit in (_MAX_VERSION, _MAX_STRING):
        res = _uvarint(buf, pos)
        if isinstance(res, _Need):
            return res
        length, pos = res
        if length > limit:
            return _INVALID
        if not strings and not _version_prefix_ok(buf, pos, length):
            return _INVALID if len(buf) - pos >= min(length, 5) else _MORE
        if len(buf) < pos + length:
            return _MORE
        strings.append(buf[pos : pos + length].decode("utf-8", "replace"))
        pos += length
    return BuildInfo(strings[0], strings[1])


def _version_prefix_ok(buf: bytearray, pos: int, length: int) -> bool:
    """Whether the Go version string at ``pos`` starts as one does (false too while bytes are missing)."""
    return any(length >= len(p) and buf[pos : pos + len(p)] == p for p in _VERSION_PREFIXES)


class BuildInfoScanner:
    """Finds the build info in a byte stream fed chunk by chunk, keeping little of it."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._base = 0  # file offset of _buf[0]
        self._skip = 0  # _buf positions before this were already rejected
        self.old_layout = False
        self.old_header: bytes | None = None  # the first pre-1.18 header, for the legacy resolver

    def feed(self, chunk: bytes) -> BuildInfo | None:
        """Add the next chunk; the build info once it is complete, else None."""
        self._buf += chunk
        while True:
            at = self._find()
            if at < 0:
                # Keep just enough for a magic that straddles the chunk boundary.
                self._drop(max(0, len(self._buf) - (len(MAGIC) - 1)))
                return None
            found = _decode(self._buf, at)
            if isinstance(found, BuildInfo):
                return found
            if found is _MORE:
                self._drop(at)  # wait for the rest, keeping the candidate at the front
                return None
            if found is _OLD and self.old_header is None:
                self.old_layout = True
                self.old_header = bytes(self._buf[at : at + _HEADER])
            self._skip = at + 1

    def _find(self) -> int:
        at = self._buf.find(MAGIC, self._skip)
        while at >= 0 and (self._base + at) % _ALIGN:
            at = self._buf.find(MAGIC, at + 1)
        return at

    def _drop(self, n: int) -> None:
        del self._buf[:n]
        self._base += n
        self._skip = max(0, self._skip - n)


def scan(chunks: Iterable[bytes]) -> tuple[BuildInfo | None, bool]:
    """(build info, saw an old pointer-based header) of an executable stream; (None, False) if not one.

    A pre-1.18 header's pointers are followed as the stream goes on; when they lead to the strings,
    the result is a :class:`BuildInfo` as for newer binaries. Always consumes the whole stream: the
    layer walker reads the next tar entry after it.
    """
    it = iter(chunks)
    head = b""
    for chunk in it:
        head += chunk
        if len(head) >= 4:
            break
    if not head.startswith(_EXECUTABLE_MAGICS):
        _drain(it)
        return None, False
    scanner = BuildInfoScanner()
    legacy = LegacyResolver()
    offset = 0
    info: BuildInfo | None = None
    for chunk in itertools.chain((head,), it):
        if info is not None:
            continue  # drain
        had_old = scanner.old_header is not None
        info = scanner.feed(chunk)
        if not had_old and scanner.old_header is not None:
            legacy.header(scanner.old_header)  # before feeding: its string headers may be in this chunk
        legacy.feed(offset, chunk)
        offset += len(chunk)
    if info is None and scanner.old_header is not None:
        resolved = legacy.result()
        if resolved is not None and resolved[0]:
            return BuildInfo(*resolved), True
    return info, scanner.old_layout


def _drain(it: Iterator[bytes]) -> None:
    for _ in it:
        pass


@dataclass
class Module:
    """One module line of the module info: path, version, sum, and what replaced it."""

    path: str
    version: str
    sum: str = ""
    replace: Module | None = None


@dataclass
class ModInfo:
    """The module info string, parsed like runtime/debug.ParseBuildInfo."""

    path: str = ""
    main: Module | None = None
    deps: list[Module] = field(default_factory=list)
    settings: dict[str, str] = field(default_factory=dict)


_SENTINEL = 16


def parse_modinfo(raw: str) -> ModInfo:
    """Parse module info, first stripping the 16-byte sentinels the linker wraps it in."""
    if len(raw) >= 2 * _SENTINEL + 1 and raw[-_SENTINEL - 1] == "\n":
        raw = raw[_SENTINEL:-_SENTINEL]
    info = ModInfo()
    last: Module | None = None
    for line in raw.split("\n"):
        kind, _, rest = line.partition("\t")
        if kind == "build":
            key, value = _setting(rest)
            info.settings[key] = value
            continue
        fields = rest.split("\t")
        if kind == "path":
            info.path = rest
        elif kind in ("mod", "dep", "=>") and len(fields) >= 2:
            mod = Module(fields[0], fields[1], fields[2] if len(fields) > 2 else "")
            if kind == "=>":
                if last is not None:
                    last.replace = mod
                continue
            if kind == "mod":
                info.main = mod
            else:
                info.deps.append(mod)
            last = mod
    return info


def _setting(text: str) -> tuple[str, str]:
    """``key=value`` where either side is Go-quoted when it holds spaces, quotes or ``=``."""
    decoder = json.JSONDecoder()
    key, end = text, -1
    if text.startswith('"'):
        try:
            key, end = decoder.raw_decode(text)
        except ValueError:
            key, end = text, -1
    if end >= 0 and text[end : end + 1] == "=":
        value = text[end + 1 :]
    else:
        key, _, value = text.partition("=")
    if value.startswith('"'):
        with contextlib.suppress(ValueError):  # a Go escape JSON lacks (\a, \x..): keep it as written
            value = text_only(json.loads(value))
    return key, value


DEVEL = "(devel)"
_CANDIDATE = re.compile(r"(\d+(?:\.\d+){0,2})(\w*)")
_GO_RELEASE = re.compile(r"go\d+(?:\.\d+){0,2}(?:(?:beta|rc)\d+)?(?: |\Z)")
#: ``-X <pkg>.<name>=<value>`` flags that carry a release version, the naming conventions syft also accepts.
_LDFLAG_VERSION = (
    re.compile(
        r"\.[a-zA-Z0-9]*(?:[rR]elease)?(?:[gG]it)?(?:[bB]uild)?[vV]er(?:sion)?=(?:\S+/)*(v?\d+\.\d+\.\d+[-\w]*)"
    ),
    re.compile(r"\.[a-zA-Z0-9]*[tT]ag=(?:\S+/)*(v?\d+\.\d+\.\d+[-\w]*)"),
)


def ldflags_version(ldflags: str, main_module: str) -> str | None:
    """The main module's version from ``-X main.version=1.2.3``-style flags (``v``-prefixed), or None.

    Only variables of package ``main`` or of the main module's own packages count: a dependency's
    version variable says nothing about the binary.
    """
    owners = "(?:main|" + re.escape(main_module) + r"/\S*)"
    for pattern in _LDFLAG_VERSION:
        m = re.search(owners + pattern.pattern, ldflags)
        if m is not None:
            version = m.group(1)
            return version if version.startswith("v") else "v" + version
    return None


class GoBinaryCataloger(Cataloger):
    """Go main modules and their dependencies, from executables' embedded build info."""

    name: ClassVar[str] = "go-binary"
    sniffs_executables: ClassVar[bool] = True
    package_types: ClassVar[tuple[str, ...]] = ("golang",)

    def sniff(self, path: str, chunks: Iterable[bytes]) -> ParsedFile | None:
        info, old_layout = scan(chunks)
        if info is None:
            # Not resolved (truncated, stripped or forged pointers): said, never silently nothing.
            return ParsedFile(issues=[OLD_LAYOUT_ISSUE]) if old_layout else None
        return ParsedFile(packages=self._packages(info))

    def parse(self, path: str, data: bytes) -> ParsedFile:
        """A whole binary at once (tests, tools): the streaming code fed one chunk."""
        return self.sniff(path, [data]) or ParsedFile()

    def _packages(self, info: BuildInfo) -> list[Package]:
        mod = parse_modinfo(info.modinfo)
        common = {"go_version": info.go_version}
        for setting in ("GOOS", "GOARCH"):
            if setting in mod.settings:
                common[setting.lower()] = mod.settings[setting]
        out: list[Package] = []
        if mod.main is not None:
            extra = {f"vcs_{k[4:]}": v for k, v in mod.settings.items() if k.startswith("vcs.")}
            if mod.path:
                extra["main_package"] = mod.path
            if mod.main.version == DEVEL:
                version = ldflags_version(mod.settings.get("-ldflags", ""), mod.main.path)
                if version:
                    extra["version_from"] = "ldflags"
                    mod.main = Module(mod.main.path, version, mod.main.sum, mod.main.replace)
            out.append(self._package(mod.main, {**common, **extra}))
        main = {"main_module": mod.main.path} if mod.main is not None else {}
        out.extend(self._package(dep, {**common, **main}) for dep in mod.deps)
        stdlib = self._stdlib(info.go_version, main)
        if stdlib is not None:
            out.append(stdlib)
        return out

    def _stdlib(self, go_version: str, metadata: dict[str, str]) -> Package | None:
        """The standard library compiled in, named and versioned as syft does (``stdlib``, ``go1.x.y``)."""
        m = _GO_RELEASE.match(go_version)
        if m is None:
            return None  # a devel toolchain has no release version to report
        release = go_version.split(" ", 1)[0]  # "go1.22.1 X:loopvar": experiments are not the version
        # syft's CPE: a release candidate is the update field ("1.21rc2" -> "1.21:rc2"), else "-".
        parts = _CANDIDATE.match(release.removeprefix("go"))
        number, candidate = parts.groups() if parts is not None else (release, "")
        return Package(
            name="stdlib",
            version=release,
            type="golang",
            purl=purl_of("golang", None, "stdlib", release.removeprefix("go")),
            cpes=[f"cpe:2.3:a:golang:go:{number}:{candidate or '-'}:*:*:*:*:*:*"],
            licenses=["BSD-3-Clause"],
            license_expression="BSD-3-Clause",
            metadata={"go_version": go_version, **metadata},
            found_by=self.name,
        )

    def _package(self, mod: Module, metadata: dict[str, str]) -> Package:
        metadata = dict(metadata)
        if mod.sum:
            metadata["h1_digest"] = mod.sum
        # The package keeps the identity go.mod requires; what was compiled instead is recorded.
        if mod.replace is not None:
            metadata["replaced_by"] = f"{mod.replace.path} {mod.replace.version}".strip()
            if mod.replace.sum:
                metadata["replaced_by_h1_digest"] = mod.replace.sum
        namespace, _, name = mod.path.rpartition("/")
        return Package(
            name=mod.path,
            version=mod.version,
            type="golang",
            purl=purl_of("golang", namespace or None, name, mod.version or None),
            metadata=metadata,
            found_by=self.name,
        )
