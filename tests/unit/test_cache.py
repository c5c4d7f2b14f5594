"""The layer cache: round trip, corrupt entries, scanner versions, prune."""

from __future__ import annotations

import gzip
import os
import time
from pathlib import Path

from click.testing import CliRunner

from provenant.cache import LayerCache
from provenant.cli.main import cli
from provenant.layers.scan import LayerScan

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64


def _scan(digest: str) -> LayerScan:
    return LayerScan(digest=digest, diff_id=D2, uncompressed_size=3, rows=[("a", "0", 3, 0o644, "")])


def test_round_trip_and_misses(tmp_path: Path) -> None:
    cache = LayerCache(tmp_path)
    assert cache.get("v1", D1) is None
    cache.put("v1", _scan(D1))
    hit = cache.get("v1", D1)
    assert hit is not None and hit.rows == [("a", "0", 3, 0o644, "")]
    assert cache.get("v2", D1) is None  # another scanner version never sees it
    assert (cache.hits, cache.misses) == (1, 2)
    assert not list(tmp_path.rglob(".tmp-*"))


def test_corrupt_entry_is_ignored(tmp_path: Path) -> None:
    cache = LayerCache(tmp_path)
    cache.put("v1", _scan(D1))
    (entry,) = tmp_path.rglob("*.json.gz")
    entry.write_bytes(b"not gzip")
    assert cache.get("v1", D1) is None
    entry.write_bytes(gzip.compress(b'{"digest": 1}'))
    assert cache.get("v1", D1) is None


def test_disabled_cache(tmp_path: Path) -> None:
    cache = LayerCache(tmp_path, enabled=False)
    cache.put("v1", _scan(D1))
    assert cache.get("v1", D1) is None
    assert not any(tmp_path.iterdir())


def test_prune(tmp_path: Path) -> None:
    cache = LayerCache(tmp_path)
    cache.put("old", _scan(D1))
    cache.put("cur", _scan(D1))
    cache.put("cur", _scan(D2))
    (stale,) = [p for p in (tmp_path / "layers" / "cur").rglob("*.json.gz") if p.name.startswith("2")]
    past = time.time() - 40 * 86400
    os.utime(stale, (past, past))
    result = cache.prune(current_scanner="cur", older_than_days=30)
    assert (result.removed_entries, result.kept_entries) == (2, 1)
    assert not (tmp_path / "layers" / "old").exists()


def test_cli_prune_all(tmp_path: Path) -> None:
    from provenant.catalog.scanversion import scanner_version

    LayerCache(tmp_path).put(scanner_version(), _scan(D1))
    out = CliRunner().invoke(cli, ["cache", "prune", "--all", "--cache-dir", str(tmp_path)])
    assert out.exit_code == 0, out.output
    assert "removed 1 entries" in out.output
    out = CliRunner().invoke(cli, ["cache", "dir", "--cache-dir", str(tmp_path)])
    assert out.stdout.strip() == str(tmp_path)
