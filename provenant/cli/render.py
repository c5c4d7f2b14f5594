"""Shared text rendering helpers (rich)."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from rich.console import Console

from provenant.cli.options import use_color


@contextmanager
def console() -> Iterator[Console]:
    """A console for stdout. A terminal gets its own width; a pipe gets wide lines (digests never wrap)
    without the trailing padding rich puts into table cells."""
    if sys.stdout.isatty():
        yield Console(no_color=not use_color(), highlight=False, emoji=False)
        return
    buf = io.StringIO()
    yield Console(file=buf, width=240, no_color=True, highlight=False, emoji=False, color_system=None)
    sys.stdout.write("".join(line.rstrip() + "\n" for line in buf.getvalue().splitlines()))


def when(ts: datetime | None) -> str:
    """An ISO timestamp without microseconds, or ``-``."""
    return ts.replace(microsecond=0).isoformat() if ts else "-"
