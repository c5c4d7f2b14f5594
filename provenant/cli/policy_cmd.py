"""``provenant policy check`` and ``provenant policy validate``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from provenant.cli.attest_cmds import keyless_signer_options
from provenant.cli.options import (
    build_registry_options,
    cache_options,
    load_public_keys,
    open_cache,
    parse_platforms,
    platform_option,
    public_key_option,
    registry_options,
)

if TYPE_CHECKING:
    from provenant.attest.identity import IdentityMatcher

FORMATS = ("text", "json", "sarif", "junit", "github")
POLICY_EXIT_CODES = """\b
Exit codes:
  0  the policy passed (warnings allowed, unless --fail-on-warn)
  1  at least one check denied (or warned, with --fail-on-warn)
  2  usage, policy-file or runtime error (one line on stderr)
"""


def complete_policy(incomplete: str) -> list[click.shell_completion.CompletionItem]:
    """Shell completion of ``--policy``: the built-in names, then files."""
    from click.shell_completion import CompletionItem

    from provenant.policy.builtin import NAMES

    names = [CompletionItem(n, help="built-in policy") for n in NAMES if n.startswith(incomplete)]
    return [*names, CompletionItem(incomplete, type="file")]


@click.group("policy", epilog=POLICY_EXIT_CODES)
def policy_group() -> None:
    """Gate CI on a policy file: pinning, base images, provenance, platforms, SBOM, licenses, size."""


@policy_group.command("check", epilog=POLICY_EXIT_CODES)
@click.argument("ref")
@click.option(
    "--policy",
    "policy_spec",
    required=True,
    metavar="NAME|FILE",
    shell_complete=lambda ctx, param, incomplete: complete_policy(incomplete),
    help="Built-in policy (default, strict) or a policy file (YAML, apiVersion provenant/v1, kind ImagePolicy).",
)
@click.option(
    "--dockerfile",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The Dockerfile the image was built from: its FROM lines are checked for pinning.",
)
@click.option("--build-arg", "build_args", multiple=True, metavar="KEY=VALUE", help="ARG values for --dockerfile.")
@platform_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="Report format on standard output.",
)
@click.option(
    "--output",
    "-o",
    "outputs",
    multiple=True,
    metavar="FORMAT=FILE",
    help=f"Also write a report to FILE (repeatable). FORMAT: {', '.join(FORMATS)}.",
)
@click.option("--fail-on-warn", is_flag=True, help="Exit 1 on warnings too.")
@public_key_option("Public key (PEM) provenance signatures are verified with (repeatable).")
@keyless_signer_options
@cache_options
@registry_options
def check_cmd(
    ref: str,
    policy_spec: str,
    dockerfile: Path | None,
    build_args: tuple[str, ...],
    platforms: tuple[str, ...],
    fmt: str,
    outputs: tuple[str, ...],
    fail_on_warn: bool,
    keys: tuple[Path, ...],
    trusted_root: Path | None,
    signer: IdentityMatcher | None,
    cache_dir: Path | None,
    no_cache: bool,
    insecure: bool,
    ca_file: Path | None,
    username: str | None,
    password_stdin: bool,
) -> None:
    """Evaluate REF against a policy file and report pass / warn / deny with evidence.

    Every layer, config and attestation of REF is fetched at most once (layer scans come from the
    shared cache); all selected platforms of an index are checked. The keyless flags add a trusted signer
    to the policy's checks.provenance.keyless (any one may have signed); --trusted-root replaces its
    trustedRoot.
    """
    from provenant.errors import UsageError
    from provenant.policy.builtin import resolve
    from provenant.policy.dockerfile import load_dockerfile, parse_build_args
    from provenant.policy.engine import check_image
    from provenant.policy.reports import render
    from provenant.policy.schema import load_policy
    from provenant.session import Session

    files: list[tuple[str, Path]] = []
    for spec in outputs:
        kind, eq, dest = spec.partition("=")
        if kind not in FORMATS or not eq or not dest:
            raise UsageError(f"-o {spec}: expected FORMAT=FILE with FORMAT one of {', '.join(FORMATS)}")
        files.append((kind, Path(dest)))
    policy_path = resolve(policy_spec)
    policy = load_policy(policy_path)
    args = parse_build_args(build_args)
    if args and dockerfile is None:
        raise UsageError("--build-arg needs --dockerfile")
    parsed_dockerfile = load_dockerfile(dockerfile, args) if dockerfile is not None else None
    public_keys = load_public_keys(keys)
    with Session(build_registry_options(insecure, ca_file, username, password_stdin)) as session:
        report = check_image(
            session,
            ref,
            policy,
            policy_path=policy_path,
            dockerfile=parsed_dockerfile,
            platforms=parse_platforms(platforms),
            keys=public_keys,
            trusted_root=trusted_root,
            signer=signer,
            cache=open_cache(cache_dir, no_cache),
            fail_on_warn=fail_on_warn,
        )
    for kind, out_path in files:
        try:
            out_path.write_text(render(report, kind), encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {out_path}: {exc.strerror}") from exc
        click.echo(f"wrote {out_path}", err=True)
    sys.stdout.write(render(report, fmt))
    sys.exit(report.exit_code)


@policy_group.command("validate", epilog=POLICY_EXIT_CODES)
@click.argument("policy_files", nargs=-1, required=True, metavar="NAME|FILE...")
def validate_cmd(policy_files: tuple[str, ...]) -> None:
    """Check policy files (or built-in policies by name) against the schema without looking at any image.

    Exit 0 when all are valid, 2 at the first invalid one.
    """
    from provenant.policy.builtin import resolve
    from provenant.policy.checks import CHECKS
    from provenant.policy.engine import policy_keys, rule_for
    from provenant.policy.schema import load_policy

    for spec in policy_files:
        path = resolve(spec)
        policy = load_policy(path)
        policy_keys(policy, path)  # the keys it names must load too
        enabled = [c for c in CHECKS if c.enabled(policy)]
        summary = ", ".join(f"{c.id}={rule_for(policy, c)[0]}" for c in enabled) or "no checks enabled"
        click.echo(f"{path}: valid ({len(enabled)} checks: {summary}; {len(policy.waivers)} waivers)")


@policy_group.command("init")
@click.argument(
    "path", required=False, default="provenant-policy.yaml", type=click.Path(dir_okay=False, path_type=Path)
)
@click.option(
    "--from",
    "base",
    type=click.Choice(["default", "strict"]),
    default="default",
    show_default=True,
    help="The built-in policy the starter file is made from.",
)
@click.option("--force", is_flag=True, help="Overwrite PATH if it exists.")
def init_cmd(path: Path, base: str, force: bool) -> None:
    """Write a commented starter policy to PATH (default provenant-policy.yaml) that `policy check` accepts."""
    from provenant.errors import UsageError
    from provenant.policy.builtin import starter_text

    try:
        with path.open("w" if force else "x", encoding="utf-8") as fh:
            fh.write(starter_text(base))
    except FileExistsError:
        raise UsageError(f"{path} exists; pass --force to overwrite it") from None
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None
    click.echo(
        f"wrote {path} (from the built-in {base!r} policy); check it with: provenant policy validate {path}", err=True
    )
