"""Union records keep their blocking keys and their match state

A new record was decided against every member of its candidate union records, and the merged
description rebuilt from all of them: the cost of each record grew with the number of libraries
that hold its edition. ``union_key`` lists the blocking keys of each union record's members (with
how many hold each), so that candidates are found by union record; ``union_state`` keeps, per union
record, one member of each class of equal match content, its libraries and the merge tags (see
catalog.dedup.state), written when deduplication first needs it. Existing union records get their
keys here; their state is built from their members the first time a record is matched against them.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 06:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BLOCKING_KINDS = ("isbn", "issn", "lccn", "oclc", "title", "title_year")  # catalog.dedup.keys


def upgrade() -> None:
    op.create_table(
        "union_key",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.Column("union_record_id", sa.Integer(), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["union_record_id"], ["union_record.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("kind", "value", "union_record_id"),
    )
    op.create_index("ix_union_key_union_record_id", "union_key", ["union_record_id"])
    op.create_table(
        "union_state",
        sa.Column("union_record_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["union_record_id"], ["union_record.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("union_record_id"),
    )
    kinds = ", ".join(f"'{kind}'" for kind in _BLOCKING_KINDS)
    op.execute(
        "INSERT INTO union_key (kind, value, union_record_id, members) "
        "SELECT k.kind, k.value, s.union_record_id, count(*) FROM record_key k "
        "JOIN source_record s ON s.id = k.source_record_id "
        f"WHERE s.status = 'active' AND s.union_record_id IS NOT NULL AND k.kind IN ({kinds}) "
        "GROUP BY k.kind, k.value, s.union_record_id"
    )


def downgrade() -> None:
    op.drop_table("union_state")
    op.drop_index("ix_union_key_union_record_id", table_name="union_key")
    op.drop_table("union_key")
