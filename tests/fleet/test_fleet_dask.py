"""``--executor dask`` on a real LocalCluster (two worker processes) gives the local executor's inventory."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from fixtures import FixtureSet
from fixtures.fleet import write_fleet_layout
from provenant.fleet import models as m
from provenant.fleet.store import open_store


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    from distributed import LocalCluster

    with LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None, host="127.0.0.1"
    ) as cluster:
        yield cluster.scheduler_address


def _scan(target: str, tmp: Path, name: str, *extra: str) -> str:
    db = str(tmp / f"{name}.sqlite")
    env = {**os.environ, "PROVENANT_CACHE_DIR": str(tmp / f"{name}-cache")}
    p = subprocess.run(
        [sys.executable, "-m", "provenant", "fleet", "scan", target, "--db", db, *extra],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert "0 failed" in p.stderr and "from the cache" in p.stderr
    return db


def _inventory(db: str) -> dict[str, object]:
    store = open_store(db, migrate=False)
    with store.sessions() as s:
        manifests = {
            row.digest: [p["purl"] for p in json.loads(gzip.decompress(row.sbom))["packages"]]
            for row in s.scalars(select(m.Manifest))
        }
        occurrences = sorted(
            s.execute(
                select(m.Manifest.digest, m.Package.key, m.Layer.digest)
                .join(m.Occurrence, m.Occurrence.manifest_id == m.Manifest.id)
                .join(m.Package, m.Package.id == m.Occurrence.package_id)
                .outerjoin(m.Layer, m.Layer.id == m.Occurrence.layer_id)
            )
        )
        tags = sorted(s.execute(select(m.Tag.name, m.Image.digest).join(m.Image, m.Image.id == m.Tag.image_id)))
    store.close()
    return {"manifests": manifests, "occurrences": occurrences, "tags": tags}


def test_dask_and_local_executors_give_identical_inventories(
    fixture_set: FixtureSet, scheduler: str, tmp_path: Path
) -> None:
    layout = tmp_path / "layout"
    write_fleet_layout(fixture_set, layout, bases=1, apps=2)
    on_dask = _scan(f"oci:{layout}", tmp_path, "dask", "--executor", "dask", "--scheduler", scheduler)
    local = _scan(f"oci:{layout}", tmp_path, "local", "--workers", "2")
    a, b = _inventory(on_dask), _inventory(local)
    assert len(a["manifests"]) == 8  # type: ignore[arg-type]
    assert a == b


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        (["--workers", "2"], "--workers sizes the local executor"),
        (["-u", "me", "--password-stdin"], "does not send registry passwords in the task graph"),
    ],
)
def test_dask_option_conflicts(scheduler: str, tmp_path: Path, extra: list[str], error: str) -> None:
    env = {**os.environ, "PROVENANT_CACHE_DIR": str(tmp_path / "cache")}
    p = subprocess.run(
        [sys.executable, "-m", "provenant", "fleet", "scan", "127.0.0.1:1/x:1", "--executor", "dask",
         "--scheduler", scheduler, *extra, "--db", str(tmp_path / "x.sqlite")],
        capture_output=True, text=True, env=env, timeout=60, check=False, input="s3cret\n",
    )  # fmt: skip
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and error in p.stderr, p.stderr
    assert "s3cret" not in p.stderr
