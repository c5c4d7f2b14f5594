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
    from provenant.textsafe import printable

    lean = None if output == "json" or insecure or username or password_stdin else _lean_tags(repository, ca_file)
    if lean is None:
        from provenant.session import Session
        from provenant.tags import list_tags

        with Session(build_registry_options(insecure, ca_file, username, password_stdin)) as session:
            result = list_tags(session, repository)
        if output == "json":
            from provenant.jsontext import model_json

            click.echo(model_json(result, indent=2))
            return
        lean = result.tags
    for t in lean:
        click.echo(printable(t))  # tag names are whatever the registry listed


def _lean_tags(repository: str, ca_file: Path | None) -> list[str] | None:
    """The tags asked with the standard library only (no httpx, pydantic or rich import), else None.

    :func:`~provenant.sources.registry.quick.list_tags` keeps the full path's bounds and gives up on
    anything unusual; then the full client runs and reports any error.
    """
    from provenant.errors import ProvenantError
    from provenant.reference import parse_reference
    from provenant.sources.registry.quick import list_tags

    try:
        ref = parse_reference(repository)
    except ProvenantError:
        return None
    return list_tags(ref, ca_file=ca_file)
