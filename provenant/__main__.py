"""``python -m provenant``."""

from provenant.cli import startup

startup.pause()  # before the CLI's own imports (click, ...): see provenant.cli.startup

from provenant.cli.main import main  # noqa: E402

main()
