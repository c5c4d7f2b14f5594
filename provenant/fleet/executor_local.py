"""The ``local`` executor: layer jobs on a pool of processes sized to the cores.

Tar walking holds the GIL, so threads would not use a second core: processes do. The pool starts
with ``forkserver`` (no inherited locks or registry connections from the parent's threads); one job
or one worker runs in this process without a pool.
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from provenant.fleet.layerjob import LayerJob, LayerOutcome, close_clients, run_layer_job, with_gate
from provenant.sources.registry.gate import FileGate


def default_workers() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class LocalExecutor:
    """Runs layer jobs on up to ``workers`` processes."""

    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or default_workers()

    def run(self, jobs: Sequence[LayerJob]) -> Iterator[LayerOutcome]:
        """Yield each job's outcome as it finishes; an interrupt cancels the jobs not started yet.

        A worker that dies (killed, out of memory) breaks the pool: the jobs without an outcome run
        again once in a fresh pool; a second death fails them with a one-line error.
        """
        if len(jobs) <= 1 or self.workers <= 1:
            try:
                for job in jobs:
                    yield run_layer_job(job)
            finally:
                close_clients()  # in this process: its connections end with the run, as a worker's would
            return
        todo = sorted(jobs, key=lambda j: j.size, reverse=True)  # largest first: the longest starts earliest
        # One request budget per registry host for all the workers (and both pools): a 429 makes every
        # worker wait, so the registry does not see the rate multiplied by the worker count.
        with tempfile.TemporaryDirectory(prefix="provenant-gate-") as tmp:
            todo = with_gate(todo, FileGate(os.path.join(tmp, "gate.json")))
            for attempt in range(2):
                left: list[LayerJob] = []
                yield from self._pool(todo, left)
                if not left:
                    return
                todo = left
                if attempt == 1:
                    for job in left:
                        yield LayerOutcome(job.digest, f"layer {job.digest}: a worker process died twice scanning it")

    def _pool(self, jobs: list[LayerJob], left: list[LayerJob]) -> Iterator[LayerOutcome]:
        ctx = multiprocessing.get_context("forkserver")
        pool = ProcessPoolExecutor(max_workers=min(self.workers, len(jobs)), mp_context=ctx)
        broken = False
        try:
            pending: dict[Future[LayerOutcome], LayerJob] = {}
            for n, job in enumerate(jobs):
                try:
                    pending[pool.submit(run_layer_job, job)] = job
                except (BrokenProcessPool, OSError):
                    # A worker died while jobs were still being handed out (the pool then refuses more,
                    # or fails to start a replacement): the rest wait for the fresh pool.
                    broken = True
                    left.extend(jobs[n:])
                    break
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    job = pending.pop(fut)
                    try:
                        outcome = fut.result()
                    except BrokenProcessPool:
                        broken = True
                        left.append(job)
                        continue
                    yield outcome
        finally:
            if broken:
                # CPython 3.11's pool, once broken, joins its surviving workers without stopping them,
                # and they wait for work forever: the scan hung. Stop them so shutdown can return.
                for proc in list((getattr(pool, "_processes", None) or {}).values()):
                    proc.kill()
            pool.shutdown(wait=True, cancel_futures=True)
