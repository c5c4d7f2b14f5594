"""The cataloger interface and the small types that cross it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, Field

from provenant.globs import glob_to_regex
from provenant.sbom.model import Package

MiB = 1024 * 1024


class CatalogError(ValueError):
    """A file a cataloger asked for is corrupt or not what it should be; becomes a recorded scan issue."""


class Distro(BaseModel):
    """The operating system of an image, from ``os-release``."""

    id: str
    version_id: str | None = None
    version_codename: str | None = None
    id_like: list[str] = Field(default_factory=list)
    name: str | None = None
    pretty_name: str | None = None

    @property
    def purl_distro(self) -> str:
        """The purl ``distro`` qualifier, e.g. ``debian-12``."""
        return f"{self.id}-{self.version_id}" if self.version_id else self.id


class ParsedFile(BaseModel):
    """What a cataloger made of one file: packages it declares, facts for ``assemble``, problems."""

    packages: list[Package] = Field(default_factory=list)
    facts: dict[str, Any] = Field(default_factory=dict, description="JSON-able extras for assemble")
    issues: list[str] = Field(default_factory=list, description="problems that did not stop the parse")


@dataclass(frozen=True)
class ViewFile:
    """A parsed file as visible in the final filesystem: its path and the layer whose copy is visible."""

    path: str
    layer_index: int
    parsed: ParsedFile


class StreamParser(Protocol):
    """Looks at one file as its chunks go by, keeping only what it found (binary classifiers)."""

    def feed(self, chunk: bytes) -> None:
        """The next bytes of the file; never raises for odd content."""

    def close(self) -> ParsedFile | None:
        """What the file held, once all of it went by; None when it is not this cataloger's."""


class Cataloger:
    """Base class: subclasses set ``name`` and ``patterns`` and implement ``parse`` (or ``sniff``)."""

    name: ClassVar[str]
    #: Globs over paths without a leading slash: ``*`` stays within one segment, ``**/`` spans any depth.
    patterns: ClassVar[tuple[str, ...]] = ()
    #: Larger matching files are not kept; the scan records an issue instead.
    max_size: ClassVar[int] = 32 * MiB
    #: False when a file over ``max_size`` is simply not this cataloger's business (no scan issue).
    report_oversize: ClassVar[bool] = True
    #: True when the cataloger wants every executable regular file streamed through :meth:`sniff`.
    sniffs_executables: ClassVar[bool] = False
    #: True when files its patterns match are streamed through :meth:`stream` instead of read whole.
    streams: ClassVar[bool] = False
    #: True when every executable is also streamed through :meth:`stream` (push parsing, any number of them).
    streams_executables: ClassVar[bool] = False
    #: Package types this cataloger produces (for documentation and tests).
    package_types: ClassVar[tuple[str, ...]] = ()

    def parse(self, path: str, data: bytes) -> ParsedFile:
        """Parse one wanted file. Must be pure; raise :class:`CatalogError` for corrupt input."""
        raise CatalogError(f"{self.name} does not parse files")

    def sniff(self, path: str, chunks: Iterable[bytes]) -> ParsedFile | None:
        """Look at an executable as it streams past (never keep it whole); None when it is not ours."""
        return None

    def stream(self, path: str, size: int) -> StreamParser | None:
        """For a streaming cataloger: a parser for this matched file, or None when it does not want it."""
        return None

    def assemble(self, files: Sequence[ViewFile], distro: Distro | None) -> list[Package]:
        """Packages from the visible parsed files, with purls completed; default: each file's packages."""
        out: list[Package] = []
        for f in files:
            for pkg in f.parsed.packages:
                out.append(self.complete(pkg, distro))
        return out

    def complete(self, pkg: Package, distro: Distro | None) -> Package:
        """Fill in what needs the distro (purl namespace and qualifiers); default: unchanged."""
        return pkg

    def matches(self, path: str) -> bool:
        """Whether ``path`` matches one of this cataloger's patterns."""
        return bool(self.patterns) and compile_globs(self.patterns).match(path) is not None


@cache
def compile_globs(globs: tuple[str, ...]) -> re.Pattern[str]:
    """One anchored regex matching any of ``globs``.

    Every entry of every layer goes through this on the scan's hot path: the ``**/`` that most globs
    start with is factored out (one directory walk, then the alternatives), which is the same
    language as the plain alternation at a fraction of the backtracking.
    """
    deep = [glob_to_regex(g[3:]) for g in globs if g.startswith("**/")]
    rest = [glob_to_regex(g) for g in globs if not g.startswith("**/")]
    if deep:
        rest.append("(?:[^/]+/)*(?:" + "|".join(deep) + ")")
    return re.compile("(?:" + "|".join(rest) + r")\Z")
