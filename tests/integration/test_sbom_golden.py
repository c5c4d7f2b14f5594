"""Golden CycloneDX and SPDX documents of a real scan: ``sbom-apk:1`` pulled from the registry.

``sbom-apk`` is built only from the fixture's own hand-made Alpine database (no package mirror
involved), so its bytes, digests and packages never change. Only what is truly non-deterministic is
redacted: the BOM serial number, timestamps, the SPDX document namespace (a random UUID) and the
registry's host:port (a free port chosen by the test setup).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from fixtures import FixtureSet, Registry
from provenant.cli.main import cli

pytestmark = pytest.mark.integration
GOLDEN = Path(__file__).resolve().parents[1] / "golden"


def _redact(doc: dict[str, Any], host: str) -> str:
    if "serialNumber" in doc:
        doc["serialNumber"] = "urn:uuid:REDACTED"
        doc["metadata"]["timestamp"] = "REDACTED"
    if "creationInfo" in doc:
        doc["creationInfo"]["created"] = "REDACTED"
        doc["documentNamespace"] = re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}", "REDACTED-UUID", doc["documentNamespace"])
    text = json.dumps(doc, indent=2, sort_keys=True)
    # SPDX ids and namespaces spell the host with '-' for ':'
    return text.replace(host, "REGISTRY").replace(host.replace(":", "-"), "REGISTRY") + "\n"


@pytest.mark.parametrize(
    ("fmt", "golden"), [("cyclonedx-json", "sbom-apk.cdx.json"), ("spdx-json", "sbom-apk.spdx.json")]
)
def test_scan_matches_golden(registry: Registry, tmp_path: Path, fmt: str, golden: str) -> None:
    out = tmp_path / "doc.json"
    res = CliRunner().invoke(cli, ["sbom", f"{registry.host}/sbom-apk:1", "--no-cache", "-o", f"{fmt}={out}"])
    assert res.exit_code == 0, res.output
    text = _redact(json.loads(out.read_text()), registry.host)
    path = GOLDEN / golden
    if os.environ.get("PROVENANT_UPDATE_GOLDEN") == "1":
        path.write_text(text)
    assert text == path.read_text(), f"{golden} differs from the golden file (PROVENANT_UPDATE_GOLDEN=1 to accept)"


@pytest.mark.parametrize(
    "ref", ["sbom-apk:1", "debian-amd64:12", "debian-multiarch:12", "sbom-node:1", "sbom-python:1", "sbom-java:1"]
)
def test_direct_cyclonedx_is_the_librarys_bytes_on_fixture_images(fixture_set: FixtureSet, ref: str) -> None:
    """The CycloneDX JSON and XML writers give cyclonedx-python-lib's bytes on real scans (merged too)."""
    from datetime import UTC, datetime
    from uuid import UUID

    from provenant.sbom.cyclonedx import cyclonedx_bom, encode_cyclonedx
    from provenant.sbom.cyclonedx_json import cyclonedx_json
    from provenant.sbom.cyclonedx_xml import cyclonedx_xml
    from provenant.sbom.generate import generate_sbom
    from provenant.session import Session

    image = fixture_set.image(ref)
    with Session() as session:
        result = generate_sbom(session, f"oci:{image.layout}:{image.tag}")
    serial, when = UUID("3e671687-395b-41f5-a30f-a58921a69b79"), datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    documents = [([img], None) for img in result.images]
    if len(result.images) > 1:
        documents.append((list(result.images), (result.reference, result.digest)))
    for images, index in documents:
        assert sum(len(img.packages) for img in images) > 0
        bom = cyclonedx_bom(images, result.tool, merged_index=index, serial=serial, timestamp=when)
        direct_json = cyclonedx_json(images, result.tool, merged_index=index, serial=serial, timestamp=when)
        assert direct_json == encode_cyclonedx(bom, "json")
        direct_xml = cyclonedx_xml(images, result.tool, merged_index=index, serial=serial, timestamp=when)
        assert direct_xml == encode_cyclonedx(bom, "xml")
