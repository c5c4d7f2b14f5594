"""The shared request budget per registry host (provenant/sources/registry/gate.py): arithmetic and stores."""

from __future__ import annotations

import multiprocessing
import pickle
import threading
import time
from pathlib import Path

import httpx
import pytest

from provenant.errors import ProvenantError
from provenant.limits import LimitExceededError
from provenant.sources.registry.gate import POLL, PROBE_TIMEOUT, FileGate, HostBudget, LocalGate
from provenant.sources.registry.options import RegistryOptions
from provenant.sources.registry.transport import HttpSession


def test_a_fresh_budget_admits_at_once_and_stays_clear() -> None:
    b = HostBudget()
    assert b.clear
    assert b.admit(100.0, retries=5) == 0.0
    assert b.admit(100.0, retries=5) == 0.0  # not throttled: no probe is taken
    assert b == HostBudget()


def test_a_429_holds_every_request_until_its_window_ends() -> None:
    b = HostBudget()
    b.throttled(10.0, 2.0)
    assert (b.until, b.strikes) == (12.0, 1) and not b.clear
    assert b.admit(10.5, retries=5) == 1.5
    assert b.admit(11.9, retries=5) == pytest.approx(0.1)


def test_after_the_window_one_probe_goes_and_the_others_wait_for_its_answer() -> None:
    b = HostBudget()
    b.throttled(0.0, 1.0)
    assert b.admit(1.0, retries=5) == 0.0  # the probe
    assert b.probe == 1.0 + PROBE_TIMEOUT
    assert b.admit(1.0, retries=5) == POLL  # everyone else polls
    assert b.admit(1.0 + PROBE_TIMEOUT - 0.04, retries=5) == pytest.approx(0.04)
    b.passed(1.2)  # the probe's answer was not a 429: every worker goes
    assert b.clear and b.admit(1.2, retries=5) == 0.0 and b.admit(1.2, retries=5) == 0.0


def test_a_probe_answered_429_opens_the_next_window() -> None:
    b = HostBudget()
    b.throttled(0.0, 1.0)
    assert b.admit(1.0, retries=5) == 0.0
    b.throttled(1.1, 2.0)
    assert (b.until, b.strikes, b.probe) == (3.1, 2, 0.0)
    assert b.admit(1.2, retries=5) == pytest.approx(1.9)


def test_a_probe_never_answered_is_replaced_after_its_timeout() -> None:
    b = HostBudget()
    b.throttled(0.0, 1.0)
    assert b.admit(1.0, retries=5) == 0.0
    assert b.admit(1.0 + PROBE_TIMEOUT, retries=5) == 0.0  # a new probe
    assert b.probe == 1.0 + 2 * PROBE_TIMEOUT


def test_requests_sent_while_throttled_are_one_per_window_whatever_the_callers() -> None:
    for callers in (1, 2, 4, 16):
        b = HostBudget()
        b.throttled(0.0, 1.0)
        sent = 0
        now = 0.0
        while now < 10.0:  # every caller asks every POLL seconds; every request sent is answered 429
            for _ in range(callers):
                if b.admit(now, retries=100) == 0.0:
                    sent += 1
                    b.throttled(now, 1.0)
            now = round(now + POLL, 6)
        assert sent == 9, (callers, sent)  # one per 1 s window after the first


def test_an_answer_inside_the_window_keeps_the_host_throttled() -> None:
    b = HostBudget()
    b.throttled(0.0, 5.0)
    b.passed(1.0)  # a request sent before the 429 came back fine
    assert b.strikes == 1 and b.until == 5.0 and b.admit(1.0, retries=5) == 4.0


def test_429s_of_one_window_are_one_strike() -> None:
    b = HostBudget()
    b.throttled(0.0, 1.0)
    b.throttled(0.2, 1.0)  # a request in flight when the first 429 came
    b.throttled(0.4, 3.0)  # a longer Retry-After extends the window
    assert b.strikes == 1 and b.until == 3.4
    b.throttled(3.4, 1.0)  # the window had ended: a new strike
    assert b.strikes == 2 and b.until == 4.4


def test_a_window_never_shrinks() -> None:
    b = HostBudget()
    b.throttled(0.0, 10.0)
    b.throttled(1.0, 1.0)
    assert b.until == 10.0


def test_a_host_that_throttles_more_windows_in_a_row_than_the_retries_is_given_up() -> None:
    b = HostBudget()
    for n in range(3):
        b.throttled(float(n * 10), 1.0)
    assert b.admit(100.0, retries=3) == 0.0
    assert b.admit(100.0, retries=2) is None
    b.passed(100.0)
    assert b.admit(100.0, retries=2) == 0.0


def test_local_gate_keeps_one_budget_per_host() -> None:
    now = [50.0]
    gate = LocalGate(clock=lambda: now[0])
    gate.throttled("a:1", 4.0)
    assert gate.admit("a:1", 5) == 4.0
    assert gate.admit("b:2", 5) == 0.0
    now[0] = 60.0
    gate.passed("a:1")
    gate.passed("b:2")  # unknown host: nothing to do
    assert gate.admit("a:1", 5) == 0.0


