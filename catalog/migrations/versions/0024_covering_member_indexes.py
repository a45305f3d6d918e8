"""covering indexes for the holdings of a union record's members

A union record's search document counts the copies of every member library
(catalog.search.documents.holdings_summary). Its members were found by the union record's index,
but their status, and their holdings' library and copies, were read from the rows themselves: one
random read of a large source row and one of a holding row per member, so re-indexing a union
record cost more with every library that holds the edition. The two indexes now carry those
columns, and the summary is read from the indexes alone.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 08:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NOT_NULL = "union_record_id IS NOT NULL"


def upgrade() -> None:
    op.drop_index("ix_source_record_union_record_id", table_name="source_record")
    op.create_index(
        "ix_source_record_union_record_id",
        "source_record",
        ["union_record_id", "status", "library_id"],
        sqlite_where=sa.text(_NOT_NULL),
        postgresql_where=sa.text(_NOT_NULL),
    )
    op.drop_index("ix_holding_source_record_id", table_name="holding")
    op.create_index("ix_holding_source_record_id", "holding", ["source_record_id", "library_id", "copies"])


def downgrade() -> None:
    op.drop_index("ix_holding_source_record_id", table_name="holding")
    op.create_index("ix_holding_source_record_id", "holding", ["source_record_id"])
    op.drop_index("ix_source_record_union_record_id", table_name="source_record")
    op.create_index(
        "ix_source_record_union_record_id",
        "source_record",
        ["union_record_id"],
        sqlite_where=sa.text(_NOT_NULL),
        postgresql_where=sa.text(_NOT_NULL),
    )
