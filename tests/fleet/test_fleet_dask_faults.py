"""Faults on a real LocalCluster (two worker processes): a worker killed mid-scan; credentials of a token registry.

The fleet is the layout fleet of fixtures/fleet.py served by a scripted registry on 127.0.0.1
(tests/hostile/server.py), which can hold layer blobs until the test says so: that is what keeps layer
jobs running while a worker is killed, without a sleep in provenant's code.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fixtures import FixtureSet
from fixtures.fleet import write_fleet_layout
from tests.fleet.served import serve_layout
from tests.fleet.test_fleet_dask import _inventory
from tests.hostile.server import HostileServer, Request, hostile_server, response


class HoldLayers:
    """Holds every request for a layer blob until ``release`` (at most ``seconds``); counts them."""

    def __init__(self, layers: set[str], seconds: float = 120.0) -> None:
        self.layers = layers
        self.seconds = seconds
        self.release = threading.Event()
        self.held = 0
        self._lock = threading.Lock()

    def __call__(self, req: Request, conn: socket.socket, srv: HostileServer) -> None:
        if any(d in req.path for d in self.layers) and not self.release.is_set():
            with self._lock:
                self.held += 1
            self.release.wait(self.seconds)
        srv._default(req, conn, srv)


@pytest.fixture
def cluster() -> Iterator[Any]:
    """A LocalCluster of its own (a test here kills one of its workers)."""
    from distributed import LocalCluster

    with LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None, host="127.0.0.1"
    ) as c:
        yield c


def _cli(args: list[str], tmp: Path, name: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    full_env = {**os.environ, "PROVENANT_CACHE_DIR": str(tmp / f"{name}-cache"), **(env or {})}
    return subprocess.Popen(
        [sys.executable, "-m", "provenant", "fleet", "scan", *args, "--db", str(tmp / f"{name}.sqlite")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=full_env,
    )  # fmt: skip


def _finish(proc: subprocess.Popen[str]) -> str:
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert "0 failed" in err, err
    return err


def test_a_dask_worker_killed_mid_scan_reruns_its_tasks_without_duplicates(
    fixture_set: FixtureSet, cluster: Any, tmp_path: Path
) -> None:
    from distributed import Client

    layout = tmp_path / "layout"
    write_fleet_layout(fixture_set, layout, bases=1, apps=2)
    with hostile_server() as srv:
        refs, layers = serve_layout(srv, layout)
        # Undisturbed: the local executor, one worker.
        _finish(_cli([*refs, "--workers", "1"], tmp_path, "calm"))
        hold = HoldLayers(layers)
        srv.route("GET", r"/blobs/", hold)
        srv.log.clear()
        proc = _cli([*refs, "--executor", "dask", "--scheduler", cluster.scheduler_address], tmp_path, "killed")
        with Client(cluster.scheduler_address) as client:  # type: ignore[no-untyped-call]
            deadline = time.monotonic() + 120
            while hold.held < 2 and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.05)  # the test waits for both workers to be inside a layer job
            assert hold.held >= 2, "the layer jobs never reached the registry"
            pids = client.run(os.getpid)
            victim = sorted(pids.items())[0][1]
            os.kill(victim, signal.SIGKILL)
            deadline = time.monotonic() + 60
            while victim in client.run(os.getpid, on_error="ignore").values() and time.monotonic() < deadline:
                time.sleep(0.1)
            hold.release.set()
            err = _finish(proc)
            after = client.run(os.getpid)
        layer_gets = [r.path for r in srv.log if r.method == "GET" and any(d in r.path for d in layers)]
    assert victim not in after.values() and len(after) == 2  # the nanny started a new worker
    # Every layer was fetched by a worker, and the killed worker's layer once more by its rerun.
    assert {p.rsplit("/", 1)[-1] for p in layer_gets} == layers
    assert len(layer_gets) > len(set(layer_gets)), layer_gets
    calm, killed = _inventory(str(tmp_path / "calm.sqlite")), _inventory(str(tmp_path / "killed.sqlite"))
    assert len(killed["manifests"]) == 8  # type: ignore[arg-type]
    assert killed == calm  # same SBOMs, occurrences (no duplicate row) and tags as the undisturbed run
    assert "0 from the cache" in err


def _token_registry(srv: HostileServer, user: str, password: str, token: str) -> None:
    """Bearer-token auth in front of ``srv``'s content: Basic ``user:password`` at /token buys ``token``."""
    basic = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    challenge = {"WWW-Authenticate": f'Bearer realm="http://{srv.host}/token",service="fleet"'}

    def token_endpoint(req: Request, conn: socket.socket, s: HostileServer) -> None:
        if req.headers.get("authorization") != basic:
            conn.sendall(response(401, b"{}", {"WWW-Authenticate": 'Basic realm="fleet"'}))
            return
        conn.sendall(response(200, json.dumps({"token": token}).encode(), {"Content-Type": "application/json"}))

    def guarded(req: Request, conn: socket.socket, s: HostileServer) -> None:
        if req.headers.get("authorization") != f"Bearer {token}":
            conn.sendall(response(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"token"}]}', challenge))
            return
        s._default(req, conn, s)

    srv.route("*", r"^/v2/", guarded)
    srv.route("GET", r"^/token", token_endpoint)


