"""The console script and ``python -m provenant``: start-up, the one command answered before click, then click."""

from __future__ import annotations

import contextlib
import os
import sys


def main() -> None:
    """Console script entry point."""
    from provenant.cli import startup

    startup.pause()  # before the CLI's own imports (click, ...): see provenant.cli.startup
    from provenant.cli.fleet_unchanged import run

    code = run(sys.argv[1:], os.environ)
    if code is not None:
        # Answered: its one line is written, its connections and database closed, no atexit handler is
        # registered and the only thread left is the read watchdog (a daemon). The interpreter's teardown
        # of ~170 modules would be ~10 ms of a ~90 ms run, so the process ends here.
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError):
                stream.flush()
        os._exit(code)
    from provenant.cli.main import cli

    cli(prog_name="provenant")
