"""a running job's progress, readable by every replica

The worker running a job writes how far it got (records read, the byte offset in the file and the
file's size, when it was written) every few seconds, so that any replica of the service shows it.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ingest_job") as batch_op:  # a column added in place, no table rebuilt
        batch_op.add_column(sa.Column("progress", sa.JSON(), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":  # in place: a rebuilt table would lose rows referring to it
        op.execute("ALTER TABLE ingest_job DROP COLUMN progress")
    else:
        op.drop_column("ingest_job", "progress")
