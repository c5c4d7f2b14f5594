"""A call per item on a few plain threads, for the registry round trips of ``fleet scan``'s target listing and
of the rescan of an unchanged registry (:mod:`concurrent.futures` imports :mod:`logging`; that rescan is
timed in tens of milliseconds)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

_T = TypeVar("_T")
_R = TypeVar("_R")


def on_threads(
    work: Callable[[_T], _R], items: Sequence[_T], threads: int = 8, *, stop: Callable[[_R], bool] | None = None
) -> list[_R | None]:
    """``[work(item) for item in items]`` on up to ``threads`` threads; the first item's exception is raised.

    Once an answer meets ``stop``, no further item is started (those not started stay None).
    """
    results: list[_R | None] = [None] * len(items)
    errors: list[BaseException | None] = [None] * len(items)
    todo = iter(range(len(items)))  # next() under the lock: each index is taken once
    lock = threading.Lock()

    def run() -> None:
        while True:
            with lock:
                i = next(todo, None)
            if i is None:
                return
            try:
                results[i] = answer = work(items[i])
            except BaseException as exc:  # re-raised on the calling thread, in item order
                errors[i] = exc
                continue
            if stop is not None and stop(answer):
                with lock:
                    for _ in todo:  # ask no more
                        pass
                return

    workers = [threading.Thread(target=run) for _ in range(max(1, min(threads, len(items))))]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    first = next((e for e in errors if e is not None), None)
    if first is not None:
        raise first
    return results
