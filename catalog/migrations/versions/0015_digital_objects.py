"""the shared digital library: digital objects, their pages of text, their usage

A member library's files (theses, lecture notes, reports) attached to its records, deposited or
harvested from its repository, with an access rule each; the text of every page once extracted; and
views and downloads per month and per requesting member.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 08:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "digital_object",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("library_id", sa.Integer(), sa.ForeignKey("library.id"), nullable=False),
        sa.Column(
            "source_record_id",
            sa.Integer(),
            sa.ForeignKey("source_record.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=500), nullable=False),
        sa.Column("label", sa.String(length=300), nullable=True),
        sa.Column("access", sa.String(length=16), nullable=False),
        sa.Column("embargo_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("origin_url", sa.String(length=2000), nullable=True),
        sa.Column("text_status", sa.String(length=16), nullable=False),
        sa.Column("text_error", sa.Text(), nullable=True),
        sa.Column("page_count", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("source_record_id", "sha256", name="uq_digital_object_record_sha256"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_digital_object_source_record_id", "digital_object", ["source_record_id"])
    op.create_index("ix_digital_object_sha256", "digital_object", ["sha256"])
    op.create_index("ix_digital_object_library_status", "digital_object", ["library_id", "status"])
    op.create_table(
        "digital_page",
        sa.Column(
            "object_id",
            sa.Integer(),
            sa.ForeignKey("digital_object.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("page", sa.Integer(), primary_key=True),
        sa.Column("text", sa.Text(), nullable=False),
    )
    op.create_table(
        "digital_usage",
        sa.Column(
            "object_id",
            sa.Integer(),
            sa.ForeignKey("digital_object.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("month", sa.String(length=7), primary_key=True),
        sa.Column("kind", sa.String(length=16), primary_key=True),
        sa.Column("requester", sa.String(length=16), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table("digital_usage")
    op.drop_table("digital_page")
    op.drop_index("ix_digital_object_library_status", table_name="digital_object")
    op.drop_index("ix_digital_object_sha256", table_name="digital_object")
    op.drop_index("ix_digital_object_source_record_id", table_name="digital_object")
    op.drop_table("digital_object")
