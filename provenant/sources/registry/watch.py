"""A total time bound on a blocking read that only has per-``recv`` timeouts (stdlib only).

``http.client`` reads a status line and headers with one socket timeout per ``recv``: a server that
sends one byte every few seconds never trips it. :func:`cut_after` shuts the connection's socket down
when the whole phase takes longer, which makes the blocked read return at once.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
from collections.abc import Iterator


class Expired:
    """Whether the watch fired (read it after the guarded block)."""

    def __init__(self) -> None:
        self.fired = False


def _cut(conn: http.client.HTTPConnection, state: Expired) -> None:
    state.fired = True
    sock = conn.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


@contextlib.contextmanager
def cut_after(conn: http.client.HTTPConnection, seconds: float | None) -> Iterator[Expired]:
    """Shut ``conn``'s socket down if the block takes more than ``seconds`` (None: no bound)."""
    state = Expired()
    if seconds is None or seconds <= 0:
        yield state
        return
    timer = threading.Timer(seconds, _cut, (conn, state))
    timer.daemon = True
    timer.start()
    try:
        yield state
    finally:
        timer.cancel()
