"""``provenant ci github``: the GitHub Action's step (action.yml runs it; options also read INPUT_* variables)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click


@click.group("ci")
def ci_group() -> None:
    """Run provenant as a CI step: policy check, SBOMs, and the CI system's reports."""


@ci_group.command("github")
@click.option("--image", envvar="INPUT_IMAGE", required=True, help="Image to check (best: name@sha256:...).")
@click.option("--policy", envvar="INPUT_POLICY", default="default", show_default=True, help="Built-in name or file.")
@click.option("--key", "keys", envvar="INPUT_KEY", help="Public key file(s) for provenance signatures (list).")
@click.option("--dockerfile", envvar="INPUT_DOCKERFILE", help="Dockerfile the image was built from.")
@click.option("--trusted-root", envvar="INPUT_TRUSTED_ROOT", help="Sigstore trusted_root.json for keyless verify.")
@click.option("--certificate-identity", envvar="INPUT_CERTIFICATE_IDENTITY", help="Keyless signer identity.")
@click.option("--certificate-oidc-issuer", envvar="INPUT_CERTIFICATE_OIDC_ISSUER", help="Keyless signer issuer.")
@click.option("--sbom", "sbom_formats", envvar="INPUT_SBOM", help="SBOM formats to write (list), e.g. cyclonedx-json.")
@click.option(
    "--fail-on",
    envvar="INPUT_FAIL_ON",
    type=click.Choice(["deny", "warn", "never"]),
    default="deny",
    show_default=True,
    help="Fail the step (exit 1) on this verdict or worse.",
)
@click.option(
    "--output-dir",
    envvar="INPUT_OUTPUT_DIR",
    default="provenant-results",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the SARIF file, reports and SBOMs are written.",
)
def github_cmd(
    image: str,
    policy: str,
    keys: str | None,
    dockerfile: str | None,
    trusted_root: str | None,
    certificate_identity: str | None,
    certificate_oidc_issuer: str | None,
    sbom_formats: str | None,
    fail_on: str,
    output_dir: Path,
) -> None:
    """Policy check (+ keyless verify, SBOMs) with SARIF, annotations, job summary and step outputs.

    Writes to the files $GITHUB_STEP_SUMMARY and $GITHUB_OUTPUT name (appending); annotations go to
    standard output. Exit 0 passed, 1 the verdict reached --fail-on, 2 an error.
    """
    from provenant.ci.github import FailOn, Inputs, main, split_list

    fail: FailOn = "warn" if fail_on == "warn" else "never" if fail_on == "never" else "deny"
    inputs = Inputs(
        image=image,
        policy=policy or "default",
        keys=split_list(keys),
        dockerfile=dockerfile or None,
        trusted_root=trusted_root or None,
        identity=certificate_identity or None,
        issuer=certificate_oidc_issuer or None,
        sbom_formats=split_list(sbom_formats),
        fail_on=fail,
        output_dir=output_dir,
    )
    sys.exit(main(inputs, os.environ))