def _recorder(scheduler: Any) -> Any:
    """A scheduler plugin keeping the pickled spec and the key of every task the scheduler is given."""
    from distributed.diagnostics.plugin import SchedulerPlugin
    from distributed.protocol.pickle import dumps

    class GraphRecorder(SchedulerPlugin):  # type: ignore[misc]
        name = "provenant-graph-recorder"

        def __init__(self) -> None:
            self.specs: list[bytes] = []
            self.keys: list[str] = []

        def transition(self, key: Any, start: str, finish: str, *args: Any, **kwargs: Any) -> None:
            if start == "released" and finish == "waiting":
                self.keys.append(str(key))
                self.specs.append(dumps(scheduler.tasks[key].run_spec))

    plugin = GraphRecorder()
    scheduler.add_plugin(plugin)
    return plugin


def test_credentials_reach_dask_workers_without_entering_the_graph_or_a_log(
    fixture_set: FixtureSet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from distributed import Client, LocalCluster

    user, password, token = "fleet-bot", "pw-" + secrets.token_hex(8), "tok-" + secrets.token_hex(12)
    basic = base64.b64encode(f"{user}:{password}".encode()).decode()
    docker = tmp_path / "docker"
    docker.mkdir()
    layout = tmp_path / "layout"
    write_fleet_layout(fixture_set, layout, bases=1, apps=1)
    with hostile_server() as srv:
        refs, _ = serve_layout(srv, layout)
        _token_registry(srv, user, password, token)
        (docker / "config.json").write_text(json.dumps({"auths": {srv.host: {"auth": basic}}}))
        # The workers find the credentials where provenant finds them on any machine: their Docker config.
        monkeypatch.setenv("DOCKER_CONFIG", str(docker))
        with LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None, host="127.0.0.1"
        ) as cluster:
            recorder = _recorder(cluster.scheduler)
            proc = _cli([*refs, "--executor", "dask", "--scheduler", cluster.scheduler_address], tmp_path, "auth")
            _, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, err
            with Client(cluster.scheduler_address) as client:  # type: ignore[no-untyped-call]
                worker_logs = json.dumps(client.get_worker_logs())  # type: ignore[no-untyped-call]
                scheduler_logs = json.dumps(client.get_scheduler_logs())  # type: ignore[no-untyped-call]
        used_token = sum(1 for r in srv.log if r.headers.get("authorization") == f"Bearer {token}")
    assert "0 failed" in err, err
    assert "Exception while handling op" not in scheduler_logs  # e.g. a read of the gate's variable unset
    assert used_token > 0  # the workers (and the scan) did authenticate
    assert recorder.specs and all(k.startswith("provenant-layer-sha256:") for k in recorder.keys)
    graph = b"".join(recorder.specs)
    assert srv.host.encode() in graph and b"LayerJob" in graph  # the recorder sees what the tasks carry
    for secret in (password, basic, token):
        assert secret.encode() not in graph, f"{secret} in the task graph"
        assert all(secret not in k for k in recorder.keys)
        for name, text in (("worker logs", worker_logs), ("scheduler logs", scheduler_logs), ("stderr", err)):
            assert secret not in text, f"{secret} in the {name}"
