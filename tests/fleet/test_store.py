"""The inventory store: migrations create exactly the ORM's schema; old and foreign revisions are handled."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text

from provenant.errors import UsageError
from provenant.fleet.models import Base
from provenant.fleet.store import HEAD, current_revision, db_url, head_revision, open_store, redacted, upgrade


def test_head_constant_is_alembics_head() -> None:
    assert head_revision() == HEAD


def test_migrations_create_the_orm_schema(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "inv.sqlite"), migrate=True)
    with store.engine.connect() as conn:
        assert current_revision(conn) == head_revision()
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    store.close()
    assert diff == []


def test_older_schema_is_refused_for_reading_and_migrated_for_writing(tmp_path: Path) -> None:
    db = str(tmp_path / "inv.sqlite")
    open_store(db, migrate=True).close()
    engine = create_engine(db_url(db))
    with engine.begin() as conn:  # pretend the database was made by an older release
        conn.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    with pytest.raises(UsageError, match="does not know"):
        open_store(db, migrate=False)
    engine.dispose()


def test_older_revision_needs_upgrade_to_read_and_is_migrated_by_writers(tmp_path: Path) -> None:
    db = str(tmp_path / "inv.sqlite")
    engine = create_engine(db_url(db))
    upgrade(engine, "0001")  # the first release's schema, without the query indexes
    engine.dispose()
    with pytest.raises(UsageError, match="provenant fleet db upgrade"):
        open_store(db, migrate=False)
    store = open_store(db, migrate=True)
    with store.engine.connect() as conn:
        assert current_revision(conn) == head_revision()
        names = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'"))}
    store.close()
    assert "ix_occurrences_package_manifest" in names


def test_unknown_revision_and_bad_scheme(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="only sqlite and postgresql"):
        db_url("mysql://u:p@h/db")
    assert "s3cret" not in redacted("postgresql+psycopg://u:s3cret@127.0.0.1:5/db")


def test_package_query_is_an_index_lookup(tmp_path: Path) -> None:
    """The package query's two steps use the indexes of revision 0002 (benchmarks/fleet.py times them)."""
    store = open_store(str(tmp_path / "inv.sqlite"), migrate=True)
    with store.engine.connect() as conn:
        by_name = " ".join(
            str(r[-1]) for r in conn.execute(text("EXPLAIN QUERY PLAN SELECT id FROM packages WHERE name = 'x'"))
        )
        occ = " ".join(
            str(r[-1])
            for r in conn.execute(
                text("EXPLAIN QUERY PLAN SELECT manifest_id FROM occurrences WHERE package_id IN (1, 2, 3)")
            )
        )
    store.close()
    assert "USING INDEX ix_packages_name" in by_name or "USING COVERING INDEX ix_packages_name" in by_name
    assert "ix_occurrences_package_manifest" in occ
