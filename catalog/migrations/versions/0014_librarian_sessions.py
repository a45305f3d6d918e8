"""librarians' web sessions kept in the catalogue

The web pages' sessions lived in one server's memory: a restart signed every librarian out, and a
service run as several replicas behind one port knew a session on one replica only.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 07:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "librarian_session",
        sa.Column("id_hash", sa.String(length=64), primary_key=True),
        sa.Column(
            "token_id", sa.Integer(), sa.ForeignKey("api_token.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_librarian_session_token_id", "librarian_session", ["token_id"])


def downgrade() -> None:
    op.drop_index("ix_librarian_session_token_id", table_name="librarian_session")
    op.drop_table("librarian_session")
