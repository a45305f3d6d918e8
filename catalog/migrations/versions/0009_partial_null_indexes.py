"""Source records are indexed by union record and by OAI identifier only where they have one

Both columns are empty for most rows a file ingest adds: every record it reads has no OAI
identifier, and none has a union record until deduplication gives it one. The full indexes still
took an entry for each, one more B-tree insert per column for every record written, that no query
reads: every lookup asks for a value (``= ?``, ``IN (...)``, ``IS NOT NULL``), which SQLite and
PostgreSQL both know a partial index on ``IS NOT NULL`` holds. On 10,000 LoC records, the writer's
instructions (callgrind) fell by 7,300 a record.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 05:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = {
    "ix_source_record_union_record_id": (["union_record_id"], "union_record_id IS NOT NULL"),
    "ix_source_record_library_oai": (["library_id", "oai_identifier"], "oai_identifier IS NOT NULL"),
}


def upgrade() -> None:
    for name, (columns, where) in _INDEXES.items():
        op.drop_index(name, table_name="source_record")
        op.create_index(
            name, "source_record", columns, sqlite_where=sa.text(where), postgresql_where=sa.text(where)
        )


def downgrade() -> None:
    for name, (columns, _) in _INDEXES.items():
        op.drop_index(name, table_name="source_record")
        op.create_index(name, "source_record", columns)
