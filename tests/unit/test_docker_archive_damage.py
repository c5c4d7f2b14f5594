"""Damaged ``docker save`` tarballs (found by ``scripts/fuzz_catalogers.py --only @archive``): one line, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from fixtures.dockersave import legacy_docker_archive, write_tar
from fixtures.layers import File, build_layer
from fixtures.ociimage import ImageSpec, Platform, Step, build_image
from provenant.cli.main import cli


@pytest.fixture(scope="module")
def saved() -> dict[str, bytes]:
    layer = build_layer({"etc/os-release": File(b"ID=debian\nVERSION_ID=12\n")})
    image = build_image(ImageSpec(Platform("linux", "amd64"), [Step("ADD rootfs /", layer)], {"User": "app"}))
    return legacy_docker_archive(image, "demo/app:v1")


@pytest.mark.parametrize(
    ("manifest", "says"),
    [
        (b'[{"Config": "caf\xc2.json"}]', "manifest.json is not a docker save manifest: 'utf-8' codec can't decode"),
        (b'{"Config": 1}', "manifest.json is not a docker save manifest"),
        (b"[]", "manifest.json lists no images"),
    ],
)
def test_manifest_json_damage_is_one_line(saved: dict[str, bytes], tmp_path: Path, manifest: bytes, says: str) -> None:
    archive = tmp_path / "image.tar"
    write_tar(archive, {**saved, "manifest.json": manifest})
    for argv in (["inspect", "-o", "json"], ["sbom", "--no-cache"]):
        out = CliRunner().invoke(cli, ["-q", *argv, f"docker-archive:{archive}"])
        assert out.exit_code == 2, out.output
        (line,) = out.stderr.splitlines()
        assert line.startswith(f"provenant: error: {archive}: {says}"), line


def test_the_same_archive_undamaged_is_read(saved: dict[str, bytes], tmp_path: Path) -> None:
    archive = tmp_path / "image.tar"
    write_tar(archive, saved)
    out = CliRunner().invoke(cli, ["-q", "inspect", "-o", "json", f"docker-archive:{archive}"])
    assert out.exit_code == 0, out.stderr
    assert json.loads(out.stdout)["platforms"][0]["platform"] == "linux/amd64"
