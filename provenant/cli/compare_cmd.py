"""``provenant compare``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from provenant.cli.attest_cmds import keyless_options
from provenant.cli.options import (
    SIGNATURE_KEYS_HELP,
    build_registry_options,
    cache_options,
    load_public_keys,
    open_cache,
    parse_required,
    public_key_option,
    registry_options,
    workers_option,
)

OUTPUTS = ("table", "json", "markdown")


if TYPE_CHECKING:
    from provenant.attest.keyless import KeylessPolicy


@click.command("compare")
@click.argument("ref")
@click.option(
    "--require",
    metavar="OS/ARCH[/VARIANT],...",
    help="Platforms that must be present (comma-separated); exit 1 when one is missing.",
)
@click.option("--output", "-o", type=click.Choice(OUTPUTS), default="table", show_default=True)
@public_key_option(SIGNATURE_KEYS_HELP)
@keyless_options
@workers_option
@cache_options
@registry_options
def compare_cmd(
    ref: str,
    require: str | None,
    output: str,
    keys: tuple[Path, ...],
    keyless: KeylessPolicy | None,
    workers: int,
    cache_dir: Path | None,
    no_cache: bool,
    insecure: bool,
    ca_file: Path | None,
    username: str | None,
    password_stdin: bool,
) -> None:
    """Compare the platforms of the multi-arch image REF side by side.

    Per platform: manifest digest, compressed and uncompressed size, layers shared with other
    platforms (by diff_id) or unique, packages by type, and attached provenance/SBOM. Then packages
    present on some platforms only, and packages at different versions across platforms. Attestation
    manifests (unknown/unknown) are never platforms.

    Exit 1 when a platform named in --require is missing.
    """
    from provenant.compare.platforms import compare_platforms
    from provenant.session import Session

    required = parse_required(require)
    with Session(build_registry_options(insecure, ca_file, username, password_stdin)) as session:
        result = compare_platforms(
            session,
            ref,
            require=required,
            cache=open_cache(cache_dir, no_cache),
            keys=load_public_keys(keys),
            keyless=keyless,
            workers=workers,
        )
    if output == "json":
        from provenant.jsontext import model_json

        click.echo(model_json(result, indent=2))
    elif output == "markdown":
        from provenant.cli.render import echo_text
        from provenant.compare.markdown import compare_markdown

        echo_text(compare_markdown(result))
    else:
        from provenant.cli.render import console
        from provenant.compare.table import render_compare

        with console() as con:
            render_compare(result, con)
    if not result.ok:
        click.echo(f"provenant: required platforms missing: {', '.join(result.missing_required)}", err=True)
        sys.exit(1)
