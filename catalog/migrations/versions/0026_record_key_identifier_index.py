"""record keys indexed by value for identifiers only

Every library's job inserted its records' keys into one index of (kind, value) over every key of the
consortium. Title keys, long and as many as the records, made most of it, and each job rewrote
pages all over it: a cost that grew with the catalogue. Title keys are now found through the union
records that hold them (union_key); the index keeps the identifiers (ISBN, ISSN, LCCN, OCLC), which
holdings lookups and matching find by value.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 19:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# as catalog.dedup.keys.IDENTIFIER_KEYS declares it when this migration was written
_IDENTIFIERS = "kind IN ('isbn', 'issn', 'lccn', 'oclc')"


def upgrade() -> None:
    op.drop_index("ix_record_key_kind_value", table_name="record_key")
    op.create_index(
        "ix_record_key_identifier",
        "record_key",
        ["kind", "value"],
        sqlite_where=sa.text(_IDENTIFIERS),
        postgresql_where=sa.text(_IDENTIFIERS),
    )


def downgrade() -> None:
    op.drop_index("ix_record_key_identifier", table_name="record_key")
    op.create_index("ix_record_key_kind_value", "record_key", ["kind", "value"])
