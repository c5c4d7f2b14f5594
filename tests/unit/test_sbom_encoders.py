"""SBOM encoders: schema-valid CycloneDX and SPDX, purls preserved, OS dependencies, golden files, table.

Every CycloneDX document is checked with cyclonedx-python-lib's strict JSON / XML schema validators and
every SPDX document is parsed back with spdx-tools and validated. Expected values (purls, dependency
sets, property values, the table) are written out by hand from the input below.
"""

from __future__ import annotations

import json
import os
import random
import re
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from cyclonedx.validation.xml import XmlValidator
from spdx_tools.spdx.model.document import Document
from spdx_tools.spdx.model.package import Package as SpdxPackage
from spdx_tools.spdx.parser.parse_anything import parse_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from provenant.catalog.base import Distro
from provenant.sbom.cyclonedx import cyclonedx_bom, encode_cyclonedx
from provenant.sbom.model import IntroducedIn, Location, Package
from provenant.sbom.result import ImageSbom, LayerInfo, ScanIssue, ToolInfo
from provenant.sbom.spdx import encode_spdx_json, spdx_document
from provenant.sbom.table import render_table

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
TOOL = ToolInfo(version="0.0.0-test")
WHEN = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
SERIAL = uuid.UUID("3e671687-395b-41f5-a30f-a58921a69b79")
NAME = "registry.example.com/team/app"
AMD64 = "sha256:" + "c" * 64
ARM64 = "sha256:" + "f" * 64
INDEX = "sha256:" + "e" * 64
CONFIG = "sha256:" + "d" * 64
LAYER = ["sha256:" + ch * 64 for ch in "0123"]
DIFF = ["sha256:" + ch * 64 for ch in "4567"]
HISTORY = [
    "/bin/sh -c #(nop) ADD file:6a8f0b2c7d1e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a in / ",
    "RUN /bin/sh -c pip install requests==2.32.3 # buildkit",
    "COPY node_modules /srv/node_modules # buildkit",
    "COPY hello /usr/local/bin/hello # buildkit",
]
CX = "http://cyclonedx.org/schema/bom/1.6"

LIBC6 = "pkg:deb/debian/libc6@2.36-9%2Bdeb12u7?arch=amd64&distro=debian-12&upstream=glibc"
ZLIB = "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12&upstream=zlib"
TZDATA = "pkg:deb/debian/tzdata@2024a-0%2Bdeb12u1?arch=all&distro=debian-12"
REQUESTS = "pkg:pypi/requests@2.32.3"
BABEL = "pkg:npm/%40babel/core@7.24.0"
HELLO = "pkg:golang/example.com/hello@%28devel%29"
XTEXT = "pkg:golang/golang.org/x/text@v0.14.0"
OS_PURLS = {LIBC6, ZLIB, TZDATA}
ALL_PURLS = OS_PURLS | {REQUESTS, BABEL, HELLO, XTEXT}
# Packages with CPEs (``_image(binaries=True)``, in the golden documents), as the go-binary and binary
# catalogers give them for this image: Go's standard library in ``hello``, and a Python interpreter.
STDLIB = "pkg:golang/stdlib@1.22.1"
PYTHON = "pkg:generic/python@3.11.9"
STDLIB_CPE = "cpe:2.3:a:golang:go:1.22.1:-:*:*:*:*:*:*"
PYTHON_CPES = [
    "cpe:2.3:a:python_software_foundation:python:3.11.9:*:*:*:*:*:*:*",
    "cpe:2.3:a:python:python:3.11.9:*:*:*:*:*:*:*",
]


def _at(layer: int, path: str) -> Location:
    return Location(path=path, layer_index=layer, layer_digest=LAYER[layer], diff_id=DIFF[layer])


def _intro(layer: int) -> IntroducedIn:
    return IntroducedIn(layer_index=layer, layer_digest=LAYER[layer], diff_id=DIFF[layer], created_by=HISTORY[layer])


