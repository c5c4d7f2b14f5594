"""``provenant report``."""

from __future__ import annotations

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

if TYPE_CHECKING:
    from provenant.attest.keyless import KeylessPolicy


@click.command("report")
@click.argument("ref")
@click.option(
    "--output",
    "-o",
    "output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The HTML file to write.",
)
@click.option("--require", metavar="OS/ARCH[/VARIANT],...", help="Platforms the report checks for (comma-separated).")
@public_key_option(SIGNATURE_KEYS_HELP)
@keyless_options
@workers_option
@cache_options
@registry_options
def report_cmd(
    ref: str,
    output: Path,
    require: str | None,
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
    """Write a self-contained HTML report on REF (no scripts, no external assets).

    Per-platform size bars, the layers of each platform with their history lines, package counts by
    type, attestation and signature status, and the platform comparison of ``provenant compare``.
    """
    from provenant.compare.report import build_report
    from provenant.compare.report_html import render_html
    from provenant.errors import UsageError
    from provenant.session import Session

    required = parse_required(require)
    with Session(build_registry_options(insecure, ca_file, username, password_stdin)) as session:
        report = build_report(
            session,
            ref,
            require=required,
            cache=open_cache(cache_dir, no_cache),
            keys=load_public_keys(keys),
            keyless=keyless,
            workers=workers,
        )
    try:
        output.write_text(render_html(report), encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror}") from exc
    click.echo(f"wrote {output}", err=True)
