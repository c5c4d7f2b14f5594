"""A 429 storm during the layer jobs of a fleet scan: the backoff is shared by every worker.

A real HTTP server on 127.0.0.1 (tests/hostile/server.py) answers 429 with ``Retry-After: 1`` to every
request for the first seconds of the run and records when each request arrived. The layer jobs run on
the local executor with 1, 2 and 4 worker processes and on a real LocalCluster with 2 worker processes;
the requests that arrive inside the storm (after the first 429 could have been heard) must not grow with
the worker count, and every job must then complete.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import subprocess
import sys
import tarfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from fixtures import FixtureSet
from fixtures.fleet import write_fleet_layout
from provenant import limits as limits_mod
from provenant.fleet import models as m
from provenant.fleet.executor_dask import DaskExecutor
from provenant.fleet.executor_local import LocalExecutor
from provenant.fleet.layerjob import LayerJob, LayerOutcome
from provenant.fleet.store import open_store
from provenant.sources.registry import RegistryOptions
from tests.fleet.served import serve_layout
from tests.hostile.server import OCI_LAYER_GZIP, HostileServer, Request, hostile_server, response

STORM_SECONDS = 3.0
#: Requests sent before the first 429 came back are not the gate's to stop; later ones are.
HEARING = 0.3
LAYERS = 8


class Storm:
    """429 with ``Retry-After: 1`` to every request for ``seconds`` after the first (forever: ``None``)."""

    def __init__(self, seconds: float | None, only: set[str] | None = None) -> None:
        self.seconds = seconds
        self.only = only  # paths containing one of these are stormed; None: every path
        self.arrivals: list[float] = []
        self.first: float | None = None
        self._lock = threading.Lock()

    def __call__(self, req: Request, conn: object, srv: HostileServer) -> None:
        import socket

        assert isinstance(conn, socket.socket)
        now = time.monotonic()
        stormed = self.only is None or any(d in req.path for d in self.only)
        with self._lock:
            if stormed:
                self.arrivals.append(now)
                if self.first is None:
                    self.first = now
            first = self.first
        in_storm = first is not None and (self.seconds is None or now - first < self.seconds)
        if stormed and in_storm:
            body = b'{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}'
            conn.sendall(response(429, body, {"Retry-After": "1", "Content-Type": "application/json"}))
            return
        srv._default(req, conn, srv)

    def in_storm(self) -> int:
        """Requests that arrived after the first 429 could have been heard and before the storm ended."""
        assert self.first is not None and self.seconds is not None
        return sum(1 for t in self.arrivals if self.first + HEARING <= t < self.first + self.seconds)


def _layer(n: int) -> tuple[bytes, str]:
    """A small gzip layer with one file; (compressed bytes, diff_id)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        data = f"layer {n}\n".encode() * 64
        info = tarfile.TarInfo(f"etc/layer-{n}.txt")
        info.size, info.mtime, info.mode = len(data), 0, 0o644
        tar.addfile(info, io.BytesIO(data))
    plain = raw.getvalue()
    return gzip.compress(plain, mtime=0), "sha256:" + hashlib.sha256(plain).hexdigest()


def _jobs(srv: HostileServer, cache: Path) -> list[LayerJob]:
    layers = [_layer(n) for n in range(LAYERS)]
    digest = srv.put_image("storm/app", "v1", [b for b, _ in layers], diff_ids=[d for _, d in layers])
    return [
        LayerJob(
            source=f"{srv.host}/storm/app@{digest}",
            digest="sha256:" + hashlib.sha256(blob).hexdigest(),
            size=len(blob),
            media_type=OCI_LAYER_GZIP,
            diff_id=diff_id,
            cache=str(cache),
            limits=limits_mod.current(),
            registry=RegistryOptions(),
        )
        for blob, diff_id in layers
    ]


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    from distributed import LocalCluster

    with LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None, host="127.0.0.1"
    ) as c:
        yield c.scheduler_address


def _storm_run(executor: object, tmp_path: Path, name: str) -> tuple[int, list[LayerOutcome], float]:
    with hostile_server() as srv:
        storm = Storm(STORM_SECONDS)
        srv.route("*", r"^/v2/", storm)
        jobs = _jobs(srv, tmp_path / f"{name}-cache")
        started = time.monotonic()
        outcomes = list(executor.run(jobs))  # type: ignore[attr-defined]
        seconds = time.monotonic() - started
        return storm.in_storm(), outcomes, seconds


def test_a_429_storm_is_backed_off_once_for_all_local_workers(tmp_path: Path) -> None:
    counts: dict[int, int] = {}
    for workers in (1, 2, 4):
        count, outcomes, seconds = _storm_run(LocalExecutor(workers), tmp_path, f"w{workers}")
        assert len(outcomes) == LAYERS and [o.error for o in outcomes] == [None] * LAYERS
        counts[workers] = count
        print(f"local, {workers} workers: {count} requests inside the storm, {seconds:.1f} s")
    # One request per 1 s window for the whole pool, plus what one pacing slot lets through at its end:
    # the same budget whatever the worker count.
    assert counts[4] <= counts[1] + 2 and counts[2] <= counts[1] + 2, counts
    assert counts[4] <= 2 * STORM_SECONDS, counts


