"""Initial inventory schema: repositories, tags and their history, images, platform manifests, layers,
packages, occurrences, attestations and policy verdicts.

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "images",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=200), nullable=False),
        sa.Column("media_type", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("scanner", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=1100), nullable=False),
        sa.Column("scanned_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_images")),
        sa.UniqueConstraint("digest", name=op.f("uq_images_digest")),
    )
    op.create_table(
        "layers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=200), nullable=False),
        sa.Column("diff_id", sa.String(length=200), nullable=False),
        sa.Column("media_type", sa.String(length=200), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("uncompressed_size", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_layers")),
        sa.UniqueConstraint("digest", name=op.f("uq_layers_digest")),
    )
    op.create_table(
        "manifests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=200), nullable=False),
        sa.Column("platform", sa.String(length=200), nullable=False),
        sa.Column("config_digest", sa.String(length=200), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=True),
        sa.Column("distro", sa.String(length=200), nullable=True),
        sa.Column("sbom", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_manifests")),
        sa.UniqueConstraint("digest", name=op.f("uq_manifests_digest")),
    )
    with op.batch_alter_table("manifests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_manifests_platform"), ["platform"], unique=False)

    op.create_table(
        "packages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=2048), nullable=False),
        sa.Column("purl", sa.String(length=2048), nullable=True),
        sa.Column("purl_base", sa.String(length=2048), nullable=True),
        sa.Column("name", sa.String(length=1024), nullable=False),
        sa.Column("version", sa.String(length=512), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("licenses", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_packages")),
        sa.UniqueConstraint("key", name=op.f("uq_packages_key")),
    )
    with op.batch_alter_table("packages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_packages_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_packages_purl"), ["purl"], unique=False)

    op.create_table(
        "repositories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=1024), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repositories")),
        sa.UniqueConstraint("name", name=op.f("uq_repositories_name")),
    )
    op.create_table(
        "attestations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("image_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("format", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("predicate_type", sa.String(length=1024), nullable=True),
        sa.Column("trust", sa.String(length=1024), nullable=False),
        sa.Column("signer", sa.String(length=1024), nullable=True),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["image_id"], ["images.id"], name=op.f("fk_attestations_image_id_images"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attestations")),
    )
    with op.batch_alter_table("attestations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attestations_image_id"), ["image_id"], unique=False)

    op.create_table(
        "image_manifests",
        sa.Column("image_id", sa.Integer(), nullable=False),
        sa.Column("manifest_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["image_id"], ["images.id"], name=op.f("fk_image_manifests_image_id_images"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["manifest_id"], ["manifests.id"], name=op.f("fk_image_manifests_manifest_id_manifests"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("image_id", "manifest_id", name=op.f("pk_image_manifests")),
    )
    op.create_table(
        "manifest_layers",
        sa.Column("manifest_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("layer_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["layer_id"], ["layers.id"], name=op.f("fk_manifest_layers_layer_id_layers"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["manifest_id"], ["manifests.id"], name=op.f("fk_manifest_layers_manifest_id_manifests"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("manifest_id", "position", name=op.f("pk_manifest_layers")),
    )
    with op.batch_alter_table("manifest_layers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_manifest_layers_layer_id"), ["layer_id"], unique=False)

    op.create_table(
        "occurrences",
        sa.Column("manifest_id", sa.Integer(), nullable=False),
        sa.Column("package_id", sa.Integer(), nullable=False),
        sa.Column("layer_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["layer_id"], ["layers.id"], name=op.f("fk_occurrences_layer_id_layers"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["manifest_id"], ["manifests.id"], name=op.f("fk_occurrences_manifest_id_manifests"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["package_id"], ["packages.id"], name=op.f("fk_occurrences_package_id_packages"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("manifest_id", "package_id", name=op.f("pk_occurrences")),
    )
    op.create_table(
        "scan_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=1100), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_failures")),
        sa.UniqueConstraint("reference", name=op.f("uq_scan_failures_reference")),
    )
    op.create_table(
        "tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("repository_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("image_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["image_id"], ["images.id"], name=op.f("fk_tags_image_id_images"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["repository_id"], ["repositories.id"], name=op.f("fk_tags_repository_id_repositories"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tags")),
        sa.UniqueConstraint("repository_id", "name", name=op.f("uq_tags_repository_id")),
    )
    with op.batch_alter_table("tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tags_image_id"), ["image_id"], unique=False)

    op.create_table(
        "verdicts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("image_id", sa.Integer(), nullable=False),
        sa.Column("policy_digest", sa.String(length=200), nullable=False),
        sa.Column("check_id", sa.String(length=200), nullable=False),
        sa.Column("platform", sa.String(length=200), nullable=True),
        sa.Column("result", sa.String(length=32), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["image_id"], ["images.id"], name=op.f("fk_verdicts_image_id_images"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verdicts")),
    )
    with op.batch_alter_table("verdicts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_verdicts_image_id"), ["image_id"], unique=False)

    op.create_table(
        "tag_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tag_id", sa.Integer(), nullable=False),
        sa.Column("image_id", sa.Integer(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["image_id"], ["images.id"], name=op.f("fk_tag_history_image_id_images"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["tag_id"], ["tags.id"], name=op.f("fk_tag_history_tag_id_tags"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tag_history")),
    )
    with op.batch_alter_table("tag_history", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tag_history_tag_id"), ["tag_id"], unique=False)


def downgrade() -> None:
    op.drop_table("scan_failures")
    with op.batch_alter_table("tag_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tag_history_tag_id"))

    op.drop_table("tag_history")
    with op.batch_alter_table("verdicts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_verdicts_image_id"))

    op.drop_table("verdicts")
    with op.batch_alter_table("tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tags_image_id"))

    op.drop_table("tags")
    op.drop_table("occurrences")
    with op.batch_alter_table("manifest_layers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_manifest_layers_layer_id"))

    op.drop_table("manifest_layers")
    op.drop_table("image_manifests")
    with op.batch_alter_table("attestations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attestations_image_id"))

    op.drop_table("attestations")
    op.drop_table("repositories")
    with op.batch_alter_table("packages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_packages_purl"))
        batch_op.drop_index(batch_op.f("ix_packages_name"))

    op.drop_table("packages")
    with op.batch_alter_table("manifests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_manifests_platform"))

    op.drop_table("manifests")
    op.drop_table("layers")
    op.drop_table("images")
