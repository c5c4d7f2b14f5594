"""The keyless flags of `policy check`, `compare` and `report` give the verdict `verify` gives, on the real
`cosign save` layouts of slsa-github-generator images (tests/data/cosign)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from provenant.cli.main import cli
from tests.cosigndata import DATA, GENERATOR, GITHUB_ISSUER, PROD_ROOT, STAGING_ROOT, V120, V210

HEAD = "apiVersion: provenant/v1\nkind: ImagePolicy\nimages: ['**']\nchecks:\n  provenance:\n    requireSigned: true\n"
SIGNER = ["--certificate-identity-regexp", GENERATOR, "--certificate-oidc-issuer", GITHUB_ISSUER]
WRONG = ["--certificate-identity-regexp", "^https://github.com/sigstore/", "--certificate-oidc-issuer", GITHUB_ISSUER]
KEYLESS_OK = "signed:keyless=https://github.com/slsa-framework/slsa-github-generator/.github/workflows/"


def _policy(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(HEAD + extra)
    return path


def _check(path: Path, *flags: str, name: str = V120) -> Any:
    return CliRunner().invoke(cli, ["policy", "check", f"oci:{DATA / name}", "--policy", str(path), *flags])


def _verify(*flags: str, name: str = V120) -> Any:
    return CliRunner().invoke(cli, ["verify", f"oci:{DATA / name}", "--trusted-root", str(PROD_ROOT), *flags])


# -- policy check ----------------------------------------------------------------------------------------


def test_policy_check_with_the_flags_alone_agrees_with_verify(tmp_path: Path) -> None:
    path = _policy(tmp_path)
    ok = _check(path, "--trusted-root", str(PROD_ROOT), *SIGNER)
    assert ok.exit_code == 0 == _verify(*SIGNER).exit_code, ok.output
    assert "provenance signed by https://github.com/slsa-framework/slsa-github-generator/" in ok.output
    bad = _check(path, "--trusted-root", str(PROD_ROOT), *WRONG)
    assert bad.exit_code == 1 == _verify(*WRONG).exit_code, bad.output
    assert "identity mismatch: the certificate names https://github.com/slsa-framework/" in bad.output
    unsigned = _check(path)  # no key, no signer: the same evidence is only keyless-unverified
    assert unsigned.exit_code == 1, unsigned.output
    assert "keyless-unverified" in unsigned.output


def test_provenance_signed_on_the_index_only_is_named(tmp_path: Path) -> None:
    """v2.1.0 signs the index: verify passes (a platform passes when its index is signed), but the policy's
    provenance.signed asks for a signed statement about the platform manifest itself (docs/policy-reference.md):
    the platform carries BuildKit's unsigned statement, and the failure names the signed one on the index."""
    res = _check(_policy(tmp_path), "--trusted-root", str(PROD_ROOT), *SIGNER, name=V210)
    assert _verify(*SIGNER, name=V210).exit_code == 0
    assert res.exit_code == 1, res.output
    assert (
        "provenance is present but unsigned; a signed statement is attached to the index sha256:234e2c83" in res.output
    )
    plain = _check(_policy(tmp_path), name=V210)  # without a trusted signer the index statement proves nothing
    assert plain.exit_code == 1 and "attached to the index" not in plain.output


def test_a_command_line_signer_is_one_more_trusted_signer(tmp_path: Path) -> None:
    shutil.copy(PROD_ROOT, tmp_path / "root.json")
    other = "    trustedRoot: root.json\n    keyless:\n      - identity: https://github.com/o/x\n"
    other += f"        issuer: {GITHUB_ISSUER}\n"
    path = _policy(tmp_path, other)
    denied = _check(path)
    assert denied.exit_code == 1, denied.output
    assert "the certificate names https://github.com/slsa-framework/" in denied.output
    both = _check(path, *SIGNER)  # the policy's trustedRoot is used
    assert both.exit_code == 0, both.output
    wrong = _check(path, *WRONG)
    assert wrong.exit_code == 1
    assert "signer 1: the certificate names" in wrong.output and "signer 2: the certificate names" in wrong.output


def test_the_command_line_root_replaces_the_policys(tmp_path: Path) -> None:
    shutil.copy(STAGING_ROOT, tmp_path / "root.json")
    signer = f"      - identityRegexp: '{GENERATOR}'\n        issuer: {GITHUB_ISSUER}\n"
    path = _policy(tmp_path, "    trustedRoot: root.json\n    keyless:\n" + signer)
    staged = _check(path)
    assert staged.exit_code == 1, staged.output
    assert "is not a transparency log of" in staged.output
    prod = _check(path, "--trusted-root", str(PROD_ROOT))
    assert prod.exit_code == 0, prod.output


