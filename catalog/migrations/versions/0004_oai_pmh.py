"""OAI-PMH: harvest state per library, OAI identifiers and change times of source records, and
persistent deletions of union records

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 02:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A union record that disappears (merged into another, or all its members deleted) leaves a
# tombstone, so that OAI-PMH harvesters of the union catalogue learn of the deletion; one that comes
# back under the same id takes its tombstone away. Triggers keep this true on every path that deletes.
_SQLITE_TRIGGERS = (
    """
    CREATE TRIGGER union_record_buried AFTER DELETE ON union_record
    BEGIN
        INSERT OR REPLACE INTO union_tombstone (id, deleted_at)
        VALUES (old.id, strftime('%Y-%m-%d %H:%M:%f000', 'now'));
    END
    """,
    """
    CREATE TRIGGER union_record_raised AFTER INSERT ON union_record
    BEGIN
        DELETE FROM union_tombstone WHERE id = new.id;
    END
    """,
)
_POSTGRES_TRIGGERS = (
    """
    CREATE FUNCTION union_record_buried() RETURNS trigger AS $$
    BEGIN
        INSERT INTO union_tombstone (id, deleted_at) VALUES (OLD.id, now())
        ON CONFLICT (id) DO UPDATE SET deleted_at = EXCLUDED.deleted_at;
        RETURN NULL;
    END $$ LANGUAGE plpgsql
    """,
    """
    CREATE FUNCTION union_record_raised() RETURNS trigger AS $$
    BEGIN
        DELETE FROM union_tombstone WHERE id = NEW.id;
        RETURN NULL;
    END $$ LANGUAGE plpgsql
    """,
    "CREATE TRIGGER union_record_buried AFTER DELETE ON union_record "
    "FOR EACH ROW EXECUTE FUNCTION union_record_buried()",
    "CREATE TRIGGER union_record_raised AFTER INSERT ON union_record "
    "FOR EACH ROW EXECUTE FUNCTION union_record_raised()",
)


def upgrade() -> None:
    with op.batch_alter_table("library") as batch_op:
        batch_op.add_column(sa.Column("oai_resumption_token", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("oai_window_from", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("oai_window_start", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("oai_last_sweep", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("source_record") as batch_op:
        batch_op.add_column(sa.Column("oai_identifier", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE source_record SET changed_at = COALESCE(deleted_at, first_seen)")
    with op.batch_alter_table("source_record") as batch_op:
        batch_op.create_index("ix_source_record_library_oai", ["library_id", "oai_identifier"], unique=False)
        batch_op.create_index("ix_source_record_changed_at", ["changed_at"], unique=False)
    with op.batch_alter_table("union_record") as batch_op:
        batch_op.create_index("ix_union_record_updated_at", ["updated_at"], unique=False)
    op.create_table(
        "union_tombstone",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("union_tombstone") as batch_op:
        batch_op.create_index("ix_union_tombstone_deleted_at", ["deleted_at"], unique=False)
    triggers = _POSTGRES_TRIGGERS if op.get_bind().dialect.name == "postgresql" else _SQLITE_TRIGGERS
    for statement in triggers:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS union_record_buried ON union_record")
        op.execute("DROP TRIGGER IF EXISTS union_record_raised ON union_record")
        op.execute("DROP FUNCTION IF EXISTS union_record_buried()")
        op.execute("DROP FUNCTION IF EXISTS union_record_raised()")
    else:
        op.execute("DROP TRIGGER IF EXISTS union_record_buried")
        op.execute("DROP TRIGGER IF EXISTS union_record_raised")
    op.drop_table("union_tombstone")
    with op.batch_alter_table("union_record") as batch_op:
        batch_op.drop_index("ix_union_record_updated_at")
    with op.batch_alter_table("source_record") as batch_op:
        batch_op.drop_index("ix_source_record_changed_at")
        batch_op.drop_index("ix_source_record_library_oai")
        batch_op.drop_column("changed_at")
        batch_op.drop_column("oai_identifier")
    with op.batch_alter_table("library") as batch_op:
        batch_op.drop_column("oai_last_sweep")
        batch_op.drop_column("oai_window_start")
        batch_op.drop_column("oai_window_from")
        batch_op.drop_column("oai_resumption_token")
