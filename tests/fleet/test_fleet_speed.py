"""What makes ``fleet scan`` fast stays true: requests per image, transactions per rescan, progress output.

A scripted registry (:class:`tests.hostile.server.HostileServer`, 127.0.0.1) logs every request, so the
tests count what a cold scan and an unchanged rescan ask; SQLAlchemy's commit event counts transactions.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from fixtures import FixtureSet
from fixtures.fleet import write_fleet_layout
from provenant.fleet import models as m
from provenant.fleet.executor_local import LocalExecutor
from provenant.fleet.scan import ANALYSE_THREADS, ScanSettings, ScanSummary, scan_fleet
from provenant.fleet.store import Store, open_store
from provenant.fleet.targets import TagFilter
from provenant.session import Session
from provenant.sources.registry import RegistryOptions
from tests.fleet.scripted import REPOS, TAGS, scripted_fleet
from tests.hostile.server import HostileServer, Request, response


@pytest.fixture
def registry() -> Iterator[HostileServer]:
    """Two repositories x three tags, each tag its own one-layer image, and a tags/list route."""
    with scripted_fleet(REPOS, TAGS) as srv:
        yield srv


def _refs(srv: HostileServer) -> list[str]:
    return [f"{srv.host}/{repo}:{tag}" for repo in REPOS for tag in TAGS]


def _scan(store: Store, targets: list[str], cache: Path) -> ScanSummary:
    cfg = ScanSettings(registry=RegistryOptions(), cache=str(cache), executor=LocalExecutor(1))
    with Session() as session:
        return scan_fleet(session, store, targets, TagFilter(), cfg)


def _api(log: list[Request]) -> list[tuple[str, str]]:
    """(method, path) of every registry API request (the /v2/ ping excluded)."""
    return [(r.method, r.path) for r in log if r.path.rstrip("/") != "/v2"]


def test_cold_scan_reads_each_manifest_once_and_looks_up_no_absent_attachment_tag(
    registry: HostileServer, tmp_path: Path
) -> None:
    store = open_store(str(tmp_path / "inv.sqlite"), migrate=True)
    summary = _scan(store, _refs(registry), tmp_path / "cache")
    assert summary.scanned == len(REPOS) * len(TAGS) and summary.failed == 0
    requests = _api(registry.log)
    # Each tag resolved once; the manifest is not fetched again by digest to build the SBOM.
    for ref in _refs(registry):
        repo, tag = ref.split("/", 1)[1].rsplit(":", 1)
        assert requests.count(("GET", f"/v2/{repo}/manifests/{tag}")) == 1, requests
    assert not [p for _m, p in requests if re.search(r"/manifests/sha256:", p)], requests
    # Attachments: one tag list per repository; no lookup of a cosign or referrers-fallback tag it lacks.
    assert sorted(p for _m, p in requests if p.endswith("/tags/list")) == sorted(
        f"/v2/{repo}/tags/list" for repo in REPOS
    )
    assert not [p for _m, p in requests if "/manifests/sha256-" in p], requests
    # The referrers API answered 404 (no such API): not asked again for the repository's later images
    # (each thread assembling an image may ask once before the first answer is known).
    assert len(TAGS) > ANALYSE_THREADS
    for repo in REPOS:
        assert 1 <= sum(1 for _m, p in requests if p.startswith(f"/v2/{repo}/referrers/")) <= ANALYSE_THREADS
    store.close()


def test_rescan_of_an_unchanged_registry_is_one_request_per_reference_and_one_transaction(
    registry: HostileServer, tmp_path: Path
) -> None:
    store = open_store(str(tmp_path / "inv.sqlite"), migrate=True)
    _scan(store, _refs(registry), tmp_path / "cache")
    registry.log.clear()
    commits: list[int] = []
    event.listen(store.engine, "commit", lambda _conn: commits.append(1))
    again = _scan(store, _refs(registry), tmp_path / "cache")
    assert again.unchanged == len(REPOS) * len(TAGS) and again.scanned == 0 and again.tags_moved == 0
    assert sorted(_api(registry.log)) == sorted(
        ("GET", f"/v2/{ref.split('/', 1)[1].rsplit(':', 1)[0]}/manifests/{ref.rsplit(':', 1)[1]}")
        for ref in _refs(registry)
    )
    assert len(commits) == 1  # the tags of every unchanged image are recorded together
    store.close()


def test_one_reference_that_cannot_be_resolved_fails_alone(registry: HostileServer, tmp_path: Path) -> None:
    bad = f"{registry.host}/team/a:v2"
    registry.answer("GET", r"/v2/team/a/manifests/v2$", response(200, b"{not json", {"Content-Type": "x"}))
    missing = f"{registry.host}/team/b:gone"
    store = open_store(str(tmp_path / "inv.sqlite"), migrate=True)
    summary = _scan(store, [*_refs(registry), missing], tmp_path / "cache")
    assert sorted(f.reference for f in summary.failures) == sorted([bad, missing])
    assert all("\n" not in f.error for f in summary.failures)
    assert summary.scanned == len(REPOS) * len(TAGS) - 1
    with store.sessions() as s:
        assert sorted(s.scalars(select(m.ScanFailure.reference))) == sorted([bad, missing])
        assert s.scalar(select(func.count()).select_from(m.Tag)) == len(REPOS) * len(TAGS) - 1
    store.close()


@pytest.fixture
def layout(fixture_set: FixtureSet, tmp_path: Path) -> Path:
    dest = tmp_path / "layout"
    write_fleet_layout(fixture_set, dest, bases=1, apps=2)
    return dest


def _cli(*args: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PROVENANT_CACHE_DIR": str(tmp / "cache"), "TERM": "xterm"}
    env.pop("PROVENANT_PROGRESS", None)
    return subprocess.run(
        [sys.executable, "-m", "provenant", *args], capture_output=True, text=True, env=env, timeout=300, check=False
    )


def test_progress_on_a_non_terminal_is_off_by_default_and_plain_when_asked(layout: Path, tmp_path: Path) -> None:
    quiet = _cli("fleet", "scan", f"oci:{layout}", "--db", str(tmp_path / "a.sqlite"), tmp=tmp_path)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr.splitlines() == [quiet.stderr.strip()]  # the summary line only
    assert quiet.stderr.startswith("fleet scan: 4 references") and "\x1b" not in quiet.stderr
    db = str(tmp_path / "b.sqlite")
    plain = _cli("--progress", "plain", "fleet", "scan", f"oci:{layout}", "--rescan", "--db", db, tmp=tmp_path)
    assert plain.returncode == 0, plain.stderr
    lines = plain.stderr.splitlines()
    assert "\x1b" not in plain.stderr and "\r" not in plain.stderr
    assert lines[-1].startswith("fleet scan: 4 references")
    progress = lines[:-1]
    assert progress and all(ln.startswith("provenant: ") for ln in progress)
    assert "provenant: references 4/4 resolved | 4 images to scan, 0 unchanged | 0 failed" in progress
    assert any(re.match(r"provenant: layers (\d+)/\1 \(.* fetched, \d+ from the cache\)", ln) for ln in progress)
    assert any(ln.startswith("provenant: images 4/4 (0 unchanged)") and ln.endswith("ETA 0 s") for ln in progress)
    live = _cli("--progress", "live", "fleet", "scan", f"oci:{layout}", "--db", db, tmp=tmp_path)
    assert live.returncode == 0, live.stderr
    # Forced onto a non-terminal, the live display draws nothing that moves the cursor.
    assert not re.search(r"\x1b\[[0-9;]*[ABCDHJK]", live.stderr)
    assert live.stderr.strip().splitlines()[-1].startswith("fleet scan: 4 references, 4 images (0 scanned, 4 unchanged")


def test_layer_jobs_run_in_the_scanning_process_leave_no_client_open(registry: HostileServer, tmp_path: Path) -> None:
    from provenant.fleet import layerjob

    store = open_store(str(tmp_path / "inv.sqlite"), migrate=True)
    _scan(store, _refs(registry), tmp_path / "cache")  # LocalExecutor(1): the jobs run here
    store.close()
    assert layerjob._CLIENTS == {}
