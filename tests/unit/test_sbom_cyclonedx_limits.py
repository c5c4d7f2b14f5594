"""Values from an image past a length CycloneDX's schema sets: the document stays valid, nothing is lost.

CycloneDX 1.6 limits a component's ``version`` to 1,024 characters. A damaged composer database with a
5,000-character version made the whole CycloneDX document fail its schema (found by
``scripts/fuzz_catalogers.py --only @sbom``); the version now goes whole into a ``provenant:version``
property instead, in both CycloneDX writers and in the library-built reference.
"""

from __future__ import annotations

import json
from typing import Literal
from uuid import UUID

import pytest

from provenant.catalog.base import Distro
from provenant.sbom.cyclonedx import cyclonedx_bom, encode_cyclonedx
from provenant.sbom.cyclonedx_json import cyclonedx_json
from provenant.sbom.cyclonedx_xml import cyclonedx_xml
from provenant.sbom.model import Package
from provenant.sbom.result import ImageSbom
from provenant.sbom.validate import validate_document
from tests.unit.test_sbom_encode_scaling import TOOL, WHEN, _image

LONG = "1." + "x" * 4998
EDGE = "2." + "y" * 1022  # exactly at the limit (1,024 characters): kept as it is
OVER = "3." + "z" * 1023  # one past it: moved
assert (len(EDGE), len(OVER)) == (1024, 1025)
SERIAL = UUID("3e671687-395b-41f5-a30f-a58921a69b79")


def _long_image() -> ImageSbom:
    packages = [
        Package(name=name, version=version, type="composer", purl=f"pkg:composer/acme/{name}", found_by="composer")
        for name, version in (("long", LONG), ("edge", EDGE), ("over", OVER), ("empty", ""))
    ]
    distro = Distro(id="debian", version_id="9" * 2000, pretty_name="Debian")
    return _image(0).model_copy(update={"packages": packages, "distro": distro})


def _props(component: dict[str, object]) -> dict[str, str]:
    return {p["name"]: p["value"] for p in component.get("properties", [])}  # type: ignore[attr-defined]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_version_over_the_schemas_limit_moves_to_a_property(fmt: Literal["json", "xml"]) -> None:
    images = [_long_image()]
    ours = (cyclonedx_json if fmt == "json" else cyclonedx_xml)(images, TOOL, serial=SERIAL, timestamp=WHEN)
    validate_document(f"cyclonedx-{fmt}", ours)  # raised before: version is longer than 1024 characters
    library = encode_cyclonedx(cyclonedx_bom(images, TOOL, serial=SERIAL, timestamp=WHEN), fmt)
    assert ours == library  # the library-built document (the writers' reference) does the same
    if fmt == "xml":
        assert LONG not in ours.split("<version>") and f"<version>{EDGE}</version>" in ours
        return
    components = {c["name"]: c for c in json.loads(ours)["components"]}
    assert "version" not in components["long"] and _props(components["long"])["provenant:version"] == LONG
    assert components["edge"]["version"] == EDGE and "provenant:version" not in _props(components["edge"])
    assert "version" not in components["over"] and _props(components["over"])["provenant:version"] == OVER
    assert components["empty"]["version"] == ""
    os_component = components["debian"]
    assert "version" not in os_component and _props(os_component) == {"provenant:version": "9" * 2000}
