"""Alembic environment: runs on the connection :mod:`provenant.fleet.store` hands over (no alembic.ini)."""

from __future__ import annotations

from alembic import context

from provenant.fleet.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most things: batch mode copies the table, as Alembic documents.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
