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

from fixtures import Registry
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
