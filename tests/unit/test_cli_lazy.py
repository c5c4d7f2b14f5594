"""Commands are imported on first use: a run of one command does not import the others."""

from __future__ import annotations

import subprocess
import sys

import click
from click.testing import CliRunner

from provenant.cli.main import COMMANDS, cli


def test_every_registered_command_loads_under_its_name() -> None:
    ctx = click.Context(cli)
    assert cli.list_commands(ctx) == sorted(COMMANDS)
    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        assert isinstance(command, click.Command) and command.name == name
    assert cli.get_command(ctx, "nope") is None
    res = CliRunner().invoke(cli, ["nope"])
    assert res.exit_code == 2 and "No such command" in res.output


def test_one_command_imports_only_its_own_module() -> None:
    code = (
        "import sys\n"
        "from provenant.cli.main import cli\n"
        "try:\n"
        "    cli(['cache', 'dir'], prog_name='provenant')\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('provenant.cli.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = out.strip().splitlines()[-1]
    assert "provenant.cli.cache_cmd" in loaded
    for other in ("attest_cmds", "sbom_cmd", "policy_cmd", "compare_cmd", "report_cmd"):
        assert f"provenant.cli.{other}" not in loaded
