"""``provenant tags``."""

from __future__ import annotations

from pathlib import Path

import click

from provenant.cli.options import build_registry_options, registry_options


@click.command("tags")
@click.argument("repository")
@click.option("--output", "-o", type=click.Choice(["text", "json"]), default="text", show_default=True)
@registry_options
def tags_cmd(
    repository: str,
    output: str,
    insecure: bool,
    ca_file: Path | None,
    username: str | None,
    password_stdin: bool,
) -> None:
    """List the tags of REPOSITORY in a registry (following pagination)."""

    from provenant.session import Session
    from provenant.tags import list_tags

    with Session(build_registry_options(insecure, ca_file, username, password_stdin)) as session:
        result = list_tags(session, repository)
    if output == "json":
        click.echo(result.model_dump_json(indent=2))
    else:
        from provenant.textsafe import printable

        for t in result.tags:
            click.echo(printable(t))  # tag names are whatever the registry listed
