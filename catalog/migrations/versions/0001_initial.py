"""initial catalogue schema

Revision ID: 0001
Revises:
Create Date: 2026-11-21 23:28:29.366037
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "library",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name_vi", sa.String(length=300), nullable=False),
        sa.Column("name_en", sa.String(length=300), nullable=True),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("website", sa.String(length=500), nullable=True),
        sa.Column("opac_url_pattern", sa.String(length=500), nullable=True),
        sa.Column("contact", sa.String(length=300), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("holdings_profile", sa.String(length=32), nullable=False),
        sa.Column("holdings_config", sa.JSON(), nullable=True),
        sa.Column("oai_base_url", sa.String(length=500), nullable=True),
        sa.Column("oai_metadata_prefix", sa.String(length=64), nullable=True),
        sa.Column("oai_set", sa.String(length=200), nullable=True),
        sa.Column("harvest_interval_hours", sa.Integer(), nullable=True),
        sa.Column("last_harvest_datestamp", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("library", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_library_code"), ["code"], unique=True)

    op.create_table(
        "union_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(), nullable=True),
        sa.Column("title_key", sa.String(), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=True),
        sa.Column("member_count", sa.Integer(), nullable=False),
        sa.Column("library_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("union_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_union_record_title_key"), ["title_key"], unique=False)

    op.create_table(
        "ingest_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("format", sa.String(length=32), nullable=True),
        sa.Column("filename", sa.String(length=500), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("read", sa.Integer(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("warnings", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["library_id"],
            ["library.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("ingest_job", schema=None) as batch_op:
        batch_op.create_index("ix_ingest_job_library_created", ["library_id", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_ingest_job_status"), ["status"], unique=False)

    op.create_table(
        "job_rejection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("record_number", sa.Integer(), nullable=False),
        sa.Column("byte_offset", sa.Integer(), nullable=True),
        sa.Column("local_id", sa.String(length=255), nullable=True),
        sa.Column("reason", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["ingest_job.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("job_rejection", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_job_rejection_job_id"), ["job_id"], unique=False)

    op.create_table(
        "source_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=False),
        sa.Column("local_id", sa.String(length=255), nullable=False),
        sa.Column("raw_format", sa.String(length=16), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("title", sa.String(), nullable=True),
        sa.Column("title_key", sa.String(), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("material_type", sa.String(length=32), nullable=True),
        sa.Column("warnings", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("last_job_id", sa.Integer(), nullable=True),
        sa.Column("union_record_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["ingest_job.id"],
        ),
        sa.ForeignKeyConstraint(
            ["last_job_id"],
            ["ingest_job.id"],
        ),
        sa.ForeignKeyConstraint(
            ["library_id"],
            ["library.id"],
        ),
        sa.ForeignKeyConstraint(["union_record_id"], ["union_record.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("library_id", "local_id", name="uq_source_record_library_local_id"),
    )
    with op.batch_alter_table("source_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_source_record_title_key"), ["title_key"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_source_record_union_record_id"), ["union_record_id"], unique=False
        )

    op.create_table(
        "holding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=False),
        sa.Column("source_record_id", sa.Integer(), nullable=False),
        sa.Column("call_number", sa.String(length=255), nullable=True),
        sa.Column("location", sa.String(length=255), nullable=True),
        sa.Column("sublocation", sa.String(length=255), nullable=True),
        sa.Column("barcode", sa.String(length=255), nullable=True),
        sa.Column("copies", sa.Integer(), nullable=True),
        sa.Column("item_type", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["library_id"],
            ["library.id"],
        ),
        sa.ForeignKeyConstraint(["source_record_id"], ["source_record.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("holding", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_holding_library_id"), ["library_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_holding_source_record_id"), ["source_record_id"], unique=False)

    op.create_table(
        "match_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_a_id", sa.Integer(), nullable=False),
        sa.Column("record_b_id", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["record_a_id"], ["source_record.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["record_b_id"], ["source_record.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("record_a_id", "record_b_id", name="uq_match_decision_pair"),
    )
    with op.batch_alter_table("match_decision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_match_decision_record_a_id"), ["record_a_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_match_decision_record_b_id"), ["record_b_id"], unique=False)

    op.create_table(
        "record_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_record_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(["source_record_id"], ["source_record.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("record_key", schema=None) as batch_op:
        batch_op.create_index("ix_record_key_kind_value", ["kind", "value"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_record_key_source_record_id"), ["source_record_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("record_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_record_key_source_record_id"))
        batch_op.drop_index("ix_record_key_kind_value")

    op.drop_table("record_key")
    with op.batch_alter_table("match_decision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_match_decision_record_b_id"))
        batch_op.drop_index(batch_op.f("ix_match_decision_record_a_id"))

    op.drop_table("match_decision")
    with op.batch_alter_table("holding", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_holding_source_record_id"))
        batch_op.drop_index(batch_op.f("ix_holding_library_id"))

    op.drop_table("holding")
    with op.batch_alter_table("source_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_source_record_union_record_id"))
        batch_op.drop_index(batch_op.f("ix_source_record_title_key"))

    op.drop_table("source_record")
    with op.batch_alter_table("job_rejection", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_rejection_job_id"))

    op.drop_table("job_rejection")
    with op.batch_alter_table("ingest_job", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ingest_job_status"))
        batch_op.drop_index("ix_ingest_job_library_created")

    op.drop_table("ingest_job")
    with op.batch_alter_table("union_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_union_record_title_key"))

    op.drop_table("union_record")
    with op.batch_alter_table("library", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_library_code"))

    op.drop_table("library")
