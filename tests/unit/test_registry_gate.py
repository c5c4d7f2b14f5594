"""The shared request budget per registry host (provenant/sources/registry/gate.py): arithmetic and stores."""

from __future__ import annotations

import multiprocessing
import pickle
import threading
from pathlib import Path

import httpx
import pytest

from provenant.limits import LimitExceededError
from provenant.sources.registry.gate import PACE_MAX, PACE_MIN, FileGate, HostBudget, LocalGate
from provenant.sources.registry.options import RegistryOptions
from provenant.sources.registry.transport import HttpSession


def test_a_fresh_budget_admits_at_once_and_stays_clear() -> None:
    b = HostBudget()
    assert b.clear
    assert b.admit(100.0, retries=5) == 0.0
    assert b.admit(100.0, retries=5) == 0.0  # not paced: no slot is reserved
    assert b == HostBudget()


def test_a_429_holds_every_request_until_its_window_ends_then_paces_them() -> None:
    b = HostBudget()
    b.throttled(10.0, 2.0)
    assert (b.until, b.interval, b.strikes) == (12.0, PACE_MIN, 1)
    assert not b.clear
    # Three workers ask at once during the window: one slot each, PACE_MIN apart, from the window's end.
    waits = [b.admit(10.5, retries=5) for _ in range(3)]
    assert waits == pytest.approx([1.5, 1.5 + PACE_MIN, 1.5 + 2 * PACE_MIN])
    # After the window a request waits only for its slot.
    assert b.admit(13.0, retries=5) == 0.0
    assert b.slot == pytest.approx(13.0 + PACE_MIN)


def test_requests_admitted_over_a_stretch_are_bounded_by_the_interval_not_by_the_callers() -> None:
    for callers in (1, 2, 4, 16):
        b = HostBudget()
        b.throttled(0.0, 1.0)
        b.throttled(1.0, 1.0)  # a second window: interval doubles
        starts = sorted(1.5 + w for _ in range(callers) for w in [b.admit(1.5, retries=9)] if w is not None)
        assert starts == pytest.approx([2.0 + i * 2 * PACE_MIN for i in range(callers)])
        # In any one second after the window at most 1/interval requests are sent, whoever asks.
        in_first_second = [s for s in starts if 2.0 <= s < 3.0]
        assert len(in_first_second) <= 1 / (2 * PACE_MIN)


def test_the_interval_doubles_per_429_up_to_its_cap_and_halves_per_answer_after_the_window() -> None:
    b = HostBudget()
    for n in range(12):
        b.throttled(float(n * 10), 1.0)
    assert b.interval == PACE_MAX and b.strikes == 12
    b.passed(1000.0)
    assert b.interval == PACE_MAX / 2 and b.strikes == 0
    while b.interval:
        b.passed(1000.0)
    assert b.clear and b.interval == 0.0


def test_an_answer_inside_the_window_resets_strikes_but_keeps_the_pace() -> None:
    b = HostBudget()
    b.throttled(0.0, 5.0)
    b.passed(1.0)  # a request sent before the 429 came back fine
    assert b.strikes == 0 and b.interval == PACE_MIN and b.until == 5.0


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
    assert b.admit(100.0, retries=3) is not None
    assert b.admit(100.0, retries=2) is None
    b.passed(100.0)
    assert b.admit(100.0, retries=2) is not None


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
    assert not list(tmp_path.iterdir())  # the fast path writes nothing
    gate.throttled("r:1", 30.0)
    other = pickle.loads(pickle.dumps(gate))
    assert repr(other) == repr(gate)
    wait = other.admit("r:1", 5)
    assert wait is not None and 29.0 < wait <= 30.0
    other.passed("r:1")
    with gate._locked() as budgets:
        assert budgets["r:1"].strikes == 0 and budgets["r:1"].interval == PACE_MIN


def test_file_gate_reads_a_damaged_file_as_no_budgets(tmp_path: Path) -> None:
    path = tmp_path / "gate.json"
    for text in ("{not json", "[1, 2]", '{"h": {"bogus": 1}}', ""):
        path.write_text(text)
        assert FileGate(path).admit("h", 5) == 0.0


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
    gate.throttled("h", 1000.0)  # paced from now on: every admit reserves a slot
    waits: list[float | None] = []

    def admit_many() -> None:
        for _ in range(25):
            waits.append(FileGate(gate.path).admit("h", 5))

    threads = [threading.Thread(target=admit_many) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # 100 reservations, each PACE_MIN after the one before: none was lost to a race, none skipped the window.
    assert len(waits) == 100 and all(w is not None and w > 990 for w in waits)
    with gate._locked() as budgets:
        assert budgets["h"].slot == pytest.approx(budgets["h"].until + 100 * PACE_MIN)


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
    assert budget.until == 3.0 and budget.strikes == 0  # the 200 after the window: no strike left
    assert budget.interval == 0.0  # and the pace relaxed


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
