"""Stored evidence per image: what the policy checks read (``fleet policy`` evaluates it without a rescan).

``images.evidence`` holds the gzip-compressed JSON of :class:`provenant.evidence.stored.ImageFacts`.
Rows written by an older scanner keep NULL there: ``fleet policy`` lists them as not evaluated until
a rescan fills it.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


# Plain ALTER TABLE, not batch mode: on SQLite a batch "move and copy" drops the images table, and with
# foreign keys on that would cascade to every tag, attestation and verdict of the inventory.


def upgrade() -> None:
    op.add_column("images", sa.Column("evidence", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    op.drop_column("images", "evidence")
