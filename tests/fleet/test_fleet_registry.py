"""``fleet scan`` of 54 tagged images in a real registry; queries checked against ``provenant sbom``.

One cold scan into SQLite (subprocess CLI, real process pool) serves the module; the same fleet scanned
into a real PostgreSQL server must answer every query identically.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fixtures import FixtureSet
from fixtures.fleet import APPS, BASES, RELEASES, TAGS, app_package
from fixtures.postgres import Postgres
from provenant.cache import LayerCache
from provenant.sbom.generate import generate_sbom
from provenant.sbom.result import SbomResult
from provenant.session import Session
from tests.fleet.fleetcli import Scanned, fleet_cli


@pytest.fixture(scope="module")
def sboms(scanned: Scanned) -> Iterator[dict[str, SbomResult]]:
    """``provenant sbom``'s result for every tagged reference of the fleet (layers from the scan's cache)."""
    out = {}
    with Session() as session:
        for img in scanned.fleet:
            for tag in img.tags:
                ref = f"{scanned.registry.host}/{img.repository}:{tag}"
                out[ref] = generate_sbom(session, ref, cache=LayerCache(scanned.cache), workers=1)
    yield out


def _where(sboms: dict[str, SbomResult], name: str) -> set[tuple[str, str, str, str]]:
    return {
        (ref.rsplit(":", 1)[0], ref.rsplit(":", 1)[1], img.platform, p.version)
        for ref, result in sboms.items()
        for img in result.images
        for p in img.packages
        if p.name == name
    }


def _query(scanned: Scanned, *args: str, db: str | None = None) -> list[dict[str, str]]:
    run = fleet_cli("query", *args, "--format", "json", cache=scanned.cache, db=db or scanned.db)
    assert run.code == 0, run.stderr
    rows: list[dict[str, str]] = json.loads(run.stdout)
    return rows


def _hits(rows: list[dict[str, str]]) -> set[tuple[str, str, str, str]]:
    return {(r["repository"], r["tag"], r["platform"], r["version"]) for r in rows}


def test_cold_scan_counts_each_unique_layer_once(scanned: Scanned) -> None:
    s = scanned.cold.summary()
    n_tags = len(BASES) * APPS * len(TAGS)
    assert n_tags >= 50
    assert s["refs"] == n_tags
    assert s["images"] == s["scanned"] == len(scanned.fleet) == len(BASES) * APPS * 2
    assert s["platforms"] == 2 * len(scanned.fleet)
    assert s["failed"] == 0
    # Unique layers: one per app release (the same bytes on every base and platform) plus the bases' own.
    app_layers = APPS * len(RELEASES)
    assert app_layers < s["layers"] <= app_layers + 4 * len(BASES)
    assert s["layers_scanned"] + s["layers_cached"] == s["layers"]


def test_query_package_lists_exactly_where_sbom_finds_it(scanned: Scanned, sboms: dict[str, SbomResult]) -> None:
    counts: dict[str, int] = {}
    for result in sboms.values():
        for img in result.images:
            for name in {p.name for p in img.packages}:
                counts[name] = counts.get(name, 0) + 1
    total = sum(len(r.images) for r in sboms.values())
    # A package in every image, one in some only (a base's), and one app's own package.
    everywhere = "libssl3" if counts.get("libssl3") == total else max(counts, key=lambda n: counts[n])
    partial = sorted(n for n, c in counts.items() if 0 < c < total and not n.startswith("fleetapp"))[0]
    for name in (everywhere, partial, app_package(3)):
        expected = _where(sboms, name)
        assert expected
        assert _hits(_query(scanned, "package", name)) == expected, name
    app3 = _where(sboms, app_package(3))
    assert len(app3) == len(BASES) * len(TAGS) * 2


def test_version_range_and_purl(scanned: Scanned, sboms: dict[str, SbomResult]) -> None:
    newer = _hits(_query(scanned, "package", app_package(2), "--version", ">=1.1"))
    assert newer == {h for h in _where(sboms, app_package(2)) if h[3] == "1.1"}
    assert {h[1] for h in newer} == {"v1.1", "latest"}
    purl_rows = _query(scanned, "purl", f"pkg:pypi/{app_package(2)}@1.0")
    assert {r["tag"] for r in purl_rows} == {"v1.0"}
    assert _query(scanned, "package", app_package(2), "--version", ">=2") == []


def test_rescan_of_an_unchanged_registry_scans_nothing(scanned: Scanned) -> None:
    run = fleet_cli("scan", f"{scanned.registry.host}/fleet/*", cache=scanned.cache, db=scanned.db)
    assert run.code == 0, run.stderr
    s = run.summary()
    assert s["scanned"] == 0 and s["unchanged"] == len(scanned.fleet) and s["layers"] == 0


def test_export_is_the_sbom_without_a_rescan(scanned: Scanned, tmp_path: Path) -> None:
    ref = f"{scanned.registry.host}/{scanned.fleet[1].repository}:latest"
    run = fleet_cli("export", ref, "-o", f"cyclonedx-json={tmp_path}/fleet.json", cache=scanned.cache, db=scanned.db)
    assert run.code == 0, run.stderr
    env = {**os.environ, "PROVENANT_CACHE_DIR": str(tmp_path / "fresh-cache")}
    fresh = subprocess.run(
        [sys.executable, "-m", "provenant", "sbom", ref, "-o", f"cyclonedx-json={tmp_path}/sbom.json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert fresh.returncode == 0, fresh.stderr
    for platform in ("linux-amd64", "linux-arm64-v8"):
        exported = json.loads((tmp_path / f"fleet.{platform}.json").read_text())
        made = json.loads((tmp_path / f"sbom.{platform}.json").read_text())
        for doc in (exported, made):  # the generation stamps are all that may differ
            doc.pop("serialNumber")
            doc["metadata"].pop("timestamp")
        assert exported == made


def test_images_filters_and_shared_layers(scanned: Scanned) -> None:
    run = fleet_cli("images", "--unsigned", "--format", "json", cache=scanned.cache, db=scanned.db)
    assert run.code == 0, run.stderr
    assert len(json.loads(run.stdout)) == len(BASES) * APPS * len(TAGS)  # nothing in the fleet is signed
    run = fleet_cli(
        "images", "--missing-platform", "linux/arm64", "--format", "json", cache=scanned.cache, db=scanned.db
    )
    assert json.loads(run.stdout) == []
    n_tags = len(BASES) * APPS * len(TAGS)
    for flag in (["--missing-platform", "linux/s390x"], ["--without-provenance"]):  # none has either
        run = fleet_cli("images", *flag, "--format", "csv", cache=scanned.cache, db=scanned.db)
        assert run.code == 0 and len(run.stdout.splitlines()) == 1 + n_tags, run.stderr
    base_repo = scanned.fleet[0].repository
    run = fleet_cli("layers", "--shared", "--top", "3", "--format", "json", cache=scanned.cache, db=scanned.db)
    top = json.loads(run.stdout)
    assert top[0]["manifests"] >= APPS * 2  # a base layer: every app release of that base's platform
    assert base_repo


def test_postgresql_gives_identical_answers(scanned: Scanned, postgres: Postgres, sboms: dict[str, SbomResult]) -> None:
    url = postgres.create_database("fleet_identical")
    run = fleet_cli("scan", f"{scanned.registry.host}/fleet/*", cache=scanned.cache, db=url)
    assert run.code == 0, run.stderr
    assert run.summary()["platforms"] == scanned.cold.summary()["platforms"]
    for args in (
        ("package", "libssl3"),
        ("package", app_package(4)),
        ("package", app_package(5), "--version", "<1.1"),
        ("purl", "pkg:deb/debian/libc6"),
    ):
        assert _query(scanned, *args, db=url) == _query(scanned, *args), args


def test_signatures_are_recorded_and_verified_with_the_scans_keys(scanned: Scanned, tmp_path: Path) -> None:
    host = scanned.registry.host
    ref = f"{host}/fleet-signed/app:1"
    subprocess.run(
        ["skopeo", "copy", "-q", "--all", "--preserve-digests", "--src-tls-verify=false", "--dest-tls-verify=false",
         f"docker://{host}/{scanned.fleet[0].repository}:v1.0", f"docker://{ref}"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    env = {**os.environ, "PROVENANT_KEY_PASSWORD": "fleet-test", "PROVENANT_CACHE_DIR": str(scanned.cache)}
    for args in (
        ["keygen", "--output-key-prefix", str(tmp_path / "k")],
        ["sign", ref, "--key", str(tmp_path / "k.key")],
    ):
        p = subprocess.run(
            [sys.executable, "-m", "provenant", *args], env=env, capture_output=True, text=True, check=False
        )
        assert p.returncode == 0, p.stderr
    with_key, without_key = str(tmp_path / "with.sqlite"), str(tmp_path / "without.sqlite")
    run = fleet_cli(
        "scan", f"{host}/fleet-signed/app", "--key", str(tmp_path / "k.pub"), cache=scanned.cache, db=with_key
    )
    assert run.code == 0, run.stderr
    assert run.summary()["refs"] == 1  # the sha256-<hex>.sig tag is an attachment, not an image
    assert fleet_cli("scan", f"{host}/fleet-signed/app", cache=scanned.cache, db=without_key).code == 0
    # A tag named explicitly: the scan lists the repository's tags itself to find the signature tag.
    explicit = str(tmp_path / "explicit.sqlite")
    run = fleet_cli("scan", ref, "--key", str(tmp_path / "k.pub"), cache=scanned.cache, db=explicit)
    assert run.code == 0, run.stderr

    def images(db: str, flag: str) -> list[str]:
        out = fleet_cli("images", flag, "--format", "json", cache=scanned.cache, db=db)
        assert out.code == 0, out.stderr
        return [r["tag"] for r in json.loads(out.stdout)]

    assert images(with_key, "--unsigned") == [] and images(with_key, "--unverified") == []
    assert images(without_key, "--unsigned") == [] and images(without_key, "--unverified") == ["1"]
    assert images(explicit, "--unsigned") == [] and images(explicit, "--unverified") == []


def _layer_lists(fixture_set: FixtureSet, ref: str) -> list[list[str]]:
    fx = fixture_set.image(ref)

    def blob(digest: str) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads((fx.layout / "blobs/sha256" / digest.split(":")[1]).read_bytes())
        return doc

    return [[layer["digest"] for layer in blob(d)["layers"]] for d in fx.platforms.values()]


def test_images_on_a_base(scanned: Scanned, fixture_set: FixtureSet, tmp_path: Path) -> None:
    db = tmp_path / "with-base.sqlite"
    shutil.copy(scanned.db, db)  # the module's inventory plus the base image itself
    base = f"{scanned.registry.host}/debian-base:12"
    assert fleet_cli("scan", base, cache=scanned.cache, db=str(db)).code == 0
    run = fleet_cli("images", "--base", base, "--format", "json", cache=scanned.cache, db=str(db))
    assert run.code == 0, run.stderr
    on_base = {(r["repository"].split("/", 1)[1], r["tag"]) for r in json.loads(run.stdout)}
    # A fleet base counts when one of its platforms starts with all layers of one of debian-base's.
    prefixes = _layer_lists(fixture_set, "debian-base:12")
    bases_on = {b for b in BASES if any(ls[: len(p)] == p for ls in _layer_lists(fixture_set, b) for p in prefixes)}
    assert "debian-base:12" in bases_on
    assert on_base == {(img.repository, tag) for img in scanned.fleet if img.base in bases_on for tag in img.tags}
    missing = fleet_cli("images", "--base", f"{scanned.registry.host}/nothing:1", cache=scanned.cache, db=str(db))
    assert missing.code == 2 and "scan it first" in missing.stderr
