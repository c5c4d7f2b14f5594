"""``provenant inspect``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from provenant.cli.options import build_registry_options, parse_platforms, platform_option, registry_options


@click.command("inspect")
@click.argument("ref")
@platform_option
@click.option("--output", "-o", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--raw", is_flag=True, help="Print the manifest bytes exactly as served (one platform with --platform).")
@click.option("--verbose", "-v", is_flag=True, help="Also show the credential source, request count and rate limits.")
@registry_options
def inspect_cmd(
    ref: str,
    platforms: tuple[str, ...],
    output: str,
    raw: bool,
    verbose: bool,
    insecure: bool,
    ca_file: Path | None,
    username: str | None,
    password_stdin: bool,
) -> None:
    """Show what REF resolves to, per platform: digests, sizes, config, history.

    REF is a registry reference (nginx:1.27, registry:5000/app@sha256:...), an OCI layout directory
    (oci:DIR[:NAME]), a docker save tarball (docker-archive:FILE) or an OCI archive (oci-archive:FILE).
    """
    if raw and not (platforms or insecure or username or password_stdin):
        data = _lean_raw(ref, ca_file)
        if data is not None:
            _print_raw(data)
            return
    from provenant.errors import UsageError
    from provenant.inspect import inspect, raw_manifest
    from provenant.session import Session

    wanted = parse_platforms(platforms)
    with Session(build_registry_options(insecure, ca_file, username, password_stdin)) as session:
        if raw:
            if wanted and len(wanted) > 1:
                raise UsageError("--raw prints one manifest: give at most one --platform")
            _print_raw(raw_manifest(session, ref, wanted[0] if wanted else None))
            return
        result = inspect(session, ref, wanted)
    if output == "json":
        from provenant.jsontext import model_json

        click.echo(model_json(result, indent=2))
        return
    from provenant.cli.inspect_view import render_inspect
    from provenant.cli.render import console

    with console() as con:
        render_inspect(result, con, verbose=verbose)


def _lean_raw(ref: str, ca_file: Path | None) -> bytes | None:
    """The top-level manifest of a registry reference fetched with the standard library only, else None.

    Start-up is most of an ``inspect --raw`` run: this path imports neither httpx nor pydantic nor rich
    (:func:`~provenant.sources.registry.quick.fetch_manifest` keeps the full path's checks and gives
    up on anything unusual). None: not a registry reference, or this path gave up; the full path runs
    and reports any error.
    """
    from provenant.errors import ProvenantError
    from provenant.reference import parse_reference
    from provenant.sources.kind import registry_text
    from provenant.sources.registry.quick import fetch_manifest

    text = registry_text(ref)
    if text is None:
        return None
    try:
        parsed = parse_reference(text)
    except ProvenantError:
        return None
    return fetch_manifest(parsed, ca_file=ca_file)


def _print_raw(data: bytes) -> None:
    if sys.stdout.isatty():
        # The exact bytes are for pipes (digest them, feed them to jq); a terminal gets them with any
        # control character a hostile manifest carries shown escaped.
        from provenant.cli.render import echo_text

        echo_text(data.decode("utf-8", "backslashreplace"))
        return
    sys.stdout.buffer.write(data)
    sys.stdout.flush()
