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


def upgrade() -> None:
    with op.batch_alter_table("images", schema=None) as batch_op:
        batch_op.add_column(sa.Column("evidence", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("images", schema=None) as batch_op:
        batch_op.drop_column("evidence")
