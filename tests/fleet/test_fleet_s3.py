"""The layer cache on a real S3 API (moto's standalone server on 127.0.0.1) through fsspec."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fixtures import FixtureSet
from fixtures.fleet import write_fleet_layout

ACCESS = {"AWS_ACCESS_KEY_ID": "fleet-test", "AWS_SECRET_ACCESS_KEY": "fleet-test-secret"}


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = Path(sys.executable).parent / "moto_server"
    proc = subprocess.Popen(
        [str(server), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert proc.poll() is None and time.monotonic() < deadline, "moto_server did not start"
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _scan(target: str, db: Path, cache: str, endpoint: str) -> str:
    env = {**os.environ, **ACCESS, "FSSPEC_S3_ENDPOINT_URL": endpoint}
    p = subprocess.run(
        [sys.executable, "-m", "provenant", "fleet", "scan", target, "--db", str(db), "--cache-dir", cache,
         "--workers", "2"],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    return p.stderr


def test_scans_share_the_layer_cache_on_s3(fixture_set: FixtureSet, s3_endpoint: str, tmp_path: Path) -> None:
    import fsspec  # type: ignore[import-untyped]

    fs = fsspec.filesystem(
        "s3", endpoint_url=s3_endpoint, key=ACCESS["AWS_ACCESS_KEY_ID"], secret=ACCESS["AWS_SECRET_ACCESS_KEY"]
    )
    fs.mkdir("fleet-cache")
    layout = tmp_path / "layout"
    write_fleet_layout(fixture_set, layout, bases=1, apps=2)
    first = _scan(f"oci:{layout}", tmp_path / "one.sqlite", "s3://fleet-cache/team", s3_endpoint)
    assert "(6 scanned, 0 from the cache)" in first  # 1 base x 2 apps x 2 releases: 4 app layers + the base's 2
    entries = fs.find("fleet-cache/team/layers")
    assert entries and all(e.endswith(".json.gz") for e in entries)
    # Another machine (another database, no local cache) scans nothing: every layer is on S3.
    second = _scan(f"oci:{layout}", tmp_path / "two.sqlite", "s3://fleet-cache/team", s3_endpoint)
    assert "(0 scanned, 6 from the cache)" in second and "0 failed" in second
    assert "fleet-test-secret" not in first + second
