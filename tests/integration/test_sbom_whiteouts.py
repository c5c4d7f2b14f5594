"""A package removed by a later layer (new status, whiteouts, an opaque directory) must not appear,
and the attribution of every other package must not move. Built from the real Debian base layer."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import subprocess
import tarfile
from pathlib import Path

import pytest

from fixtures import FixtureSet
from fixtures.layers import Dir, File, LayerBlob, Whiteout, build_layer
from fixtures.ociimage import ImageSpec, Platform, Step, build_image, write_layout
from provenant.sbom.generate import generate_sbom
from provenant.session import Session

pytestmark = pytest.mark.integration
REMOVED = "netbase"


def _base_layer(fx: FixtureSet) -> tuple[LayerBlob, dict[str, bytes]]:
    """The real amd64 base layer of debian-multiarch:12, and the dpkg files it holds."""
    img = fx.image("debian-multiarch:12")
    blobs = img.layout / "blobs" / "sha256"
    manifest = json.loads((blobs / img.platforms["linux/amd64"].split(":")[1]).read_bytes())
    layer = manifest["layers"][0]
    data = (blobs / layer["digest"].split(":")[1]).read_bytes()
    raw = gzip.decompress(data)
    wanted = {}
    with tarfile.open(fileobj=io.BytesIO(raw)) as t:
        for m in t:
            name = m.name.removeprefix("./")
            if m.isfile() and name in ("var/lib/dpkg/status", f"var/lib/dpkg/info/{REMOVED}.list"):
                f = t.extractfile(m)
                assert f is not None
                wanted[name] = f.read()
    blob = LayerBlob(layer["mediaType"], data, "sha256:" + hashlib.sha256(raw).hexdigest(), len(raw))
    return blob, wanted


def _without(status: bytes, package: str) -> bytes:
    paras = status.decode().strip("\n").split("\n\n")
    kept = [p for p in paras if not p.startswith(f"Package: {package}\n")]
    assert len(kept) == len(paras) - 1
    return ("\n\n".join(kept) + "\n").encode()


def test_removed_package_is_gone_and_attribution_stays(fixture_set: FixtureSet, tmp_path: Path) -> None:
    base, files = _base_layer(fixture_set)
    listed = [p.lstrip("/") for p in files[f"var/lib/dpkg/info/{REMOVED}.list"].decode().splitlines()]
    owned = [p for p in listed if p.startswith("etc/") and p.count("/") == 1]  # etc/services, etc/protocols, ...
    assert owned
    new_status = _without(files["var/lib/dpkg/status"], REMOVED)
    removal = {
        "var/lib/dpkg/status": File(new_status),
        f"var/lib/dpkg/info/{REMOVED}.list": Whiteout(),
        f"usr/share/doc/{REMOVED}": Dir(opaque=True),
        **{p: Whiteout() for p in owned},
    }
    spec = ImageSpec(
        platform=Platform("linux", "amd64"),
        steps=[
            Step("debian base", base),
            Step(f"RUN apt-get purge -y {REMOVED}", build_layer(removal)),
            Step("COPY motd /etc/motd", build_layer({"etc/motd": File(b"hello\n")})),
        ],
        config={"Cmd": ["/bin/sh"]},
    )
    image = build_image(spec)
    layout = tmp_path / "layout"
    write_layout(layout, [("1", image.manifest)], image.blobs())
    with Session() as session:
        result = generate_sbom(session, f"oci:{layout}:1")
    (img,) = result.images
    names = {p.name for p in img.packages}
    assert REMOVED not in names
    # independent expectation: dpkg-query over the final status file
    admin = tmp_path / "admin"
    (admin / "info").mkdir(parents=True)
    (admin / "status").write_bytes(new_status)
    expected = subprocess.run(
        ["dpkg-query", f"--admindir={admin}", "-W", "-f", "${Package}\n"], check=True, capture_output=True, text=True
    ).stdout.split()
    assert names == set(expected)
    assert {p.name: p.introduced_in.layer_index for p in img.packages if p.introduced_in} == {n: 0 for n in expected}
    assert all(p.locations[0].layer_index == 1 for p in img.packages)  # the visible copy of the database