@pytest.mark.parametrize(
    ("flags", "error"),
    [
        (["--trusted-root", str(PROD_ROOT)], "--trusted-root needs --certificate-identity (or -regexp)"),
        (SIGNER, "need --trusted-root (or checks.provenance.trustedRoot)"),
        (
            ["--trusted-root", str(PROD_ROOT), "--certificate-identity", "x"],
            "a keyless signer needs --certificate-identity (or -regexp) and --certificate-oidc-issuer",
        ),
        (
            ["--trusted-root", str(PROD_ROOT), "--certificate-github-workflow-ref", "refs/heads/main"],
            "a keyless signer needs --certificate-identity",
        ),
        (
            ["--trusted-root", str(PROD_ROOT), "--certificate-identity-regexp", "(", "--certificate-oidc-issuer", "x"],
            "--certificate-identity-regexp: not a valid regexp",
        ),
    ],
)
def test_incomplete_keyless_flags_are_one_usage_line(tmp_path: Path, flags: list[str], error: str) -> None:
    res = _check(_policy(tmp_path), *flags)
    assert res.exit_code == 2, res.output
    assert error in res.output


def test_a_command_line_root_that_does_not_load_names_the_flag(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    res = _check(_policy(tmp_path), "--trusted-root", str(bad), *SIGNER)
    assert res.exit_code == 2
    assert f"--trusted-root: cannot load trusted root {bad}: not a JSON object" in res.output


def test_github_claims_on_the_command_line(tmp_path: Path) -> None:
    path = _policy(tmp_path)
    root = ["--trusted-root", str(PROD_ROOT)]
    ok = _check(path, *root, *SIGNER, "--certificate-github-workflow-repository", "slsa-framework/example-package")
    assert ok.exit_code == 0, ok.output
    bad = _check(path, *root, *SIGNER, "--certificate-github-workflow-trigger", "push")
    assert bad.exit_code == 1
    assert "GitHub workflow trigger is workflow_dispatch, not push" in bad.output


# -- compare and report -------------------------------------------------------------------------------------


def _compare(*flags: str) -> dict[str, Any]:
    res = CliRunner().invoke(cli, ["compare", f"oci:{DATA / V210}", "--no-cache", "-o", "json", *flags])
    assert res.exit_code == 0, res.output
    doc: dict[str, Any] = json.loads(res.output)
    return doc


def _trust_labels(doc: Any) -> list[str]:
    """Every trust label anywhere in a compare JSON document."""
    if isinstance(doc, dict):
        return [x for v in doc.values() for x in _trust_labels(v)]
    if isinstance(doc, list):
        return [x for v in doc for x in _trust_labels(v)]
    return [doc] if isinstance(doc, str) and (doc.startswith("signed") or doc.endswith("-unverified")) else []


def test_compare_shows_the_keyless_verdict_of_verify() -> None:
    plain = _trust_labels(_compare())
    assert "keyless-unverified" in plain and not any(t.startswith("signed:keyless=") for t in plain)
    trusted = _trust_labels(_compare("--trusted-root", str(PROD_ROOT), *SIGNER))
    assert any(t.startswith(KEYLESS_OK) for t in trusted), trusted
    assert "keyless-unverified" not in trusted
    wrong = _trust_labels(_compare("--trusted-root", str(PROD_ROOT), *WRONG))
    assert not any(t.startswith("signed:keyless=") for t in wrong), wrong


def test_compare_keyless_flags_are_checked_like_verifys() -> None:
    res = CliRunner().invoke(cli, ["compare", f"oci:{DATA / V210}", "--no-cache", *SIGNER])
    assert res.exit_code == 2
    assert "--certificate-identity/--certificate-oidc-issuer need --trusted-root" in res.output


def test_report_shows_the_keyless_verdict(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    base = ["report", f"oci:{DATA / V210}", "--no-cache", "-o", str(out)]
    res = CliRunner().invoke(cli, [*base, "--trusted-root", str(PROD_ROOT), *SIGNER])
    assert res.exit_code == 0, res.output
    assert KEYLESS_OK in out.read_text()
    res = CliRunner().invoke(cli, base)
    assert res.exit_code == 0, res.output
    html = out.read_text()
    assert "keyless-unverified" in html and KEYLESS_OK not in html
