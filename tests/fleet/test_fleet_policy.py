"""``fleet policy``: a policy over the stored evidence of the whole fixture fleet, checked image by image
against ``provenant policy check``; SQLite and PostgreSQL answer alike; older inventories are migrated."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from fixtures import FixtureSet
from fixtures.fleet import write_fleet_layout
from fixtures.postgres import Postgres
from provenant.cache import LayerCache
from provenant.fleet.store import db_url
from provenant.policy.engine import check_image
from provenant.policy.schema import load_policy
from provenant.session import Session
from tests.fleet.fleetcli import Run, Scanned, fleet_cli

POLICIES = Path(__file__).parents[2] / "policies"

#: Denies the ``latest`` tags and images with a secret in a layer; passes the others.
SPLIT = """\
apiVersion: provenant/v1
kind: ImagePolicy
metadata: {name: split}
images: ["**"]
defaults: {action: deny, onMissingData: warn}
checks:
  pinning: {requireDigest: false, forbiddenTags: [latest], requireBaseDigest: false}
  secrets: {}
  licenses: {denied: [AGPL-3.0-only]}
  size: {maxWasted: 100MiB}
"""


@pytest.fixture(scope="module")
def split_policy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("policies") / "split.yaml"
    path.write_text(SPLIT)
    return path


def _fleet_policy(scanned: Scanned, policy: Path, *args: str, db: str | None = None) -> Run:
    return fleet_cli("policy", "--policy", str(policy), *args, cache=scanned.cache, db=db or scanned.db)


def _json(run: Run) -> dict[str, Any]:
    assert run.code in (0, 1), run.stderr
    out: dict[str, Any] = json.loads(run.stdout)
    return out


def _comparable(report: dict[str, Any]) -> dict[str, Any]:
    """What a verdict is made of: every check's findings per subject, the verdict, the checks that ran."""
    keys = ("reference", "source", "digest", "results", "verdict", "exit_code", "checks", "warnings", "notes")
    return {k: report[k] for k in keys}


@pytest.mark.parametrize("name", ["default.yaml", "strict.yaml", "split"])
def test_fleet_policy_equals_provenant_policy_per_image(scanned: Scanned, split_policy: Path, name: str) -> None:
    policy_path = split_policy if name == "split" else POLICIES / name
    run = _fleet_policy(scanned, policy_path, "--format", "json")
    result = _json(run)
    refs = [f"{scanned.registry.host}/{img.repository}:{tag}" for img in scanned.fleet for tag in img.tags]
    assert result["images"] == len(refs) and result["not_evaluated"] == 0
    fleet_reports = {r["reference"]: r for r in result["reports"]}
    assert sorted(fleet_reports) == sorted(refs)
    policy = load_policy(policy_path)
    today = dt.date.fromisoformat(result["evaluated_on"])
    verdicts = set()
    with Session() as session:
        for ref in refs:
            report = check_image(
                session, ref, policy, policy_path=policy_path, cache=LayerCache(scanned.cache), today=today, workers=1
            )
            assert _comparable(fleet_reports[ref]) == _comparable(report.model_dump(mode="json")), ref
            verdicts.add(report.verdict)
    # One row per image subject, with the failing checks of that subject.
    rows = {(r["repository"], r["tag"], r["subject"]): r for r in result["rows"]}
    for ref, report in fleet_reports.items():
        repository, tag = ref.rsplit(":", 1)
        for res in report["results"]:
            row = rows[(repository, tag, res["subject"])]
            assert row["verdict"] == res["verdict"]
            assert row["failing"] == [f"{f['check']}={f['effect']}" for f in res["findings"] if f["effect"] != "none"]
    assert run.code == (1 if "deny" in verdicts else 0)
    assert result["verdict"] == ("deny" if "deny" in verdicts else "warn" if "warn" in verdicts else "pass")
    if name == "split":
        # latest is a forbidden tag; debian-multiarch's layers hold a secret (secrets.none denies every tag)
        for report in result["reports"]:
            secret = "/fleet/debian-multiarch-" in report["reference"]
            latest = report["reference"].endswith(":latest")
            assert report["verdict"] == ("deny" if latest or secret else "pass"), report["reference"]
    if name == "strict.yaml":
        assert verdicts == {"deny"}


