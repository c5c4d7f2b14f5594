"""The command's ``--timeout``: a SIGALRM at the deadline, and a hard stop five seconds after it.

Kept free of click so that a command answered before click is imported (:mod:`provenant.cli.entry`)
keeps the same deadline as every other.
"""

from __future__ import annotations

import os
import signal
import sys


class DeadlineReached(BaseException):
    """The command's ``--timeout`` passed. A BaseException so that no ``except Exception`` swallows it."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds

    def diagnostics(self) -> str:
        return (
            f"the command did not finish within its deadline of {self.seconds:g} s "
            "(raise it with --timeout SECONDS or PROVENANT_TIMEOUT)"
        )


def arm(seconds: float) -> None:
    """Interrupt the main thread at the deadline; five seconds later end the process whatever it is doing."""
    if seconds <= 0 or not hasattr(signal, "setitimer"):
        return

    def hard_stop(signum: int, frame: object) -> None:
        sys.stderr.flush()
        os._exit(2)

    def on_deadline(signum: int, frame: object) -> None:
        signal.signal(signal.SIGALRM, hard_stop)
        signal.setitimer(signal.ITIMER_REAL, 5.0)
        raise DeadlineReached(seconds)

    signal.signal(signal.SIGALRM, on_deadline)
    signal.setitimer(signal.ITIMER_REAL, seconds)


def disarm() -> None:
    """Cancel the deadline :func:`arm` set (the default SIGALRM action is back)."""
    if hasattr(signal, "setitimer"):
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
