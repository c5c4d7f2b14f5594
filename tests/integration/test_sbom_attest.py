"""``provenant sbom --attest``: each platform's SBOM signed and pushed about that platform, read back by hand."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from fixtures import FixtureSet, Registry
from provenant.cli.main import cli
from tests.attestdata import artifacts, crypto

pytestmark = pytest.mark.integration
PASSWORD = "sbom-attest"


def test_sbom_attest_pushes_one_verifiable_attestation_per_platform(
    registry: Registry, fixture_set: FixtureSet, tmp_path: Path
) -> None:
    fx = fixture_set.image("debian-multiarch:12")
    artifacts.copy_image(registry.host, "debian-multiarch", "12", "sbom-attest/app", "12")
    key = crypto.new_key()
    priv, pub = crypto.write_keys(key, tmp_path, "k", PASSWORD.encode())
    ref = f"{registry.host}/sbom-attest/app:12"
    runner = CliRunner()
    out = f"cyclonedx-json={tmp_path / 'bom.json'}"
    args = ["sbom", ref, "--no-cache", "-o", out, "--attest", "cyclonedx-json", "--key", str(priv)]
    res = runner.invoke(cli, args, env={"PROVENANT_KEY_PASSWORD": PASSWORD})
    assert res.exit_code == 0, res.output
    for platform, digest in fx.platforms.items():  # the progress lines name each platform
        assert f"attested {platform} ({digest}): https://cyclonedx.org/bom -> " in res.stderr
    res = runner.invoke(cli, ["verify", ref, "--key", str(pub), "--type", "cyclonedx", "-o", "json"])
    assert res.exit_code == 1  # the index itself carries no signature, only its platforms do
    platforms = ["--platform", "linux/amd64", "--platform", "linux/arm64"]
    res = runner.invoke(cli, ["verify", ref, "--key", str(pub), "--type", "cyclonedx", *platforms, "-o", "json"])
    assert res.exit_code == 0, res.output
    assert sorted(s["digest"] for s in json.loads(res.output)["subjects"]) == sorted(fx.platforms.values())

    # independently: the .att manifest of each platform holds a DSSE envelope signed over PAE(payload)
    http = httpx.Client()
    base = f"http://{registry.host}/v2/sbom-attest/app"
    for platform, digest in fx.platforms.items():
        tag = "sha256-" + digest.removeprefix("sha256:") + ".att"
        manifest = http.get(f"{base}/manifests/{tag}", headers={"Accept": artifacts.ACCEPT}).json()
        (layer,) = manifest["layers"]
        assert layer["annotations"]["predicateType"] == "https://cyclonedx.org/bom"
        env = http.get(f"{base}/blobs/{layer['digest']}").json()
        payload = base64.b64decode(env["payload"])
        key.public_key().verify(
            base64.b64decode(env["signatures"][0]["sig"]),
            crypto.pae(env["payloadType"], payload),
            ec.ECDSA(hashes.SHA256()),
        )
        stmt = json.loads(payload)
        assert stmt["subject"][0]["digest"] == {"sha256": digest.removeprefix("sha256:")}
        bom = stmt["predicate"]
        written = json.loads((tmp_path / f"bom.{platform.replace('/', '-')}.json").read_text())
        assert bom["metadata"]["component"]["name"] == written["metadata"]["component"]["name"]
        assert sorted(c["purl"] for c in bom["components"] if "purl" in c) == sorted(
            c["purl"] for c in written["components"] if "purl" in c
        )
        # the package set dpkg-query reported when the fixture was built
        expected = {(p["name"], p["version"]) for p in fx.expected_packages(platform)}
        libraries = {(c["name"], c["version"]) for c in bom["components"] if c["type"] == "library"}
        assert libraries == expected


def test_sbom_attest_needs_a_registry_and_a_key(fixture_set: FixtureSet, tmp_path: Path) -> None:
    fx = fixture_set.image("debian-amd64:12")
    runner = CliRunner()
    res = runner.invoke(cli, ["sbom", f"oci:{fx.layout}:12", "--no-cache", "--attest", "cyclonedx-json"])
    assert res.exit_code == 2 and "--attest and --key go together" in res.output
    priv, _ = crypto.write_keys(crypto.new_key(), tmp_path, "k")
    res = runner.invoke(
        cli,
        [
            "sbom",
            f"oci:{fx.layout}:12",
            "--no-cache",
            "-o",
            "json=/dev/null",
            "--attest",
            "spdx-json",
            "--key",
            str(priv),
        ],
    )
    assert res.exit_code == 2 and "not a registry reference" in res.output
