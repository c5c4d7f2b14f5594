"""CycloneDX and SPDX encoders: schema-valid documents, purls preserved, OS dependencies, golden files."""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from cyclonedx.validation.xml import XmlValidator
from spdx_tools.spdx.parser.parse_anything import parse_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from provenant.catalog.base import Distro
from provenant.sbom.cyclonedx import cyclonedx_bom, encode_cyclonedx
from provenant.sbom.model import IntroducedIn, Location, Package
from provenant.sbom.result import ImageSbom, LayerInfo, ScanIssue, ToolInfo
from provenant.sbom.spdx import encode_spdx_json, spdx_document

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
L0 = "sha256:" + "a" * 64
D0 = "sha256:" + "b" * 64
TOOL = ToolInfo(version="0.0.0-test")
WHEN = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def _loc(path: str) -> Location:
    return Location(path=path, layer_index=0, layer_digest=L0, diff_id=D0)


def _image(platform: str = "linux/amd64", manifest: str = "sha256:" + "c" * 64) -> ImageSbom:
    arch = platform.split("/")[1]
    intro = IntroducedIn(layer_index=0, layer_digest=L0, diff_id=D0, created_by="RUN apt-get install -y x")
    pkgs = [
        Package(
            name="zlib1g",
            version="1:1.2.13.dfsg-1",
            type="deb",
            arch=arch,
            source_package="zlib",
            purl=f"pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch={arch}&distro=debian-12&upstream=zlib",
            licenses=["Zlib"],
            license_expression="Zlib",
            found_by="dpkg",
            locations=[_loc("var/lib/dpkg/status")],
            introduced_in=intro,
        ),
        Package(
            name="dash",
            version="0.5.12-2",
            type="deb",
            arch=arch,
            purl=f"pkg:deb/debian/dash@0.5.12-2?arch={arch}&distro=debian-12",
            licenses=["GPL-2+", "public-domain"],
            license_expression="GPL-2.0-or-later AND LicenseRef-public-domain",
            found_by="dpkg",
            locations=[_loc("var/lib/dpkg/status")],
            introduced_in=intro,
        ),
        Package(
            name="weird",
            version="1",
            type="deb",
            arch=arch,
            purl=f"pkg:deb/debian/weird@1?arch={arch}",
            licenses=["Some Custom Thing"],
            found_by="dpkg",
            locations=[_loc("var/lib/dpkg/status")],
        ),
        Package(
            name="requests",
            version="2.32.3",
            type="pypi",
            purl="pkg:pypi/requests@2.32.3",
            licenses=["Apache-2.0"],
            license_expression="Apache-2.0",
            found_by="python",
            supplier="Kenneth Reitz <me@kennethreitz.org>",
            locations=[
                _loc("usr/lib/python3/site-packages/requests-2.32.3.dist-info/METADATA"),
                _loc("opt/venv/lib/requests-2.32.3.dist-info/METADATA"),
            ],
        ),
        Package(
            name="@babel/core",
            version="7.0.0",
            type="npm",
            purl="pkg:npm/%40babel/core@7.0.0",
            found_by="npm",
            locations=[_loc("srv/node_modules/@babel/core/package.json")],
        ),
        Package(
            name="example.com/hello",
            version="(devel)",
            type="golang",
            purl="pkg:golang/example.com/hello@%28devel%29",
            metadata={"main_module": "example.com/hello", "go_version": "go1.19.8"},
            found_by="go-binary",
            locations=[_loc("usr/local/bin/hello")],
        ),
    ]
    return ImageSbom(
        name="127.0.0.1:5000/team/app",
        tag="1.0",
        platform=platform,
        manifest_digest=manifest,
        index_digest="sha256:" + "e" * 64,
        config_digest="sha256:" + "d" * 64,
        distro=Distro(id="debian", version_id="12", pretty_name="Debian GNU/Linux 12 (bookworm)"),
        layers=[
            LayerInfo(
                index=0,
                digest=L0,
                diff_id=D0,
                media_type="application/vnd.oci.image.layer.v1.tar+gzip",
                size=10,
                uncompressed_size=20,
                file_count=3,
            )
        ],
        packages=pkgs,
        issues=[ScanIssue(reason="corrupt database", path="var/lib/rpm/rpmdb.sqlite", layer_index=0, layer_digest=L0)],
    )


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("PROVENANT_UPDATE_GOLDEN") == "1":
        path.write_text(text)
    assert text == path.read_text(), f"{name} differs from the golden file (PROVENANT_UPDATE_GOLDEN=1 to accept)"


def test_cyclonedx_json_and_xml_valid_and_golden() -> None:
    img = _image()
    bom = cyclonedx_bom([img], TOOL, serial=uuid.UUID(int=1), timestamp=WHEN)
    as_json = encode_cyclonedx(bom, "json")
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(as_json) is None
    assert XmlValidator(SchemaVersion.V1_6).validate_str(encode_cyclonedx(bom, "xml")) is None
    doc = json.loads(as_json)
    assert {c["purl"] for c in doc["components"] if c["type"] != "operating-system"} == {p.purl for p in img.packages}
    deps = {d["ref"]: set(d.get("dependsOn", [])) for d in doc["dependencies"]}
    os_ref = next(c["bom-ref"] for c in doc["components"] if c["type"] == "operating-system")
    assert deps[os_ref] == {p.key() for p in img.packages if p.type == "deb"}
    requests = next(c for c in doc["components"] if c["name"] == "requests")
    assert sorted(o["location"] for o in requests["evidence"]["occurrences"]) == [
        "/opt/venv/lib/requests-2.32.3.dist-info/METADATA",
        "/usr/lib/python3/site-packages/requests-2.32.3.dist-info/METADATA",
    ]
    zlib = next(c for c in doc["components"] if c["name"] == "zlib1g")
    props = {p["name"]: p["value"] for p in zlib["properties"]}
    assert props["provenant:layer:diff-id"] == D0 and props["provenant:introduced-by"] == "RUN apt-get install -y x"
    assert doc["metadata"]["component"]["type"] == "container"
    _golden("cyclonedx-sample.json", as_json)


def test_cyclonedx_merged_valid() -> None:
    imgs = [_image(), _image("linux/arm64", "sha256:" + "f" * 64)]
    bom = cyclonedx_bom(imgs, TOOL, merged_index=("127.0.0.1:5000/team/app:1.0", "sha256:" + "e" * 64))
    text = encode_cyclonedx(bom, "json")
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    doc = json.loads(text)
    assert [c["type"] for c in doc["components"]] == ["container", "container"]
    assert XmlValidator(SchemaVersion.V1_6).validate_str(encode_cyclonedx(bom, "xml")) is None


@pytest.mark.parametrize("merged", [False, True])
def test_spdx_valid_and_golden(tmp_path: Path, merged: bool) -> None:
    imgs = [_image(), _image("linux/arm64", "sha256:" + "f" * 64)] if merged else [_image()]
    index = ("127.0.0.1:5000/team/app:1.0", "sha256:" + "e" * 64) if merged else None
    text = encode_spdx_json(spdx_document(imgs, TOOL, merged_index=index, created=WHEN))
    out = tmp_path / "doc.spdx.json"
    out.write_text(text)
    doc = parse_file(str(out))
    assert validate_full_spdx_document(doc) == []
    purls = {r.locator for p in doc.packages for r in p.external_references}
    assert {p.purl for img in imgs for p in img.packages} <= purls
    if not merged:
        _golden("spdx-sample.json", text)
