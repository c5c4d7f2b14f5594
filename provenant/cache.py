"""Content-addressed cache of layer scans: (scanner version, layer digest) → scan result.

The scanner string a caller passes is the scanner version, optionally followed by ``-`` and the
scan-limits key (:mod:`provenant.layers.limitkey`); prune keeps every limits variant of the current
scanner version.

A layer's scan depends only on its bytes and the scanner's code, so one entry serves every image and
platform that shares the layer. Entries are gzip-compressed JSON written atomically (temp file +
rename in the same directory), so concurrent processes never see a partial entry; a corrupt entry
is ignored and rescanned.
"""

from __future__ import annotations

import contextlib
import gzip
import logging
import os
import shutil
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from provenant.cachedir import default_cache_dir
from provenant.digest import Digest
from provenant.errors import UsageError
from provenant.layers.scan import LayerScan

log = logging.getLogger(__name__)


class PruneResult(BaseModel):
    """What ``cache prune`` removed and kept."""

    cache_dir: str
    removed_entries: int
    removed_bytes: int
    kept_entries: int
    kept_bytes: int


class LayerCache:
    """The on-disk layer cache; ``enabled=False`` makes every lookup miss and every store a no-op."""

    def __init__(self, root: Path | None = None, *, enabled: bool = True) -> None:
        self.root = root or default_cache_dir()
        self.enabled = enabled
        self.hits = 0
        self.misses = 0

    def _path(self, scanner: str, digest: str) -> Path:
        d = Digest.parse(digest)
        return self.root / "layers" / scanner / d.algorithm / d.hex[:2] / f"{d.hex}.json.gz"

    def get(self, scanner: str, digest: str) -> LayerScan | None:
        """The cached scan of layer ``digest``, or None."""
        if not self.enabled:
            return None
        path = self._path(scanner, digest)
        scan = self._load(path.read_bytes, str(path), digest)
        if scan is not None:
            with contextlib.suppress(OSError):
                os.utime(path)  # last use, for prune
        return scan

    def _load(self, read: Callable[[], bytes], where: str, digest: str) -> LayerScan | None:
        """The scan ``read()`` returns (gzip JSON) if it is layer ``digest``'s; counts the hit or miss."""
        try:
            scan = LayerScan.from_json(gzip.decompress(read()))
        except FileNotFoundError:
            self.misses += 1
            return None
        except (OSError, EOFError, zlib.error, ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring unreadable cache entry %s: %s", where, exc)
            self.misses += 1
            return None
        if scan.digest != digest:
            self.misses += 1
            return None
        self.hits += 1
        return scan

    def put(self, scanner: str, scan: LayerScan) -> None:
        """Store ``scan`` atomically; failures to write only cost a rescan later."""
        if not self.enabled:
            return
        path = self._path(scanner, scan.digest)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json.gz")
            with os.fdopen(fd, "wb") as fh:
                fh.write(gzip.compress(scan.to_json(), compresslevel=3, mtime=0))
            os.replace(tmp, path)
        except OSError as exc:
            log.warning("could not write cache entry %s: %s", path, exc)

    def prune(self, *, current_scanner: str, older_than_days: float | None = None) -> PruneResult:
        """Remove entries of other scanner versions, and (optionally) entries unused for N days."""
        if older_than_days is not None and older_than_days < 0:
            raise UsageError("--older-than must be zero or more days")
        layers = self.root / "layers"
        removed = removed_bytes = kept = kept_bytes = 0
        cutoff = time.time() - older_than_days * 86400 if older_than_days is not None else None
        if layers.is_dir():
            for version_dir in layers.iterdir():
                if version_dir.name.split("-", 1)[0] != current_scanner:
                    n, b = _tree_size(version_dir)
                    shutil.rmtree(version_dir, ignore_errors=True)
                    removed, removed_bytes = removed + n, removed_bytes + b
                    continue
                for entry in version_dir.rglob("*.json.gz"):
                    st = entry.stat()
                    stale_tmp = entry.name.startswith(".tmp-") and st.st_mtime < time.time() - 3600
                    if (cutoff is not None and st.st_mtime < cutoff) or stale_tmp:
                        entry.unlink(missing_ok=True)
                        removed, removed_bytes = removed + 1, removed_bytes + st.st_size
                    else:
                        kept, kept_bytes = kept + 1, kept_bytes + st.st_size
        return PruneResult(
            cache_dir=str(self.root),
            removed_entries=removed,
            removed_bytes=removed_bytes,
            kept_entries=kept,
            kept_bytes=kept_bytes,
        )


def _tree_size(root: Path) -> tuple[int, int]:
    n = b = 0
    for f in root.rglob("*"):
        if f.is_file():
            n += 1
            b += f.stat().st_size
    return n, b
