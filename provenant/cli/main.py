"""Entry point and the one place errors become exit codes."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from provenant import __version__

EXIT_CODES = """\b
Exit codes:
  0  success (policy: passed, warnings allowed)
  1  policy denied / verification failed / compare: a --require platform is missing /
     diff --exit-code: the images differ
  2  usage, configuration or runtime error (one line on stderr; --debug for a traceback)
"""


#: Command name → "module:attribute". A command's module is imported only when that command runs (or
#: for help), so ``provenant sbom`` does not pay for importing every other command.
COMMANDS = {
    "attest": "provenant.cli.attest_cmds:attest_cmd",
    "attestations": "provenant.cli.attest_cmds:attestations_cmd",
    "cache": "provenant.cli.cache_cmd:cache_group",
    "compare": "provenant.cli.compare_cmd:compare_cmd",
    "diff": "provenant.cli.diff_cmd:diff_cmd",
    "inspect": "provenant.cli.inspect_cmd:inspect_cmd",
    "keygen": "provenant.cli.attest_cmds:keygen_cmd",
    "policy": "provenant.cli.policy_cmd:policy_group",
    "report": "provenant.cli.report_cmd:report_cmd",
    "sbom": "provenant.cli.sbom_cmd:sbom_cmd",
    "sign": "provenant.cli.attest_cmds:sign_cmd",
    "tags": "provenant.cli.tags_cmd:tags_cmd",
    "verify": "provenant.cli.attest_cmds:verify_cmd",
}


class ProvenantGroup(click.Group):
    """Loads commands on first use, and turns every ProvenantError into one line on stderr and exit code 2."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        spec = COMMANDS.get(cmd_name)
        if spec is None or cmd_name in self.commands:
            return super().get_command(ctx, cmd_name)
        module, _, attr = spec.partition(":")
        command = getattr(importlib.import_module(module), attr)
        if not isinstance(command, click.Command):
            raise TypeError(f"{spec} is not a click command")
        self.add_command(command, cmd_name)
        return command

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


def main() -> None:
    """Console script entry point."""
    cli(prog_name="provenant")
