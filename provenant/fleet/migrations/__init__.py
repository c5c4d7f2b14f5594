"""Alembic migrations of the inventory schema, shipped in the package and run programmatically."""
