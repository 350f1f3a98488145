"""Lake catalogue and ingest loads.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
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
        "lake_partition",
        sa.Column("table_name", sa.String(64), nullable=False),
        sa.Column("part_date", sa.Date(), nullable=False),
        sa.Column("part_key", sa.String(128), nullable=False),
        sa.Column("path", sa.String(1024), nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("load_id", sa.String(36), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("table_name", "part_date", "part_key", name="pk_lake_partition"),
    )
    op.create_table(
        "ingest_load",
        sa.Column("load_id", sa.String(36), nullable=False),
        sa.Column("source", sa.String(1024), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("load_id", name="pk_ingest_load"),
    )
    op.create_table(
        "ingest_file",
        sa.Column("load_id", sa.String(36), nullable=False),
        sa.Column("file_name", sa.String(512), nullable=False),
        sa.Column("table_name", sa.String(64), nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("rows_read", sa.BigInteger(), nullable=False),
        sa.Column("rows_loaded", sa.BigInteger(), nullable=False),
        sa.Column("rows_quarantined", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["load_id"], ["ingest_load.load_id"], name="fk_ingest_file_load_id_ingest_load"
        ),
        sa.PrimaryKeyConstraint("load_id", "file_name", name="pk_ingest_file"),
    )


def downgrade() -> None:
    op.drop_table("ingest_file")
    op.drop_table("ingest_load")
    op.drop_table("lake_partition")