def test_filters_table_and_sarif(scanned: Scanned, split_policy: Path) -> None:
    host = scanned.registry.host
    one = f"{host}/fleet/debian-base*-app1"
    run = _fleet_policy(scanned, split_policy, "--repository", one, "--tag", "v1.*")
    assert run.code == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].split() == ["REPOSITORY", "TAG", "SUBJECT", "VERDICT", "FAILING", "REASON"]
    # debian-base:12's app1 only, two tags, the image subject and two platforms each
    assert len(lines) == 1 + 2 * 3 and all(" pass " in line for line in lines[1:])
    assert "2 tagged images, 0 denied, 0 warned, 2 passed, 0 not evaluated" in run.stderr
    run = _fleet_policy(scanned, split_policy, "--repository", one, "--format", "sarif")
    assert run.code == 1, run.stderr
    sarif = json.loads(run.stdout)
    assert sarif["version"] == "2.1.0" and len(sarif["runs"]) == 3
    ids = {r["automationDetails"]["id"] for r in sarif["runs"]}
    assert len(ids) == 3  # one category per image: code scanning keeps them apart
    denied = [r for r in sarif["runs"] if r["results"]]
    assert len(denied) == 1 and denied[0]["properties"]["reference"].endswith(":latest")
    assert {res["ruleId"] for res in denied[0]["results"]} == {"pinning.forbidden-tags"}


def test_postgresql_gives_identical_json(scanned: Scanned, postgres: Postgres, split_policy: Path) -> None:
    url = postgres.create_database("fleet_policy")
    run = fleet_cli("scan", f"{scanned.registry.host}/fleet/*", cache=scanned.cache, db=url)
    assert run.code == 0, run.stderr
    for policy in (POLICIES / "default.yaml", split_policy):
        sqlite = _fleet_policy(scanned, policy, "--format", "json")
        pg = _fleet_policy(scanned, policy, "--format", "json", db=url)
        assert _json(pg) == _json(sqlite)


def test_scan_verdicts_come_from_the_same_evaluation(scanned: Scanned, split_policy: Path, tmp_path: Path) -> None:
    """``fleet scan --policy`` records per finding what ``fleet policy`` reports for the same image."""
    host = scanned.registry.host
    db = str(tmp_path / "with-verdicts.sqlite")
    ref = f"{host}/{scanned.fleet[0].repository}"
    run = fleet_cli("scan", f"{ref}:latest", "--policy", str(split_policy), cache=scanned.cache, db=db)
    assert run.code == 0, run.stderr
    engine = create_engine(db_url(db))
    with engine.connect() as conn:
        stored = sorted(
            (r.check_id, r.platform or "image", r.result)
            for r in conn.execute(text("SELECT check_id, platform, result FROM verdicts"))
        )
    engine.dispose()
    report = _json(_fleet_policy(scanned, split_policy, "--format", "json", db=db))["reports"][0]
    assert stored == sorted((f["check"], f["subject"], f["status"]) for r in report["results"] for f in r["findings"])
    assert ("pinning.forbidden-tags", "image", "fail") in stored


