"""embedded search: prefix indexes of 1 and 2 characters; the diacritics-keeping text in its own table

Search as you type ends a query with a prefix, and Vietnamese syllables are short: "kinh t",
"dai hoc q". Without a prefix index FTS5 merges the postings of every word starting with "t" — 40 to
200 ms on 250,000 records; with one, a few. The prefix index would be wasted on the "exact" column
(searched by whole words only, to rank exact spellings first), which moves to search_exact, a table
without positions (detail=none).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 05:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TOKENIZE = "tokenize = 'unicode61 remove_diacritics 0'"


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL catalogues search with Meilisearch
    op.execute(
        "CREATE VIRTUAL TABLE search_fts_new USING fts5(title, authors, subjects, other, "
        f"prefix = '1 2', {_TOKENIZE})"
    )
    op.execute(
        "INSERT INTO search_fts_new (rowid, title, authors, subjects, other) "
        "SELECT rowid, title, authors, subjects, other FROM search_fts"
    )
    op.execute(f"CREATE VIRTUAL TABLE search_exact USING fts5(exact, detail = none, {_TOKENIZE})")
    op.execute("INSERT INTO search_exact (rowid, exact) SELECT rowid, exact FROM search_fts")
    op.execute("DROP TABLE search_fts")
    op.execute("ALTER TABLE search_fts_new RENAME TO search_fts")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(
        f"CREATE VIRTUAL TABLE search_fts_old USING fts5(title, authors, subjects, other, exact, {_TOKENIZE})"
    )
    op.execute(
        "INSERT INTO search_fts_old (rowid, title, authors, subjects, other, exact) "
        "SELECT f.rowid, f.title, f.authors, f.subjects, f.other, coalesce(e.exact, '') "
        "FROM search_fts f LEFT JOIN search_exact e ON e.rowid = f.rowid"
    )
    op.execute("DROP TABLE search_exact")
    op.execute("DROP TABLE search_fts")
    op.execute("ALTER TABLE search_fts_old RENAME TO search_fts")
