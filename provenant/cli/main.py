"""Entry point and the one place errors become exit codes."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any, NoReturn

import click

from provenant import __version__
from provenant.cli import deadline, errorline
from provenant.cli.deadline import DeadlineReached

# Start-up of the command-line process only (the library leaves both alone); on a small image start-up
# is most of a cold ``sbom`` run:
# - httpx's __init__ imports its own command-line client (httpx._main: rich.console, rich.syntax,
#   pygments; ~60 ms) whenever those are installed, and provenant never runs it. A None entry in
#   sys.modules makes that import fail, which httpx handles by defining a stub ``main`` instead.
# - pydantic reads the entry points of every installed distribution on the first model it builds, to
#   find plugins (~30 ms); no plugin is meant to observe provenant's internal models. A value the user
#   set is kept.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]  # None: the import system's "fails" entry
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

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
    "ci": "provenant.cli.ci_cmd:ci_group",
    "compare": "provenant.cli.compare_cmd:compare_cmd",
    "diff": "provenant.cli.diff_cmd:diff_cmd",
    "dockerfile": "provenant.cli.dockerfile_cmd:dockerfile_group",
    "fleet": "provenant.cli.fleet_cmd:fleet_group",
    "inspect": "provenant.cli.inspect_cmd:inspect_cmd",
    "keygen": "provenant.cli.attest_cmds:keygen_cmd",
    "policy": "provenant.cli.policy_cmd:policy_group",
    "report": "provenant.cli.report_cmd:report_cmd",
    "sbom": "provenant.cli.sbom_cmd:sbom_cmd",
    "sign": "provenant.cli.attest_cmds:sign_cmd",
    "tags": "provenant.cli.tags_cmd:tags_cmd",
    "verify": "provenant.cli.attest_cmds:verify_cmd",
    "version": "provenant.cli.version_cmd:version_cmd",
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
        except click.exceptions.Exit:
            raise
        except (ProvenantError, DeadlineReached) as exc:
            if _debug(ctx):
                raise
            fail(exc.diagnostics())
        except KeyboardInterrupt:
            fail("interrupted", prefix="provenant: ")
        except RecursionError:
            if _debug(ctx):
                raise
            fail("the input is nested too deeply to read (limit json-depth); it is not a valid image or policy")
        except MemoryError:
            if _debug(ctx):
                raise
            fail("out of memory while reading the input; lower --limit values bound what one input may cost")
        except (click.ClickException, click.Abort):
            raise
        except Exception as exc:  # a bug must still end as one line and exit 2, not a traceback and exit 1
            if _debug(ctx):
                raise
            fail(errorline.internal_error(exc))


def _debug(ctx: click.Context) -> bool:
    # Read after the group callback ran: that is where --debug lands in ctx.obj.
    return bool(ctx.obj and ctx.obj.get("debug"))


def fail(message: str, *, prefix: str = errorline.ERROR) -> NoReturn:
    """One sanitised line on stderr, then exit 2."""
    from provenant.progress import current

    current().finished()  # a live display must be gone before the error line is written under it
    click.echo(errorline.line(message, prefix=prefix), err=True)
    sys.exit(2)


@click.group(cls=ProvenantGroup, epilog=EXIT_CODES, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="provenant")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.option(
    "--timeout",
    type=float,
    metavar="SECONDS",
    help="Deadline of the whole command (default 1800; 0: none; env PROVENANT_TIMEOUT).",
)
@click.option(
    "--limit",
    "limit_values",
    multiple=True,
    metavar="NAME=VALUE",
    help="Raise or lower one input limit, e.g. layer-bytes=128GiB (repeatable; docs/security.md lists them).",
)
@click.option(
    "--progress",
    "progress_mode",
    type=click.Choice(["auto", "live", "plain", "quiet"]),
    default="auto",
    envvar="PROVENANT_PROGRESS",
    show_default=True,
    help="Progress on stderr: live display, one line per event, or none; auto = live on a terminal, "
    "else quiet (env PROVENANT_PROGRESS).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress (same as --progress quiet).")
@click.pass_context
def cli(
    ctx: click.Context,
    debug: bool,
    timeout: float | None,
    limit_values: tuple[str, ...],
    progress_mode: str,
    quiet: bool,
) -> None:
    """Inspect container images: what they are, what is in them, and the evidence attached to them."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    if debug:  # provenant's own detail (e.g. a problem line in full); other libraries stay quiet
        import logging

        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("provenant: debug: %(message)s"))
        logging.getLogger("provenant").addHandler(handler)
        logging.getLogger("provenant").setLevel(logging.DEBUG)
    if ctx.resilient_parsing or ctx.invoked_subcommand is None:
        return
    if ctx.invoked_subcommand not in RESUME_LATE:
        from provenant.cli import startup

        startup.resume()
    _start_progress(ctx, "quiet" if quiet else progress_mode)
    from provenant import limits as limits_mod
    from provenant.errors import ProvenantError

    try:
        pairs = [_split_limit(v) for v in limit_values]
        if timeout is not None:
            pairs.append(("timeout", str(timeout)))
        active = limits_mod.activate(limits_mod.Limits.from_env().with_overrides(pairs))
    except ProvenantError as exc:
        fail(exc.diagnostics())
    deadline.arm(active.timeout)


def _start_progress(ctx: click.Context, mode: str) -> None:
    """Activate the progress observer for this command; it stops drawing when the command ends, however."""
    from provenant import progress
    from provenant.cli.progress_view import make

    observer = make(mode)
    previous = progress.activate(observer)

    def stop() -> None:
        observer.finished()
        progress.activate(previous)

    ctx.call_on_close(stop)


def _split_limit(value: str) -> tuple[str, str]:
    from provenant.errors import UsageError

    name, sep, text = value.partition("=")
    if not sep:
        raise UsageError(f"--limit {value!r}: expected NAME=VALUE, e.g. layer-bytes=128GiB")
    return name, text


#: Commands that call :func:`provenant.cli.startup.resume` themselves, once their imports are done; every
#: other command resumes the collector before it runs.
RESUME_LATE = frozenset({"sbom"})
