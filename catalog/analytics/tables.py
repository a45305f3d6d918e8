"""The summary tables of the analytics (migration 0018), declared once for the modules that read and
write them. They are a cache: :mod:`catalog.analytics.cache` can rebuild them from the catalogue."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    text,
)
from sqlmodel import SQLModel

CONSORTIUM = 0  # the scope of the figures of the whole consortium (members' scopes are their ids)
HOLDERS = "holders"  # the dimension of analytics_count whose value is a number of members

# Union records changed since the last refresh (written by triggers: see migration 0018).
CHANGE = Table(
    "analytics_change",
    SQLModel.metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    Column("union_record_id", Integer, nullable=False),
)

UNION = Table(
    "analytics_union",
    SQLModel.metadata,
    Column("union_record_id", Integer, primary_key=True, autoincrement=False),
    Column("libraries", Text, nullable=False),  # JSON list of the ids of the members holding it,
    Column("library_count", Integer, nullable=False),
    Column("sole_library_id", Integer, nullable=True),  # the member holding it alone,
    Column("dimensions", Text, nullable=False),  # JSON: dimension -> values,
    Index(
        "ix_analytics_union_sole_library",
        "sole_library_id",
        "union_record_id",
        sqlite_where=text("sole_library_id IS NOT NULL"),
        postgresql_where=text("sole_library_id IS NOT NULL"),
    ),
)

COUNT = Table(
    "analytics_count",
    SQLModel.metadata,
    Column("scope", Integer, primary_key=True, autoincrement=False),
    Column("dimension", String(16), primary_key=True),
    Column("value", String(64), primary_key=True),
    Column("titles", Integer, nullable=False),
    Column("unique_titles", Integer, nullable=False),
)

# Union records held by both (library_a <= library_b; when equal: the titles the member holds).
OVERLAP = Table(
    "analytics_overlap",
    SQLModel.metadata,
    Column("library_a", Integer, primary_key=True, autoincrement=False),
    Column("library_b", Integer, primary_key=True, autoincrement=False),
    Column("titles", Integer, nullable=False),
)

STATE = Table(
    "analytics_state",
    SQLModel.metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("full_needed", Boolean, nullable=False),
    Column("refreshed_at", DateTime(timezone=True), nullable=True),
    Column("seconds", Float, nullable=True),
    Column("union_records", Integer, nullable=True),
)
