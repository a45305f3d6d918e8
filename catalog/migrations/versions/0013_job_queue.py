"""Jobs are a queue that workers claim: leases, attempts, options, and jobs of no library

Jobs leave the web process: any number of ``unioncat worker`` processes, on any number of machines
(PostgreSQL), claim queued jobs. A claim writes ``claimed_by`` (host and pid of the worker) and
``heartbeat_at``, which the worker renews while the job runs; a job whose lease expired (its worker
died) is queued again until ``attempts`` reaches the limit, then failed with the reason.
``options`` keeps what a queued job needs to run (a harvest's full/sweep). Rebuilding the search
index or the union records are jobs too, of no library: ``library_id`` may be NULL.

On SQLite, making ``library_id`` nullable rewrites only the table's declaration (the documented way
to drop a NOT NULL constraint, which does not change the stored rows): recreating the table would
delete or orphan the rows that refer to it (rejections, source records).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 07:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NOT_NULL = "library_id INTEGER NOT NULL"
_NULLABLE = "library_id INTEGER"


def _sqlite_declaration(old: str, new: str) -> None:
    conn = op.get_bind()
    sql = conn.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type='table' AND name='ingest_job'"
    ).scalar_one()
    if old not in sql:
        raise RuntimeError(f"ingest_job is not declared as expected ({old!r} not found)")
    version = conn.exec_driver_sql("PRAGMA schema_version").scalar_one()
    conn.exec_driver_sql("PRAGMA writable_schema=ON")
    conn.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type='table' AND name='ingest_job'", (sql.replace(old, new),)
    )
    conn.exec_driver_sql(f"PRAGMA schema_version={int(version) + 1}")
    conn.exec_driver_sql("PRAGMA writable_schema=OFF")


def upgrade() -> None:
    with op.batch_alter_table("ingest_job") as batch_op:  # columns added in place, no table rebuilt
        batch_op.add_column(sa.Column("options", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_declaration(_NOT_NULL, _NULLABLE)
    else:
        op.alter_column("ingest_job", "library_id", existing_type=sa.Integer(), nullable=True)
    op.create_index("ix_ingest_job_status_id", "ingest_job", ["status", "id"])


def downgrade() -> None:
    op.drop_index("ix_ingest_job_status_id", table_name="ingest_job")
    op.execute(
        "DELETE FROM job_rejection WHERE job_id IN (SELECT id FROM ingest_job WHERE library_id IS NULL)"
    )
    op.execute("DELETE FROM ingest_job WHERE library_id IS NULL")
    columns = ("attempts", "heartbeat_at", "claimed_by", "options")
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_declaration(_NULLABLE, _NOT_NULL)
        for column in columns:  # in place (SQLite 3.35+): a rebuilt table would lose the rows referring to it
            op.execute(f"ALTER TABLE ingest_job DROP COLUMN {column}")
    else:
        op.alter_column("ingest_job", "library_id", existing_type=sa.Integer(), nullable=False)
        for column in columns:
            op.drop_column("ingest_job", column)
