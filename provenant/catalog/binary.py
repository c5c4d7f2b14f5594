"""Runtimes installed without a package manager, found by the classifiers of :mod:`binaryrules`.

Only files whose path one of the classifiers' globs and file-name regexes select are looked at,
streamed as the layer goes by: the classifiers' byte patterns run over a bounded window
(``Limits.file_bytes``) with a small overlap between chunks, and nothing of the file is kept but
the first match (its offset and a short snippet are the recorded evidence). A binary that an OS
package owns (its dpkg ``.list``, rpm file list or apk ``R:`` line names it) is that package's,
not a second one: :func:`drop_os_owned` removes those after cataloging.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Sequence
from typing import ClassVar

from packageurl import PackageURL

from provenant import limits as _limits
from provenant.catalog.base import Cataloger, ParsedFile, StreamParser, compile_globs
from provenant.catalog.binaryrules import CLASSIFIERS, Classifier
from provenant.catalog.purls import purl_of
from provenant.sbom.model import Package

#: Bytes kept from one chunk for the next: longer than any match a pattern can make.
_OVERLAP = 512
#: A match ending this close to the end of what has been fed may be a cut-off version ("8.2.3" of
#: "8.2.36"): it is only taken once more bytes (or the end of the file) have come.
_HOLD = 128
_SNIPPET = 80
#: Package types whose file lists say who installed a file (OS packages, conda, wheels' RECORD).
OWNER_TYPES = frozenset({"deb", "rpm", "apk", "conda", "pypi"})
#: merged-/usr: dpkg lists ``/bin/bash`` where the image holds ``usr/bin/bash``.
_MERGED = ("bin/", "sbin/", "lib/", "lib32/", "lib64/", "libx32/")


def _show(data: bytes) -> str:
    """Bytes as printable ASCII, everything else escaped (evidence must be safe to print)."""
    return "".join(chr(b) if 32 <= b < 127 and b != 0x5C else f"\\x{b:02x}" for b in data)


class _Match:
    __slots__ = ("classifier", "offset", "snippet", "version")

    def __init__(self, classifier: Classifier, version: str, offset: int, snippet: bytes) -> None:
        self.classifier = classifier
        self.version = version
        self.offset = offset
        self.snippet = snippet


class ClassifierStream(StreamParser):
    """Runs the candidate classifiers' patterns over one file's chunks; keeps only the best match so far."""

    def __init__(
        self,
        path: str,
        candidates: Sequence[tuple[Classifier, tuple[tuple[bytes, re.Pattern[bytes]], ...]]],
        window: int,
    ) -> None:
        self._path = path
        self._candidates = candidates
        self._window = window
        self._seen = 0  # file offset just past the bytes fed so far
        self._tail = b""
        # Best match per (candidate index, pattern index); a lower pair wins at the end.
        self._found: dict[tuple[int, int], _Match] = {}
        self._best: tuple[int, int] | None = None

    def feed(self, chunk: bytes) -> None:
        if self._seen >= self._window or self._best == (0, 0):
            self._seen += len(chunk)
            return  # past the window, or nothing better can come
        chunk = chunk[: self._window - self._seen]
        buf = self._tail + chunk
        self._search(buf, self._seen - len(self._tail), final=False)
        self._seen += len(chunk)
        self._tail = buf[-_OVERLAP:]

    def _search(self, buf: bytes, base: int, *, final: bool) -> None:
        limit = len(buf) if final else len(buf) - _HOLD
        for ci, (classifier, patterns) in enumerate(self._candidates):
            for pi, (literal, rx) in enumerate(patterns):
                if self._best is not None and (ci, pi) >= self._best:
                    break
                if literal and literal not in buf:
                    continue
                m = rx.search(buf)
                if m is None or m.end() > limit:
                    continue  # none, or too near the end to be sure it is whole: seen again next time
                version = m.group("version").decode("ascii", "replace")
                self._found[(ci, pi)] = _Match(classifier, version, base + m.start(), m.group(0)[:_SNIPPET])
                self._best = (ci, pi)

    def close(self) -> ParsedFile | None:
        if self._tail and self._best != (0, 0):
            # The end of the window: what was held back near the end is whole now.
            self._search(self._tail, min(self._seen, self._window) - len(self._tail), final=True)
        if self._best is None:
            return None
        m = self._found[self._best]
        return ParsedFile(packages=[_package(m, self._path)])


def _package(m: _Match, path: str) -> Package:
    c = m.classifier
    fill = {"version": m.version, "short": m.version.split("+", 1)[0]}
    base = PackageURL.from_string(c.purl)
    return Package(
        name=c.package,
        version=m.version,
        type="binary",
        purl=purl_of(base.type, base.namespace, base.name, m.version),
        cpes=[cpe.format(**fill) for cpe in c.cpes],
        licenses=list(c.licenses),
        metadata={
            "classifier": c.name,
            "evidence_path": path,
            "evidence_offset": str(m.offset),
            "evidence_snippet": _show(m.snippet),
        },
        found_by="binary",
    )


class BinaryCataloger(Cataloger):
    """Language runtimes, servers and tools recognised by the version strings in their binaries."""

    name: ClassVar[str] = "binary"
    patterns: ClassVar[tuple[str, ...]] = tuple(dict.fromkeys(g for c in CLASSIFIERS for g in c.globs))
    streams: ClassVar[bool] = True
    package_types: ClassVar[tuple[str, ...]] = ("binary",)

    def stream(self, path: str, size: int) -> StreamParser | None:
        """A parser for this file if a classifier's file-name regex takes it (the glob only pre-selects)."""
        base = posixpath.basename(path)
        candidates = []
        for c in CLASSIFIERS:
            if not self._glob_ok(c, path):
                continue
            m = c.name_rx.search(base) if c.name_rx is not None else None
            if c.name_rx is not None and m is None:
                continue
            patterns = c.compiled(m.groupdict().get("v") if m is not None else None)
            if patterns:
                candidates.append((c, patterns))
        if not candidates or size == 0:
            return None
        return ClassifierStream(path, candidates, _limits.current().file_bytes)

    @staticmethod
    def _glob_ok(c: Classifier, path: str) -> bool:
        return compile_globs(c.globs).match(path) is not None

    def parse(self, path: str, data: bytes) -> ParsedFile:
        """A whole file at once (tests, tools): the streaming parser fed one chunk."""
        parser = self.stream(path, len(data))
        if parser is None:
            return ParsedFile()
        parser.feed(data)
        return parser.close() or ParsedFile()


def _owned_forms(path: str) -> Iterable[str]:
    path = path.lstrip("/")
    yield path
    if path.startswith(_MERGED):
        yield "usr/" + path


def drop_os_owned(packages: list[Package]) -> list[Package]:
    """The packages without binary-classifier findings whose files an OS package owns.

    Only the (few) paths where binaries were found are looked up, walking the OS packages' file
    lists once: no set of every owned path of the image is built.
    """
    found = {loc.path: None for p in packages if p.type == "binary" for loc in p.locations}
    found.update({p.metadata.get("evidence_path", ""): None for p in packages if p.type == "binary"})
    found.pop("", None)
    if not found:
        return packages
    owned: set[str] = set()
    for p in packages:
        if p.type in OWNER_TYPES:
            for f in p.files:
                for form in _owned_forms(f):
                    if form in found:
                        owned.add(form)
    if not owned:
        return packages
    out = []
    for p in packages:
        if p.type != "binary":
            out.append(p)
            continue
        kept = [loc for loc in p.locations if loc.path not in owned]
        if kept:
            out.append(p if len(kept) == len(p.locations) else p.model_copy(update={"locations": kept}))
    return out
