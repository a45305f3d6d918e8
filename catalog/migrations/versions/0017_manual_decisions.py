"""librarians' corrections of union records, and where a merged union record went

Manual match decisions (split a record out, merge two union records, never merge two) win over the
rules and name their records by library code and local id, so that they survive re-ingest and a
rebuild. A union record's tombstone remembers the union record it was merged into, so that its
URL can point there.

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-07 08:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "manual_decision",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("side_a", sa.JSON(), nullable=False),
        sa.Column("side_b", sa.JSON(), nullable=False),
        sa.Column("decided_by", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sqlite_autoincrement=True,
    )
    op.add_column("union_tombstone", sa.Column("merged_into", sa.Integer(), nullable=True))


def downgrade() -> None:
    # in place (SQLite 3.35 and later can): a copied table would break the triggers that fill it
    op.execute("ALTER TABLE union_tombstone DROP COLUMN merged_into")
    op.drop_table("manual_decision")
