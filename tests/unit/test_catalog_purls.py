"""Catalogers' purls: the form every SBOM format writes, and none (never a crash) for a name the library refuses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from packageurl import PackageURL

from provenant.catalog.apk import ApkCataloger
from provenant.catalog.dpkg import DpkgCataloger
from provenant.catalog.purls import purl_of
from provenant.catalog.python import PythonCataloger
from provenant.catalog.rpm import RpmCataloger
from provenant.cli.main import cli
from provenant.sbom.model import Package

TYPES = ["deb", "rpm", "apk", "npm", "pypi", "golang", "maven", "gem", "nuget", "composer", "conda", "cargo", "generic"]
#: Names packageurl-python cannot write (TypeError inside to_string) or cannot read back (ValueError).
REFUSED = ["/", " ", "\t", "/ /", " /", "//", "\u2003", "\xa0"]


@pytest.mark.parametrize("purl_type", TYPES)
def test_a_name_the_library_refuses_gives_no_purl(purl_type: str) -> None:
    for name in REFUSED:
        assert purl_of(purl_type, None, name, "1") is None, name
    assert purl_of(purl_type, "ns", "ok", "1.0+x", {"arch": "amd64"}) is not None


def test_the_purl_is_the_form_the_library_writes_back() -> None:
    assert purl_of("deb", "debian", "libc6", "2.36-9+deb12u4", {"distro": "debian-12", "arch": "amd64"}) == (
        "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12"
    )
    # to_string strips the slash after escaping the space; reading that back strips the space too: the SBOM
    # formats write the latter, and so every format now carries the same purl.
    written = PackageURL("pypi", None, "x /", "1.0").to_string()
    assert written == "pkg:pypi/x%20@1.0"
    assert purl_of("pypi", None, "x /", "1.0") == "pkg:pypi/x@1.0" == PackageURL.from_string(written).to_string()


OS_CATALOGERS = [(DpkgCataloger(), "deb"), (RpmCataloger(), "rpm"), (ApkCataloger(), "apk")]


@pytest.mark.parametrize(("cataloger", "purl_type"), OS_CATALOGERS)
def test_os_packages_with_a_refused_name_are_kept_without_a_purl(
    cataloger: DpkgCataloger | RpmCataloger | ApkCataloger, purl_type: str
) -> None:
    for name in REFUSED:
        done = cataloger.complete(Package(name=name, version="1", type=purl_type, found_by="t"), None)
        assert (done.name, done.purl) == (name, None)


def test_python_metadata_with_a_refused_name_is_kept_without_a_purl() -> None:
    site = "usr/lib/python3/site-packages"
    for name in ("/", "/ /"):
        parsed = PythonCataloger().parse(f"{site}/x-1.0.dist-info/METADATA", f"Name: {name}\nVersion: 1.0\n\n".encode())
        assert [(p.name, p.purl) for p in parsed.packages] == [(name, None)]


def _layout(tmp: Path) -> Path:
    from fixtures.layers import File, build_layer
    from fixtures.ociimage import ImageSpec, Platform, Step, build_image, write_layout

    status = b"".join(
        f"Package: {name}\nStatus: install ok installed\nVersion: 1\nArchitecture: amd64\n\n".encode()
        for name in ("/", "zlib1g")
    )
    site = "usr/lib/python3/site-packages"
    tree = {
        "var/lib/dpkg/status": File(status),
        f"{site}/a-1.0.dist-info/METADATA": File(b"Metadata-Version: 2.1\nName: / /\nVersion: 1.0\n\n"),
        f"{site}/b-1.0.dist-info/METADATA": File(b"Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\n\n"),
    }
    image = build_image(
        ImageSpec(platform=Platform("linux", "amd64"), steps=[Step("COPY", build_layer(tree))], config={})
    )
    layout = tmp / "layout"
    write_layout(layout, [("1", image.manifest)], image.blobs())
    return layout


@pytest.mark.parametrize("fmt", ["cyclonedx-json", "cyclonedx-xml", "spdx-json", "table", "json"])
def test_an_image_with_refused_names_gets_its_sbom(tmp_path: Path, fmt: str) -> None:
    """A forged ``Package: /`` in a dpkg status failed the whole run (internal error: TypeError), and a
    METADATA ``Name: / /`` every CycloneDX output (ValueError): now both are listed, without a purl."""
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["sbom", "--no-cache", "-o", f"{fmt}={out}", f"oci:{_layout(tmp_path)}:1"])
    assert res.exit_code == 0, res.output
    text = out.read_text()
    if fmt == "json":
        packages = {(p["name"], p["purl"]) for p in json.loads(text)["images"][0]["packages"]}
        assert packages == {
            ("/", None),
            ("/ /", None),
            ("zlib1g", "pkg:deb/debian/zlib1g@1?arch=amd64"),
            ("requests", "pkg:pypi/requests@2.31.0"),
        }
    else:
        for name in ("zlib1g", "requests", "/ /"):
            assert name in text
        assert "pkg:pypi/requests@2.31.0" in text or fmt == "table"