def _packages() -> list[Package]:
    dpkg = _at(0, "var/lib/dpkg/status")
    return [
        Package(
            name="libc6",
            version="2.36-9+deb12u7",
            type="deb",
            purl=LIBC6,
            arch="amd64",
            licenses=["GPL-2+", "LGPL-2.1+"],
            license_expression="GPL-2.0-or-later AND LGPL-2.1-or-later",
            source_package="glibc",
            supplier="GNU Libc Maintainers <debian-glibc@lists.debian.org>",
            description="GNU C Library: Shared libraries",
            homepage="https://www.gnu.org/software/libc/libc.html",
            metadata={"installed_size": "12987"},
            found_by="dpkg",
            locations=[dpkg],
            introduced_in=_intro(0),
        ),
        Package(
            name="zlib1g",
            version="1:1.2.13.dfsg-1",
            type="deb",
            purl=ZLIB,
            arch="amd64",
            licenses=["Zlib"],
            license_expression="Zlib",
            source_package="zlib",
            supplier="Mark Brown <broonie@debian.org>",
            found_by="dpkg",
            locations=[dpkg],
            introduced_in=_intro(0),
        ),
        Package(
            name="tzdata",
            version="2024a-0+deb12u1",
            type="deb",
            purl=TZDATA,
            arch="all",
            licenses=["public-domain"],
            found_by="dpkg",
            locations=[dpkg],
            introduced_in=_intro(0),
        ),
        Package(
            name="requests",
            version="2.32.3",
            type="pypi",
            purl=REQUESTS,
            licenses=["Apache-2.0"],
            license_expression="Apache-2.0",
            supplier="Kenneth Reitz <me@kennethreitz.org>",
            homepage="https://requests.readthedocs.io",
            metadata={"site": "usr/local/lib/python3.11/site-packages"},
            found_by="python",
            locations=[
                _at(1, "usr/local/lib/python3.11/site-packages/requests-2.32.3.dist-info/METADATA"),
                _at(1, "opt/venv/lib/python3.11/site-packages/requests-2.32.3.dist-info/METADATA"),
            ],
            introduced_in=_intro(1),
        ),
        Package(
            name="@babel/core",
            version="7.24.0",
            type="npm",
            purl=BABEL,
            licenses=["MIT"],
            license_expression="MIT",
            supplier="The Babel Team (https://babel.dev/team)",
            found_by="npm",
            locations=[_at(2, "srv/node_modules/@babel/core/package.json")],
            introduced_in=_intro(2),
        ),
        Package(
            name="example.com/hello",
            version="(devel)",
            type="golang",
            purl=HELLO,
            metadata={
                "go_version": "go1.22.1",
                "goos": "linux",
                "goarch": "amd64",
                "main_package": "example.com/hello",
            },
            found_by="go-binary",
            locations=[_at(3, "usr/local/bin/hello")],
            introduced_in=_intro(3),
        ),
        Package(
            name="golang.org/x/text",
            version="v0.14.0",
            type="golang",
            purl=XTEXT,
            metadata={"go_version": "go1.22.1", "main_module": "example.com/hello"},
            found_by="go-binary",
            locations=[_at(3, "usr/local/bin/hello")],
            introduced_in=_intro(3),
        ),
    ]


def _binary_packages() -> list[Package]:
    return [
        Package(
            name="stdlib",
            version="go1.22.1",
            type="golang",
            purl=STDLIB,
            cpes=[STDLIB_CPE],
            licenses=["BSD-3-Clause"],
            license_expression="BSD-3-Clause",
            metadata={"go_version": "go1.22.1", "main_module": "example.com/hello"},
            found_by="go-binary",
            locations=[_at(3, "usr/local/bin/hello")],
            introduced_in=_intro(3),
        ),
        Package(
            name="python",
            version="3.11.9",
            type="binary",
            purl=PYTHON,
            cpes=PYTHON_CPES,
            metadata={
                "classifier": "python-binary",
                "evidence_path": "usr/local/bin/python3.11",
                "evidence_offset": "3145728",
                "evidence_snippet": "\\x003.11.9\\x00",
            },
            found_by="binary",
            locations=[_at(0, "usr/local/bin/python3.11")],
            introduced_in=_intro(0),
        ),
    ]


