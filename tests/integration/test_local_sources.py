"""The same image through an OCI layout, an OCI archive and both docker-save formats."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from fixtures import FixtureSet, Registry
from provenant.cli.main import cli
from provenant.inspect import inspect
from provenant.session import Session

pytestmark = pytest.mark.integration


def test_layout_matches_registry(registry: Registry, fixture_set: FixtureSet) -> None:
    fx = fixture_set.image("debian-multiarch:12")
    with Session() as session:
        remote = inspect(session, f"{registry.host}/debian-multiarch:12")
        layout = inspect(session, f"oci:{fx.layout}")
        multi = inspect(session, f"oci:{fixture_set.multi_tag_layout}:12")
        archive = inspect(session, f"oci-archive:{fixture_set.multiarch_oci_archive}")
    for local in (layout, multi, archive):
        assert local.digest == remote.digest
        assert local.platforms == remote.platforms
        assert local.images == remote.images
        assert local.registry is None


def test_docker_save_formats(fixture_set: FixtureSet) -> None:
    fx = fixture_set.image("debian-amd64:12")
    with Session() as session:
        layout = inspect(session, str(fx.layout))
        modern = inspect(session, f"docker-archive:{fixture_set.docker_archive}")
        legacy = inspect(session, str(fixture_set.legacy_docker_archive))
    # Docker 25+ tarballs carry the OCI layout: identical digests throughout
    assert modern.digest == layout.digest == fx.digest
    assert modern.images == layout.images
    # the legacy format has no manifest: same config (image ID) and diff_ids, synthesized manifest
    assert legacy.images[0].config_digest == layout.images[0].config_digest
    assert [h.diff_id for h in legacy.images[0].history] == [h.diff_id for h in layout.images[0].history]
    assert "synthesized" in legacy.facts
    assert legacy.images[0].config == layout.images[0].config


def test_multi_tag_layout_needs_a_name(fixture_set: FixtureSet) -> None:
    out = CliRunner().invoke(cli, ["inspect", f"oci:{fixture_set.multi_tag_layout}"])
    assert out.exit_code == 2
    assert "12-r2" in out.stderr and "say which one" in out.stderr


def test_tampered_layout_blob(fresh_layout: Path, fixture_set: FixtureSet) -> None:
    fx = fixture_set.image("debian-multiarch:12")
    manifest_digest = fx.platforms["linux/amd64"]
    manifest = json.loads((fresh_layout / "blobs/sha256" / manifest_digest.split(":")[1]).read_bytes())
    cfg = fresh_layout / "blobs/sha256" / manifest["config"]["digest"].split(":")[1]
    cfg.write_bytes(cfg.read_bytes().replace(b"65534", b"0"))
    proc = subprocess.run(
        [sys.executable, "-m", "provenant", "inspect", str(fresh_layout)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "does not match its digest" in proc.stderr
    assert manifest["config"]["digest"] in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_missing_platform_is_exit_2(fixture_set: FixtureSet) -> None:
    out = CliRunner().invoke(
        cli, ["inspect", "--platform", "linux/s390x", str(fixture_set.image("debian-multiarch:12").layout)]
    )
    assert out.exit_code == 2
    assert "linux/amd64, linux/arm64/v8" in out.stderr


def test_not_a_layout(tmp_path: Path) -> None:
    out = CliRunner().invoke(cli, ["inspect", str(tmp_path)])
    assert out.exit_code == 2
    assert "index.json" in out.stderr
    garbage = tmp_path / "x.tar"
    garbage.write_bytes(b"this is not a tar")
    out = CliRunner().invoke(cli, ["inspect", str(garbage)])
    assert out.exit_code == 2
    assert "cannot read tarball" in out.stderr
