"""The ``dask`` executor: layer jobs on a ``dask.distributed`` cluster (``--scheduler tcp://HOST:8786``).

Each unique layer is one task keyed by its digest, so a layer is scanned once cluster-wide, and a task
whose worker dies is rerun by the scheduler on another worker (the job only writes the cache entry,
atomically, so a rerun cannot duplicate anything). The workers need the same ``--cache-dir`` path
(a shared filesystem) so the images can then be assembled from the scans they wrote.

Credentials are never put into the task graph: a job carries the registry options without a
password, and workers find credentials as provenant does on any machine (their own Docker config and
credential helpers). ``--password-stdin`` is therefore refused with this executor.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from provenant.errors import UsageError
from provenant.fleet.layerjob import LayerJob, LayerOutcome, run_layer_job, with_gate
from provenant.sources.registry.gate import DaskGate


class DaskExecutor:
    """Runs layer jobs on the cluster behind ``scheduler`` (an address, or a distributed.Client)."""

    name = "dask"

    def __init__(self, scheduler: object) -> None:
        try:
            import distributed
        except ImportError:
            raise UsageError(
                "--executor dask needs dask.distributed: install the fleet extra (pip install 'provenant[fleet]')"
            ) from None
        self._distributed = distributed
        self._scheduler = scheduler

    def run(self, jobs: Sequence[LayerJob]) -> Iterator[LayerOutcome]:
        """Submit every job (keyed by layer digest) and yield outcomes as they complete."""
        if not jobs:
            return
        for job in jobs:  # the CLI refuses --password-stdin with this executor; a library caller too
            if job.registry.password is not None:
                raise UsageError("the dask executor does not send registry passwords in the task graph")
        dist = self._distributed
        own = not isinstance(self._scheduler, dist.Client)
        client: Any
        try:
            client = dist.Client(self._scheduler) if own else self._scheduler
        except OSError as exc:
            raise UsageError(f"cannot reach the Dask scheduler {self._scheduler}: {exc}") from None
        # One request budget per registry host for the whole cluster, held by the scheduler (a 429 makes
        # every worker wait), named for this run so that concurrent scans do not share it.
        gate = DaskGate(f"provenant-gate-{uuid.uuid4().hex}")
        try:
            gate.create(client)
            futures = [
                client.submit(run_layer_job, job, key=f"provenant-layer-{job.digest}", pure=False)
                for job in with_gate(sorted(jobs, key=lambda j: j.size, reverse=True), gate)
            ]
            for fut in dist.as_completed(futures):
                try:
                    yield fut.result()
                except dist.KilledWorker as exc:  # the task killed its workers again and again
                    yield LayerOutcome(fut.key.removeprefix("provenant-layer-"), f"worker died scanning it: {exc}")
        finally:
            with contextlib.suppress(Exception):  # the scheduler may be gone; the variable is small anyway
                gate.delete(client)
            if own:
                client.close()
