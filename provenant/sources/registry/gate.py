"""A per-registry-host request budget shared by every worker of a fleet scan, so a 429 storm is backed off once.

Without it each worker process has its own client and its own backoff: a registry answering 429 sees
the request rate multiplied by the worker count. With a gate, the transport asks :meth:`Gate.admit`
before each request and reports each 429 (:meth:`Gate.throttled`) and each other answer
(:meth:`Gate.passed`); the state behind it is one :class:`HostBudget` per registry host:

- a 429 sets the host's *not before* time to ``now + delay`` (its Retry-After, else the backoff delay):
  every worker holding a request to that host waits until then, not only the one that was told;
- when that window ends, one request goes first (the *probe*) and every other waits for its answer
  (polling every :data:`POLL` seconds, at most :data:`PROBE_TIMEOUT`): a 429 opens the next window, any
  other answer releases every worker. While a host is throttled it therefore gets one request per
  window, whatever the worker count (requests already in flight when the first 429 came aside);
- a storm that never ends ends the scan: after more windows in a row than the ``retries`` limit,
  every request to the host is refused at once with a one-line
  :class:`~provenant.limits.LimitExceededError` instead of each of thousands of jobs waiting its turn.

Three places the budget can live: :class:`LocalGate` (threads of one process), :class:`FileGate` (the
processes of the local pool: a small JSON file under ``flock``), :class:`DaskGate` (the workers of a
``dask.distributed`` cluster: a ``Variable`` on the scheduler under a ``Lock``). A client without a gate
(every single-image command) backs off per request as before.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

#: How often a worker waiting for a probe's answer asks again (seconds).
POLL = 0.1
#: A probe whose answer was never reported (its worker died, the connection failed) is given up after this.
PROBE_TIMEOUT = 10.0


@dataclass
class HostBudget:
    """The shared state of one registry host. Times are on the gate's clock (seconds)."""

    #: No request before this time (the end of the latest 429 window).
    until: float = 0.0
    #: A probe is in flight until its answer, or until this time.
    probe: float = 0.0
    #: 429 windows since the last answer after a window that was not a 429; 0: not throttled.
    strikes: int = 0

    @property
    def clear(self) -> bool:
        """True when no 429 is in force (the common case): requests go without the lock."""
        return self.strikes == 0

    def admit(self, now: float, retries: int) -> float | None:
        """0: send now (as the probe, when throttled); > 0: wait that long and ask again; None: give up."""
        if self.strikes > retries:
            return None
        if now < self.until:
            return self.until - now
        if self.strikes == 0:
            return 0.0
        if now < self.probe:  # another worker's probe is out: wait for its answer
            return min(POLL, self.probe - now)
        self.probe = now + PROBE_TIMEOUT
        return 0.0

    def throttled(self, now: float, delay: float) -> None:
        """A 429 arrived; ``delay`` is how long the registry (or the backoff) asks to wait."""
        if now >= self.until:  # a 429 of a window already open (a request in flight) is the same strike
            self.strikes += 1
        self.until = max(self.until, now + delay)
        self.probe = 0.0

    def passed(self, now: float) -> None:
        """An answer that is not a 429; after the window (the probe's), the host is no longer throttled."""
        if now < self.until:  # an answer to a request sent before the 429: the window still holds
            return
        self.strikes = 0  # admit sends at once from now on; the next 429 clears the probe


class Gate(Protocol):
    """Where the budgets live; what the transport calls around each request."""

    def admit(self, host: str, retries: int) -> float | None:
        """0: send to ``host`` now; > 0: wait that many seconds and ask again; None: give up on the host."""
        ...

    def throttled(self, host: str, delay: float) -> None:
        """``host`` answered 429 and asks for ``delay`` seconds."""
        ...

    def passed(self, host: str) -> None:
        """``host`` gave another answer."""
        ...


class _Budgets(ABC):
    """Gate logic over a ``{host: HostBudget}`` mapping held somewhere; subclasses say where and how it is locked."""

    clock: Callable[[], float]

    @abstractmethod
    def _locked(self) -> AbstractContextManager[dict[str, HostBudget]]:
        """The budgets, locked against every other worker until the context ends (then saved)."""

    @abstractmethod
    def _peek(self, host: str) -> HostBudget:
        """The host's budget read without the lock (may be stale; a fresh one when the host is unknown):
        it decides only whether the lock is needed."""

    def admit(self, host: str, retries: int) -> float | None:
        """See :meth:`Gate.admit`."""
        if self._peek(host).clear:
            return 0.0  # no 429 from this host in force: no lock, no write
        with self._locked() as budgets:
            budget = budgets.setdefault(host, HostBudget())
            return budget.admit(self.clock(), retries)

    def throttled(self, host: str, delay: float) -> None:
        """See :meth:`Gate.throttled`."""
        with self._locked() as budgets:
            budgets.setdefault(host, HostBudget()).throttled(self.clock(), delay)

    def passed(self, host: str) -> None:
        """See :meth:`Gate.passed`."""
        if self._peek(host).clear:
            return
        with self._locked() as budgets:
            budget = budgets.get(host)
            if budget is not None:
                budget.passed(self.clock())


