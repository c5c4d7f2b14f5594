"""``provenant ci github|gitlab``: the CI templates' step (options also read INPUT_* variables, as in actions)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from provenant.ci.github import Inputs

F = TypeVar("F", bound=Callable[..., Any])


@click.group("ci")
def ci_group() -> None:
    """Run provenant as a CI step: policy check, SBOMs, and the CI system's reports."""


def _inputs_options(f: F) -> F:
    options = [
        click.option("--image", envvar="INPUT_IMAGE", required=True, help="Image to check (best: name@sha256:...)."),
        click.option(
            "--policy", envvar="INPUT_POLICY", default="default", show_default=True, help="Built-in name or file."
        ),
        click.option("--key", "keys", envvar="INPUT_KEY", help="Public key file(s) for provenance signatures (list)."),
        click.option("--dockerfile", envvar="INPUT_DOCKERFILE", help="Dockerfile the image was built from."),
        click.option("--trusted-root", envvar="INPUT_TRUSTED_ROOT", help="Sigstore trusted_root.json (keyless)."),
        click.option("--certificate-identity", envvar="INPUT_CERTIFICATE_IDENTITY", help="Keyless signer identity."),
        click.option("--certificate-oidc-issuer", envvar="INPUT_CERTIFICATE_OIDC_ISSUER", help="Keyless issuer."),
        click.option("--sbom", "sbom_formats", envvar="INPUT_SBOM", help="SBOM formats to write (list)."),
        click.option(
            "--fail-on",
            envvar="INPUT_FAIL_ON",
            type=click.Choice(["deny", "warn", "never"]),
            default="deny",
            show_default=True,
            help="Fail the step (exit 1) on this verdict or worse.",
        ),
        click.option(
            "--output-dir",
            envvar="INPUT_OUTPUT_DIR",
            default="provenant-results",
            show_default=True,
            type=click.Path(file_okay=False, path_type=Path),
            help="Where the SARIF, JUnit and JSON reports and the SBOMs are written.",
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _inputs(params: dict[str, Any]) -> Inputs:
    from provenant.ci.github import FailOn, Inputs, split_list

    fail_on = params["fail_on"]
    fail: FailOn = "warn" if fail_on == "warn" else "never" if fail_on == "never" else "deny"
    return Inputs(
        image=params["image"],
        policy=params["policy"] or "default",
        keys=split_list(params["keys"]),
        dockerfile=params["dockerfile"] or None,
        trusted_root=params["trusted_root"] or None,
        identity=params["certificate_identity"] or None,
        issuer=params["certificate_oidc_issuer"] or None,
        sbom_formats=split_list(params["sbom_formats"]),
        fail_on=fail,
        output_dir=params["output_dir"],
    )


@ci_group.command("github")
@_inputs_options
def github_cmd(**params: Any) -> None:
    """Policy check (+ keyless verify, SBOMs) with SARIF, annotations, job summary and step outputs.

    Appends to the files $GITHUB_STEP_SUMMARY and $GITHUB_OUTPUT name; annotations go to standard output.
    Exit 0 passed, 1 the verdict reached --fail-on, 2 an error.
    """
    from provenant.ci.github import main

    sys.exit(main(_inputs(params), os.environ))


@ci_group.command("gitlab")
@_inputs_options
def gitlab_cmd(**params: Any) -> None:
    """Policy check (+ keyless verify, SBOMs) leaving JUnit, CycloneDX and dotenv reports for GitLab.

    Exit 0 passed, 1 the verdict reached --fail-on, 2 an error.
    """
    from provenant.ci.gitlab import main

    sys.exit(main(_inputs(params)))
