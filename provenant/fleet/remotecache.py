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
