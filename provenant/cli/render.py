"""Shared text rendering helpers (rich), and the last guard between rendered text and the terminal."""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import IO, TextIO, cast

from rich.console import Console

from provenant.cli.options import use_color
from provenant.textsafe import lines, printable

# The only escape sequences provenant's own rendering writes to a terminal: colours and bold (SGR).
_SGR = re.compile(r"(\x1b\[[0-9;]*m)")


class _TerminalGuard(io.TextIOBase):
    """Passes rich's own SGR sequences to the terminal and shows every other control character escaped.

    Renderers already escape what came from an image (``textsafe.markup``); this is the backstop for a
    value a renderer forgot: it can at worst change a colour, never the title, clipboard or screen.
    """

    def __init__(self, out: TextIO) -> None:
        self._out = out

    def write(self, s: str) -> int:
        parts = _SGR.split(s)
        # split() with a group: the odd items are the SGR sequences themselves.
        self._out.write("".join(p if i % 2 else lines(p) for i, p in enumerate(parts)))
        return len(s)

    def flush(self) -> None:
        self._out.flush()

    def isatty(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._out.fileno()


@contextmanager
def console() -> Iterator[Console]:
    """A console for stdout. A terminal gets its own width; a pipe gets wide lines (digests never wrap)
    without the trailing padding rich puts into table cells. Either way no raw control character from
    a rendered value reaches stdout."""
    if sys.stdout.isatty():
        yield Console(
            file=cast(IO[str], _TerminalGuard(sys.stdout)),
            force_terminal=True,
            no_color=not use_color(),
            highlight=False,
            emoji=False,
        )
        return
    buf = io.StringIO()
    yield Console(file=buf, width=240, no_color=True, highlight=False, emoji=False, color_system=None)
    # split("\n"), not splitlines(): that would also break at \x1c-\x1e and \x85 instead of escaping them.
    body = buf.getvalue().removesuffix("\n")
    if body:
        sys.stdout.write("".join(printable(line.rstrip(), keep_tabs=True) + "\n" for line in body.split("\n")))


def echo_text(text: str) -> None:
    """Write rendered text (not JSON: that is exact, and escapes controls itself) with controls escaped."""
    sys.stdout.write(lines(text))
    if not text.endswith("\n"):
        sys.stdout.write("\n")


def when(ts: datetime | None) -> str:
    """An ISO timestamp without microseconds, or ``-``."""
    return ts.replace(microsecond=0).isoformat() if ts else "-"