def _image(
    platform: str = "linux/amd64", manifest: str = AMD64, *, distro: bool = True, binaries: bool = False
) -> ImageSbom:
    return ImageSbom(
        name=NAME,
        tag="1.0",
        platform=platform,
        manifest_digest=manifest,
        index_digest=INDEX,
        config_digest=CONFIG,
        distro=Distro(id="debian", version_id="12", pretty_name="Debian GNU/Linux 12 (bookworm)") if distro else None,
        layers=[
            LayerInfo(
                index=i,
                digest=LAYER[i],
                diff_id=DIFF[i],
                media_type="application/vnd.oci.image.layer.v1.tar+gzip",
                size=1000 * (i + 1),
                uncompressed_size=3000 * (i + 1),
                file_count=10 * (i + 1),
                created_by=HISTORY[i],
            )
            for i in range(4)
        ],
        packages=_packages() + (_binary_packages() if binaries else []),
        issues=[
            ScanIssue(
                reason="not a valid rpm database: file is not a database",
                path="var/lib/rpm/rpmdb.sqlite",
                layer_index=2,
                layer_digest=LAYER[2],
                cataloger="rpm",
            )
        ],
    )


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("PROVENANT_UPDATE_GOLDEN") == "1":
        path.write_text(text)
    assert text == path.read_text(), f"{name} differs from the golden file (PROVENANT_UPDATE_GOLDEN=1 to accept)"


def _valid_cyclonedx(images: list[ImageSbom], merged: bool) -> tuple[dict[str, Any], ET.Element]:
    """Both encodings of one BOM, each schema-validated; the JSON as data and the XML as a tree."""
    index = (f"{NAME}:1.0", INDEX) if merged else None
    bom = cyclonedx_bom(images, TOOL, merged_index=index, serial=SERIAL, timestamp=WHEN)
    as_json, as_xml = encode_cyclonedx(bom, "json"), encode_cyclonedx(bom, "xml")
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(as_json) is None
    assert XmlValidator(SchemaVersion.V1_6).validate_str(as_xml) is None
    return json.loads(as_json), ET.fromstring(as_xml)


def _props(component: dict[str, Any]) -> dict[str, str]:
    return {p["name"]: p["value"] for p in component.get("properties", [])}


def _deps(doc: dict[str, Any]) -> dict[str, set[str]]:
    return {d["ref"]: set(d.get("dependsOn", [])) for d in doc["dependencies"]}


def test_cyclonedx_single_image() -> None:
    doc, tree = _valid_cyclonedx([_image()], merged=False)
    meta = doc["metadata"]
    assert meta["timestamp"] == "2025-01-02T03:04:05+00:00" and doc["serialNumber"] == f"urn:uuid:{SERIAL}"
    assert [(t["name"], t["version"]) for t in meta["tools"]["components"]] == [("provenant", "0.0.0-test")]
    image = meta["component"]
    assert (image["type"], image["name"], image["version"]) == ("container", NAME, AMD64)
    assert image["purl"] == f"pkg:oci/app@{AMD64}?arch=amd64&repository_url=registry.example.com/team/app&tag=1.0"
    assert _props(image)["provenant:platform"] == "linux/amd64"
    assert _props(image)["provenant:config-digest"] == CONFIG
    assert [p["value"] for p in meta["properties"]] == [
        "layer 2 /var/lib/rpm/rpmdb.sqlite: not a valid rpm database: file is not a database"
    ]

    by_purl = {c["purl"]: c for c in doc["components"] if "purl" in c}
    assert set(by_purl) == ALL_PURLS
    xml_purls = {e.text for e in tree.iterfind(f"{{{CX}}}components/{{{CX}}}component/{{{CX}}}purl")}
    assert xml_purls == ALL_PURLS
    (os_component,) = [c for c in doc["components"] if c["type"] == "operating-system"]
    assert (os_component["name"], os_component["version"]) == ("debian", "12")
    assert os_component["description"] == "Debian GNU/Linux 12 (bookworm)"

    deps = _deps(doc)
    assert deps[os_component["bom-ref"]] == OS_PURLS
    assert deps[image["bom-ref"]] == {os_component["bom-ref"], REQUESTS, BABEL, HELLO, XTEXT}
    assert all(deps[p] == set() for p in ALL_PURLS)

    libc6 = by_purl[LIBC6]
    assert libc6["bom-ref"] == LIBC6
    assert libc6["licenses"] == [{"expression": "GPL-2.0-or-later AND LGPL-2.1-or-later"}]
    assert libc6["supplier"]["name"] == "GNU Libc Maintainers <debian-glibc@lists.debian.org>"
    assert libc6["externalReferences"] == [{"type": "website", "url": "https://www.gnu.org/software/libc/libc.html"}]
    assert _props(libc6) == {
        "provenant:found-by": "dpkg",
        "provenant:layer:index": "0",
        "provenant:layer:diff-id": DIFF[0],
        "provenant:introduced-by": HISTORY[0],
        "provenant:source-package": "glibc",
        "provenant:arch": "amd64",
        "provenant:metadata:installed_size": "12987",
    }
    assert by_purl[TZDATA]["licenses"] == [{"license": {"name": "public-domain"}}]
    assert sorted(o["location"] for o in by_purl[REQUESTS]["evidence"]["occurrences"]) == [
        "/opt/venv/lib/python3.11/site-packages/requests-2.32.3.dist-info/METADATA",
        "/usr/local/lib/python3.11/site-packages/requests-2.32.3.dist-info/METADATA",
    ]
    assert _props(by_purl[REQUESTS])["provenant:layer:diff-id"] == DIFF[1]
    assert (by_purl[HELLO]["type"], by_purl[XTEXT]["type"]) == ("application", "library")
    assert by_purl[BABEL]["name"] == "@babel/core"


