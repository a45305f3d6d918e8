"""embedded search: FTS5 keeps up to 16 MB of new index data in memory before writing a segment

FTS5 writes the terms of new rows to a segment of the index each time its in-memory hash of pending
terms passes 1 MB, and merges the segments as they accumulate. An ingest writes tens of thousands of
rows in one transaction, so at 1 MB it wrote a segment every few hundred records and spent half of
its indexing time merging them: on 50,000 LoC records, inserting into search_fts took 3.4 s at 1 MB
and 1.7 s at 16 MB. The setting is FTS5's own (stored in the tables' _config); readers are not
affected, and a writing job holds at most 16 MB more per table.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 17:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING_BYTES = 16 * 1024 * 1024
_FTS5_DEFAULT = 1024 * 1024
_TABLES = ("search_fts", "search_exact")


def _set(size: int) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL catalogues search with Meilisearch
    for table in _TABLES:
        op.execute(f"INSERT INTO {table} ({table}, rank) VALUES ('hashsize', {size})")


def upgrade() -> None:
    _set(PENDING_BYTES)


def downgrade() -> None:
    _set(_FTS5_DEFAULT)
