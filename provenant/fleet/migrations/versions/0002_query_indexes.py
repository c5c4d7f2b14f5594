"""Indexes for the inventory queries: packages by purl base and by (type, name); occurrences by package.

With them a package query over 100k occurrences is an index range scan (benchmarks/fleet.py measures it).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("packages", schema=None) as batch_op:
        batch_op.create_index("ix_packages_purl_base", ["purl_base"], unique=False)
        batch_op.create_index("ix_packages_type_name", ["type", "name"], unique=False)
    with op.batch_alter_table("occurrences", schema=None) as batch_op:
        batch_op.create_index("ix_occurrences_package_manifest", ["package_id", "manifest_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("occurrences", schema=None) as batch_op:
        batch_op.drop_index("ix_occurrences_package_manifest")
    with op.batch_alter_table("packages", schema=None) as batch_op:
        batch_op.drop_index("ix_packages_type_name")
        batch_op.drop_index("ix_packages_purl_base")