def test_cyclonedx_golden_and_deterministic() -> None:
    img = _image(binaries=True)
    shuffled = img.model_copy(update={"packages": random.Random(7).sample(img.packages, len(img.packages))})
    outputs = []
    for image in (img, shuffled):
        bom = cyclonedx_bom([image], TOOL, serial=SERIAL, timestamp=WHEN)
        outputs.append((encode_cyclonedx(bom, "json"), encode_cyclonedx(bom, "xml")))
    assert outputs[0] == outputs[1]
    as_json, as_xml = outputs[0]
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(as_json) is None
    assert XmlValidator(SchemaVersion.V1_6).validate_str(as_xml) is None
    by_purl = {c.get("purl"): c for c in json.loads(as_json)["components"]}
    # syft's shape: the first CPE is the component's, the others are properties.
    assert by_purl[STDLIB]["cpe"] == STDLIB_CPE and "provenant:cpe23" not in _props(by_purl[STDLIB])
    assert by_purl[PYTHON]["cpe"] == PYTHON_CPES[0]
    assert _props(by_purl[PYTHON])["provenant:cpe23"] == PYTHON_CPES[1]
    assert all("cpe" not in by_purl[p] for p in ALL_PURLS)
    xml_cpes = {
        c.findtext(f"{{{CX}}}purl"): c.findtext(f"{{{CX}}}cpe")
        for c in ET.fromstring(as_xml).iter(f"{{{CX}}}component")
    }
    assert (xml_cpes[STDLIB], xml_cpes[PYTHON], xml_cpes[LIBC6]) == (STDLIB_CPE, PYTHON_CPES[0], None)
    _golden("cyclonedx-sample.json", as_json)


def test_cyclonedx_without_distro_image_depends_on_every_package() -> None:
    doc, _ = _valid_cyclonedx([_image(distro=False)], merged=False)
    assert not [c for c in doc["components"] if c["type"] == "operating-system"]
    assert _deps(doc)[doc["metadata"]["component"]["bom-ref"]] == ALL_PURLS


def test_cyclonedx_merged() -> None:
    doc, tree = _valid_cyclonedx([_image(), _image("linux/arm64", ARM64)], merged=True)
    top = doc["metadata"]["component"]
    assert (top["type"], top["version"]) == ("container", INDEX)
    assert top["purl"] == f"pkg:oci/app@{INDEX}?repository_url=registry.example.com/team/app&tag=1.0"
    assert [p["value"] for p in doc["metadata"]["properties"]] == [
        f"{plat} layer 2 /var/lib/rpm/rpmdb.sqlite: not a valid rpm database: file is not a database"
        for plat in ("linux/amd64", "linux/arm64")
    ]
    platforms = {c["version"]: c for c in doc["components"]}
    assert set(platforms) == {AMD64, ARM64} and {c["type"] for c in platforms.values()} == {"container"}
    assert platforms[ARM64]["purl"] == f"pkg:oci/app@{ARM64}?arch=arm64&repository_url={NAME}&tag=1.0"
    deps = _deps(doc)
    assert deps[top["bom-ref"]] == {c["bom-ref"] for c in platforms.values()}
    for plat, image in (("linux/amd64", platforms[AMD64]), ("linux/arm64", platforms[ARM64])):
        nested = image["components"]
        assert {c["purl"] for c in nested if "purl" in c} == ALL_PURLS
        ref = {c["purl"]: c["bom-ref"] for c in nested if "purl" in c}
        (os_component,) = [c for c in nested if c["type"] == "operating-system"]
        assert deps[os_component["bom-ref"]] == {ref[p] for p in OS_PURLS}
        assert deps[image["bom-ref"]] == {os_component["bom-ref"]} | {ref[p] for p in ALL_PURLS - OS_PURLS}
        assert all(r.startswith(f"{plat}:") for r in ref.values())
    for image_el in tree.iterfind(f"{{{CX}}}components/{{{CX}}}component"):
        nested_purls = {e.text for e in image_el.iterfind(f"{{{CX}}}components/{{{CX}}}component/{{{CX}}}purl")}
        assert nested_purls == ALL_PURLS


