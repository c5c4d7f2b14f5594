"""Scanning one layer: the pure function of (layer bytes, scan plan) that the cache stores.

One pass over the decompressed tar: every entry goes into a compact listing, whiteouts are noted,
files a cataloger asked for are read (up to its size cap) and parsed at once, executables are
streamed past sniffing catalogers, and nothing else is kept. The uncompressed bytes are hashed and
checked against the config's diff_id.

A hardlink is served the parse of its target (parsed once, the same object for every link, stored
once in the cache entry); more than ``Limits.hardlinks`` links to one file is a scan issue.
"""

from __future__ import annotations

import logging
import posixpath
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from pydantic import BaseModel

from provenant import limits as _limits
from provenant.catalog.base import Cataloger, CatalogError, ParsedFile, StreamParser, compile_globs
from provenant.digest import Digest, StreamHash
from provenant.errors import DigestMismatchError
from provenant.jsontext import model_from_json, model_json
from provenant.layers.decompress import LayerFormatError
from provenant.layers.tarwalk import DIRECTORY, HARDLINK, REGULAR, SYMLINK, TarEntry, TarWalker
from provenant.limits import Limits, how_to_raise
from provenant.sbom.result import ScanIssue

log = logging.getLogger(__name__)

WHITEOUT_PREFIX = ".wh."
OPAQUE = ".wh..wh..opq"
#: Executables smaller than this cannot be Go (or any useful) binaries; not worth streaming past sniffers.
MIN_SNIFF_SIZE = 1024

#: One listing row: (path, type flag, size, mode, link target).
Row = tuple[str, str, int, int, str]


@dataclass(frozen=True)
class ScanPlan:
    """What a layer scan keeps: the catalogers, their combined patterns, and a version for the cache key."""

    catalogers: tuple[Cataloger, ...]
    version: str

    @cached_property
    def _matchers(self) -> list[tuple[re.Pattern[str], Cataloger]]:
        return [(compile_globs(c.patterns), c) for c in self.catalogers if c.patterns]

    @cached_property
    def _any(self) -> re.Pattern[str]:
        globs = tuple(g for c in self.catalogers for g in c.patterns)
        return compile_globs(globs) if globs else re.compile(r"(?!)")

    @cached_property
    def exec_streamers(self) -> tuple[Cataloger, ...]:
        """Catalogers that want every executable pushed past their stream parsers."""
        return tuple(c for c in self.catalogers if c.streams_executables)

    @cached_property
    def sniffers(self) -> tuple[Cataloger, ...]:
        """Catalogers that want executables streamed past them."""
        return tuple(c for c in self.catalogers if c.sniffs_executables)

    def wanted_by(self, path: str) -> list[Cataloger]:
        """The catalogers whose patterns match ``path`` (fast path: one combined regex first)."""
        if self._any.match(path) is None:
            return []
        return [c for rx, c in self._matchers if rx.match(path) is not None]


class CapturedFile:
    """A parsed file: which cataloger parsed it, at which path, and what it found."""

    __slots__ = ("cataloger", "parsed", "path")

    def __init__(self, path: str, cataloger: str, parsed: ParsedFile) -> None:
        self.path = path
        self.cataloger = cataloger
        self.parsed = parsed


