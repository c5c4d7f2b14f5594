"""The command's deadline (:mod:`provenant.cli.deadline`): SIGALRM at ``--timeout``, a hard stop five seconds later."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator

import pytest

from provenant.cli import deadline


@pytest.fixture(autouse=True)
def _alarm_restored() -> Iterator[None]:
    """pytest-timeout keeps its own SIGALRM timer on each test: it is put back afterwards."""
    handler, (remaining, _) = signal.getsignal(signal.SIGALRM), signal.getitimer(signal.ITIMER_REAL)
    yield
    deadline.disarm()
    signal.signal(signal.SIGALRM, handler)
    if remaining:
        signal.setitimer(signal.ITIMER_REAL, remaining)


def test_zero_means_no_deadline_and_nothing_is_armed() -> None:
    before = signal.getsignal(signal.SIGALRM), signal.getitimer(signal.ITIMER_REAL)[0]
    deadline.arm(0)
    after = signal.getsignal(signal.SIGALRM), signal.getitimer(signal.ITIMER_REAL)[0]
    assert after[0] is before[0] and abs(after[1] - before[1]) < 1  # whatever ran before runs on


def test_the_deadline_interrupts_the_main_thread_with_its_own_message() -> None:
    deadline.arm(0.1)
    started = time.monotonic()
    with pytest.raises(deadline.DeadlineReached) as caught:
        time.sleep(3)
    assert 0.05 < time.monotonic() - started < 1.5
    assert caught.value.seconds == 0.1 and caught.value.args == (0.1,)
    assert caught.value.diagnostics() == (
        "the command did not finish within its deadline of 0.1 s (raise it with --timeout SECONDS or PROVENANT_TIMEOUT)"
    )
    deadline.disarm()
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) == signal.SIG_DFL


def test_a_command_that_swallows_the_deadline_is_ended_five_seconds_later_with_exit_2() -> None:
    deadline.arm(0)  # (zero arms nothing; the child below arms a real one)
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child: ignores DeadlineReached as a careless loop would
        try:
            deadline.arm(0.05)
            while True:
                with contextlib.suppress(deadline.DeadlineReached):
                    time.sleep(10)
        finally:
            os._exit(99)  # only if the hard stop did not end the process first
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 2
    assert 4.5 < time.monotonic() - started < 5.9
