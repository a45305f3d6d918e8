"""embedded search index (SQLite FTS5) in the catalogue database

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 00:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL catalogues search with Meilisearch
    # Text columns hold folded text (no diacritics, đ -> d); "exact" keeps diacritics for ranking.
    op.execute(
        "CREATE VIRTUAL TABLE search_fts USING fts5("
        "title, authors, subjects, other, exact, "
        "tokenize = 'unicode61 remove_diacritics 0')"
    )
    op.execute(
        "CREATE TABLE search_doc ("
        "union_id INTEGER PRIMARY KEY, year INTEGER, title_sort TEXT NOT NULL DEFAULT '', "
        "has_digital INTEGER NOT NULL DEFAULT 0, doc TEXT NOT NULL)"
    )
    op.execute("CREATE INDEX ix_search_doc_year ON search_doc (year)")
    op.execute("CREATE INDEX ix_search_doc_title_sort ON search_doc (title_sort)")
    op.execute(
        "CREATE TABLE search_facet (facet TEXT NOT NULL, value TEXT NOT NULL, union_id INTEGER NOT NULL, "
        "PRIMARY KEY (facet, value, union_id)) WITHOUT ROWID"
    )
    op.execute("CREATE INDEX ix_search_facet_union ON search_facet (union_id)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP TABLE search_facet")
    op.execute("DROP TABLE search_doc")
    op.execute("DROP TABLE search_fts")