@dataclass
class LayerScan:
    """The cached result of scanning one layer."""

    digest: str
    diff_id: str
    uncompressed_size: int
    rows: list[Row] = field(default_factory=list)
    whiteouts: list[str] = field(default_factory=list)
    opaque_dirs: list[str] = field(default_factory=list)
    captured: list[CapturedFile] = field(default_factory=list)
    issues: list[ScanIssue] = field(default_factory=list)

    def note(self, path: str, cataloger: str, reason: str) -> None:
        """Record a problem ``cataloger`` had with the file at ``path`` in this layer (a scan issue)."""
        self.issues.append(ScanIssue(reason=reason, path=path, layer_digest=self.digest, cataloger=cataloger))

    @property
    def file_count(self) -> int:
        """Regular files in the layer."""
        return sum(1 for r in self.rows if r[1] == REGULAR)

    def to_json(self) -> bytes:
        """Compact JSON for the cache; a parse shared by several paths (hardlinks) is written once.

        Encoded and decoded by pydantic-core straight between models and bytes: no tree of Python
        dicts for the tens of thousands of packages a large database holds.
        """
        first: dict[int, int] = {}
        captured: list[_CachedCapture] = []
        for i, c in enumerate(self.captured):
            same = first.setdefault(id(c.parsed), i)
            if same != i:
                captured.append(_CachedCapture(path=c.path, cataloger=c.cataloger, same_as=same))
            else:
                captured.append(_CachedCapture(path=c.path, cataloger=c.cataloger, parsed=c.parsed))
        entry = _CacheEntry(
            digest=self.digest,
            diff_id=self.diff_id,
            uncompressed_size=self.uncompressed_size,
            rows=self.rows,
            whiteouts=self.whiteouts,
            opaque_dirs=self.opaque_dirs,
            captured=captured,
            issues=self.issues,
        )
        return model_json(entry).encode()

    @classmethod
    def from_json(cls, data: bytes) -> LayerScan:
        """Load what :meth:`to_json` wrote (a ``ValueError`` for anything else)."""
        entry = model_from_json(_CacheEntry, data, "layer cache entry")
        captured: list[CapturedFile] = []
        for c in entry.captured:
            if c.same_as is not None:
                if not 0 <= c.same_as < len(captured):
                    raise ValueError(f"cache entry: captured file refers to entry {c.same_as}, not an earlier one")
                parsed = captured[c.same_as].parsed
            elif c.parsed is not None:
                parsed = c.parsed
            else:
                raise ValueError("cache entry: captured file without a parse")
            captured.append(CapturedFile(c.path, c.cataloger, parsed))
        return cls(
            digest=entry.digest,
            diff_id=entry.diff_id,
            uncompressed_size=entry.uncompressed_size,
            rows=entry.rows,
            whiteouts=entry.whiteouts,
            opaque_dirs=entry.opaque_dirs,
            captured=captured,
            issues=entry.issues,
        )


class _CachedCapture(BaseModel):
    path: str
    cataloger: str
    parsed: ParsedFile | None = None
    same_as: int | None = None  # index of an earlier capture holding the same parse (hardlinks)


class _CacheEntry(BaseModel):
    """The cache file's shape (see :meth:`LayerScan.to_json`)."""

    digest: str
    diff_id: str
    uncompressed_size: int
    rows: list[Row]
    whiteouts: list[str]
    opaque_dirs: list[str]
    captured: list[_CachedCapture]
    issues: list[ScanIssue]


class _HashingChunks:
    """Counts and hashes the uncompressed stream on its way to the tar walker."""

    def __init__(self, chunks: Iterator[bytes], algorithm: str) -> None:
        self._chunks = chunks
        self.hash = StreamHash(algorithm)

    @property
    def size(self) -> int:
        return self.hash.size

    def __iter__(self) -> Iterator[bytes]:
        try:
            for chunk in self._chunks:
                self.hash.update(chunk)
                yield chunk
        finally:
            self.hash.close()


def _parse(cataloger: Cataloger, path: str, data: bytes, scan: LayerScan) -> ParsedFile | None:
    try:
        parsed = cataloger.parse(path, data)
    except CatalogError as exc:
        scan.note(path, cataloger.name, str(exc))
        return None
    except Exception as exc:  # a cataloger bug on odd input must not end the scan
        _cataloger_bug(cataloger, path, exc, scan)
        return None
    scan.captured.append(CapturedFile(path, cataloger.name, parsed))
    for problem in parsed.issues:
        scan.note(path, cataloger.name, problem)
    return parsed


def _cataloger_bug(cataloger: Cataloger, path: str, exc: Exception, scan: LayerScan) -> None:
    """Record what a cataloger raised on odd input (other than its own CatalogError) as a scan issue."""
    log.debug("cataloger %s failed on %s", cataloger.name, path, exc_info=True)
    reason = f"{cataloger.name} could not parse it ({type(exc).__name__}: {exc})"
    scan.note(path, cataloger.name, reason)