def test_file_gate_round_trips_the_budgets_and_pickles_as_its_path(tmp_path: Path) -> None:
    gate = FileGate(tmp_path / "gate.json")
    assert gate.admit("r:1", 5) == 0.0
    gate.passed("r:1")
    assert not list(tmp_path.iterdir())  # the fast path writes nothing
    gate.throttled("r:1", 30.0)
    gate.admit("r:1", 5)
    gate.passed("other:2")  # no 429 from that host: nothing to write
    before = (tmp_path / "gate.json").read_bytes()
    assert gate.admit("other:2", 5) == 0.0 and (tmp_path / "gate.json").read_bytes() == before
    other = pickle.loads(pickle.dumps(gate))
    assert repr(other) == repr(gate) == f"FileGate({str(tmp_path / 'gate.json')!r})"
    wait = other.admit("r:1", 5)
    assert wait is not None and 29.0 < wait <= 30.0
    other.passed("r:1")  # inside the window: still throttled
    with gate._locked() as budgets:
        assert budgets["r:1"].strikes == 1 and budgets["r:1"].until > 0


def test_file_gate_reads_a_damaged_file_as_no_budgets(tmp_path: Path) -> None:
    path = tmp_path / "gate.json"
    for text in ("{not json", "[1, 2]", '{"h": {"bogus": 1}}', '{"h": 3}', ""):
        path.write_text(text)
        assert FileGate(path).admit("h", 5) == 0.0
    # One damaged entry does not lose the others.
    path.write_text('{"bad": {"bogus": 1}, "h": {"until": 1e18, "probe": 0.0, "strikes": 1}}')
    wait = FileGate(path).admit("h", 5)
    assert wait is not None and wait > 1e17


def _throttle_in_child(path: str) -> None:
    FileGate(path).throttled("shared:5000", 20.0)


def test_file_gate_is_shared_by_processes(tmp_path: Path) -> None:
    path = str(tmp_path / "gate.json")
    ctx = multiprocessing.get_context("spawn")
    child = ctx.Process(target=_throttle_in_child, args=(path,))
    child.start()
    child.join(60)
    assert child.exitcode == 0
    wait = FileGate(path).admit("shared:5000", 5)
    assert wait is not None and 15.0 < wait <= 20.0


def test_file_gate_updates_are_not_lost_under_concurrency(tmp_path: Path) -> None:
    gate = FileGate(tmp_path / "gate.json")

    def throttle_many() -> None:
        other = FileGate(gate.path)
        for _ in range(25):
            other.throttled("h", 0.0)  # each one after the (empty) window: a strike each

    threads = [threading.Thread(target=throttle_many) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with gate._locked() as budgets:
        assert budgets["h"].strikes == 100  # none lost to a race


def test_file_gate_elects_one_probe_among_processes(tmp_path: Path) -> None:
    gate = FileGate(tmp_path / "gate.json")
    gate.throttled("h", 0.0)
    answers: list[float | None] = []

    def ask() -> None:
        answers.append(FileGate(gate.path).admit("h", 5))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers, key=lambda a: a or 0.0) == [0.0] + [POLL] * 7


def _session(gate: LocalGate, handler: object, slept: list[float], now: list[float], **kwargs: object) -> HttpSession:
    def sleep(seconds: float) -> None:  # a clock that moves only when the client sleeps
        slept.append(seconds)
        now[0] += seconds

    return HttpSession(
        RegistryOptions(
            transport=httpx.MockTransport(handler),  # type: ignore[arg-type]
            sleep=sleep,
            gate=gate,
            timeout=5,
            **kwargs,  # type: ignore[arg-type]
        )
    )


def test_the_transport_reports_a_429_to_the_gate() -> None:
    now = [0.0]
    gate = LocalGate(clock=lambda: now[0])
    answers = iter([429, 200])

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(next(answers), headers={"Retry-After": "3"})

    slept: list[float] = []
    s = _session(gate, handler, slept, now)
    resp = s.send("GET", httpx.URL("http://127.0.0.1:5000/v2/"), error_host="127.0.0.1:5000")
    assert resp.status_code == 200
    assert slept == [3.0]  # its own Retry-After; the window had ended when it asked the gate again
    budget = gate._budgets["127.0.0.1:5000"]
    assert budget.until == 3.0 and budget.strikes == 0  # the 200 after the window: no longer throttled


