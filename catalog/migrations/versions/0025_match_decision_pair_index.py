"""match decisions found by record_a_id through the pair's unique index alone

The unique index on (record_a_id, record_b_id) leads with record_a_id, so the index on record_a_id
alone said nothing more. Each decision against an older member inserted into both at a random
place, and a job of a library that joins the consortium's editions writes thousands of them.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 18:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_match_decision_record_a_id", table_name="match_decision")


def downgrade() -> None:
    op.create_index("ix_match_decision_record_a_id", "match_decision", ["record_a_id"])