def _parsed_spdx(images: list[ImageSbom], tmp_path: Path, **kwargs: Any) -> tuple[str, Document]:
    text = encode_spdx_json(spdx_document(images, TOOL, created=WHEN, **kwargs))
    path = tmp_path / "doc.spdx.json"
    path.write_text(text)
    doc = parse_file(str(path))
    assert validate_full_spdx_document(doc) == []
    return text, doc


def _purl_of(doc: Document) -> dict[str, str]:
    return {p.spdx_id: r.locator for p in doc.packages for r in p.external_references if r.reference_type == "purl"}


def _purpose(pkg: SpdxPackage) -> str:
    return pkg.primary_package_purpose.name if pkg.primary_package_purpose else ""


def _described(doc: Document) -> str:
    (described,) = [r.related_spdx_element_id for r in doc.relationships if r.relationship_type.name == "DESCRIBES"]
    return str(described)


def _contains(doc: Document, parent: str) -> set[str]:
    return {
        str(r.related_spdx_element_id)
        for r in doc.relationships
        if r.spdx_element_id == parent and r.relationship_type.name == "CONTAINS"
    }


def test_spdx_single_image(tmp_path: Path) -> None:
    text, doc = _parsed_spdx([_image(binaries=True)], tmp_path)
    assert doc.creation_info.spdx_version == "SPDX-2.3"
    assert [str(c) for c in doc.creation_info.creators] == ["Tool: provenant-0.0.0-test"]
    assert re.fullmatch(
        r"https://provenant\.dev/spdxdocs/registry\.example\.com-team-app-[0-9a-f-]{36}",
        doc.creation_info.document_namespace,
    )
    packages = {p.spdx_id: p for p in doc.packages}
    purl_of = _purl_of(doc)
    described = _described(doc)
    image = packages[described]
    assert _purpose(image) == "CONTAINER"
    assert [(c.algorithm.name, c.value) for c in image.checksums] == [("SHA256", "c" * 64)]
    assert purl_of[described] == f"pkg:oci/app@{AMD64}?arch=amd64&repository_url={NAME}&tag=1.0"

    contained = _contains(doc, described)
    assert {purl_of[i] for i in contained if i in purl_of} == ALL_PURLS | {STDLIB, PYTHON}
    (os_id,) = [i for i in contained if _purpose(packages[i]) == "OPERATING_SYSTEM"]
    assert (packages[os_id].name, packages[os_id].version) == ("debian", "12")
    refs = {
        purl_of[i]: [(r.category.name, r.reference_type, r.locator) for r in packages[i].external_references]
        for i in contained
        if i in purl_of
    }
    assert refs[STDLIB] == [("SECURITY", "cpe23Type", STDLIB_CPE), ("PACKAGE_MANAGER", "purl", STDLIB)]
    assert refs[PYTHON] == [*(("SECURITY", "cpe23Type", c) for c in PYTHON_CPES), ("PACKAGE_MANAGER", "purl", PYTHON)]
    assert refs[LIBC6] == [("PACKAGE_MANAGER", "purl", LIBC6)]
    assert {purl_of[i] for i in _contains(doc, os_id)} == OS_PURLS

    spdx_id = {purl: i for i, purl in purl_of.items()}
    assert re.fullmatch(r"SPDXRef-Package-deb-libc6-[0-9a-f]{12}", spdx_id[LIBC6])
    assert re.fullmatch(r"SPDXRef-Package-npm--babel-core-[0-9a-f]{12}", spdx_id[BABEL])
    libc6, tzdata, requests = packages[spdx_id[LIBC6]], packages[spdx_id[TZDATA]], packages[spdx_id[REQUESTS]]
    assert str(libc6.license_declared) == "GPL-2.0-or-later AND LGPL-2.1-or-later"
    assert str(libc6.license_concluded) == "NOASSERTION" and str(libc6.copyright_text) == "NOASSERTION"
    assert str(libc6.download_location) == "NOASSERTION" and libc6.files_analyzed is False
    assert str(tzdata.license_declared) == "NOASSERTION"
    assert libc6.source_info == f"acquired from layer {DIFF[0]} at /var/lib/dpkg/status"
    assert requests.source_info == (
        f"acquired from layer {DIFF[1]} at /usr/local/lib/python3.11/site-packages/requests-2.32.3.dist-info/METADATA"
        f"; layer {DIFF[1]} at /opt/venv/lib/python3.11/site-packages/requests-2.32.3.dist-info/METADATA"
    )
    assert _purpose(packages[spdx_id[HELLO]]) == "APPLICATION"
    assert _purpose(packages[spdx_id[XTEXT]]) == "LIBRARY"

    raw = {p["name"]: p for p in json.loads(text)["packages"]}
    assert raw["libc6"]["supplier"] == "Organization: GNU Libc Maintainers (debian-glibc@lists.debian.org)"
    assert raw["requests"]["supplier"] == "Organization: Kenneth Reitz (me@kennethreitz.org)"
    # Parentheses would be read back as the email part of the actor.
    assert raw["@babel/core"]["supplier"] == "Organization: The Babel Team [https://babel.dev/team]"
    assert raw["zlib1g"]["versionInfo"] == "1:1.2.13.dfsg-1"
    assert raw["libc6"]["homepage"] == "https://www.gnu.org/software/libc/libc.html"
    _golden("spdx-sample.json", text)


