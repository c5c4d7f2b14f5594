"""``fleet scan`` of an unchanged registry: answered by one HEAD per reference and a read-only look at the inventory.

Against a scripted registry that logs every request (:mod:`tests.fleet.scripted`): the full scan fills
the inventory, then :func:`~provenant.fleet.unchanged.unchanged_scan` must give the full scan's answer
when nothing changed, and give way to the full scan (None) on every kind of change.
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from provenant.fleet.executor_local import LocalExecutor
from provenant.fleet.scan import ScanSettings, ScanSummary, scan_fleet
from provenant.fleet.store import open_store
from provenant.fleet.targets import TagFilter
from provenant.fleet.unchanged import sqlite_file, unchanged_scan
from provenant.session import Session
from provenant.sources.registry import RegistryOptions
from tests.fleet.scripted import REPOS, TAGS, put_app, scripted_fleet
from tests.hostile.server import HostileServer


@pytest.fixture
def srv() -> Iterator[HostileServer]:
    with scripted_fleet() as s:
        yield s


def _refs(srv: HostileServer) -> list[str]:
    return [f"{srv.host}/{repo}:{tag}" for repo in REPOS for tag in TAGS]


def _full(db: Path, targets: list[str], cache: Path) -> ScanSummary:
    store = open_store(str(db), migrate=True)
    try:
        cfg = ScanSettings(registry=RegistryOptions(), cache=str(cache), executor=LocalExecutor(1))
        with Session() as session:
            return scan_fleet(session, store, targets, TagFilter(), cfg)
    finally:
        store.close()


def _dump(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return "\n".join(conn.iterdump())
    finally:
        conn.close()


def _api(srv: HostileServer) -> list[tuple[str, str]]:
    return sorted((r.method, r.path) for r in srv.log if r.path.rstrip("/") != "/v2")


def _heads(srv: HostileServer, refs: list[str]) -> list[tuple[str, str]]:
    return sorted(("HEAD", "/v2/{}/manifests/{}".format(*r.split("/", 1)[1].rsplit(":", 1))) for r in refs)


def test_unchanged_registry_is_the_full_scans_answer_from_one_head_per_reference_and_no_write(
    srv: HostileServer, tmp_path: Path
) -> None:
    db, refs = tmp_path / "inv.sqlite", _refs(srv)
    _full(db, refs, tmp_path / "cache")
    before = _dump(db)
    srv.log.clear()
    srv.accepted = 0
    got = unchanged_scan(refs, TagFilter(), str(db), threads=1, env={})
    assert got is not None and 0 < got.seconds < 3
    assert _api(srv) == _heads(srv, refs)
    assert srv.accepted == 1  # one kept-alive connection for every HEAD of the thread
    assert _dump(db) == before  # read only
    full = _full(db, refs, tmp_path / "cache")
    assert got.summary().model_dump(exclude={"seconds"}) == full.model_dump(exclude={"seconds"})
    seconds = re.compile(r"[0-9.]+ s$")
    assert seconds.sub("", got.line()) == seconds.sub("", full.line())
    assert (got.references, got.images) == (len(refs), len(refs))


def test_repository_targets_list_tags_and_the_same_image_under_two_tags_counts_once(
    srv: HostileServer, tmp_path: Path
) -> None:
    db = tmp_path / "inv.sqlite"
    same = put_app(srv, "team/a", "latest", "1.2")  # the same image as team/a:v3
    assert same == "sha256:" + hashlib.sha256(srv.manifests["team/a:v3"][1]).hexdigest()
    targets = [f"{srv.host}/team/a", f"{srv.host}/team/b:v1"]
    full = _full(db, targets, tmp_path / "cache")
    srv.log.clear()
    got = unchanged_scan(targets, TagFilter(), str(db), env={})
    assert got is not None and (got.references, got.images) == (full.references, full.images) == (5, 4)
    assert ("GET", "/v2/team/a/tags/list") in _api(srv)


def test_a_digest_reference_is_checked_by_its_own_head(srv: HostileServer, tmp_path: Path) -> None:
    db = tmp_path / "inv.sqlite"
    digest = hashlib.sha256(srv.manifests["team/b:v2"][1]).hexdigest()
    ref = f"{srv.host}/team/b@sha256:{digest}"
    _full(db, [ref], tmp_path / "cache")
    srv.log.clear()
    got = unchanged_scan([ref], TagFilter(), str(db), env={})
    assert got is not None and got.images == 1
    assert _api(srv) == [("HEAD", f"/v2/team/b/manifests/sha256:{digest}")]
    del srv.manifests[f"team/b@sha256:{digest}"]  # gone from the registry: the full scan records the failure
    assert unchanged_scan([ref], TagFilter(), str(db), env={}) is None


def _moved(srv: HostileServer, db: Path) -> None:
    put_app(srv, "team/a", "v1", "9.9")


def _new_tag(srv: HostileServer, db: Path) -> None:
    put_app(srv, "team/b", "v4", "9.9")


def _sql(statement: str) -> Callable[[HostileServer, Path], None]:
    def change(srv: HostileServer, db: Path) -> None:
        conn = sqlite3.connect(db)
        with conn:
            conn.execute(statement.replace("REF", f"{srv.host}/team/a:v2"))
        conn.close()

    return change


CHANGES = {
    "a tag moved": _moved,
    "a new tag": _new_tag,
    "an older scanner": _sql("UPDATE images SET scanner = 'provenant 0.0+old' WHERE id = 1"),
    "an image stored as failed": _sql("UPDATE images SET status = 'failed' WHERE id = 2"),
    "a resolution failure to clear": _sql(
        "INSERT INTO scan_failures (reference, error, failed_at) VALUES ('REF', 'boom', '2026-01-01')"
    ),
    "an older schema": _sql("UPDATE alembic_version SET version_num = '0002'"),
    "a tag the inventory lost": _sql("DELETE FROM tags WHERE id = 3"),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_any_change_is_left_to_the_full_scan(srv: HostileServer, tmp_path: Path, change: str) -> None:
    db = tmp_path / "inv.sqlite"
    targets = [*_refs(srv)[:3], f"{srv.host}/team/b"]  # team/b by its tag list: a new tag shows there
    _full(db, targets, tmp_path / "cache")
    assert unchanged_scan(targets, TagFilter(), str(db), env={}) is not None
    CHANGES[change](srv, db)
    before = _dump(db)
    assert unchanged_scan(targets, TagFilter(), str(db), env={}) is None
    assert _dump(db) == before


def test_a_reference_the_registry_no_longer_has_is_left_to_the_full_scan(srv: HostileServer, tmp_path: Path) -> None:
    db, refs = tmp_path / "inv.sqlite", _refs(srv)
    _full(db, refs, tmp_path / "cache")
    del srv.manifests["team/b:v3"]
    srv.log.clear()
    assert unchanged_scan(refs, TagFilter(), str(db), threads=1, env={}) is None
    assert len(_api(srv)) <= len(refs)  # and it stops asking once one cannot be told


def test_what_it_does_not_handle_returns_none_without_asking_or_writing(srv: HostileServer, tmp_path: Path) -> None:
    db, refs = tmp_path / "inv.sqlite", _refs(srv)
    missing = tmp_path / "none" / "inv.sqlite"
    assert unchanged_scan(refs, TagFilter(), str(missing), env={}) is None
    assert not missing.parent.exists()  # nothing created: the full scan makes the database
    _full(db, refs, tmp_path / "cache")
    srv.log.clear()
    layout = tmp_path / "layout"  # a valid, empty OCI layout: the full scan reads it (it names no image)
    layout.mkdir()
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (layout / "index.json").write_text('{"schemaVersion": 2, "manifests": []}')
    assert unchanged_scan([*refs, f"oci:{layout}"], TagFilter(), str(db), env={}) is None
    assert unchanged_scan(refs, TagFilter(newest=1, order="created"), str(db), env={}) is None
    assert unchanged_scan(refs, TagFilter(), str(db), env={"HTTPS_PROXY": "http://proxy.test:3128"}) is None
    assert unchanged_scan(refs, TagFilter(), "postgresql+psycopg://u@127.0.0.1:9/x", env={}) is None
    assert _api(srv) == []
    assert unchanged_scan(refs, TagFilter(order="created"), str(db), env={}) is not None  # no --newest: no dates


def test_sqlite_file_reads_the_db_option_as_the_store_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVENANT_CACHE_DIR", str(tmp_path))
    assert sqlite_file(None) == tmp_path / "fleet.sqlite"
    assert sqlite_file("inv.sqlite") == Path("inv.sqlite")
    assert sqlite_file(f"sqlite:///{tmp_path}/a.sqlite") == tmp_path / "a.sqlite"
    assert sqlite_file("sqlite:///:memory:?cache=shared") is None
    assert sqlite_file("postgresql+psycopg://u@h/db") is None


def test_the_cli_answers_an_unchanged_rescan_without_the_scan_pipelines_imports(
    srv: HostileServer, tmp_path: Path
) -> None:
    db, refs = tmp_path / "inv.sqlite", _refs(srv)
    (tmp_path / "refs.txt").write_text("\n".join(refs) + "\n")
    env = {**os.environ, "PROVENANT_CACHE_DIR": str(tmp_path / "cache"), "PROVENANT_FLEET_DB": str(db)}
    for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        env.pop(var, None)
    cmd = [sys.executable, "-X", "importtime", "-m", "provenant", "fleet", "scan", f"@{tmp_path / 'refs.txt'}"]

    def run() -> tuple[str, set[str]]:
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, check=False)
        assert p.returncode == 0, p.stderr[-2000:]
        modules = {ln.split("|")[-1].strip() for ln in p.stderr.splitlines() if ln.startswith("import time:")}
        line = next(ln for ln in p.stderr.splitlines() if ln.startswith("fleet scan:"))
        return line, modules

    cold, cold_modules = run()
    assert "sqlalchemy" in cold_modules and "6 scanned" in cold
    srv.log.clear()
    again, modules = run()
    assert not modules & {"sqlalchemy", "httpx", "pydantic", "alembic", "provenant.fleet.scan"}
    assert "6 references, 6 images (0 scanned, 6 unchanged, 0 failed)" in again
    assert _api(srv) == _heads(srv, refs)


def test_a_file_that_is_not_an_inventory_is_left_to_the_full_scan(srv: HostileServer, tmp_path: Path) -> None:
    junk = tmp_path / "inv.sqlite"
    junk.write_bytes(b"not a database" * 100)
    assert unchanged_scan(_refs(srv), TagFilter(), str(junk), env={}) is None
    assert junk.read_bytes() == b"not a database" * 100


def test_names_are_asked_in_chunks_that_cover_them_all() -> None:
    from provenant.fleet.unchanged import _chunks

    values = [f"r{i:04d}" for i in range(1201)]
    chunks = list(_chunks(reversed(values)))
    assert [len(c) for c in chunks] == [500, 500, 201] and [v for c in chunks for v in c] == values


def test_the_head_threads_end_cleanly(srv: HostileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    raised: list[object] = []
    monkeypatch.setattr(threading, "excepthook", raised.append)
    db, refs = tmp_path / "inv.sqlite", _refs(srv)
    _full(db, refs, tmp_path / "cache")
    assert unchanged_scan(refs, TagFilter(), str(db), threads=4, env={}) is not None
    assert raised == []


def test_the_ca_file_reaches_the_registry_client(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from provenant.fleet import unchanged

    seen: list[object] = []

    class Recording(unchanged.QuickRegistry):
        def __init__(self, **options: object) -> None:
            seen.append(options.get("ca_file"))
            super().__init__(**options)  # type: ignore[arg-type]

    monkeypatch.setattr(unchanged, "QuickRegistry", Recording)
    db = tmp_path / "inv.sqlite"
    db.write_bytes(b"")
    unchanged_scan(["127.0.0.1:9/app:1"], TagFilter(), str(db), ca_file=tmp_path / "ca.pem", env={})
    assert seen == [tmp_path / "ca.pem"]