def _decode(text: str | bytes) -> dict[str, HostBudget]:
    """Budgets from their JSON text; an empty or unreadable text is no budgets (a fresh gate)."""
    try:
        raw = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(raw, dict):
        return {}
    out = {}
    for host, fields in raw.items():
        try:
            out[str(host)] = HostBudget(**fields)
        except TypeError:
            continue
    return out


def _encode(budgets: dict[str, HostBudget]) -> str:
    return json.dumps({host: asdict(b) for host, b in budgets.items()})


class LocalGate(_Budgets):
    """Budgets shared by the threads of this process."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._budgets: dict[str, HostBudget] = {}

    @contextmanager
    def _locked(self) -> Iterator[dict[str, HostBudget]]:
        with self._lock:
            yield self._budgets

    def _peek(self, host: str) -> HostBudget:
        with self._lock:
            return HostBudget(**asdict(self._budgets.get(host) or HostBudget()))


class FileGate(_Budgets):
    """Budgets shared by the processes of one machine: a JSON file, replaced under a ``flock`` on ``PATH.lock``.

    Chosen over a ``multiprocessing.Manager`` because the kernel drops a ``flock`` when its process dies:
    a worker killed while holding the lock cannot block the others (a Manager lock would stay held), and
    there is no server process to start or stop. It pickles as its path, so jobs carry it to workers.
    The clock is ``CLOCK_MONOTONIC``, which every process of a Linux machine shares.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.clock = time.monotonic

    def __repr__(self) -> str:
        return f"FileGate({str(self.path)!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (FileGate, (str(self.path),))

    @contextmanager
    def _locked(self) -> Iterator[dict[str, HostBudget]]:
        fd = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                budgets = _decode(self.path.read_bytes())
            except FileNotFoundError:
                budgets = {}
            yield budgets
            # Replaced, never rewritten in place: a reader without the lock sees the old or the new state.
            tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
            tmp.write_bytes(_encode(budgets).encode())
            os.replace(tmp, self.path)
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def _peek(self, host: str) -> HostBudget:
        try:
            text = self.path.read_bytes()
        except FileNotFoundError:
            return HostBudget()
        return _decode(text).get(host) or HostBudget()


class DaskGate(_Budgets):
    """Budgets shared by the workers of a ``dask.distributed`` cluster, held by its scheduler.

    One ``distributed.Variable`` (the budgets as JSON) guarded by one ``distributed.Lock``, both named
    ``name``; the scheduler outlives any worker, so a killed worker loses nothing (a lock it held is
    released when its lease times out). The clock is the wall clock, the one clock separate machines share.
    The fast path is one ``Variable.get`` per request; the lock is taken only while a host is throttled.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.clock = time.time

    def __repr__(self) -> str:
        return f"DaskGate({self.name!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (DaskGate, (self.name,))

    def _variable(self) -> Any:
        from distributed import Variable

        return Variable(self.name)  # type: ignore[no-untyped-call]

    def _read(self) -> dict[str, HostBudget]:
        try:
            text = self._variable().get(timeout=0)
        except TimeoutError:  # not set (deleted at the end of the run while a straggler asked): no 429
            return {}
        return _decode(text) if isinstance(text, str) else {}

    @contextmanager
    def _locked(self) -> Iterator[dict[str, HostBudget]]:
        from distributed import Lock

        with Lock(f"{self.name}-lock"):  # type: ignore[no-untyped-call]
            budgets = self._read()
            yield budgets
            self._variable().set(_encode(budgets))

    def _peek(self, host: str) -> HostBudget:
        return self._read().get(host) or HostBudget()

    def create(self, client: Any) -> None:
        """Set the variable, empty, through ``client`` (at the start of a run): a read of a variable never
        set waits for it and, with no wait allowed, logs an error on the scheduler for every request."""
        from distributed import Variable

        Variable(self.name, client=client).set(_encode({}))  # type: ignore[no-untyped-call]

    def delete(self, client: Any) -> None:
        """Remove the variable from the scheduler through ``client`` (at the end of a run)."""
        from distributed import Variable

        Variable(self.name, client=client).delete()  # type: ignore[no-untyped-call]
