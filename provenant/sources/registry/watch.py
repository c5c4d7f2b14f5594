"""A total time bound on a blocking read that only has per-``recv`` timeouts (stdlib only).

``http.client`` and :mod:`provenant.sources.registry.wire` read a status line and headers with one
socket timeout per ``recv``: a server that sends one byte every few seconds never trips it.
:func:`cut_after` shuts the connection's socket down when the whole phase takes longer, which makes
the blocked read return at once.

One watchdog thread serves every bound of the process (a heap of deadlines): a thread started per
request cost ~0.25 ms, more than a manifest HEAD on a local registry.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import socket
import threading
import time
from collections.abc import Iterator
from typing import Protocol


class Watched(Protocol):
    """A connection whose open socket (None when closed) can be shut down: an ``http.client`` connection,
    or :class:`provenant.sources.registry.wire.Connection`."""

    @property
    def sock(self) -> socket.socket | None: ...


class Expired:
    """Whether the watch fired (read it after the guarded block)."""

    def __init__(self, conn: Watched | None = None) -> None:
        self.fired = False
        #: The watched connection while the watch is on; dropped when it ends, so that a cancelled watch
        #: still waiting in the heap does not keep the connection (and its socket) alive.
        self.conn = conn

    @property
    def active(self) -> bool:
        return self.conn is not None


def _cut(state: Expired) -> None:
    conn, state.conn, state.fired = state.conn, None, True
    sock = conn.sock if conn is not None else None
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


_Entry = tuple[float, int, Expired]


class _Watchdog:
    """Cuts each watched connection whose deadline passes before its watch is cancelled."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[_Entry] = []
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None

    def watch(self, seconds: float, conn: Watched) -> Expired:
        state = Expired(conn)
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic() + seconds, next(self._seq), state))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="provenant-read-watchdog", daemon=True)
                self._thread.start()
            elif self._heap[0][2] is state:
                self._cond.notify()  # a deadline sooner than the one the watchdog sleeps towards
        return state

    def cancel(self, state: Expired) -> None:
        with self._cond:
            if state.conn is None:
                return  # it fired
            state.conn = None
            # Out of the heap at once: it holds only the requests in flight (tens), so this is cheap, and no
            # ended watch (nor its connection) waits in it.
            self._heap = [e for e in self._heap if e[2] is not state]
            heapq.heapify(self._heap)

    def _run(self) -> None:
        with self._cond:
            while True:
                if not self._heap:
                    self._cond.wait()
                    continue
                deadline, _, state = self._heap[0]
                delay = deadline - time.monotonic()
                if delay > 0:
                    self._cond.wait(delay)
                    continue
                heapq.heappop(self._heap)
                _cut(state)


#: The process's watchdog, made anew in a forked child: the parent's thread does not exist there, and
#: its lock may have been held at the fork.
_watchdog = [_Watchdog()]
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=lambda: _watchdog.__setitem__(0, _Watchdog()))


@contextlib.contextmanager
def cut_after(conn: Watched, seconds: float | None) -> Iterator[Expired]:
    """Shut ``conn``'s socket down if the block takes more than ``seconds`` (None: no bound)."""
    if seconds is None or seconds <= 0:
        yield Expired()
        return
    dog = _watchdog[0]
    state = dog.watch(seconds, conn)
    try:
        yield state
    finally:
        dog.cancel(state)
