"""Entry point and the one place errors become exit codes."""

from __future__ import annotations

import sys
from typing import Any

import click

from provenant import __version__

EXIT_CODES = """\b
Exit codes:
  0  success (policy: passed, warnings allowed)
  1  policy denied / verification failed / compare: a --require platform is missing
  2  usage, configuration or runtime error (one line on stderr; --debug for a traceback)
"""


class ProvenantGroup(click.Group):
    """Turns every ProvenantError into one line on stderr and exit code 2."""

    def invoke(self, ctx: click.Context) -> Any:
        from provenant.errors import ProvenantError

        try:
            return super().invoke(ctx)
        except ProvenantError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"provenant: error: {exc.diagnostics()}", err=True)
            sys.exit(2)
        except KeyboardInterrupt:
            click.echo("provenant: interrupted", err=True)
            sys.exit(2)


@click.group(cls=ProvenantGroup, epilog=EXIT_CODES, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="provenant")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Inspect container images: what they are, what is in them, and the evidence attached to them."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def _register() -> None:
    from provenant.cli.attest_cmds import attest_cmd, attestations_cmd, keygen_cmd, sign_cmd, verify_cmd
    from provenant.cli.cache_cmd import cache_group
    from provenant.cli.compare_cmd import compare_cmd
    from provenant.cli.diff_cmd import diff_cmd
    from provenant.cli.inspect_cmd import inspect_cmd
    from provenant.cli.policy_cmd import policy_group
    from provenant.cli.report_cmd import report_cmd
    from provenant.cli.sbom_cmd import sbom_cmd
    from provenant.cli.tags_cmd import tags_cmd

    cli.add_command(inspect_cmd)
    cli.add_command(sbom_cmd)
    cli.add_command(tags_cmd)
    cli.add_command(cache_group)
    cli.add_command(policy_group)
    for command in (compare_cmd, diff_cmd, report_cmd):
        cli.add_command(command)
    for command in (attestations_cmd, verify_cmd, attest_cmd, sign_cmd, keygen_cmd):
        cli.add_command(command)


_register()


def main() -> None:
    """Console script entry point."""
    cli(prog_name="provenant")