def _stream(
    walker: TarWalker,
    entry: TarEntry,
    streamers: Sequence[Cataloger],
    sniffers: Sequence[Cataloger],
    scan: LayerScan,
) -> list[tuple[str, ParsedFile]]:
    """Stream one entry once past its streaming catalogers and, for executables, the sniffer.

    The stream is teed: each chunk goes to every streaming parser as the sniffer (if any) pulls it,
    so a Go binary named ``go`` feeds both the build-info sniffer and the binary classifiers in one pass.
    """
    parsers: list[tuple[Cataloger, StreamParser]] = []
    for c in streamers:
        parser = c.stream(entry.path, entry.size)
        if parser is not None:
            parsers.append((c, parser))
    data = walker.iter_data(entry)
    broken: set[int] = set()

    def tee() -> Iterator[bytes]:
        for chunk in data:
            for i, (c, parser) in enumerate(parsers):
                if i in broken:
                    continue
                try:
                    parser.feed(chunk)
                except Exception:  # a parser bug must not cut the tar stream short
                    log.debug("stream parser %s failed on %s", c.name, entry.path, exc_info=True)
                    broken.add(i)
            yield chunk

    stream = tee() if parsers else data
    found: list[tuple[str, ParsedFile]] = []
    try:
        if sniffers:
            # One stream can feed one sniffer: today's plan has at most one (checked by the registry).
            parsed = _sniffed(sniffers[0], entry.path, stream, scan)
            if parsed is not None:
                found.append((sniffers[0].name, parsed))
    finally:
        # A sniffer may stop early; the rest of the entry must still be consumed to stay on the tar stream.
        for _ in stream:
            pass
        for _ in data:
            pass
    for i, (c, parser) in enumerate(parsers):
        if i in broken:
            scan.note(entry.path, c.name, f"{c.name} could not read it")
            continue
        try:
            parsed = parser.close()
        except CatalogError as exc:
            scan.note(entry.path, c.name, str(exc))
            continue
        except Exception as exc:  # as for parsed files: one file's odd content is an issue, not the scan's end
            _cataloger_bug(c, entry.path, exc, scan)
            continue
        if parsed is not None:
            found.append((c.name, parsed))
    for name, parsed in found:
        scan.captured.append(CapturedFile(entry.path, name, parsed))
        # What a streaming cataloger could not read is said, as for parsed files (it used to vanish here).
        for problem in parsed.issues:
            scan.note(entry.path, name, problem)
    return found


