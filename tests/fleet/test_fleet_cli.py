"""The fleet CLI without a database server: the extra's absence, db upgrade, bad input as one line."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine

from provenant.fleet.store import HEAD, db_url, upgrade

HIDE_EXTRA = (
    "import sys; sys.modules['sqlalchemy'] = None; sys.modules['alembic'] = None; "
    "from provenant.cli.entry import main; sys.argv = ['provenant', *sys.argv[1:]]; main()"
)


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str


def _run(args: list[str], tmp_path: Path, *, hide_extra: bool = False) -> Outcome:
    """The CLI in a subprocess (hiding the extra needs a fresh interpreter), else in-process (fast)."""
    env = {**os.environ, "PROVENANT_CACHE_DIR": str(tmp_path / "cache")}
    if hide_extra:
        p = subprocess.run(
            [sys.executable, "-c", HIDE_EXTRA, *args], capture_output=True, text=True, env=env, timeout=60, check=False
        )
        return Outcome(p.returncode, p.stdout, p.stderr)
    from click.testing import CliRunner

    from provenant.cli.main import cli

    # --timeout 0: no watchdog alarm armed in the test process.
    result = CliRunner().invoke(cli, ["--timeout", "0", *args], env={"PROVENANT_CACHE_DIR": str(tmp_path / "cache")})
    return Outcome(result.exit_code, result.stdout, result.stderr)


def test_without_the_extra_fleet_names_it_and_other_commands_work(tmp_path: Path) -> None:
    p = _run(["fleet", "query", "package", "openssl"], tmp_path, hide_extra=True)
    assert p.returncode == 2
    assert p.stderr.splitlines() == [
        "provenant: error: the fleet commands need sqlalchemy, alembic: install the fleet extra "
        "(pip install 'provenant[fleet]')"
    ]
    assert _run(["fleet", "--help"], tmp_path, hide_extra=True).returncode == 0
    assert _run(["cache", "prune", "--help"], tmp_path, hide_extra=True).returncode == 0


def test_db_upgrade_migrates_an_older_inventory(tmp_path: Path) -> None:
    db = str(tmp_path / "inv.sqlite")
    engine = create_engine(db_url(db))
    upgrade(engine, "0001")
    engine.dispose()
    p = _run(["fleet", "query", "package", "openssl", "--db", db], tmp_path)
    assert p.returncode == 2
    assert p.stderr.count("\n") == 1 and "provenant fleet db upgrade" in p.stderr
    p = _run(["fleet", "db", "upgrade", "--db", db], tmp_path)
    assert p.returncode == 0 and f"migrated from 0001 to schema revision {HEAD}" in p.stderr
    p = _run(["fleet", "query", "package", "openssl", "--db", db], tmp_path)
    assert p.returncode == 0 and p.stderr.strip() == "no matches"


def test_bad_input_is_one_line(tmp_path: Path) -> None:
    cases = [
        (["fleet", "query", "purl", "openssl"], "is not a purl"),
        (["fleet", "query", "package", "x", "--version", ">= 1 2", "--db", str(tmp_path / "a.sqlite")], "--version"),
        (["fleet", "scan", "@" + str(tmp_path / "missing.txt"), "--db", str(tmp_path / "b.sqlite")], "cannot read"),
        (["fleet", "images", "--db", "mysql://u@h/db"], "only sqlite and postgresql"),
        (["fleet", "export", "127.0.0.1:1/x:1", "-o", "table=x", "--db", str(tmp_path / "c.sqlite")], "FORMAT=FILE"),
        (["fleet", "export", "127.0.0.1:1/x:1", "-o", "spdx-json=x", "--db", str(tmp_path / "c.sqlite")], "scan it"),
    ]
    for args, text in cases:
        p = _run(args, tmp_path)
        assert p.returncode == 2, (args, p.stderr)
        assert p.stderr.count("\n") == 1 and p.stderr.startswith("provenant: error: ") and text in p.stderr, p.stderr