def test_the_transport_waits_for_a_window_another_worker_opened() -> None:
    now = [0.0]
    gate = LocalGate(clock=lambda: now[0])
    gate.throttled("127.0.0.1:5000", 3.0)  # another worker got a 429
    sent: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(now[0])
        return httpx.Response(200)

    slept: list[float] = []
    s = _session(gate, handler, slept, now)
    s.send("GET", httpx.URL("http://127.0.0.1:5000/v2/x"), error_host="127.0.0.1:5000")
    s.send("GET", httpx.URL("http://127.0.0.1:5001/v2/x"), error_host="127.0.0.1:5001")  # another host: no wait
    assert slept == [3.0] and sent == [3.0, 3.0]


def test_the_transport_gives_up_on_a_host_the_gate_gave_up_on() -> None:
    now = [0.0]
    gate = LocalGate(clock=lambda: now[0])
    for n in range(4):
        now[0] = n * 100.0
        gate.throttled("127.0.0.1:5000", 1.0)
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        return httpx.Response(200)

    s = _session(gate, handler, [], now, max_retries=2)
    with pytest.raises(LimitExceededError) as err:
        s.send("GET", httpx.URL("http://127.0.0.1:5000/v2/"), error_host="127.0.0.1:5000")
    msg = str(err.value)
    assert "429" in msg and "retries" in msg and "\n" not in msg and not sent


def test_without_a_gate_a_429_is_backed_off_per_request_as_before() -> None:
    answers = iter([429, 429, 200])

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(next(answers), headers={"Retry-After": "2"})

    slept: list[float] = []
    s = HttpSession(RegistryOptions(transport=httpx.MockTransport(handler), sleep=slept.append, timeout=5))
    assert s.send("GET", httpx.URL("http://127.0.0.1:5000/v2/"), error_host="127.0.0.1:5000").status_code == 200
    assert slept == [2.0, 2.0]


def test_a_request_out_of_attempts_still_opens_the_window_for_the_others() -> None:
    now = [0.0]
    gate = LocalGate(clock=lambda: now[0])

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": "7"})

    s = _session(gate, handler, [], now, max_retries=0)
    with pytest.raises(ProvenantError, match="after 1 attempts"):
        s.send("GET", httpx.URL("http://127.0.0.1:5000/v2/"), error_host="127.0.0.1:5000")
    assert gate.admit("127.0.0.1:5000", 5) == 7.0


def test_a_retry_after_over_the_cap_fails_without_touching_the_gate() -> None:
    now = [0.0]
    gate = LocalGate(clock=lambda: now[0])

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": "999"})

    s = _session(gate, handler, [], now, retry_after_cap=60.0)
    with pytest.raises(LimitExceededError, match="retry-after-cap"):
        s.send("GET", httpx.URL("http://127.0.0.1:5000/v2/"), error_host="127.0.0.1:5000")
    assert "127.0.0.1:5000" not in gate._budgets


def test_dask_gate_is_shared_by_the_client_and_the_workers() -> None:
    from distributed import Client, LocalCluster

    from provenant.sources.registry.gate import DaskGate

    with (
        LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=1,
            processes=False,
            threads_per_worker=1,
            dashboard_address=None,  # in-process: no sockets
        ) as cluster,
        Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):
        gate = DaskGate("provenant-gate-unit")
        assert repr(pickle.loads(pickle.dumps(gate))) == "DaskGate('provenant-gate-unit')"
        gate.create(client)
        assert gate.admit("h:1", 5) == 0.0
        gate.passed("h:1")
        assert gate._read() == {}  # the fast paths wrote nothing
        gate.throttled("h:1", 30.0)
        # A task on a worker sees the window the client opened, through the scheduler.
        wait = client.submit(lambda: DaskGate("provenant-gate-unit").admit("h:1", 5), pure=False).result()
        assert 25.0 < wait <= 30.0
        client.submit(lambda: DaskGate("provenant-gate-unit").throttled("h:1", 60.0), pure=False).result()
        wait = gate.admit("h:1", 5)
        assert wait is not None and 55.0 < wait <= 60.0
        gate.passed("h:1")  # inside the window: still throttled
        assert gate._read()["h:1"].strikes == 1
        gate.delete(client)  # a message to the scheduler, not waited for
        deadline = time.monotonic() + 3
        while gate._read() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert gate._read() == {} and gate.admit("h:1", 5) == 0.0  # a straggler after the run: no budget


def test_a_wait_for_the_shared_window_never_passes_the_deadline() -> None:
    from provenant import limits as limits_mod
    from provenant.limits import Limits

    now = [0.0]
    gate = LocalGate(clock=lambda: now[0])
    gate.throttled("127.0.0.1:5000", 50.0)  # another worker was told to wait 50 s
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        return httpx.Response(200)

    slept: list[float] = []
    s = _session(gate, handler, slept, now)
    limits_mod.activate(Limits(timeout=20))
    try:
        with pytest.raises(LimitExceededError) as info:
            s.send("GET", httpx.URL("http://127.0.0.1:5000/v2/"), error_host="127.0.0.1:5000")
    finally:
        limits_mod.reset()
    assert slept == [] and sent == []
    assert "rate limit would pass the deadline" in info.value.message and "--timeout" in info.value.diagnostics()