def test_a_429_storm_is_backed_off_once_for_all_dask_workers(cluster: str, tmp_path: Path) -> None:
    count, outcomes, seconds = _storm_run(DaskExecutor(cluster), tmp_path, "dask")
    one, _, _ = _storm_run(LocalExecutor(1), tmp_path, "one")
    print(f"dask, 2 workers: {count} requests inside the storm, {seconds:.1f} s; one local worker: {one}")
    assert len(outcomes) == LAYERS and [o.error for o in outcomes] == [None] * LAYERS
    assert count <= one + 2 and count <= 2 * STORM_SECONDS, (count, one)


def test_a_storm_that_never_ends_fails_the_layers_in_bounded_time(tmp_path: Path) -> None:
    previous = limits_mod.current()
    limits_mod.activate(previous.model_copy(update={"retries": 2}), start_deadline=False)
    try:
        with hostile_server() as srv:
            jobs = _jobs(srv, tmp_path / "cache")
            srv.route("*", r"^/v2/", Storm(None))
            started = time.monotonic()
            outcomes = list(LocalExecutor(2).run(jobs))
            seconds = time.monotonic() - started
    finally:
        limits_mod.activate(previous, start_deadline=False)
    print(f"never-ending storm, 2 workers, retries=2: {len(outcomes)} layers failed in {seconds:.1f} s")
    assert len(outcomes) == LAYERS
    for o in outcomes:
        # The job whose own request ran out of attempts says so; the ones the gate refused name the limit.
        assert o.error is not None and "429" in o.error and "\n" not in o.error.strip(), o.error
    assert sum("--limit retries=" in (o.error or "") for o in outcomes) >= LAYERS - 2
    # Three 1-second windows for the whole pool, then every waiting job is refused at once.
    assert seconds < 3 * 1.0 + 10, seconds


def test_fleet_scan_in_a_storm_that_never_ends_records_each_image_failed(
    fixture_set: FixtureSet, tmp_path: Path
) -> None:
    layout = tmp_path / "layout"
    write_fleet_layout(fixture_set, layout, bases=1, apps=2)
    db = tmp_path / "inv.sqlite"
    with hostile_server() as srv:
        refs, layers = serve_layout(srv, layout)
        srv.route("GET", r"/blobs/", Storm(None, only=layers))  # manifests and configs answer; layers never
        env = {**os.environ, "PROVENANT_CACHE_DIR": str(tmp_path / "cache")}
        started = time.monotonic()
        p = subprocess.run(
            [sys.executable, "-m", "provenant", "--limit", "retries=2", "fleet", "scan", *refs, "--workers", "2",
             "--db", str(db)],
            capture_output=True, text=True, env=env, timeout=300, check=False,
        )  # fmt: skip
        seconds = time.monotonic() - started
    print(f"fleet scan, never-ending storm on the layers, 2 workers, retries=2: exit {p.returncode}, {seconds:.1f} s")
    assert p.returncode == 2, p.stderr
    failed = [line for line in p.stderr.splitlines() if line.startswith("provenant: failed: ")]
    assert len(failed) == len(refs) and all("429" in line for line in failed), p.stderr
    assert "Traceback" not in p.stderr
    assert seconds < 120, seconds
    store = open_store(str(db), migrate=False)
    with store.sessions() as s:
        images = s.scalars(select(m.Image)).all()
        assert len(images) == len(refs) and {i.status for i in images} == {"failed"}
        assert all(i.error and "429" in i.error and "\n" not in i.error for i in images)
    store.close()


def test_a_worker_keeps_one_client_per_options_and_a_new_run_replaces_it(tmp_path: Path) -> None:
    from provenant.fleet import layerjob
    from provenant.sources.registry.gate import FileGate

    first = RegistryOptions(gate=FileGate(tmp_path / "run1"))
    again = RegistryOptions(gate=FileGate(tmp_path / "run1"))  # the same run, as a job pickled to the worker
    second = RegistryOptions(gate=FileGate(tmp_path / "run2"))
    before = dict(layerjob._CLIENTS)
    try:
        a = layerjob._client(first)
        assert layerjob._client(again) is a
        b = layerjob._client(second)
        assert b is not a and layerjob._client(second) is b
        assert len(layerjob._CLIENTS) == len(before | {repr(first): None})  # replaced, not added
    finally:
        layerjob._CLIENTS.clear()
        layerjob._CLIENTS.update(before)


def test_fleet_scan_resolving_on_threads_backs_off_once_for_all_of_them(
    fixture_set: FixtureSet, tmp_path: Path
) -> None:
    """The scan's own requests (references resolved on 8 threads) share one budget, as the workers do."""
    layout = tmp_path / "layout"
    write_fleet_layout(fixture_set, layout, bases=1, apps=4)
    with hostile_server() as srv:
        refs, _ = serve_layout(srv, layout)
        storm = Storm(STORM_SECONDS, only={"/manifests/"})
        srv.route("*", r"/manifests/", storm)
        env = {**os.environ, "PROVENANT_CACHE_DIR": str(tmp_path / "cache")}
        p = subprocess.run(
            [sys.executable, "-m", "provenant", "fleet", "scan", *refs, "--workers", "1",
             "--db", str(tmp_path / "inv.sqlite")],
            capture_output=True, text=True, env=env, timeout=300, check=False,
        )  # fmt: skip
    count = storm.in_storm()
    print(f"fleet scan resolving {len(refs)} references on threads: {count} manifest requests inside the storm")
    assert p.returncode == 0, p.stderr
    assert len(refs) >= 8
    # One request per 1 s window for the whole process (not one per thread).
    assert count <= 2 * STORM_SECONDS, count
