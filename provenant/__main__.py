"""``python -m provenant``."""

from provenant.cli.main import main

main()
