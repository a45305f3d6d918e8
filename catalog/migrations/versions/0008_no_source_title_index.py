"""source_record.title_key is no longer indexed: nothing looks source records up by it

Union records are found by their own title_key (editions of a title, catalog/lookup.py);
deduplication finds candidates through record_key. The index on the source records' title keys
was only written: one more B-tree insert at a random place for every record an ingest adds (on
50,000 LoC records, the source_record inserts took 0.74 s without it against 0.91 s with it).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 02:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_source_record_title_key", table_name="source_record")


def downgrade() -> None:
    op.create_index("ix_source_record_title_key", "source_record", ["title_key"], unique=False)
