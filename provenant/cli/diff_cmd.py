"""``provenant diff``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from provenant.cli.options import (
    build_registry_options,
    cache_options,
    open_cache,
    parse_platforms,
    platform_option,
    registry_options,
    workers_option,
)

OUTPUTS = ("table", "json", "markdown")


@click.command("diff")
@click.argument("a")
@click.argument("b")
@platform_option
@click.option("--output", "-o", type=click.Choice(OUTPUTS), default="table", show_default=True)
@workers_option
@click.option(
    "--exit-code", is_flag=True, help="Exit 1 when the images differ, 0 when they do not (as git diff --exit-code)."
)
@cache_options
@registry_options
def diff_cmd(
    a: str,
    b: str,
    platforms: tuple[str, ...],
    output: str,
    workers: int,
    exit_code: bool,
    cache_dir: Path | None,
    no_cache: bool,
    insecure: bool,
    ca_file: Path | None,
    username: str | None,
    password_stdin: bool,
) -> None:
    """Show what changed from image A to image B.

    Packages added, removed and changed (old → new version), layers reused (same diff_id) or new,
    size deltas, config changes (user, entrypoint, cmd, env, exposed ports, labels, ...), and the base
    image as provenance or annotations name it. A and B can be any sources: a registry reference,
    oci:DIR[:NAME], docker-archive:FILE, oci-archive:FILE. Every platform both have is compared,
    or only those given with --platform. Secret-looking env values are masked.

    With --exit-code, exit 1 when they differ: packages, layers (by diff_id), config, a changed base
    image, or a platform on one side only. Another digest or compressed size alone is no difference.
    """
    from provenant.compare.diff import diff_images
    from provenant.session import Session

    with Session(build_registry_options(insecure, ca_file, username, password_stdin)) as session:
        result = diff_images(
            session, a, b, platforms=parse_platforms(platforms), cache=open_cache(cache_dir, no_cache), workers=workers
        )
    if output == "json":
        from provenant.jsontext import model_json

        click.echo(model_json(result, indent=2))
    elif output == "markdown":
        from provenant.cli.render import echo_text
        from provenant.compare.markdown import diff_markdown

        echo_text(diff_markdown(result))
    else:
        from provenant.cli.render import console
        from provenant.compare.table import render_diff

        with console() as con:
            render_diff(result, con)
    if exit_code and result.has_changes:
        sys.exit(1)
