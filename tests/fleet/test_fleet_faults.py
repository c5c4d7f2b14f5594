"""Faults during a fleet scan: a corrupt blob, an interrupt, a moved tag — on an OCI layout fleet."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from fixtures import FixtureSet
from fixtures.fleet import write_fleet_layout
from provenant.fleet import models as m
from provenant.fleet.executor_local import LocalExecutor
from provenant.fleet.scan import ScanSettings, ScanSummary, scan_fleet
from provenant.fleet.store import Store, open_store
from provenant.fleet.targets import TagFilter
from provenant.progress import FleetStatus, Progress
from provenant.session import Session
from provenant.sources.registry import RegistryOptions


@pytest.fixture
def layout(fixture_set: FixtureSet, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    dest = tmp_path / "layout"
    names = write_fleet_layout(fixture_set, dest, bases=1, apps=2)
    return dest, names


def _scan(store: Store, target: str, cache: Path, progress: Progress | None = None) -> ScanSummary:
    cfg = ScanSettings(registry=RegistryOptions(), cache=str(cache), executor=LocalExecutor(1), progress=progress)
    with Session() as session:
        return scan_fleet(session, store, [target], TagFilter(), cfg)


def _counts(store: Store) -> dict[str, int]:
    with store.sessions() as s:
        return {
            "images": s.scalar(select(func.count()).select_from(m.Image)) or 0,
            "ok": s.scalar(select(func.count()).select_from(m.Image).where(m.Image.status == "ok")) or 0,
            "image_manifests": s.scalar(select(func.count()).select_from(m.ImageManifest)) or 0,
            "occurrences": s.scalar(select(func.count()).select_from(m.Occurrence)) or 0,
        }


def test_a_corrupt_blob_fails_its_image_only(layout: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    dest, names = layout
    # The app layer of app 2 release 1.1 is in that image only: corrupt its bytes on disk.
    index = json.loads((dest / "blobs/sha256" / names["debian-base-app2-1.1"].split(":")[1]).read_bytes())
    manifest = json.loads((dest / "blobs/sha256" / index["manifests"][0]["digest"].split(":")[1]).read_bytes())
    app_layer = dest / "blobs/sha256" / manifest["layers"][-1]["digest"].split(":")[1]
    app_layer.write_bytes(b"\x00" * app_layer.stat().st_size)
    store = open_store(str(tmp_path / "inv.sqlite"), migrate=True)
    summary = _scan(store, f"oci:{dest}", tmp_path / "cache")
    assert summary.scanned == 3 and summary.failed == 1
    assert [f.reference.rsplit(":", 1)[-1] for f in summary.failures] == ["debian-base-app2-1.1"]
    assert "digest" in summary.failures[0].error and "\n" not in summary.failures[0].error
    with store.sessions() as s:
        failed = s.scalars(select(m.Image).where(m.Image.status == "failed")).one()
        assert failed.digest == names["debian-base-app2-1.1"] and failed.error
        assert (
            s.scalar(select(func.count()).select_from(m.ImageManifest).where(m.ImageManifest.image_id == failed.id))
            == 0
        )
    store.close()


def test_interrupt_leaves_whole_images_and_the_next_run_resumes(
    layout: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    dest, _names = layout
    store = open_store(str(tmp_path / "inv.sqlite"), migrate=True)

    class StopAfterTwo(Progress):
        def fleet(self, status: FleetStatus) -> None:
            if status.stage == "images" and status.images_done == 2:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _scan(store, f"oci:{dest}", tmp_path / "cache", StopAfterTwo())
    after_interrupt = _counts(store)
    assert after_interrupt["images"] == after_interrupt["ok"] == 2
    assert after_interrupt["image_manifests"] == 4  # both platforms of each finished image, nothing partial
    resumed = _scan(store, f"oci:{dest}", tmp_path / "cache")
    assert resumed.unchanged == 2 and resumed.scanned == 2 and resumed.layers_cached == resumed.layers
    final = _counts(store)
    assert final["images"] == final["ok"] == 4 and final["image_manifests"] == 8
    store.close()


def test_a_moved_tag_keeps_its_history(layout: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    dest, names = layout
    store = open_store(str(tmp_path / "inv.sqlite"), migrate=True)
    _scan(store, f"oci:{dest}", tmp_path / "cache")
    # Point the 1.0 name of app 1 at the 1.1 index, as a re-push of the tag would.
    index_json = json.loads((dest / "index.json").read_text())
    old, new = names["debian-base-app1-1.0"], names["debian-base-app1-1.1"]
    for entry in index_json["manifests"]:
        if entry["annotations"]["org.opencontainers.image.ref.name"] == "debian-base-app1-1.0":
            entry["digest"] = new
    (dest / "index.json").write_text(json.dumps(index_json))
    summary = _scan(store, f"oci:{dest}", tmp_path / "cache")
    assert summary.scanned == 0 and summary.tags_moved == 1
    with store.sessions() as s:
        tag = s.scalars(select(m.Tag).where(m.Tag.name == "debian-base-app1-1.0")).one()
        history = (
            s.execute(
                select(m.Image.digest)
                .join(m.TagEvent, m.TagEvent.image_id == m.Image.id)
                .where(m.TagEvent.tag_id == tag.id)
                .order_by(m.TagEvent.id)
            )
            .scalars()
            .all()
        )
    assert history == [old, new]
    store.close()


def test_policy_verdicts_are_recorded_per_image(layout: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    from provenant.policy.schema import load_policy

    dest, _names = layout
    policy_path = Path(__file__).parents[2] / "policies" / "default.yaml"
    store = open_store(str(tmp_path / "inv.sqlite"), migrate=True)
    cfg = ScanSettings(
        registry=RegistryOptions(),
        cache=str(tmp_path / "cache"),
        executor=LocalExecutor(1),
        policy=load_policy(policy_path),
        policy_path=policy_path,
    )
    with Session() as session:
        summary = scan_fleet(session, store, [f"oci:{dest}:debian-base-app1-1.0"], TagFilter(), cfg)
    assert summary.scanned == 1
    with store.sessions() as s:
        rows = s.scalars(select(m.Verdict)).all()
    store.close()
    assert rows and {r.policy_digest for r in rows} == {
        "sha256:" + hashlib.sha256(policy_path.read_bytes()).hexdigest()
    }
    checks = {r.check_id for r in rows}
    assert "user.non-root" in checks and "provenance.present" in checks
    assert {r.platform for r in rows} >= {"linux/amd64", "linux/arm64/v8"}
    assert {r.result for r in rows} <= {"pass", "fail", "warn", "no-data", "waived", "off"}
    # The fixture runs as root: user.non-root fails on each platform (a warn in default.yaml).
    assert {r.result for r in rows if r.check_id == "user.non-root"} <= {"fail", "warn"}


def test_a_worker_killed_mid_scan_reruns_its_jobs_without_duplicates(
    layout: tuple[Path, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import signal
    from concurrent.futures import ProcessPoolExecutor

    from provenant.fleet import executor_local

    killed: list[int] = []

    class KillOnePool(ProcessPoolExecutor):
        """The real pool, except that the first worker is SIGKILLed right after the first job is submitted."""

        def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
            fut = super().submit(fn, *args, **kwargs)
            if not killed:
                pid = next(iter(self._processes))
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            return fut

    monkeypatch.setattr(executor_local, "ProcessPoolExecutor", KillOnePool)
    dest, _names = layout
    store = open_store(str(tmp_path / "inv.sqlite"), migrate=True)
    cfg = ScanSettings(registry=RegistryOptions(), cache=str(tmp_path / "cache"), executor=LocalExecutor(2))
    with Session() as session:
        summary = scan_fleet(session, store, [f"oci:{dest}"], TagFilter(), cfg)
    assert killed, "no worker was killed"
    assert summary.failed == 0 and summary.scanned == 4 and summary.layers_scanned == summary.layers
    counts = _counts(store)
    store.close()
    assert counts["images"] == counts["ok"] == 4 and counts["image_manifests"] == 8