class _Watched:
    """An entry's chunks, noting whether reading them failed (a plain iterator: a sniffer that stops
    early must not close the stream, which the caller still drains to stay on the tar stream)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self.failed = False

    def __iter__(self) -> _Watched:
        return self

    def __next__(self) -> bytes:
        try:
            return next(self._chunks)
        except StopIteration:
            raise
        except Exception:
            self.failed = True
            raise


def _sniffed(sniffer: Cataloger, path: str, chunks: Iterator[bytes], scan: LayerScan) -> ParsedFile | None:
    source = _Watched(chunks)
    try:
        return sniffer.sniff(path, source)
    except CatalogError as exc:
        scan.note(path, sniffer.name, str(exc))
        return None
    except Exception as exc:
        if source.failed:
            raise  # the layer itself failed (its digest, its compression, a limit): never one file's issue
        _cataloger_bug(sniffer, path, exc, scan)  # the caller drains the entry: the tar stream stays in step
        return None


def _walk(walker: TarWalker, scan: LayerScan, plan: ScanPlan, lim: Limits) -> None:
    """List every entry into ``scan`` and hand the wanted files to their catalogers."""
    digest = scan.digest
    # Parses made in this layer by path, for hardlinks to them: (cataloger, parse) in parse order.
    parses: dict[str, list[tuple[str, ParsedFile]]] = {}
    links: dict[str, int] = {}  # hardlinks seen per target
    for entry in walker:
        if entry.unsafe or not entry.path:
            if entry.unsafe:
                scan.issues.append(
                    ScanIssue(reason="entry name leaves the root (..); ignored", path=entry.path, layer_digest=digest)
                )
            continue
        base = posixpath.basename(entry.path)
        if base.startswith(WHITEOUT_PREFIX):
            parent = posixpath.dirname(entry.path)
            if base == OPAQUE:
                scan.opaque_dirs.append(parent)
            else:
                scan.whiteouts.append(posixpath.join(parent, base[len(WHITEOUT_PREFIX) :]))
            continue
        link = entry.linkname
        if entry.type == HARDLINK:
            link = posixpath.normpath("/" + link).lstrip("/")
        scan.rows.append((entry.path, entry.type, entry.size, entry.mode, link))
        if entry.type not in (REGULAR, HARDLINK):
            continue
        wanted = plan.wanted_by(entry.path)
        if wanted and entry.type == HARDLINK:
            _link(path=entry.path, target=link, wanted=wanted, parses=parses, links=links, scan=scan, lim=lim)
            continue
        streamers = [c for c in wanted if c.streams]
        wanted = [c for c in wanted if not c.streams]
        executable = entry.type == REGULAR and entry.mode & 0o111 and entry.size >= MIN_SNIFF_SIZE
        sniffers = plan.sniffers if executable else ()
        if executable:
            streamers += [c for c in plan.exec_streamers if c not in streamers]
        if streamers and (not wanted or entry.size > max(min(c.max_size, lim.file_bytes) for c in wanted)):
            # Streamed, not read whole: the files runtimes hide in are the largest of an image.
            done = parses.setdefault(entry.path, [])
            done.clear()
            done.extend(_stream(walker, entry, streamers, sniffers, scan))
            continue
        if wanted:
            # A cataloger's own cap says what is worth parsing; Limits.file_bytes caps them all.
            if entry.size > max(min(c.max_size, lim.file_bytes) for c in wanted):
                reporting = [c for c in wanted if c.report_oversize]
                if reporting:
                    over = min(max(c.max_size for c in reporting), lim.file_bytes)
                    hint = f" ({how_to_raise('file_bytes')})" if over == lim.file_bytes else ""
                    scan.issues.append(
                        ScanIssue(
                            reason=f"file of {entry.size} bytes is over the size cap of {over} bytes; not parsed{hint}",
                            path=entry.path,
                            layer_digest=digest,
                            cataloger=",".join(c.name for c in reporting),
                        )
                    )
                continue
            data = walker.read_data(entry)
            done = parses.setdefault(entry.path, [])
            done.clear()  # a later copy of the same path in this layer replaces the earlier one
            for cataloger in wanted:
                if len(data) <= min(cataloger.max_size, lim.file_bytes):
                    parsed = _parse(cataloger, entry.path, data, scan)
                    if parsed is not None:
                        done.append((cataloger.name, parsed))
            for cataloger in streamers:  # already in memory: fed as one chunk
                parser = cataloger.stream(entry.path, len(data))
                if parser is not None:
                    parser.feed(data)
                    parsed = parser.close()
                    if parsed is not None:
                        scan.captured.append(CapturedFile(entry.path, cataloger.name, parsed))
                        done.append((cataloger.name, parsed))
        elif sniffers:
            _stream(walker, entry, (), sniffers, scan)


def _link(
    *,
    path: str,
    target: str,
    wanted: Sequence[Cataloger],
    parses: dict[str, list[tuple[str, ParsedFile]]],
    links: dict[str, int],
    scan: LayerScan,
    lim: Limits,
) -> None:
    """A hardlink to a file parsed earlier in this layer: the same parse, under the link's path."""
    done = parses.get(target)
    if not done:
        return  # target not parsed: nothing a cataloger asked for
    links[target] = n = links.get(target, 0) + 1
    if n > lim.hardlinks:
        if n == lim.hardlinks + 1:
            scan.issues.append(
                ScanIssue(
                    reason=f"more than {lim.hardlinks} hardlinks to this file; the rest are not cataloged "
                    f"(raise it with --limit hardlinks=N)",
                    path=target,
                    layer_digest=scan.digest,
                )
            )
        return
    names = {c.name for c in wanted}
    mine = [(name, parsed) for name, parsed in done if name in names]
    for name, parsed in mine:
        scan.captured.append(CapturedFile(path, name, parsed))
    parses[path] = mine  # a link to this link resolves to the same parse


def scan_layer(
    chunks: Iterator[bytes], *, digest: str, diff_id: str, plan: ScanPlan, limits: Limits | None = None
) -> LayerScan:
    """Scan one layer stream (already digest-verified by the caller's stream) against ``plan``.

    A layer whose stream cannot be followed (corrupt compression or tar headers) or that goes past a
    layer-wide limit raises an error naming the layer: the rest of its stream is unreadable.
    """
    from provenant.layers.decompress import decompressed

    lim = limits or _limits.current()
    what = f"layer {digest}"
    expected = Digest.parse(diff_id)
    hashed = _HashingChunks(decompressed(chunks, limits=lim, what=what), expected.algorithm)
    walker = TarWalker(iter(hashed), limits=lim, what=what)
    scan = LayerScan(digest=digest, diff_id=diff_id, uncompressed_size=0)
    try:
        _walk(walker, scan, plan, lim)
    except LayerFormatError as exc:
        raise LayerFormatError(f"{what}: {exc.message}", hint=exc.hint or "the layer is corrupt or forged") from exc
    finally:
        hashed.hash.close()  # also on errors: never leave a hashing thread waiting
    scan.uncompressed_size = hashed.size
    got = Digest(expected.algorithm, hashed.hash.hexdigest())
    if got != expected:
        raise DigestMismatchError(f"layer {digest} (uncompressed)", expected=str(expected), got=str(got))
    return scan


__all__ = ["DIRECTORY", "SYMLINK", "CapturedFile", "LayerScan", "Row", "ScanPlan", "scan_layer"]
