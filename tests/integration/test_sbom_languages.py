"""Language packages at image level: real wheels and a real node_modules tree in their own layers on
the real Debian base; expected sets from pip's and npm's own records, attribution to their layers."""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path

import pytest

from fixtures import FixtureSet
from fixtures.layers import File, LayerBlob, build_layer
from fixtures.ociimage import ImageSpec, Platform, Step, build_image, write_layout
from provenant.catalog.python import normalize_name
from provenant.sbom.generate import generate_sbom
from provenant.session import Session

pytestmark = pytest.mark.integration


def _tree(root: Path, prefix: str) -> dict[str, File]:
    return {
        f"{prefix}/{p.relative_to(root).as_posix()}": File(p.read_bytes(), 0o755 if p.stat().st_mode & 0o111 else 0o644)
        for p in root.rglob("*")
        if p.is_file() and not p.name.startswith(".done")
    }


def test_python_and_npm_layers(
    fixture_set: FixtureSet,
    site_packages: Path,
    node_app: Path,
    tmp_path: Path,
) -> None:
    img = fixture_set.image("debian-multiarch:12")
    blobs = img.layout / "blobs" / "sha256"
    manifest = json.loads((blobs / img.platforms["linux/amd64"].split(":")[1]).read_bytes())
    config = json.loads((blobs / manifest["config"]["digest"].split(":")[1]).read_bytes())
    steps = [
        Step(f"base {n}", LayerBlob(d["mediaType"], (blobs / d["digest"].split(":")[1]).read_bytes(), diff, 0))
        for n, (d, diff) in enumerate(zip(manifest["layers"], config["rootfs"]["diff_ids"], strict=True))
    ]
    steps.append(
        Step(
            "RUN pip install requests flask",
            build_layer(_tree(site_packages, "usr/local/lib/python3.11/site-packages")),
        )
    )
    steps.append(Step("COPY app /srv/app", build_layer(_tree(node_app, "srv/app"))))
    image = build_image(ImageSpec(platform=Platform("linux", "amd64"), steps=steps, config={"Cmd": ["/bin/sh"]}))
    layout = tmp_path / "layout"
    write_layout(layout, [("1", image.manifest)], image.blobs())
    with Session() as session:
        (result,) = generate_sbom(session, f"oci:{layout}:1").images
    pypi = {(normalize_name(p.name), p.version): p for p in result.packages if p.type == "pypi"}
    expected_pypi = {
        (normalize_name(d.metadata["Name"]), d.version)
        for d in importlib.metadata.distributions(path=[str(site_packages)])
    }
    assert set(pypi) == expected_pypi
    assert {p.introduced_in.layer_index for p in pypi.values() if p.introduced_in} == {len(steps) - 2}
    lock = json.loads((node_app / "package-lock.json").read_text())
    expected_npm = {
        (m.get("name", k.rsplit("node_modules/", 1)[-1]), m["version"]) for k, m in lock["packages"].items() if k
    }
    npm = {(p.name, p.version) for p in result.packages if p.type == "npm"}
    assert npm == expected_npm
    express = next(p for p in result.packages if p.name == "express")
    assert express.introduced_in is not None and express.introduced_in.layer_index == len(steps) - 1
    assert express.introduced_in.created_by == "COPY app /srv/app"
    assert express.locations[0].path == "srv/app/node_modules/express/package.json"
    assert {p.type for p in result.packages} == {"deb", "pypi", "npm"}