def test_bad_policy_file_is_one_line(scanned: Scanned, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: provenant/v1\nkind: ImagePolicy\nchecks: {pinning: {requireDigest: maybe}}\n")
    run = _fleet_policy(scanned, bad)
    assert run.code == 2 and run.stdout == ""
    assert run.stderr.count("\n") == 1 and run.stderr.startswith("provenant: error:") and "bad.yaml" in run.stderr


def _cli(args: list[str], db: str, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PROVENANT_CACHE_DIR": str(cache), "PROVENANT_FLEET_DB": db}
    return subprocess.run(
        [sys.executable, "-m", "provenant", *args], capture_output=True, text=True, env=env, timeout=300, check=False
    )


def test_inventory_of_revision_0002_is_migrated_and_its_images_not_evaluated(
    fixture_set: FixtureSet, tmp_path: Path
) -> None:
    """A database written at revision 0002 (no stored evidence): reading it names the upgrade command; once
    upgraded, its images are "not evaluated" (never passed) until a rescan stores their evidence."""
    from alembic import command

    from provenant.fleet.store import _alembic_config, open_store

    layout = tmp_path / "layout"
    names = write_fleet_layout(fixture_set, layout, bases=1, apps=1)
    db, cache = str(tmp_path / "old.sqlite"), tmp_path / "cache"
    policy = POLICIES / "default.yaml"
    target = f"oci:{layout}"
    assert _cli(["fleet", "scan", target], db, cache).returncode == 0
    # Make it what an older provenant left: schema 0002 (the evidence column did not exist), an older scanner.
    store = open_store(db, migrate=False)
    with store.engine.begin() as conn:
        command.downgrade(_alembic_config(conn), "0002")
        conn.execute(text("UPDATE images SET scanner = '0.0.1+old'"))
        columns = [r[1] for r in conn.execute(text("PRAGMA table_info(images)"))]
    store.close()
    assert "evidence" not in columns
    p = _cli(["fleet", "policy", "--policy", str(policy)], db, cache)
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "provenant fleet db upgrade" in p.stderr
    p = _cli(["fleet", "db", "upgrade"], db, cache)
    assert p.returncode == 0 and "to schema revision 0003" in p.stderr, p.stderr
    p = _cli(["fleet", "policy", "--policy", str(policy), "--format", "json"], db, cache)
    assert p.returncode == 0, p.stderr
    result = json.loads(p.stdout)
    assert result["reports"] == [] and result["not_evaluated"] == result["images"] == len(names)
    assert {r["verdict"] for r in result["rows"]} == {"not-evaluated"}
    assert all("rescan with provenant fleet scan --rescan" in r["reason"] for r in result["rows"])
    # The older scanner's images are scanned again (the scanner changed), now with their evidence.
    assert _cli(["fleet", "scan", target], db, cache).returncode == 0
    engine = create_engine(db_url(db))
    with engine.connect() as conn:
        blobs = list(conn.execute(text("SELECT evidence FROM images")).scalars())
    engine.dispose()
    assert blobs and all(json.loads(gzip.decompress(b))["format"] == 1 for b in blobs)
    p = _cli(["fleet", "policy", "--policy", str(policy), "--format", "json"], db, cache)
    result = json.loads(p.stdout)
    assert result["not_evaluated"] == 0 and len(result["reports"]) == len(names)


def test_trusted_bases_are_read_from_the_inventory(scanned: Scanned, tmp_path: Path) -> None:
    """base-image.allowed matches layer prefixes of a trusted base stored in the inventory, as the live check
    does against the registry; a trusted base the inventory lacks is named, not fetched."""
    import shutil

    host = scanned.registry.host
    db = tmp_path / "with-base.sqlite"
    shutil.copy(scanned.db, db)
    assert fleet_cli("scan", f"{host}/debian-base:12", cache=scanned.cache, db=str(db)).code == 0
    policy_path = tmp_path / "bases.yaml"
    policy_path.write_text(
        "apiVersion: provenant/v1\nkind: ImagePolicy\nimages: ['**']\n"
        f"checks:\n  baseImage: {{trusted: ['{host}/nothing:1', '{host}/debian-base:12']}}\n"
    )
    result = _json(_fleet_policy(scanned, policy_path, "--tag", "v1.0", "--format", "json", db=str(db)))
    reports = {r["reference"]: r for r in result["reports"] if "/fleet/" in r["reference"]}
    assert len(reports) == len(scanned.fleet) // 2
    policy = load_policy(policy_path)
    today = dt.date.fromisoformat(result["evaluated_on"])
    statuses = set()
    with Session() as session:
        for ref, stored in reports.items():
            live = check_image(
                session, ref, policy, policy_path=policy_path, cache=LayerCache(scanned.cache), today=today
            )
            assert _comparable(stored) == _comparable(live.model_dump(mode="json")), ref
            statuses |= {
                (f["status"], f["evidence"].get("source"), f["evidence"].get("base"))
                for r in stored["results"]
                for f in r["findings"]
            }
    # every fleet base starts with debian-base:12's layers, found in the inventory (the missing one is skipped)
    assert statuses == {("pass", "layers", f"{host}/debian-base:12")}
    # Without debian-base in the inventory the check has no trusted base to match: it says why.
    without = _json(_fleet_policy(scanned, policy_path, "--tag", "v1.0", "--format", "json"))
    findings = [f for r in without["reports"] for res in r["results"] for f in res["findings"]]
    assert findings and {f["status"] for f in findings} == {"no-data"}
    assert all(
        f["evidence"]["problems"] == [f"{host}/{name}: {host}/{name} is not in the inventory: add it to a fleet scan"
                                      for name in ("nothing:1", "debian-base:12")]
        for f in findings
    )  # fmt: skip


def test_policy_keys_other_than_the_scans_are_not_evaluated(scanned: Scanned, tmp_path: Path) -> None:
    """Trust labels were given against the scan's keys: a policy naming other keys is not judged on them."""
    from tests.attestdata import crypto

    _, pub = crypto.write_keys(crypto.new_key(), tmp_path, "k")
    policy_path = tmp_path / "keys.yaml"
    policy_path.write_text(
        "apiVersion: provenant/v1\nkind: ImagePolicy\nimages: ['**']\n"
        f"checks:\n  provenance: {{requireSigned: true, keys: ['{pub.name}']}}\n"
    )
    run = _fleet_policy(scanned, policy_path, "--tag", "latest", "--format", "json")
    result = _json(run)
    assert run.code == 0 and result["reports"] == [] and result["not_evaluated"] == len(scanned.fleet) // 2
    assert {r["verdict"] for r in result["rows"]} == {"not-evaluated"}
    assert all(
        "verified against other keys" in r["reason"] and "--rescan --policy" in r["reason"] for r in result["rows"]
    )
    assert f"0 passed, {len(scanned.fleet) // 2} not evaluated" in run.stderr
