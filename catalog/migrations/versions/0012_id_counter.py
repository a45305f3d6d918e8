"""ids never used twice: the highest id ever given per table

SQLite without AUTOINCREMENT, and ``catalog.db.allocate_ids`` before this revision, continued after
max(id): once the union record with the highest id was deleted, the next new record got its id, so
its permalink and OAI identifier named another book and its deletion tombstone went away.
``id_counter`` keeps, per table that gets explicit ids, the highest id ever given; it starts at the
highest id the catalogue shows, deleted union records (their tombstones) included. PostgreSQL draws
ids from sequences, which never go back, and keeps the table empty.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 06:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "id_counter",
        sa.Column("name", sa.String(length=64), primary_key=True),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
    )
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(
        "INSERT INTO id_counter (name, last_id) SELECT 'union_record', max("
        "(SELECT coalesce(max(id), 0) FROM union_record), (SELECT coalesce(max(id), 0) FROM union_tombstone))"
    )
    op.execute(
        "INSERT INTO id_counter (name, last_id) "
        "SELECT 'source_record', coalesce(max(id), 0) FROM source_record"
    )


def downgrade() -> None:
    op.drop_table("id_counter")
