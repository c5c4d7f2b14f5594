"""Keyless signers in the policy file (checks.provenance.keyless + trustedRoot), on the real cosign save layout."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from provenant.cli.main import cli
from provenant.errors import ProvenantError
from provenant.policy.schema import load_policy
from tests.cosigndata import DATA, GENERATOR, GITHUB_ISSUER, PROD_ROOT, V120

KL = "    trustedRoot: r.json\n    keyless:\n"
HEAD = "apiVersion: provenant/v1\nkind: ImagePolicy\nimages: ['**']\nchecks:\n  provenance:\n    requireSigned: true\n"


def _policy(tmp_path: Path, signers: str, root: str = "root.json") -> Path:
    shutil.copy(PROD_ROOT, tmp_path / "root.json")  # relative to the policy file, not to the working directory
    path = tmp_path / "policy.yaml"
    path.write_text(HEAD + f"    trustedRoot: {root}\n    keyless:\n{signers}")
    return path


def _check(path: Path) -> Any:
    return CliRunner().invoke(cli, ["policy", "check", f"oci:{DATA / V120}", "--policy", str(path)])


def test_a_trusted_keyless_signer_passes(tmp_path: Path) -> None:
    path = _policy(
        tmp_path,
        f"      - identityRegexp: '{GENERATOR}'\n        issuer: {GITHUB_ISSUER}\n"
        "        githubWorkflowRepository: slsa-framework/example-package\n",
    )
    res = _check(path)
    assert res.exit_code == 0, res.output
    assert "provenance signed by https://github.com/slsa-framework/slsa-github-generator/" in res.output


def test_any_one_of_several_signers_is_enough(tmp_path: Path) -> None:
    path = _policy(
        tmp_path,
        f"      - identity: https://github.com/other/x\n        issuer: {GITHUB_ISSUER}\n"
        f"      - identityRegexp: '{GENERATOR}'\n        issuerRegexp: '^https://token\\.actions\\.'\n",
    )
    res = _check(path)
    assert res.exit_code == 0, res.output


def test_an_untrusted_signer_is_denied_with_the_reason(tmp_path: Path) -> None:
    path = _policy(
        tmp_path,
        f"      - identityRegexp: '{GENERATOR}'\n        issuer: {GITHUB_ISSUER}\n"
        "        githubWorkflowTrigger: push\n",
    )
    res = _check(path)
    assert res.exit_code == 1, res.output
    assert "GitHub workflow trigger is workflow_dispatch, not push" in res.output


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("    keyless:\n      - identity: x\n        issuer: y\n", "keyless signers need trustedRoot"),
        (
            "    trustedRoot: r.json\n    keyless:\n      - identity: x\n",
            "needs identity (or identityRegexp) and issuer",
        ),
        (
            KL + "      - identity: x\n        identityRegexp: x\n        issuer: y\n",
            "not both",
        ),
        (KL + "      - identityRegexp: '(a)\\1'\n        issuer: y\n", "groupref"),
    ],
)
def test_bad_keyless_signers_are_one_policy_error(tmp_path: Path, text: str, error: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(HEAD + text)
    with pytest.raises(ProvenantError, match=re.escape(error)):
        load_policy(path)


def test_a_trusted_root_that_does_not_load_names_the_field(tmp_path: Path) -> None:
    path = _policy(tmp_path, f"      - identity: x\n        issuer: {GITHUB_ISSUER}\n", root="missing.json")
    res = _check(path)
    assert res.exit_code == 2
    assert "checks.provenance.trustedRoot: cannot read trusted root" in res.output
