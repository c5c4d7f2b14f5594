"""Fleet fixtures: the fleet of images in the shared real registry, a real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fixtures import FixtureSet, Registry
from fixtures.fleet import FleetImage, push_fleet
from fixtures.postgres import Postgres, available, running_postgres
from tests.fleet.fleetcli import Scanned, fleet_cli


@pytest.fixture(scope="session")
def fleet(fixture_set: FixtureSet, registry: Registry) -> list[FleetImage]:
    """54 tagged images (36 indexes, 72 platform images) under ``fleet/`` in the ``registry`` fixture."""
    return push_fleet(fixture_set, registry.host)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """A PostgreSQL 15 server on 127.0.0.1, stopped at the end of the session."""
    if not available():
        pytest.fail("PostgreSQL is required (scripts/setup.sh installs Debian's postgresql)")
    with running_postgres() as pg:
        yield pg


@pytest.fixture(scope="module")
def scanned(registry: Registry, fleet: list[FleetImage], tmp_path_factory: pytest.TempPathFactory) -> Scanned:
    """One cold ``fleet scan`` of the fleet into SQLite per test module (subprocess CLI, real process pool)."""
    tmp = tmp_path_factory.mktemp("fleet-scan")
    db = str(tmp / "inventory.sqlite")
    run = fleet_cli("scan", f"{registry.host}/fleet/*", cache=tmp / "cache", db=db)
    assert run.code == 0, run.stderr
    return Scanned(registry, fleet, tmp / "cache", db, run)
