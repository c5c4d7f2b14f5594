"""The one watchdog thread behind every total read bound (:func:`provenant.sources.registry.watch.cut_after`)."""

from __future__ import annotations

import http.client
import os
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from provenant.sources.registry import watch


@pytest.fixture(autouse=True)
def _own_watchdog() -> Iterator[None]:
    """A watchdog of the test's own, so its thread runs (and is observed) within the test."""
    before = watch._watchdog[0]
    watch._watchdog[0] = watch._Watchdog()
    yield
    watch._watchdog[0] = before


@pytest.fixture
def silent() -> Iterator[str]:
    """A server that accepts connections and never answers: ``127.0.0.1:PORT``."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                held.append(sock.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield f"127.0.0.1:{sock.getsockname()[1]}"
    stop.set()
    sock.close()
    for c in held:
        c.close()


@pytest.fixture
def answering() -> Iterator[str]:
    """A server answering every request with an empty 200 (keep-alive) after 0.1 s."""
    from tests.hostile.server import hostile_server, response

    def answer(req: object, conn: socket.socket, s: object) -> None:
        time.sleep(0.1)
        conn.sendall(response(200, b""))

    with hostile_server() as srv:
        srv.route("GET", "/", answer)
        yield srv.host


def _blocked_read(host: str, seconds: float) -> tuple[bool, float]:
    conn = http.client.HTTPConnection(host, timeout=30)
    conn.request("GET", "/")
    started = time.monotonic()
    with watch.cut_after(conn, seconds) as expired, pytest.raises((OSError, http.client.HTTPException)):
        conn.getresponse()
    conn.close()
    return expired.fired, time.monotonic() - started


def test_a_read_that_outlasts_its_bound_is_cut(silent: str) -> None:
    fired, took = _blocked_read(silent, 0.3)
    assert fired and 0.25 <= took < 3
    fired, took = _blocked_read(silent, 1.5)  # the same watchdog thread, asleep between the two
    assert fired and 1.4 <= took < 4


def test_a_sooner_deadline_is_not_kept_waiting_behind_a_later_one(silent: str) -> None:
    far = http.client.HTTPConnection(silent, timeout=30)
    far.request("GET", "/")
    with watch.cut_after(far, 60) as far_state:
        fired, took = _blocked_read(silent, 0.3)
    far.close()
    assert fired and took < 3 and not far_state.fired


def test_a_finished_read_is_never_cut_and_its_connection_stays_usable(answering: str) -> None:
    conn = http.client.HTTPConnection(answering, timeout=10)
    for bound in (0.5, 1.5, 0.5):
        conn.request("GET", "/")
        with watch.cut_after(conn, bound) as expired:
            resp = conn.getresponse()  # answered after 0.1 s: well within the bound, never cut early
        resp.read()
        assert resp.status == 200
        time.sleep(bound + 0.2)  # past the bound: a watch that was not cancelled would shut the socket now
        assert not expired.fired
    conn.close()


def test_cancelled_watches_do_not_pile_up(answering: str) -> None:
    conn = http.client.HTTPConnection(answering, timeout=10)
    for _ in range(5000):
        with watch.cut_after(conn, 600):
            pass
    with watch.cut_after(conn, 600):
        assert len(watch._watchdog[0]._heap) == 1  # only the watch in flight
    assert watch._watchdog[0]._heap == []


def test_none_or_zero_means_no_bound() -> None:
    conn = http.client.HTTPConnection("127.0.0.1:9")
    for seconds in (None, 0):
        with watch.cut_after(conn, seconds) as expired:
            pass
        assert not expired.fired


def test_a_forked_child_gets_its_own_watchdog(silent: str) -> None:
    assert _blocked_read(silent, 0.2)[0]  # the parent's watchdog thread is running now
    pid = os.fork()
    if pid == 0:  # the child: the parent's thread does not exist here
        code = 1
        try:
            fired, took = _blocked_read(silent, 0.2)
            code = 0 if fired and took < 3 else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_a_cancelled_watch_does_not_keep_its_connection_alive(answering: str) -> None:
    import gc
    import weakref

    conn = http.client.HTTPConnection(answering, timeout=10)
    with watch.cut_after(conn, 600) as expired:
        pass
    ref = weakref.ref(conn)
    del conn
    gc.collect()
    assert ref() is None and not expired.fired and not expired.active


def test_a_cancelled_watch_on_top_of_the_heap_does_not_stop_the_next_one(
    silent: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    raised: list[object] = []
    monkeypatch.setattr(threading, "excepthook", raised.append)
    first = http.client.HTTPConnection(silent, timeout=30)
    with watch.cut_after(first, 0.2):
        pass  # cancelled at once: its entry waits on top of the heap until its deadline
    fired, took = _blocked_read(silent, 0.8)  # the watchdog wakes at 0.2 s, drops the first, then cuts this one
    assert fired and took < 3 and raised == []


def test_cutting_a_socket_that_is_already_gone_is_quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    raised: list[object] = []
    monkeypatch.setattr(threading, "excepthook", raised.append)
    conn = http.client.HTTPConnection("127.0.0.1:9")
    conn.sock = socket.socket()  # never connected: shutdown() fails with ENOTCONN
    try:
        with watch.cut_after(conn, 0.1) as expired:
            time.sleep(0.4)
        assert expired.fired and raised == []
        with watch.cut_after(conn, 0.1) as again:  # and the watchdog is still there for the next one
            time.sleep(0.4)
        assert again.fired and raised == []
    finally:
        conn.sock.close()


def test_one_named_daemon_watchdog_thread_serves_every_watch(answering: str) -> None:
    def dogs() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t.name == "provenant-read-watchdog" and t.is_alive()]

    before = dogs()
    conn = http.client.HTTPConnection(answering, timeout=10)
    for _ in range(5):
        with watch.cut_after(conn, 5):
            pass
    mine = watch._watchdog[0]._thread
    assert [t for t in dogs() if t not in before] == [mine] and mine is not None and mine.daemon


def test_a_process_that_used_the_watchdog_exits_promptly() -> None:
    import subprocess
    import sys

    code = (
        "import http.client; from provenant.sources.registry.watch import cut_after\n"
        "c = http.client.HTTPConnection('127.0.0.1:9')\n"
        "with cut_after(c, 600): pass\n"
    )
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", code], check=True, timeout=20)
    assert time.monotonic() - started < 10
