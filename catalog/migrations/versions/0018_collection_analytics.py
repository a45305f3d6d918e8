"""Collection analytics: summary tables of who holds which union record (overlap, unique holdings,
breakdowns), kept current from a log of the union records that changed

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 08:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every path that changes who holds a union record, or what the record is, leaves the union record's
# id in analytics_change (catalog.analytics.cache reads and empties it). Triggers, so that no writer
# (a job, a dedup rebuild, a hand-made fix) can forget it. The log is append-only, without a unique
# key: a refresh deletes only the rows it read, and a row written by a transaction that commits later
# stays for the next refresh.
_CHANGE = "INSERT INTO analytics_change (union_record_id) "
_SQLITE_TRIGGERS = (
    f"""
    CREATE TRIGGER analytics_member_added AFTER INSERT ON source_record
    WHEN new.union_record_id IS NOT NULL
    BEGIN
        {_CHANGE} VALUES (new.union_record_id);
    END
    """,
    f"""
    CREATE TRIGGER analytics_member_changed AFTER UPDATE OF union_record_id, status, library_id
    ON source_record
    WHEN old.union_record_id IS NOT new.union_record_id OR old.status IS NOT new.status
        OR old.library_id IS NOT new.library_id
    BEGIN
        {_CHANGE} SELECT old.union_record_id WHERE old.union_record_id IS NOT NULL;
        {_CHANGE} SELECT new.union_record_id
            WHERE new.union_record_id IS NOT NULL AND new.union_record_id IS NOT old.union_record_id;
    END
    """,
    f"""
    CREATE TRIGGER analytics_member_removed AFTER DELETE ON source_record
    WHEN old.union_record_id IS NOT NULL
    BEGIN
        {_CHANGE} VALUES (old.union_record_id);
    END
    """,
    f"""
    CREATE TRIGGER analytics_union_changed AFTER UPDATE OF fields ON union_record
    BEGIN
        {_CHANGE} VALUES (new.id);
    END
    """,
    f"""
    CREATE TRIGGER analytics_union_removed AFTER DELETE ON union_record
    BEGIN
        {_CHANGE} VALUES (old.id);
    END
    """,
)
_POSTGRES_TRIGGERS = (
    f"""
    CREATE FUNCTION analytics_member_changed() RETURNS trigger AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.union_record_id IS NOT NULL THEN
            IF TG_OP = 'DELETE' OR OLD.union_record_id IS DISTINCT FROM NEW.union_record_id
                OR OLD.status IS DISTINCT FROM NEW.status OR OLD.library_id IS DISTINCT FROM NEW.library_id
            THEN
                {_CHANGE} VALUES (OLD.union_record_id);
            END IF;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.union_record_id IS NOT NULL THEN
            IF TG_OP = 'INSERT' OR OLD.union_record_id IS DISTINCT FROM NEW.union_record_id THEN
                {_CHANGE} VALUES (NEW.union_record_id);
            END IF;
        END IF;
        RETURN NULL;
    END $$ LANGUAGE plpgsql
    """,
    f"""
    CREATE FUNCTION analytics_union_changed() RETURNS trigger AS $$
    BEGIN
        {_CHANGE} VALUES (OLD.id);
        RETURN NULL;
    END $$ LANGUAGE plpgsql
    """,
    "CREATE TRIGGER analytics_member_changed AFTER INSERT OR DELETE OR UPDATE OF union_record_id, status, "
    "library_id ON source_record FOR EACH ROW EXECUTE FUNCTION analytics_member_changed()",
    "CREATE TRIGGER analytics_union_changed AFTER DELETE OR UPDATE OF fields ON union_record "
    "FOR EACH ROW EXECUTE FUNCTION analytics_union_changed()",
)


def upgrade() -> None:
    op.create_table(
        "analytics_change",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("union_record_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "analytics_union",
        sa.Column("union_record_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("libraries", sa.Text(), nullable=False),
        sa.Column("library_count", sa.Integer(), nullable=False),
        sa.Column("sole_library_id", sa.Integer(), nullable=True),
        sa.Column("dimensions", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("union_record_id"),
    )
    op.create_index(
        "ix_analytics_union_sole_library",
        "analytics_union",
        ["sole_library_id", "union_record_id"],
        sqlite_where=sa.text("sole_library_id IS NOT NULL"),
        postgresql_where=sa.text("sole_library_id IS NOT NULL"),
    )
    op.create_table(
        "analytics_count",
        sa.Column("scope", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("dimension", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.Column("titles", sa.Integer(), nullable=False),
        sa.Column("unique_titles", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "dimension", "value"),
    )
    op.create_table(
        "analytics_overlap",
        sa.Column("library_a", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("library_b", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("titles", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("library_a", "library_b"),
    )
    op.create_table(
        "analytics_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("full_needed", sa.Boolean(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.Column("union_records", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    # The figures of a catalogue that already has records are computed by the first refresh (after
    # the next job, or 'unioncat analytics refresh'), not here: a migration stays quick.
    op.execute("INSERT INTO analytics_state (id, full_needed) VALUES (1, true)")
    triggers = _POSTGRES_TRIGGERS if op.get_bind().dialect.name == "postgresql" else _SQLITE_TRIGGERS
    for statement in triggers:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS analytics_member_changed ON source_record")
        op.execute("DROP TRIGGER IF EXISTS analytics_union_changed ON union_record")
        op.execute("DROP FUNCTION IF EXISTS analytics_member_changed()")
        op.execute("DROP FUNCTION IF EXISTS analytics_union_changed()")
    else:
        for name in (
            "analytics_member_added",
            "analytics_member_changed",
            "analytics_member_removed",
            "analytics_union_changed",
            "analytics_union_removed",
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("analytics_state")
    op.drop_table("analytics_overlap")
    op.drop_table("analytics_count")
    op.drop_index("ix_analytics_union_sole_library", table_name="analytics_union")
    op.drop_table("analytics_union")
    op.drop_table("analytics_change")
