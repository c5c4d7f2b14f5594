"""``fleet scan`` of an unchanged registry, answered without SQLAlchemy, httpx or the scan pipeline.

A nightly rescan of a registry that did not change finds every reference's digest already in the
inventory, scanned by this scanner version, and writes nothing. Importing SQLAlchemy alone takes
longer than the rest of such a run, so this path asks the registry with the standard-library client
(:class:`~provenant.sources.registry.quick.QuickRegistry`: tag lists and the catalog when a target
needs them, then one manifest HEAD per reference, on threads, over kept-alive connections) and reads
the SQLite inventory with :mod:`sqlite3`, read-only.

Any doubt returns None and the full scan runs, does the work and reports errors as always: a database
that is not an existing SQLite file at the current schema revision, a target that is not in a
registry, ``--newest --by created`` (it reads configs), a reference that is new, moved, failed before
or names an image not stored as scanned by this version, or anything the standard-library client
leaves to the full one (a proxy, an unusual answer, an auth scheme it does not speak).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Mapping, Sequence
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import quote

from provenant.errors import ProvenantError
from provenant.fleet.onthreads import on_threads
from provenant.fleet.scanline import scanner_version, summary_line
from provenant.fleet.store import HEAD, default_db_path
from provenant.fleet.targets import ImageRef, NotARegistryTarget, TagFilter, expand
from provenant.reference import Reference, parse_reference
from provenant.sources.registry.quick import QuickRegistry

if TYPE_CHECKING:
    from provenant.fleet.summary import ScanSummary


class UnchangedScan(NamedTuple):
    """What ``fleet scan`` found when nothing changed: every reference, every image already in the inventory.

    A named tuple, not the pydantic :class:`~provenant.fleet.summary.ScanSummary` (importing pydantic is a
    fifth of this path's time); :meth:`summary` gives that model.
    """

    references: int
    images: int
    seconds: float

    def summary(self) -> ScanSummary:
        """The same as :class:`~provenant.fleet.summary.ScanSummary` the full scan returns for it."""
        from provenant.fleet.summary import ScanSummary

        return ScanSummary(**self._counts(), failures=[])

    def line(self) -> str:
        """The one summary line (the full scan's, word for word)."""
        return summary_line(**self._counts())

    def _counts(self) -> dict[str, Any]:
        zero = dict.fromkeys(("scanned", "failed", "platforms", "layers", "layers_scanned", "layers_cached"), 0)
        return {
            **zero,
            "references": self.references,
            "images": self.images,
            "unchanged": self.images,
            "tags_moved": 0,
            "seconds": self.seconds,
        }


#: Names in one ``IN (...)`` list (SQLite's host parameters are bounded).
_CHUNK = 500


class _CannotTell(Exception):
    """The standard-library client left a question to the full one."""


class _Lister:
    """A :class:`~provenant.fleet.targets.Lister` over :class:`QuickRegistry`; what it cannot answer ends this path."""

    def __init__(self, quick: QuickRegistry) -> None:
        self.quick = quick

    def list_tags(self, ref: Reference) -> list[str]:
        return _answered(self.quick.list_tags(ref))

    def list_repositories(self, registry: str) -> list[str]:
        return _answered(self.quick.list_repositories(registry))


def _answered(answer: list[str] | None) -> list[str]:
    if answer is None:
        raise _CannotTell
    return answer


def sqlite_file(db: str | None) -> Path | None:
    """The SQLite file ``--db`` names (default: the cache directory's), or None for another database."""
    if db is None:
        return default_db_path()
    if db.startswith("sqlite:///"):
        rest = db.removeprefix("sqlite:///")
        return Path(rest) if rest and "?" not in rest else None
    return None if "://" in db else Path(db)


def unchanged_scan(
    targets: Sequence[str],
    filt: TagFilter,
    db: str | None,
    *,
    ca_file: Path | None = None,
    threads: int = 8,
    env: Mapping[str, str] | None = None,
) -> UnchangedScan | None:
    """What ``fleet scan targets`` finds when the registry has not changed since the inventory saw it; else None."""
    started = time.monotonic()
    path = sqlite_file(db)
    if path is None or not path.is_file() or (filt.newest is not None and filt.order == "created"):
        return None
    with QuickRegistry(ca_file=ca_file, env=env) as quick:
        if not quick.usable:
            return None
        try:
            refs = expand(targets, _Lister(quick), filt, lambda _tag: None, registry_only=True)
        except (_CannotTell, NotARegistryTarget, ProvenantError):
            return None  # the full scan asks again and reports what is wrong
        digests = _digests(quick, refs, threads)
    if digests is None or not _all_stored(path, refs, digests, scanner_version()):
        return None
    return UnchangedScan(len(refs), len(set(digests)), round(time.monotonic() - started, 3))


def _digests(quick: QuickRegistry, refs: Sequence[ImageRef], threads: int) -> list[str] | None:
    """The digest each reference names now (one HEAD each, on threads), or None when any cannot be told."""
    if not refs:
        return []
    parsed = [parse_reference(r.text) for r in refs]
    # One reference it cannot tell ends this path: ask no more.
    found = on_threads(quick.head, parsed, threads, stop=lambda digest: digest is None)
    return None if any(d is None for d in found) else [d for d in found if d is not None]


def _all_stored(path: Path, refs: Sequence[ImageRef], digests: Sequence[str], scanner: str) -> bool:
    """Whether the inventory at ``path`` already says all of it: each tag points at its digest, each image was
    scanned by ``scanner`` without error, and no reference has a resolution failure to clear.
    """
    try:
        with closing(sqlite3.connect(f"file:{quote(str(path.absolute()))}?mode=ro", uri=True)) as conn:
            if [row[0] for row in conn.execute("SELECT version_num FROM alembic_version")] != [HEAD]:
                return False
            images = dict(_images(conn, set(digests)))
            if any(images.get(d) != ("ok", scanner) for d in digests):
                return False
            tagged = {(repo, tag): digest for repo, tag, digest in _tags(conn, {r.repository for r in refs if r.tag})}
            if any(r.tag is not None and tagged.get((r.repository, r.tag)) != digests[i] for i, r in enumerate(refs)):
                return False
            return not _any_failure(conn, [r.text for r in refs])
    except sqlite3.Error:
        return False


def _chunks(values: Iterable[str]) -> Iterable[list[str]]:
    items = sorted(values)
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _marks(n: int) -> str:
    return ",".join("?" * n)


def _images(conn: sqlite3.Connection, digests: set[str]) -> Iterable[tuple[str, tuple[str, str]]]:
    for chunk in _chunks(digests):
        sql = f"SELECT digest, status, scanner FROM images WHERE digest IN ({_marks(len(chunk))})"  # noqa: S608
        for digest, status, scanner in conn.execute(sql, chunk):
            yield digest, (status, scanner)


def _tags(conn: sqlite3.Connection, repositories: set[str]) -> Iterable[tuple[str, str, str]]:
    for chunk in _chunks(repositories):
        sql = (
            "SELECT r.name, t.name, i.digest FROM tags t JOIN repositories r ON r.id = t.repository_id "  # noqa: S608
            f"JOIN images i ON i.id = t.image_id WHERE r.name IN ({_marks(len(chunk))})"
        )
        yield from conn.execute(sql, chunk)


def _any_failure(conn: sqlite3.Connection, references: list[str]) -> bool:
    for chunk in _chunks(references):
        sql = f"SELECT 1 FROM scan_failures WHERE reference IN ({_marks(len(chunk))}) LIMIT 1"  # noqa: S608
        if conn.execute(sql, chunk).fetchone() is not None:
            return True
    return False
