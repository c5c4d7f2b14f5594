"""``python -m provenant``."""

from provenant.cli.entry import main

main()
