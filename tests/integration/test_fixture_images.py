"""The fixture images themselves: layouts are valid, expected.json agrees with what the layers hold.

Checks use only the standard library and the real tools (dpkg-query); provenant is not involved.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest

from fixtures import FixtureSet, ImageFixture, big, sbomimages
from fixtures.build import cache_lock
from fixtures.layers import build_layer

pytestmark = pytest.mark.integration

NEW_IMAGES = (
    "sbom-python:1",
    "sbom-node:1",
    "sbom-go:1",
    "sbom-java:1",
    "sbom-rpm:1",
    "sbom-apk:1",
    "sbom-distroless:1",
    "sbom-whiteout:1",
)
TYPES = {"deb", "rpm", "apk", "pypi", "npm", "golang", "maven"}


def _blob(layout: Path, digest: str) -> bytes:
    algo, _, hexdigest = digest.partition(":")
    data = (layout / "blobs" / algo / hexdigest).read_bytes()
    assert hashlib.sha256(data).hexdigest() == hexdigest, digest
    return data


def _manifest(fx: ImageFixture, platform: str) -> tuple[dict[str, Any], dict[str, Any]]:
    manifest = json.loads(_blob(fx.layout, fx.platforms[platform]))
    config = json.loads(_blob(fx.layout, manifest["config"]["digest"]))
    return manifest, config


def _layer_tars(fx: ImageFixture, platform: str) -> list[bytes]:
    manifest, _ = _manifest(fx, platform)
    return [gzip.decompress(_blob(fx.layout, d["digest"])) for d in manifest["layers"]]


def _final_files(tars: list[bytes]) -> dict[str, tuple[int, bytes]]:
    """Regular files of the merged filesystem (OCI whiteout and opaque rules): path -> (layer, bytes)."""
    files: dict[str, tuple[int, bytes]] = {}
    for index, data in enumerate(tars):
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            members = list(tar)
            for m in members:  # deletions apply to lower layers only, before this layer's own files
                name = m.name.removeprefix("./").rstrip("/")
                parent, _, base = name.rpartition("/")
                if base == ".wh..wh..opq":
                    files = {p: v for p, v in files.items() if not p.startswith(parent + "/")}
                elif base.startswith(".wh."):
                    gone = f"{parent}/{base[4:]}" if parent else base[4:]
                    files = {p: v for p, v in files.items() if p != gone and not p.startswith(gone + "/")}
            for m in members:
                name = m.name.removeprefix("./").rstrip("/")
                if m.isreg() and not name.rpartition("/")[2].startswith(".wh."):
                    f = tar.extractfile(m)
                    assert f is not None
                    files[name] = (index, f.read())
    return files


def _dpkg_query(status: bytes, tmp: Path) -> set[tuple[str, str, str]]:
    admin = tmp / f"admin-{hashlib.sha256(status).hexdigest()[:12]}"
    (admin / "info").mkdir(parents=True, exist_ok=True)
    (admin / "status").write_bytes(status)
    out = subprocess.run(
        ["dpkg-query", f"--admindir={admin}", "-W", "-f", "${Package}\t${Version}\t${Architecture}\n"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return {(n, v, a) for n, v, a in (line.split("\t") for line in out.splitlines())}


def _expected(fx: ImageFixture) -> dict[str, Any]:
    assert fx.expected is not None, fx.ref
    doc: dict[str, Any] = json.loads(fx.expected.read_text())
    return doc


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.mark.parametrize("ref", NEW_IMAGES)
def test_layout_is_valid_and_expected_matches_it(fixture_set: FixtureSet, ref: str) -> None:
    fx = fixture_set.image(ref)
    index = json.loads((fx.layout / "index.json").read_text())
    assert json.loads((fx.layout / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    (desc,) = index["manifests"]
    assert desc["annotations"]["org.opencontainers.image.ref.name"] == "1"
    assert desc["digest"] == fx.digest and len(_blob(fx.layout, fx.digest)) == desc["size"]
    assert list(fx.platforms) == ["linux/amd64"]
    manifest, config = _manifest(fx, "linux/amd64")
    assert (config["os"], config["architecture"]) == ("linux", "amd64")
    tars = _layer_tars(fx, "linux/amd64")
    assert [f"sha256:{hashlib.sha256(t).hexdigest()}" for t in tars] == config["rootfs"]["diff_ids"]
    assert [d["size"] for d in manifest["layers"]] == [len(_blob(fx.layout, d["digest"])) for d in manifest["layers"]]
    assert len([h for h in config["history"] if not h.get("empty_layer")]) == len(tars)

    doc = _expected(fx)
    assert doc["ref"] == ref and list(doc["platforms"]) == ["linux/amd64"]
    plat = doc["platforms"]["linux/amd64"]
    assert plat["manifest"] == fx.platforms["linux/amd64"]
    assert plat["layers"] == config["rootfs"]["diff_ids"]
    assert plat["packages"], ref
    final = _final_files(tars)
    for p in plat["packages"]:
        assert p["type"] in TYPES and p["name"] and p["version"], p
        assert 0 <= p["layer"] < len(tars), p
        # the evidence file is visible in the final filesystem
        assert p["path"] in final, p


def test_debian_images_match_dpkg_query_per_platform(fixture_set: FixtureSet, tmp_path: Path) -> None:
    debian = ("debian-base:12", "debian-multiarch:12", "debian-multiarch:12-r2", "debian-amd64:12")
    for ref in (*debian, "sbom-python:1", "sbom-node:1", "sbom-go:1", "sbom-java:1", "sbom-whiteout:1"):
        fx = fixture_set.image(ref)
        doc = _expected(fx)
        assert set(doc["platforms"]) == set(fx.platforms), ref
        for platform in fx.platforms:
            tars = _layer_tars(fx, platform)
            status = _final_files(tars)["var/lib/dpkg/status"][1]
            debs = [p for p in doc["platforms"][platform]["packages"] if p["type"] == "deb"]
            assert {(p["name"], p["version"], p["arch"]) for p in debs} == _dpkg_query(status, tmp_path), ref
            arch = platform.split("/")[1]
            assert {p["arch"] for p in debs} <= {arch, "all"}
    arm = fixture_set.image("debian-multiarch:12").expected_packages("linux/arm64/v8")
    assert {p["name"]: p["layer"] for p in arm}["libatomic1"] == 2
    assert {p["name"]: p["layer"] for p in arm}["openssl"] == 1


def test_python_node_go_java(fixture_set: FixtureSet) -> None:
    py = {(_norm(p["name"]), p["version"]): p for p in fixture_set.image("sbom-python:1").expected_packages()}
    assert {("requests", "2.32.3"), ("flask", "3.0.3")} <= set(py)
    assert all(
        p["layer"] == 1 and p["path"].endswith(".dist-info/METADATA") for p in py.values() if p["type"] == "pypi"
    )
    assert len([p for p in py.values() if p["type"] == "pypi"]) >= 10  # both projects' dependencies

    node = fixture_set.image("sbom-node:1").expected_packages()
    npm = {(p["name"], p["version"]) for p in node if p["type"] == "npm"}
    assert ("express", "4.21.2") in npm and len(npm) > 50
    assert any(p["path"].count("node_modules/") == 2 for p in node if p["type"] == "npm")  # nested copies too

    go = {p["name"]: p for p in fixture_set.image("sbom-go:1").expected_packages() if p["type"] == "golang"}
    assert go["example.com/provenant/hello"]["main"] is True
    assert go["example.com/provenant/hello"]["version"] == "(devel)"
    assert go["example.com/provenant/greeting"]["replace"] == "./greeting"
    assert go["example.com/provenant/greeting"]["go_version"].startswith("go1.")

    java = {p["name"]: p for p in fixture_set.image("sbom-java:1").expected_packages() if p["type"] == "maven"}
    assert java["commons-lang3"]["group"] == "org.apache.commons"
    assert java["commons-lang3"]["path"] == "usr/share/java/commons-lang3.jar"
    assert java["jsoup"]["path"] == "srv/app.war" and java["jsoup"]["nested"].startswith("WEB-INF/lib/jsoup-")
    assert java["hello-web"]["version"] == "1.0.0"


def test_rpm_apk_distroless(fixture_set: FixtureSet) -> None:
    rpm_doc = _expected(fixture_set.image("sbom-rpm:1"))["platforms"]["linux/amd64"]
    assert rpm_doc["distro"] == {"id": "rocky", "version_id": "9.3"}
    rpms = {p["name"]: p for p in rpm_doc["packages"]}
    assert rpms["prov-hello"]["epoch"] == 2 and rpms["prov-hello"]["license"] == "GPLv2+"
    assert rpms["prov-data"]["arch"] == "noarch" and "epoch" not in rpms["prov-data"]
    tars = _layer_tars(fixture_set.image("sbom-rpm:1"), "linux/amd64")
    assert _final_files(tars)["var/lib/rpm/rpmdb.sqlite"][1].startswith(b"SQLite format 3\0")

    apk_doc = _expected(fixture_set.image("sbom-apk:1"))["platforms"]["linux/amd64"]
    assert apk_doc["distro"] == {"id": "alpine", "version_id": "3.19.1"}
    apks = {p["name"]: p for p in apk_doc["packages"]}
    assert (apks["musl"]["layer"], apks["libstdc++"]["layer"], apks["libcrypto3"]["layer"]) == (0, 1, 1)
    installed = _final_files(_layer_tars(fixture_set.image("sbom-apk:1"), "linux/amd64"))["lib/apk/db/installed"][1]
    records = installed.decode().strip().split("\n\n")
    assert len(records) == len(apks)
    assert {(r.split("\nP:")[1].split("\n")[0], r.split("\nV:")[1].split("\n")[0]) for r in records} == {
        (n, p["version"]) for n, p in apks.items()
    }

    fx = fixture_set.image("sbom-distroless:1")
    final = _final_files(_layer_tars(fx, "linux/amd64"))
    assert "var/lib/dpkg/status" not in final
    debs = fx.expected_packages()
    assert {p["name"] for p in debs} == {*sbomimages.STATIC_PACKAGES, *sbomimages.DISTROLESS_EXTRA}
    for p in debs:
        control = final[p["path"]][1].decode()
        assert f"Package: {p['name']}\n" in control and f"\nVersion: {p['version']}\n" in control
        assert "Status:" not in control  # distroless writes the bare control file
        assert final[p["path"]][0] == p["layer"]
        assert f"usr/share/doc/{p['name']}/copyright" in final


def test_whiteout_expectations(fixture_set: FixtureSet, tmp_path: Path) -> None:
    fx = fixture_set.image("sbom-whiteout:1")
    plat = _expected(fx)["platforms"]["linux/amd64"]
    layers = {p["name"]: p["layer"] for p in plat["packages"]}
    assert "netbase" not in layers
    assert [p["name"] for p in plat["removed"]] == ["netbase"] and plat["removed"][0]["removed_in"] == 2
    assert layers.pop("libzstd1") == 1
    assert set(layers.values()) == {0} and len(layers) == 8
    tars = _layer_tars(fx, "linux/amd64")
    final = _final_files(tars)
    assert not any("netbase" in path for path in final)
    assert "etc/services" not in final and "etc/motd" in final
    with tarfile.open(fileobj=io.BytesIO(tars[2])) as tar:
        names = set(tar.getnames())
    assert "usr/share/doc/netbase/.wh..wh..opq" in names and "var/lib/dpkg/info/.wh.netbase.list" in names
    with tarfile.open(fileobj=io.BytesIO(tars[3])) as tar:
        assert not any(n.startswith("var/lib/dpkg") for n in tar.getnames())


def test_layers_rebuild_to_the_same_digests(fixture_set: FixtureSet) -> None:
    """Rebuilding layers from the cached inputs gives the same bytes (reproducible images)."""
    cache_dir = fixture_set.root.parent.parent
    with cache_lock(cache_dir):
        inputs = sbomimages.fetch_inputs(cache_dir)
    from fixtures import apkdb, npmapp, pypi

    rebuilt = {
        "sbom-python:1": build_layer(pypi.install_tree(inputs.wheels.path)),
        "sbom-node:1": build_layer(npmapp.app_tree(inputs.node_app)),
        "sbom-apk:1": build_layer(apkdb.base_tree()),
    }
    for ref, layer in rebuilt.items():
        manifest, _ = _manifest(fixture_set.image(ref), "linux/amd64")
        assert layer.digest in [d["digest"] for d in manifest["layers"]], ref


def test_big_image_small_scale(fixture_set: FixtureSet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """sbom-big's recipe at a tiny scale: packages of the base/python/node layers, none in bulk layers."""
    monkeypatch.setattr(big, "FANOUT", (2, 2, 3))
    monkeypatch.setattr(big, "BLOB_FILE_MB", 1)
    assert "sbom-big:1" not in fixture_set.images
    fs = big.with_big(tmp_path, fixture_set, layer_mb=2)
    fx = fs.image("sbom-big:1")
    _, config = _manifest(fx, "linux/amd64")
    tars = _layer_tars(fx, "linux/amd64")
    assert len(tars) == 7 and [f"sha256:{hashlib.sha256(t).hexdigest()}" for t in tars] == config["rootfs"]["diff_ids"]
    for n in (3, 4, 5):
        with tarfile.open(fileobj=io.BytesIO(tars[n])) as tar:
            files = [m for m in tar if m.isreg()]
        assert len(files) == 12 and all(0 < m.size <= big.SIZE_RANGE[1] and m.mode == 0o644 for m in files)
    with tarfile.open(fileobj=io.BytesIO(tars[6])) as tar:
        blobs = [m for m in tar if m.isreg()]
    assert [m.size for m in blobs] == [1 << 20, 1 << 20]
    packages = fx.expected_packages()
    by_type = {t: {p["layer"] for p in packages if p["type"] == t} for t in ("deb", "pypi", "npm")}
    assert by_type == {"deb": {0}, "pypi": {1}, "npm": {2}}
    final = _final_files(tars)
    assert all(p["path"] in final for p in packages)
    shutil.rmtree(tmp_path / "big")
    again = big.with_big(tmp_path, fixture_set, layer_mb=2).image("sbom-big:1")
    assert again.digest == fx.digest  # rebuilt from scratch: same bytes