def test_spdx_deterministic_namespace(tmp_path: Path) -> None:
    img = _image()
    shuffled = img.model_copy(update={"packages": random.Random(3).sample(img.packages, len(img.packages))})
    first = encode_spdx_json(spdx_document([img], TOOL, created=WHEN))
    assert encode_spdx_json(spdx_document([shuffled], TOOL, created=WHEN)) == first
    seeded = spdx_document([img], TOOL, created=WHEN, namespace_seed="run-2")
    assert seeded.creation_info.document_namespace != json.loads(first)["documentNamespace"]
    other = spdx_document([_image("linux/arm64", ARM64)], TOOL, created=WHEN)
    assert other.creation_info.document_namespace != json.loads(first)["documentNamespace"]


def test_spdx_merged(tmp_path: Path) -> None:
    _, doc = _parsed_spdx([_image(), _image("linux/arm64", ARM64)], tmp_path, merged_index=(f"{NAME}:1.0", INDEX))
    packages = {p.spdx_id: p for p in doc.packages}
    purl_of = _purl_of(doc)
    described = _described(doc)
    assert purl_of[described] == f"pkg:oci/app@{INDEX}?repository_url={NAME}&tag=1.0"
    images = _contains(doc, described)
    assert {packages[i].version for i in images} == {AMD64, ARM64}
    for image in images:
        contained = _contains(doc, image)
        assert {purl_of[i] for i in contained if i in purl_of} == ALL_PURLS
        (os_id,) = [i for i in contained if _purpose(packages[i]) == "OPERATING_SYSTEM"]
        assert {purl_of[i] for i in _contains(doc, os_id)} == OS_PURLS


def _licensed(expression: str, licenses: list[str]) -> ImageSbom:
    pkg = Package(
        name="thing",
        version="1.0",
        type="pypi",
        purl="pkg:pypi/thing@1.0",
        licenses=licenses,
        license_expression=expression,
        found_by="python",
    )
    return _image().model_copy(update={"packages": [pkg]})


