"""``sbom`` on the real fixture images: package sets checked against dpkg-query, attribution, cache."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from fixtures import FixtureSet, Registry
from provenant.cache import LayerCache
from provenant.cli.main import cli
from provenant.sbom.generate import generate_sbom
from provenant.session import Session
from tests.purls import assert_same_purl

pytestmark = pytest.mark.integration


def _final_status(layout: Path, manifest_digest: str) -> tuple[bytes, list[bytes]]:
    """The visible var/lib/dpkg/status of a platform image, read with tarfile (not provenant),
    and each layer's own copy (or b"" when the layer has none)."""
    blobs = layout / "blobs" / "sha256"
    manifest = json.loads((blobs / manifest_digest.split(":")[1]).read_bytes())
    copies = []
    for layer in manifest["layers"]:
        data = gzip.decompress((blobs / layer["digest"].split(":")[1]).read_bytes())
        found = b""
        with tarfile.open(fileobj=io.BytesIO(data)) as t:
            for m in t:
                if m.name.lstrip("./") == "var/lib/dpkg/status" and m.isfile():
                    f = t.extractfile(m)
                    assert f is not None
                    found = f.read()
        copies.append(found)
    final = next(c for c in reversed(copies) if c)
    return final, copies


def _dpkg_query(status: bytes, tmp: Path) -> set[tuple[str, str, str]]:
    admin = tmp / "admindir"
    (admin / "info").mkdir(parents=True, exist_ok=True)
    (admin / "status").write_bytes(status)
    out = subprocess.run(
        ["dpkg-query", f"--admindir={admin}", "-W", "-f", "${Package}\t${Version}\t${Architecture}\n"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return {tuple(line.split("\t")) for line in out.splitlines()}  # type: ignore[misc]


def test_both_platforms_match_dpkg_query(registry: Registry, fixture_set: FixtureSet, tmp_path: Path) -> None:
    fx = fixture_set.image("debian-multiarch:12")
    with Session() as session:
        result = generate_sbom(session, f"{registry.host}/debian-multiarch:12", cache=LayerCache(tmp_path / "c"))
    assert [img.platform for img in result.images] == ["linux/amd64", "linux/arm64/v8"]
    for img in result.images:
        final, copies = _final_status(fx.layout, img.manifest_digest)
        expected = _dpkg_query(final, tmp_path / img.platform.replace("/", "-"))
        got = {(p.name, p.version, p.arch) for p in img.packages if p.type == "deb"}
        assert got == expected
        assert img.distro is not None and (img.distro.id, img.distro.version_id) == ("debian", "12")
        arch = img.platform.split("/")[1]
        zlib = next(p for p in img.packages if p.name == "zlib1g")
        assert zlib.version.startswith("1:")
        assert_same_purl(zlib.purl, f"pkg:deb/debian/zlib1g@{zlib.version}?arch={arch}&distro=debian-12&upstream=zlib")
        # introduced_in: the lowest layer from which each layer's own database copy lists the package
        per_layer = []
        for i in range(len(copies)):
            visible = next((c for c in reversed(copies[: i + 1]) if c), b"")
            per_layer.append(_dpkg_query(visible, tmp_path / f"{arch}-{i}") if visible else set())
        for p in img.packages:
            key = (p.name, p.version, p.arch)
            first = len(per_layer) - 1
            while first > 0 and key in per_layer[first - 1]:
                first -= 1
            assert p.introduced_in is not None and p.introduced_in.layer_index == first, p.name
            assert p.locations[0].path == "var/lib/dpkg/status"
    arm = {p.name for p in result.images[1].packages}
    amd = {p.name for p in result.images[0].packages}
    assert arm - amd == {"libatomic1"}
    libatomic = next(p for p in result.images[1].packages if p.name == "libatomic1")
    assert libatomic.introduced_in is not None and libatomic.introduced_in.layer_index == 2
    libc = next(p for p in result.images[0].packages if p.name == "libc6")
    assert "lib/x86_64-linux-gnu/libc.so.6" in libc.files  # as info/libc6:amd64.list records it
    netbase = next(p for p in result.images[0].packages if p.name == "netbase")
    assert (netbase.licenses, netbase.license_expression) == (["GPL-2"], "GPL-2.0-only")  # DEP-5 copyright


def test_shared_layers_scanned_once_and_cache_fetches_no_blobs(
    registry: Registry, fixture_set: FixtureSet, tmp_path: Path
) -> None:
    ref = f"{registry.host}/debian-multiarch:12"
    cache = LayerCache(tmp_path / "cache")
    with Session() as session:
        cold = generate_sbom(session, ref, cache=cache)
        cold_requests = session.client.request_count
    distinct = {layer.digest for img in cold.images for layer in img.layers}
    # 1 index + 2 manifests + 2 configs + one GET per distinct layer
    assert cold_requests == 1 + 2 * len(cold.images) + len(distinct)
    with Session() as session:
        warm = generate_sbom(session, ref, cache=LayerCache(tmp_path / "cache"))
        assert session.client.request_count == 1 + 2 * len(warm.images)
    assert all(layer.from_cache for img in warm.images for layer in img.layers)
    assert [img.packages for img in warm.images] == [img.packages for img in cold.images]
    # The next release shares its base layer: that one comes from the cache, the new one is fetched.
    with Session() as session:
        r2 = generate_sbom(session, f"{registry.host}/debian-multiarch:12-r2", cache=LayerCache(tmp_path / "cache"))
    for img in r2.images:
        assert img.layers[0].from_cache
        assert not all(layer.from_cache for layer in img.layers)


def test_cli_json_and_table(registry: Registry, tmp_path: Path) -> None:
    ref = f"{registry.host}/debian-multiarch:12"
    out_file = tmp_path / "sbom.json"
    res = CliRunner().invoke(
        cli, ["sbom", "--no-cache", "--platform", "linux/arm64", "-o", f"json={out_file}", "-o", "table", ref]
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(out_file.read_text())
    assert [img["platform"] for img in doc["images"]] == ["linux/arm64/v8"]
    assert "libatomic1" in res.stdout and "13 packages: 13 deb" in res.stdout


def test_documents_for_every_platform_validate(registry: Registry, tmp_path: Path) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator
    from cyclonedx.validation.xml import XmlValidator
    from spdx_tools.spdx.parser.parse_anything import parse_file
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    ref = f"{registry.host}/debian-multiarch:12"
    args = ["sbom", "--no-cache", ref]
    for fmt, name in (("cyclonedx-json", "s.cdx.json"), ("cyclonedx-xml", "s.cdx.xml"), ("spdx-json", "s.spdx.json")):
        args += ["-o", f"{fmt}={tmp_path / name}"]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    for plat in ("linux-amd64", "linux-arm64-v8"):
        cdx = (tmp_path / f"s.{plat}.cdx.json").read_text()
        assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(cdx) is None
        assert XmlValidator(SchemaVersion.V1_6).validate_str((tmp_path / f"s.{plat}.cdx.xml").read_text()) is None
        doc = parse_file(str(tmp_path / f"s.{plat}.spdx.json"))
        assert validate_full_spdx_document(doc) == []
        components = json.loads(cdx)["components"]
        assert any(c["name"] == "libc6" and c["purl"].startswith("pkg:deb/debian/libc6@") for c in components)
    merged = CliRunner().invoke(cli, ["sbom", "--no-cache", "-o", "cyclonedx-json", ref])
    assert merged.exit_code == 0
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(merged.stdout) is None
    assert "merged" in merged.stderr
