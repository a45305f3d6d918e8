"""a library's digital repository (DSpace and the like) and the files harvested from it

The settings of the repository a library's items and files are harvested from (its OAI-PMH URL,
the formats of its descriptions and of its file lists, a set, the access rule of its files), the
place an unfinished harvest of it resumes from, and the state of every file of its items: fetched
(the digital object it became, with what tells a changed file) or failed (tried again next time).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 08:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LIBRARY_COLUMNS = (
    ("repository_url", sa.String(length=500)),
    ("repository_format", sa.String(length=16)),
    ("repository_files", sa.String(length=16)),
    ("repository_set", sa.String(length=200)),
    ("repository_access", sa.String(length=16)),
    ("repository_last_datestamp", sa.String(length=32)),
    ("repository_resumption_token", sa.Text()),
    ("repository_window_from", sa.String(length=32)),
    ("repository_window_start", sa.String(length=32)),
)


def upgrade() -> None:
    with op.batch_alter_table("library") as batch:
        for name, kind in _LIBRARY_COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))
    op.create_table(
        "repository_file",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("library_id", sa.Integer(), sa.ForeignKey("library.id"), nullable=False),
        sa.Column("item", sa.String(length=255), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=True),
        sa.Column("content_type", sa.String(length=100), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("checksum", sa.String(length=128), nullable=True),
        sa.Column("etag", sa.String(length=300), nullable=True),
        sa.Column("access", sa.String(length=16), nullable=False),
        sa.Column("embargo_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "object_id",
            sa.Integer(),
            sa.ForeignKey("digital_object.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_repository_file_library_item", "repository_file", ["library_id", "item"])
    op.create_index("ix_repository_file_library_status", "repository_file", ["library_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_repository_file_library_status", table_name="repository_file")
    op.drop_index("ix_repository_file_library_item", table_name="repository_file")
    op.drop_table("repository_file")
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35 and later): a batch would copy the library table,
    # which the other tables' foreign keys forbid dropping
    for name, _kind in reversed(_LIBRARY_COLUMNS):
        op.drop_column("library", name)
