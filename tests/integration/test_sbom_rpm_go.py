"""rpm and Go at image level: a real rpmdb.sqlite (rpmbuild + rpm) and a real Go binary as layers of
an image read through an OCI layout; expectations from ``rpm -qa`` and ``go version -m``."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures.layers import File, build_layer
from fixtures.ociimage import ImageSpec, Platform, Step, build_image, write_layout
from provenant.sbom.generate import generate_sbom
from provenant.session import Session
from tests.catalogdata import gobins, rpms
from tests.catalogdata._run import ToolMissing

pytestmark = pytest.mark.integration

ROCKY = b'NAME="Rocky Linux"\nID="rocky"\nVERSION_ID="9.3"\nPRETTY_NAME="Rocky Linux 9.3 (Blue Onyx)"\n'


def test_rpm_and_go_layers(tmp_path: Path) -> None:
    try:
        root = rpms.build_root(tmp_path / "rpm")
        binary = gobins.build_app(tmp_path / "go")
    except ToolMissing as exc:
        pytest.skip(f"needs rpm, rpmbuild, gpg, golang-go and git: {exc}")
    expected_go = gobins.go_version_m(binary)
    db = root.sqlite.read_bytes()
    steps = [
        Step("ADD rootfs", build_layer({"etc/os-release": File(ROCKY), "var/lib/rpm/rpmdb.sqlite": File(db)})),
        Step("COPY app /usr/local/bin/app", build_layer({"usr/local/bin/app": File(binary.read_bytes(), 0o755)})),
    ]
    image = build_image(ImageSpec(platform=Platform("linux", "amd64"), steps=steps, config={"Cmd": ["/app"]}))
    layout = tmp_path / "layout"
    write_layout(layout, [("1", image.manifest)], image.blobs())
    with Session() as session:
        (result,) = generate_sbom(session, f"oci:{layout}:1").images
    assert result.distro is not None and (result.distro.id, result.distro.version_id) == ("rocky", "9.3")
    got_rpm = {(p.name, p.version.split(":", 1)[-1], p.arch) for p in result.packages if p.type == "rpm"}
    assert got_rpm == {(i.name, f"{i.version}-{i.release}", i.arch) for i in root.installed if i.name != "gpg-pubkey"}
    for p in result.packages:
        if p.type == "rpm":
            assert p.purl is not None and "distro=rocky-9.3" in p.purl and p.purl.startswith("pkg:rpm/rocky/")
            assert p.introduced_in is not None and p.introduced_in.layer_index == 0
    go = {p.name: p for p in result.packages if p.type == "golang"}
    assert expected_go.main is not None
    assert set(go) == {expected_go.main.path, *(d.path for d in expected_go.deps), "stdlib"}
    assert go["stdlib"].version == expected_go.go_version.split(" ")[0]
    assert all(p.introduced_in is not None and p.introduced_in.layer_index == 1 for p in go.values())
    assert go[expected_go.main.path].locations[0].path == "usr/local/bin/app"
