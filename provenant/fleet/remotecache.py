"""The layer cache on shared storage through fsspec: ``--cache-dir s3://bucket/prefix`` (or gs://, ...).

Same entries and layout as the local :class:`~provenant.cache.LayerCache` (``layers/<scanner>/<alg>/
<xx>/<hex>.json.gz``), so every worker of a cluster reads what any other scanned. An object store's PUT
replaces an object whole, so a reader never sees a partial entry; an unreadable entry is a miss and the
layer is scanned again. Credentials and the endpoint come from the storage library's own configuration
(environment, config files, instance roles), never from provenant's arguments, so they are not in a
task graph or a log. fsspec and its backends (s3fs) are the ``fleet`` extra's.
"""

from __future__ import annotations

import gzip
import logging
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from provenant.cache import LayerCache
from provenant.digest import Digest
from provenant.errors import UsageError
from provenant.layers.scan import LayerScan

log = logging.getLogger(__name__)


def is_url(location: str) -> bool:
    """Whether ``location`` names remote storage (``scheme://...``) rather than a directory."""
    return "://" in location and not location.startswith("file://")


class FsspecLayerCache(LayerCache):
    """A layer cache under an fsspec URL."""

    def __init__(self, url: str) -> None:
        super().__init__(Path("."), enabled=True)  # root is unused: entries live under ``url``
        try:
            import fsspec  # type: ignore[import-untyped]
        except ImportError:
            raise UsageError(f"--cache-dir {url}: needs fsspec; install the fleet extra") from None
        try:
            self.fs: Any
            self.fs, self.base = fsspec.core.url_to_fs(url.rstrip("/"))
        except (ImportError, ValueError) as exc:
            raise UsageError(f"--cache-dir {url}: {exc}") from None
        self.url = url

    def _key(self, scanner: str, digest: str) -> str:
        d = Digest.parse(digest)
        return f"{self.base}/layers/{scanner}/{d.algorithm}/{d.hex[:2]}/{d.hex}.json.gz"

    def get(self, scanner: str, digest: str) -> LayerScan | None:
        """The stored scan of layer ``digest``, or None (missing or unreadable)."""
        key = self._key(scanner, digest)
        return self._load(lambda: bytes(self.fs.cat_file(key)), key, digest)

    def put(self, scanner: str, scan: LayerScan) -> None:
        """Store ``scan`` (one whole-object write); a failure only costs a rescan later."""
        key = self._key(scanner, scan.digest)
        try:
            self.fs.pipe_file(key, gzip.compress(scan.to_json(), compresslevel=3, mtime=0))
        except OSError as exc:
            log.warning("could not write cache entry %s: %s", key, exc)


def open_layer_cache(location: str) -> LayerCache:
    """The layer cache at ``location``: a directory, or an fsspec URL."""
    if is_url(location):
        return FsspecLayerCache(location)
    return LayerCache(Path(location.removeprefix("file://")))


class RecentScans(LayerCache):
    """Another layer cache with the ``size`` scans read last kept decoded, for one ``fleet scan``.

    Images of a fleet share their base layers: without this, the scan of a base layer is read and decoded
    again for every image built on it (over the network for an object-store cache). The scans are shared,
    not copied: their readers never change them (a platform view copies a package before setting fields).
    """

    def __init__(self, inner: LayerCache, size: int = 32) -> None:
        super().__init__(inner.root, enabled=inner.enabled)
        self.inner = inner
        self.size = size
        self._recent: OrderedDict[tuple[str, str], LayerScan] = OrderedDict()
        self._lock = threading.Lock()  # images are assembled on several threads

    def get(self, scanner: str, digest: str) -> LayerScan | None:
        """The scan from memory when read lately, else from the inner cache (then kept)."""
        key = (scanner, digest)
        with self._lock:
            scan = self._recent.get(key)
            if scan is not None:
                self._recent.move_to_end(key)
                self.hits += 1
                return scan
        scan = self.inner.get(scanner, digest)
        if scan is not None:
            with self._lock:
                self._recent[key] = scan
                while len(self._recent) > self.size:
                    self._recent.popitem(last=False)
        return scan

    def put(self, scanner: str, scan: LayerScan) -> None:
        """Stored in the inner cache only (what is put here was just scanned, and is read back from there)."""
        self.inner.put(scanner, scan)