@pytest.mark.parametrize(
    ("expression", "licenses", "cyclonedx", "spdx"),
    [
        # A symbol outside the SPDX list: both formats fall back, nothing invalid is written.
        (
            "GPL-2.0+ AND Foo",
            ["GPL-2.0+", "Foo"],
            [{"license": {"name": "Foo"}}, {"license": {"name": "GPL-2.0+"}}],
            "NOASSERTION",
        ),
        # An exception used as a license.
        ("MIT WITH Apache-2.0", [], [{"license": {"name": "MIT WITH Apache-2.0"}}], "NOASSERTION"),
        (
            "MIT AND LicenseRef-Proprietary",
            ["MIT", "Proprietary"],
            [{"expression": "MIT AND LicenseRef-Proprietary"}],
            "MIT AND LicenseRef-Proprietary",
        ),
        ("mit or apache-2.0", ["MIT", "Apache-2.0"], [{"expression": "MIT OR Apache-2.0"}], "MIT OR Apache-2.0"),
    ],
)
def test_license_fallbacks(
    tmp_path: Path, expression: str, licenses: list[str], cyclonedx: list[Any], spdx: str
) -> None:
    img = _licensed(expression, licenses)
    doc, _ = _valid_cyclonedx([img], merged=False)
    (thing,) = [c for c in doc["components"] if c["name"] == "thing"]
    assert thing["licenses"] == cyclonedx
    _, parsed = _parsed_spdx([img], tmp_path)
    (pkg,) = [p for p in parsed.packages if p.name == "thing"]
    assert str(pkg.license_declared) == spdx
    refs = [e.license_id for e in parsed.extracted_licensing_info]
    assert refs == (["LicenseRef-Proprietary"] if "LicenseRef" in spdx else [])


def test_one_document_per_image_unless_merged() -> None:
    with pytest.raises(ValueError, match="merged_index"):
        cyclonedx_bom([_image(), _image("linux/arm64", ARM64)], TOOL)
    with pytest.raises(ValueError, match="merged_index"):
        spdx_document([_image(), _image("linux/arm64", ARM64)], TOOL)


def test_table() -> None:
    arm = _image("linux/arm64", ARM64).model_copy(update={"issues": [], "distro": None})
    expected = f"""\
{NAME} linux/amd64 {AMD64} (Debian GNU/Linux 12 (bookworm))
NAME               VERSION          TYPE    INTRODUCED
libc6              2.36-9+deb12u7   deb     0 ADD file:6a8f0b2c7d1e3f4a5b6c7d8e9f0a1b2…
tzdata             2024a-0+deb12u1  deb     0 ADD file:6a8f0b2c7d1e3f4a5b6c7d8e9f0a1b2…
zlib1g             1:1.2.13.dfsg-1  deb     0 ADD file:6a8f0b2c7d1e3f4a5b6c7d8e9f0a1b2…
example.com/hello  (devel)          golang  3 COPY hello /usr/local/bin/hello
golang.org/x/text  v0.14.0          golang  3 COPY hello /usr/local/bin/hello
@babel/core        7.24.0           npm     2 COPY node_modules /srv/node_modules
requests           2.32.3           pypi    1 RUN pip install requests==2.32.3
7 packages: 3 deb, 2 golang, 1 npm, 1 pypi
issue: layer 2 /var/lib/rpm/rpmdb.sqlite: not a valid rpm database: file is not a database

{NAME} linux/arm64 {ARM64} (unknown distro)
NAME               VERSION          TYPE    INTRODUCED
libc6              2.36-9+deb12u7   deb     0 ADD file:6a8f0b2c7d1e3f4a5b6c7d8e9f0a1b2…
tzdata             2024a-0+deb12u1  deb     0 ADD file:6a8f0b2c7d1e3f4a5b6c7d8e9f0a1b2…
zlib1g             1:1.2.13.dfsg-1  deb     0 ADD file:6a8f0b2c7d1e3f4a5b6c7d8e9f0a1b2…
example.com/hello  (devel)          golang  3 COPY hello /usr/local/bin/hello
golang.org/x/text  v0.14.0          golang  3 COPY hello /usr/local/bin/hello
@babel/core        7.24.0           npm     2 COPY node_modules /srv/node_modules
requests           2.32.3           pypi    1 RUN pip install requests==2.32.3
7 packages: 3 deb, 2 golang, 1 npm, 1 pypi
"""
    assert render_table([_image(), arm]) == expected
