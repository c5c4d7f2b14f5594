"""The real `cosign save` layouts of slsa-github-generator images, pushed to a real registry as cosign
pushes them (the image by tag, the attestations under ``sha256-<hex>.att``): keyless verify gives the
same verdict as on the layout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from fixtures import Registry
from provenant.cli.main import cli
from tests.attestdata.artifacts import HttpStore
from tests.cosigndata import DATA, GENERATOR, GITHUB_ISSUER, PROD_ROOT, V120, V210, blob, entry, image_digest


def _push(layout: Path, host: str, repo: str) -> str:
    """Every blob, then the platform manifests, the image (tag ``v1``) and the .att tag; returns the image ref."""
    store = HttpStore(host, repo)
    for path in sorted((layout / "blobs" / "sha256").iterdir()):
        store.put_blob(path.read_bytes())
    top = image_digest(layout)
    top_doc = json.loads(blob(layout, top))
    for child in top_doc.get("manifests", []):
        store.put_manifest(blob(layout, child["digest"]), child["mediaType"], child["digest"])
    store.put_manifest(blob(layout, top), top_doc["mediaType"], "v1")
    atts = entry(layout, "dev.cosignproject.cosign/atts")
    store.put_manifest(blob(layout, atts["digest"]), atts["mediaType"], top.replace(":", "-") + ".att")
    return f"{host}/{repo}:v1"


@pytest.mark.parametrize("name", [V120, V210])
def test_pushed_layout_verifies_like_the_layout(registry: Registry, name: str) -> None:
    ref = _push(DATA / name, registry.host, f"keyless/{name}")
    base = ["verify", ref, "--trusted-root", str(PROD_ROOT), "--certificate-oidc-issuer", GITHUB_ISSUER]
    ok = CliRunner().invoke(cli, [*base, "--certificate-identity-regexp", GENERATOR])
    assert ok.exit_code == 0, ok.output
    assert "signer: https://github.com/slsa-framework/slsa-github-generator/.github/workflows/" in ok.output
    assert "github-workflow-repository: slsa-framework/example-package" in ok.output
    assert f"tag {image_digest(DATA / name).replace(':', '-')}.att" in ok.output
    bad = CliRunner().invoke(cli, [*base, "--certificate-identity-regexp", "^https://github.com/sigstore/"])
    assert bad.exit_code == 1
    assert "identity mismatch: the certificate names https://github.com/slsa-framework/" in bad.output


def test_pushed_layout_policy_check_and_compare_agree_with_verify(registry: Registry, tmp_path: Path) -> None:
    """The keyless flags of ``policy check`` and ``compare`` on the pushed image: the verdict of ``verify``."""
    ref = _push(DATA / V120, registry.host, "keyless/commands")
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "apiVersion: provenant/v1\nkind: ImagePolicy\nimages: ['**']\nchecks:\n  provenance:\n    requireSigned: true\n"
    )
    root = ["--trusted-root", str(PROD_ROOT), "--certificate-oidc-issuer", GITHUB_ISSUER]
    good, wrong = [*root, "--certificate-identity-regexp", GENERATOR], [*root, "--certificate-identity", "x"]
    for flags, code in ((good, 0), (wrong, 1)):
        verify = CliRunner().invoke(cli, ["verify", ref, *flags])
        check = CliRunner().invoke(cli, ["policy", "check", ref, "--policy", str(policy), "--no-cache", *flags])
        assert verify.exit_code == check.exit_code == code, (verify.output, check.output)
        compare = CliRunner().invoke(cli, ["compare", ref, "--no-cache", "-o", "json", *flags])
        assert compare.exit_code == 0, compare.output
        assert ("signed:keyless=https://github.com/slsa-framework/" in compare.output) == (code == 0)
    assert (
        "provenance signed by https://github.com/slsa-framework/slsa-github-generator/"
        in CliRunner().invoke(cli, ["policy", "check", ref, "--policy", str(policy), "--no-cache", *good]).output
    )
